//! What to simulate: the model and its parameters, validated before anything runs.
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::{Error, Result, Strategy};

/// The variance (covariance) estimator refitted each generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Estimator {
    /// Divide by M (numpy's `np.var`, `np.cov(bias=True)`): E\[σ²_n\] = ((M−1)/M)^n σ0².
    Mle,
    /// Divide by M − 1: E\[σ²_n\] = σ0² (a martingale), yet almost every path collapses.
    Unbiased,
}

impl FromStr for Estimator {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "mle" => Ok(Estimator::Mle),
            "unbiased" => Ok(Estimator::Unbiased),
            _ => Err(Error::invalid("estimator", "`mle` or `unbiased`", s)),
        }
    }
}

/// `gaussian`: 1-D N(mean, std²).
#[derive(Debug, Clone, Serialize)]
pub struct GaussianSpec {
    /// Samples per generation (M).
    pub samples: usize,
    /// Variance estimator.
    pub estimator: Estimator,
    /// True mean μ0.
    pub mean: f64,
    /// True standard deviation σ0.
    pub std: f64,
}

/// `mvgaussian`: N(0, I_d), mean and covariance refitted.
#[derive(Debug, Clone, Serialize)]
pub struct MvGaussianSpec {
    /// Samples per generation (M > d).
    pub samples: usize,
    /// Dimension d.
    pub dim: usize,
    /// Covariance estimator.
    pub estimator: Estimator,
}

/// `gmm`: data from N(0, I_d), a k-component full-covariance Gaussian mixture fitted by EM.
#[derive(Debug, Clone, Serialize)]
pub struct GmmSpec {
    /// Samples per generation.
    pub samples: usize,
    /// Mixture components k.
    pub components: usize,
    /// Dimension d.
    pub dim: usize,
    /// EM stops when the mean log-likelihood improves by less than this (sklearn's `tol`).
    pub tolerance: f64,
    /// EM iteration cap.
    pub max_iterations: usize,
}

/// `categorical`: K equally likely categories, frequencies refitted (Wright-Fisher drift).
#[derive(Debug, Clone, Serialize)]
pub struct CategoricalSpec {
    /// Samples per generation.
    pub samples: usize,
    /// Categories K.
    pub categories: usize,
}

/// `poisson`: Poisson(λ0), λ refitted as the sample mean (a critical Galton-Watson process).
#[derive(Debug, Clone, Serialize)]
pub struct PoissonSpec {
    /// Samples per generation (n).
    pub samples: usize,
    /// λ0.
    pub lambda: f64,
}

/// `zipf`: a Zipf law p_i ∝ i^(−β) truncated to K symbols, frequencies refitted.
#[derive(Debug, Clone, Serialize)]
pub struct ZipfSpec {
    /// Samples per generation (T0).
    pub samples: usize,
    /// Symbols K.
    pub symbols: usize,
    /// Exponent β.
    pub exponent: f64,
}

/// `mean`: mean estimation of N(0, σ²) with σ known.
#[derive(Debug, Clone, Serialize)]
pub struct MeanSpec {
    /// Samples per generation (M).
    pub samples: usize,
    /// Known σ.
    pub sigma: f64,
}

/// `regression`: y = X w* + ε with a fixed Gaussian design X (T × d), OLS refitted.
#[derive(Debug, Clone, Serialize)]
pub struct RegressionSpec {
    /// Rows T of the design (labels per generation).
    pub samples: usize,
    /// Features d (T > d + 1).
    pub dim: usize,
    /// Noise variance σ².
    pub noise_variance: f64,
}

