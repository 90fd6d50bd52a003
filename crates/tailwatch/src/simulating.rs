//! Simulations of recursive training, on the engine's pool, and the built-in demo.
use std::path::{Path, PathBuf};

use serde::Serialize;
use tailwatch_core::Reporter;
use tailwatch_io::ReadOptions;
use tailwatch_sim::spec::{GaussianSpec, ModelSpec, NgramSpec, ZipfSpec};
use tailwatch_sim::summary::Statistic;
use tailwatch_sim::synthetic_language::{LanguageSpec, SyntheticLanguage, generate_corpus};
use tailwatch_sim::{Estimator, SimReport, SimSpec, Strategy};

use crate::{Engine, Error, Result};

/// A human corpus for the `ngram` model: a file and how to read it.
#[derive(Debug, Clone, Copy)]
pub struct Corpus<'a> {
    /// The file.
    pub path: &'a Path,
    /// How it is read.
    pub read: &'a ReadOptions,
}

impl Corpus<'_> {
    fn documents(&self) -> Result<Vec<String>> {
        tailwatch_io::read_all(self.path, self.read)
            .map_err(|e| Error::Corpus { path: self.path.to_path_buf(), source: e })
    }
}

impl Engine {
    /// Run a simulation; the `ngram` model trains on `corpus`.
    pub fn simulate(
        &self,
        spec: &SimSpec,
        corpus: Option<Corpus<'_>>,
        reporter: &dyn Reporter,
    ) -> Result<SimReport> {
        spec.validate()?;
        let documents = match (&spec.model, corpus) {
            (ModelSpec::Ngram(_), Some(corpus)) => Some(corpus.documents()?),
            _ => None,
        };
        self.simulate_documents(spec, documents.as_deref(), reporter)
    }

    /// Run a simulation; the `ngram` model trains on `documents` (a corpus held in memory).
    pub fn simulate_documents(
        &self,
        spec: &SimSpec,
        documents: Option<&[String]>,
        reporter: &dyn Reporter,
    ) -> Result<SimReport> {
        spec.validate()?;
        if matches!(spec.model, ModelSpec::Ngram(_)) && documents.is_none() {
            return Err(Error::NoCorpus);
        }
        Ok(self.install(|| tailwatch_sim::simulate(spec, documents, reporter))?)
    }
}

/// A model's parameters as a front end gives them: each `None` keeps the model's default.
#[derive(Debug, Clone, Default)]
pub struct ModelOptions {
    /// `mle` or `unbiased` (gaussian, mvgaussian).
    pub estimator: Option<String>,
    /// Dimensions (mvgaussian, gmm, regression).
    pub dim: Option<usize>,
    /// Mixture components (gmm).
    pub components: Option<usize>,
    /// Categories (categorical) or symbols (zipf).
    pub categories: Option<usize>,
    /// Zipf exponent (zipf).
    pub exponent: Option<f64>,
    /// Poisson rate (poisson).
    pub lambda: Option<f64>,
    /// Mean of the truth (gaussian).
    pub mean: Option<f64>,
    /// Standard deviation of the truth (gaussian, mean).
    pub std: Option<f64>,
    /// Noise variance (regression).
    pub noise_variance: Option<f64>,
    /// EM tolerance (gmm).
    pub tolerance: Option<f64>,
    /// EM iterations (gmm).
    pub max_iterations: Option<usize>,
    /// The human corpus (ngram).
    pub corpus: Option<PathBuf>,
    /// N-gram order (ngram).
    pub order: Option<usize>,
    /// Held-out share of the corpus (ngram).
    pub heldout: Option<f64>,
    /// Longest generated document (ngram).
    pub max_doc_tokens: Option<usize>,
    /// Dedup each generation's data (ngram).
    pub dedup: bool,
    /// Keep the human tail in every generation (ngram): `Some(None)` at the default tail
    /// mass, `Some(Some(mass))` at that mass.
    pub tail_preserve: Option<Option<f64>>,
    /// The tail's mass (ngram).
    pub tail_mass: Option<f64>,
    /// Lowercase the corpus (ngram).
    pub lowercase: bool,
    /// A field of the corpus's records was named (ngram).
    pub field: bool,
    /// Samples per generation (every model).
    pub samples: Option<usize>,
}

/// The spec of `model` (a name of [`tailwatch_sim::spec::MODEL_NAMES`]) from its defaults and
/// `options`; an option that does not apply to the model is refused.
pub fn model_spec(model: &str, options: &ModelOptions) -> Result<ModelSpec> {
    let o = options;
    let mut spec = ModelSpec::defaults(model)?;
    let applicable: [(&'static str, bool, &[&str]); 20] = [
        ("estimator", o.estimator.is_some(), &["gaussian", "mvgaussian"]),
        ("dim", o.dim.is_some(), &["mvgaussian", "gmm", "regression"]),
        ("components", o.components.is_some(), &["gmm"]),
        ("categories", o.categories.is_some(), &["categorical", "zipf"]),
        ("exponent", o.exponent.is_some(), &["zipf"]),
        ("lambda", o.lambda.is_some(), &["poisson"]),
        ("mean", o.mean.is_some(), &["gaussian"]),
        ("std", o.std.is_some(), &["gaussian", "mean"]),
        ("noise_variance", o.noise_variance.is_some(), &["regression"]),
        ("tolerance", o.tolerance.is_some(), &["gmm"]),
        ("max_iterations", o.max_iterations.is_some(), &["gmm"]),
        ("corpus", o.corpus.is_some(), &["ngram"]),
        ("order", o.order.is_some(), &["ngram"]),
        ("heldout", o.heldout.is_some(), &["ngram"]),
        ("max_doc_tokens", o.max_doc_tokens.is_some(), &["ngram"]),
        ("dedup", o.dedup, &["ngram"]),
        ("tail_preserve", o.tail_preserve.is_some(), &["ngram"]),
        ("tail_mass", o.tail_mass.is_some(), &["ngram"]),
        ("lowercase", o.lowercase, &["ngram"]),
        ("field", o.field, &["ngram"]),
    ];
    for (option, given, models) in applicable {
        if given && !models.contains(&spec.name()) {
            return Err(Error::NotApplicable {
                option,
                model: spec.name().to_string(),
                applies_to: models.join(", "),
            });
        }
    }
    let estimator = o.estimator.as_deref().map(str::parse::<Estimator>).transpose()?;
    match &mut spec {
        ModelSpec::Gaussian(s) => {
            s.estimator = estimator.unwrap_or(s.estimator);
            s.mean = o.mean.unwrap_or(s.mean);
            s.std = o.std.unwrap_or(s.std);
        }
        ModelSpec::MvGaussian(s) => {
            s.estimator = estimator.unwrap_or(s.estimator);
            s.dim = o.dim.unwrap_or(s.dim);
        }
        ModelSpec::Gmm(s) => {
            s.dim = o.dim.unwrap_or(s.dim);
            s.components = o.components.unwrap_or(s.components);
            s.tolerance = o.tolerance.unwrap_or(s.tolerance);
            s.max_iterations = o.max_iterations.unwrap_or(s.max_iterations);
        }
        ModelSpec::Categorical(s) => s.categories = o.categories.unwrap_or(s.categories),
        ModelSpec::Poisson(s) => s.lambda = o.lambda.unwrap_or(s.lambda),
        ModelSpec::Zipf(s) => {
            s.symbols = o.categories.unwrap_or(s.symbols);
            s.exponent = o.exponent.unwrap_or(s.exponent);
        }
        ModelSpec::Mean(s) => s.sigma = o.std.unwrap_or(s.sigma),
        ModelSpec::Regression(s) => {
            s.dim = o.dim.unwrap_or(s.dim);
            s.noise_variance = o.noise_variance.unwrap_or(s.noise_variance);
        }
        ModelSpec::Ngram(s) => {
            s.corpus = o.corpus.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
            s.order = o.order.unwrap_or(s.order);
            s.heldout = o.heldout.unwrap_or(s.heldout);
            s.max_doc_tokens = o.max_doc_tokens.unwrap_or(s.max_doc_tokens);
            s.dedup = o.dedup;
            s.tail_preserve = o.tail_preserve.is_some();
            let preserve_mass = o.tail_preserve.flatten();
            if let (Some(a), Some(b)) = (preserve_mass, o.tail_mass)
                && a != b
            {
                return Err(Error::TwoValues {
                    first: "tail_preserve",
                    first_value: a,
                    second: "tail_mass",
                    second_value: b,
                });
            }
            s.tail_mass = preserve_mass.or(o.tail_mass).unwrap_or(s.tail_mass);
            s.lowercase = o.lowercase;
        }
    }
    if let Some(samples) = o.samples {
        spec.set_samples(samples);
    }
    Ok(spec)
}

/// Replicates per strategy when none are asked for: enough for a smooth mean in a few seconds
/// on 2 cores.
pub fn default_replicates(model: &ModelSpec) -> usize {
    match model {
        ModelSpec::MvGaussian(_) | ModelSpec::Regression(_) => 1000,
        ModelSpec::Zipf(_) => 200,
        ModelSpec::Gmm(_) => 4,
        ModelSpec::Ngram(_) => 1,
        _ => 2000,
    }
}

/// Generations when none are asked for: 10 for the ngram model, 100 for the others.
pub fn default_generations(model: &ModelSpec) -> usize {
    if matches!(model, ModelSpec::Ngram(_)) { 10 } else { 100 }
}

/// Sentences of the generated language the demo's text simulation starts from.
pub const DEMO_SENTENCES: usize = 12_000;

/// The metrics each part of the demo's summary shows.
const SUMMARY: [(&str, &[&str]); 3] = [
    ("gaussian", &["variance", "mean_drift_sq"]),
    ("zipf", &["lost_mass", "surviving"]),
    ("ngram", &["perplexity", "tail_coverage", "distinct_1", "js_to_reference"]),
];

/// One line of the demo's summary: a metric under a strategy, first and last generation.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLine {
    /// The model.
    pub model: String,
    /// The metric.
    pub metric: String,
    /// The strategy.
    pub strategy: String,
    /// Generation 0.
    pub first: Option<f64>,
    /// The last generation.
    pub last: Option<f64>,
    /// The closed form's value at the last generation, when there is one.
    pub expected_last: Option<f64>,
}