/// `ngram`: an interpolated Kneser-Ney language model trained on a text corpus.
#[derive(Debug, Clone, Serialize)]
pub struct NgramSpec {
    /// Where the corpus came from (a path, or a description of generated text).
    pub corpus: String,
    /// n of the n-gram model.
    pub order: usize,
    /// Share of the corpus's documents held out (human text) for perplexity.
    pub heldout: f64,
    /// Documents generated per generation (default: as many as the training split).
    pub samples: Option<usize>,
    /// Longest generated document, in tokens.
    pub max_doc_tokens: usize,
    /// Drop the exact and near duplicates `tailwatch dedup` drops (its default options) from
    /// each generation's training data.
    pub dedup: bool,
    /// Always keep the human training documents that hold tail types (see the module docs).
    pub tail_preserve: bool,
    /// The tail: the rarest reference types holding at most this share of its tokens.
    pub tail_mass: f64,
    /// Lowercase before tokenizing (words tokenizer).
    pub lowercase: bool,
}

/// A model and its parameters.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum ModelSpec {
    /// See [`GaussianSpec`].
    Gaussian(GaussianSpec),
    /// See [`MvGaussianSpec`].
    MvGaussian(MvGaussianSpec),
    /// See [`GmmSpec`].
    Gmm(GmmSpec),
    /// See [`CategoricalSpec`].
    Categorical(CategoricalSpec),
    /// See [`PoissonSpec`].
    Poisson(PoissonSpec),
    /// See [`ZipfSpec`].
    Zipf(ZipfSpec),
    /// See [`MeanSpec`].
    Mean(MeanSpec),
    /// See [`RegressionSpec`].
    Regression(RegressionSpec),
    /// See [`NgramSpec`].
    Ngram(NgramSpec),
}

/// The model names, as the command line spells them.
pub const MODEL_NAMES: [&str; 9] =
    ["gaussian", "mvgaussian", "gmm", "categorical", "poisson", "zipf", "mean", "regression", "ngram"];