/// What the demo ran and wrote.
#[derive(Debug)]
pub struct DemoRun {
    /// The three simulations: gaussian, zipf, ngram.
    pub reports: Vec<SimReport>,
    /// The summary lines.
    pub lines: Vec<DemoLine>,
    /// The results written (`{model}.json`), and the generated corpus when there is one.
    pub written: Vec<PathBuf>,
    /// The seed of every simulation.
    pub seed: u64,
}

fn demo_strategies() -> Vec<Strategy> {
    vec![Strategy::Replace, Strategy::Accumulate, Strategy::Fresh(0.1)]
}

fn summarize(reports: &[SimReport]) -> Vec<DemoLine> {
    let mut out = Vec::new();
    for report in reports {
        let metrics = SUMMARY.iter().find(|(m, _)| *m == report.model).map_or(&[][..], |(_, ids)| *ids);
        for id in metrics {
            for s in &report.strategies {
                let Some(series) = s.metrics.get(*id) else { continue };
                let expected_last = series
                    .expected
                    .iter()
                    .find(|e| e.statistic == Statistic::Mean)
                    .and_then(|e| e.values.last().copied().flatten());
                out.push(DemoLine {
                    model: report.model.clone(),
                    metric: id.to_string(),
                    strategy: s.strategy.to_string(),
                    first: series.mean.first().copied().flatten(),
                    last: series.mean.last().copied().flatten(),
                    expected_last,
                });
            }
        }
    }
    out
}

impl Engine {
    /// The demo: (a) a Gaussian refitted on its own samples, (b) a Zipf law losing its tail,
    /// (c) a trigram language model trained on its own text (on `corpus`, or on a language the
    /// demo generates and writes to `out/corpus.txt`), each under replace, accumulate and
    /// fresh:0.1. Writes each report as `out/{model}.json`.
    pub fn demo(&self, out: &Path, corpus: Option<Corpus<'_>>, reporter: &dyn Reporter) -> Result<DemoRun> {
        std::fs::create_dir_all(out).map_err(|e| Error::file(out, e))?;
        let seed = 0;
        let gaussian = SimSpec {
            model: ModelSpec::Gaussian(GaussianSpec {
                samples: 100,
                estimator: Estimator::Mle,
                mean: 0.0,
                std: 1.0,
            }),
            strategies: demo_strategies(),
            generations: 100,
            replicates: 2000,
            seed,
        };
        let zipf = SimSpec {
            model: ModelSpec::Zipf(ZipfSpec { samples: 10_000, symbols: 20_000, exponent: 2.0 }),
            strategies: demo_strategies(),
            generations: 50,
            replicates: 100,
            seed,
        };
        let mut written = Vec::new();
        let (documents, corpus_name, language_note) = match corpus {
            Some(corpus) => (corpus.documents()?, corpus.path.display().to_string(), None),
            None => {
                let spec = LanguageSpec::default();
                let language = SyntheticLanguage::new(&spec);
                let rare = language.true_unigram().iter().filter(|&&p| p < 1e-4).count();
                let sentences = generate_corpus(&spec, DEMO_SENTENCES);
                let path = out.join("corpus.txt");
                let mut text = sentences.join("\n");
                text.push('\n');
                tailwatch_io::output::write_file(&path, text.as_bytes())?;
                let note = format!(
                    "generated language: {} words in {} classes, Zipf exponent {} within classes, sentences of {}..={} words, seed {}; {} words have a true probability below 1e-4 (the true tail); {} sentences written to {}",
                    spec.vocab_size,
                    spec.classes,
                    spec.zipf_exponent,
                    spec.min_sentence_len,
                    spec.max_sentence_len,
                    spec.seed,
                    rare,
                    DEMO_SENTENCES,
                    path.display()
                );
                written.push(path.clone());
                (sentences, path.display().to_string(), Some(note))
            }
        };
        let mut ngram_model = ModelSpec::defaults("ngram")?;
        if let ModelSpec::Ngram(spec) = &mut ngram_model {
            *spec = NgramSpec { corpus: corpus_name, ..spec.clone() };
        }
        let ngram = SimSpec {
            model: ngram_model,
            strategies: demo_strategies(),
            generations: 10,
            replicates: 1,
            seed,
        };
        let mut reports = self.install(|| -> Result<Vec<SimReport>> {
            Ok(vec![
                tailwatch_sim::simulate(&gaussian, None, reporter)?,
                tailwatch_sim::simulate(&zipf, None, reporter)?,
                tailwatch_sim::simulate(&ngram, Some(&documents), reporter)?,
            ])
        })?;
        if let Some(note) = language_note {
            reports[2].notes.insert(0, note);
        }
        for report in &reports {
            let path = out.join(format!("{}.json", report.model));
            let bytes = serde_json::to_vec_pretty(report).expect("serializable");
            tailwatch_io::output::write_file(&path, &bytes)?;
            written.push(path);
        }
        let lines = summarize(&reports);
        Ok(DemoRun { reports, lines, written, seed })
    }
}