impl ModelSpec {
    /// The defaults of a model (the settings of the papers' reference experiments).
    pub fn defaults(name: &str) -> Result<Self> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "gaussian" => ModelSpec::Gaussian(GaussianSpec {
                samples: 100,
                estimator: Estimator::Mle,
                mean: 0.0,
                std: 1.0,
            }),
            "mvgaussian" => {
                ModelSpec::MvGaussian(MvGaussianSpec { samples: 100, dim: 10, estimator: Estimator::Mle })
            }
            "gmm" => ModelSpec::Gmm(GmmSpec {
                samples: 1000,
                components: 2,
                dim: 2,
                tolerance: 1e-5,
                max_iterations: 2000,
            }),
            "categorical" => ModelSpec::Categorical(CategoricalSpec { samples: 100, categories: 10 }),
            "poisson" => ModelSpec::Poisson(PoissonSpec { samples: 10, lambda: 1.0 }),
            "zipf" => ModelSpec::Zipf(ZipfSpec { samples: 10_000, symbols: 20_000, exponent: 2.0 }),
            "mean" => ModelSpec::Mean(MeanSpec { samples: 50, sigma: 1.0 }),
            "regression" => {
                ModelSpec::Regression(RegressionSpec { samples: 100, dim: 10, noise_variance: 1.0 })
            }
            "ngram" => ModelSpec::Ngram(NgramSpec {
                corpus: String::new(),
                order: 3,
                heldout: 0.1,
                samples: None,
                max_doc_tokens: 200,
                dedup: false,
                tail_preserve: false,
                tail_mass: 0.1,
                lowercase: false,
            }),
            _ => {
                return Err(Error::invalid("the model", format!("one of {}", MODEL_NAMES.join(", ")), name));
            }
        })
    }

    /// The model's name.
    pub fn name(&self) -> &'static str {
        match self {
            ModelSpec::Gaussian(_) => "gaussian",
            ModelSpec::MvGaussian(_) => "mvgaussian",
            ModelSpec::Gmm(_) => "gmm",
            ModelSpec::Categorical(_) => "categorical",
            ModelSpec::Poisson(_) => "poisson",
            ModelSpec::Zipf(_) => "zipf",
            ModelSpec::Mean(_) => "mean",
            ModelSpec::Regression(_) => "regression",
            ModelSpec::Ngram(_) => "ngram",
        }
    }

    /// Samples per generation (documents for `ngram`, `None` = as many as the training split).
    pub fn samples(&self) -> Option<usize> {
        Some(match self {
            ModelSpec::Gaussian(s) => s.samples,
            ModelSpec::MvGaussian(s) => s.samples,
            ModelSpec::Gmm(s) => s.samples,
            ModelSpec::Categorical(s) => s.samples,
            ModelSpec::Poisson(s) => s.samples,
            ModelSpec::Zipf(s) => s.samples,
            ModelSpec::Mean(s) => s.samples,
            ModelSpec::Regression(s) => s.samples,
            ModelSpec::Ngram(s) => return s.samples,
        })
    }

    /// Set the samples per generation.
    pub fn set_samples(&mut self, samples: usize) {
        match self {
            ModelSpec::Gaussian(s) => s.samples = samples,
            ModelSpec::MvGaussian(s) => s.samples = samples,
            ModelSpec::Gmm(s) => s.samples = samples,
            ModelSpec::Categorical(s) => s.samples = samples,
            ModelSpec::Poisson(s) => s.samples = samples,
            ModelSpec::Zipf(s) => s.samples = samples,
            ModelSpec::Mean(s) => s.samples = samples,
            ModelSpec::Regression(s) => s.samples = samples,
            ModelSpec::Ngram(s) => s.samples = Some(samples),
        }
    }

    /// The numbers one replicate holds: per generation of data (its samples times their
    /// width), and regardless of generations (the model's own tables). An upper bound, checked
    /// before anything is allocated (`zipf --categories 1e11` aborted on allocation failure).
    fn footprint(&self) -> (f64, f64) {
        let n = |v: usize| v as f64;
        match self {
            ModelSpec::Gaussian(s) => (n(s.samples), 0.0),
            ModelSpec::MvGaussian(s) => (n(s.samples) * n(s.dim), n(s.dim) * n(s.dim)),
            ModelSpec::Gmm(s) => (n(s.samples) * n(s.dim), n(s.components) * n(s.dim) * n(s.dim)),
            ModelSpec::Categorical(s) => (n(s.samples), n(s.categories)),
            ModelSpec::Poisson(s) => (n(s.samples), 0.0),
            ModelSpec::Zipf(s) => (n(s.samples), n(s.symbols)),
            ModelSpec::Mean(s) => (n(s.samples), 0.0),
            ModelSpec::Regression(s) => (n(s.samples) * (n(s.dim) + 1.0), n(s.dim) * n(s.dim)),
            ModelSpec::Ngram(s) => (n(s.samples.unwrap_or(0)) * n(s.max_doc_tokens), 0.0),
        }
    }

    /// Check every parameter; errors name the parameter's field.
    pub fn validate(&self) -> Result<()> {
        fn positive(name: &'static str, v: f64) -> Result<()> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(name, "a finite number > 0", v))
            }
        }
        fn at_least(name: &'static str, v: usize, min: usize, why: &str) -> Result<()> {
            if v >= min { Ok(()) } else { Err(Error::invalid(name, format!("at least {min}{why}"), v)) }
        }
        match self {
            ModelSpec::Gaussian(s) => {
                let min = if s.estimator == Estimator::Unbiased { 2 } else { 1 };
                at_least("samples", s.samples, min, "")?;
                positive("std", s.std)?;
                if !s.mean.is_finite() {
                    return Err(Error::invalid("mean", "a finite number", s.mean));
                }
            }
            ModelSpec::MvGaussian(s) => {
                at_least("dim", s.dim, 1, "")?;
                at_least(
                    "samples",
                    s.samples,
                    s.dim + 1,
                    " (more samples than dimensions, or the covariance is singular)",
                )?;
            }
            ModelSpec::Gmm(s) => {
                at_least("dim", s.dim, 1, "")?;
                at_least("components", s.components, 1, "")?;
                at_least("samples", s.samples, s.components * (s.dim + 1), " (enough points per component)")?;
                positive("tolerance", s.tolerance)?;
                at_least("max_iterations", s.max_iterations, 1, "")?;
            }
            ModelSpec::Categorical(s) => {
                at_least("samples", s.samples, 1, "")?;
                at_least("categories", s.categories, 1, "")?;
            }
            ModelSpec::Poisson(s) => {
                at_least("samples", s.samples, 1, "")?;
                positive("lambda", s.lambda)?;
                if s.lambda * s.samples as f64 > 1e12 {
                    return Err(Error::invalid(
                        "lambda × samples",
                        "at most 1e12",
                        s.lambda * s.samples as f64,
                    ));
                }
            }
            ModelSpec::Zipf(s) => {
                at_least("samples", s.samples, 1, "")?;
                at_least("symbols", s.symbols, 1, "")?;
                if !(s.exponent.is_finite() && s.exponent >= 0.0) {
                    return Err(Error::invalid("exponent", "a finite number ≥ 0", s.exponent));
                }
            }
            ModelSpec::Mean(s) => {
                at_least("samples", s.samples, 1, "")?;
                positive("sigma", s.sigma)?;
            }
            ModelSpec::Regression(s) => {
                at_least("dim", s.dim, 1, "")?;
                at_least("samples", s.samples, s.dim + 2, " (T > d + 1 rows, so that OLS error is finite)")?;
                positive("noise_variance", s.noise_variance)?;
            }
            ModelSpec::Ngram(s) => {
                if !(1..=6).contains(&s.order) {
                    return Err(Error::invalid("order", "1..=6", s.order));
                }
                if !(s.heldout > 0.0 && s.heldout < 1.0) {
                    return Err(Error::invalid("heldout", "a share in (0, 1)", s.heldout));
                }
                if let Some(n) = s.samples {
                    at_least("samples", n, 1, "")?;
                }
                at_least("max_doc_tokens", s.max_doc_tokens, 1, "")?;
                if !(0.0..=1.0).contains(&s.tail_mass) {
                    return Err(Error::invalid("tail_mass", "a share in [0, 1]", s.tail_mass));
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The most numbers one replicate may hold (see [`SimSpec::validate`]): 2^28, 2 GiB of `f64`.
pub const MAX_VALUES_PER_REPLICATE: u64 = 1 << 28;

/// A whole simulation: one model, one or more strategies.
#[derive(Debug, Clone, Serialize)]
pub struct SimSpec {
    /// The model.
    pub model: ModelSpec,
    /// Strategies, each run with the same replicate seeds.
    pub strategies: Vec<Strategy>,
    /// Generations after generation 0.
    pub generations: usize,
    /// Replicates per strategy.
    pub replicates: usize,
    /// Base seed.
    pub seed: u64,
}

impl SimSpec {
    /// Check the model, the strategies and the counts.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        if self.generations == 0 {
            return Err(Error::invalid("generations", "at least 1", 0));
        }
        if self.replicates == 0 {
            return Err(Error::invalid("replicates", "at least 1", 0));
        }
        if self.strategies.is_empty() {
            return Err(Error::invalid("strategies", "at least one strategy", "none"));
        }
        // the data a replicate holds: two generations, or all of them when data accumulates
        let accumulating =
            self.strategies.iter().any(|s| matches!(s, Strategy::Accumulate | Strategy::AccumulateSubsample));
        let (per_generation, fixed) = self.model.footprint();
        let kept = if accumulating { self.generations as f64 + 1.0 } else { 2.0 };
        let held = per_generation * kept + fixed;
        if held > MAX_VALUES_PER_REPLICATE as f64 {
            return Err(Error::invalid(
                "samples × generations kept × width, plus the model's tables",
                format!("at most {MAX_VALUES_PER_REPLICATE} values per replicate (2 GiB)"),
                format!("{held:.3e}"),
            ));
        }
        if self.generations.saturating_mul(self.replicates) > 100_000_000 {
            return Err(Error::invalid(
                "generations × replicates",
                "at most 100,000,000",
                self.generations.saturating_mul(self.replicates),
            ));
        }
        Ok(())
    }
}
