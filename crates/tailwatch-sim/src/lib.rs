//! tailwatch-sim: seeded, replicate-parallel simulations of recursive training (model collapse).
//!
//! Generation 0 is the true distribution (or, for `ngram`, the human corpus); generation k is
//! the model fitted to the training data the [`Strategy`] assembles from real data and samples
//! of generation k − 1. Every replicate has its own random stream derived from the seed, so a
//! run gives the same numbers on any number of threads. Closed forms from the collapse papers
//! (see `closed_form`) are reported next to the simulated means and medians.
mod error;
mod family;
mod models;
mod rng;
mod strategy;

pub mod closed_form;
pub mod spec;
pub mod summary;
pub mod synthetic_language;

use std::time::Instant;

pub use error::{Error, Result};
pub use rng::{SimRng, replicate_rng};
pub use spec::{Estimator, ModelSpec, SimSpec};
pub use strategy::Strategy;
pub use summary::{MetricInfo, SimReport, Trajectories};
use tailwatch_core::Reporter;

use crate::family::{Family, run_replicates};
use crate::summary::StrategyResult;

/// Bind `$f` to the [`Family`] of a parametric model spec and evaluate `$body`, or `$ngram`.
macro_rules! with_family {
    ($model:expr, $f:ident => $body:expr, ngram($n:ident) => $ngram:expr) => {
        match $model {
            ModelSpec::Gaussian(s) => {
                let $f = models::gaussian::Normal1d(models::gaussian::Gaussian { spec: s.clone() });
                $body
            }
            ModelSpec::Mean(s) => {
                let $f = models::gaussian::Normal1d(models::gaussian::MeanEstimation { spec: s.clone() });
                $body
            }
            ModelSpec::MvGaussian(s) => {
                let $f = models::mvgaussian::MvGaussian { spec: s.clone() };
                $body
            }
            ModelSpec::Gmm(s) => {
                let $f = models::gmm::Gmm { spec: s.clone() };
                $body
            }
            ModelSpec::Categorical(s) => {
                let $f = models::discrete::Discrete::categorical(s);
                $body
            }
            ModelSpec::Zipf(s) => {
                let $f = models::discrete::Discrete::zipf(s);
                $body
            }
            ModelSpec::Poisson(s) => {
                let $f = models::poisson::Poisson { spec: s.clone() };
                $body
            }
            ModelSpec::Regression(s) => {
                let $f = models::regression::Regression { spec: s.clone() };
                $body
            }
            ModelSpec::Ngram($n) => $ngram,
        }
    };
}

fn run_family<F: Family>(
    family: &F,
    spec: &SimSpec,
    reporter: &dyn Reporter,
) -> (Vec<MetricInfo>, Vec<StrategyResult>) {
    let metrics = family.metrics().to_vec();
    let samples = spec.model.samples().unwrap_or(0);
    let results = spec
        .strategies
        .iter()
        .map(|&strategy| {
            reporter.start(&format!("{} {strategy}", spec.model), Some(spec.replicates as u64));
            let raw = run_replicates(
                family,
                strategy,
                spec.generations,
                samples,
                spec.replicates,
                spec.seed,
                reporter,
            );
            reporter.finish();
            let mut summary = raw.summarize(&metrics);
            for (id, expectation) in family.expectations(strategy, spec.generations) {
                if let Some(series) = summary.get_mut(id) {
                    series.expected.push(expectation);
                }
            }
            StrategyResult { strategy, metrics: summary }
        })
        .collect();
    (metrics, results)
}

/// The metrics a model reports per generation, in display order: the simulator's part of the
/// metric catalog (family `simulation`).
pub fn model_metrics(model: &ModelSpec) -> &'static [MetricInfo] {
    with_family!(model, f => family::Family::metrics(&f), ngram(_n) => models::text::METRICS)
}

/// The raw replicate trajectories of one parametric model under one strategy (tests and
/// benchmarks use them for order statistics); `ngram` is not supported here.
pub fn trajectories(spec: &SimSpec, strategy: Strategy) -> Result<Trajectories> {
    spec.validate()?;
    let samples = spec.model.samples().unwrap_or(0);
    let reporter = tailwatch_core::NoReporter;
    Ok(with_family!(&spec.model,
        f => run_replicates(&f, strategy, spec.generations, samples, spec.replicates, spec.seed, &reporter),
        ngram(_n) => return Err(Error::invalid("the model", "a parametric model (not ngram)", "ngram"))))
}

/// Run a simulation. `corpus` holds the documents of the `ngram` model (ignored otherwise).
/// Progress (replicates, or generations for `ngram`) goes to `reporter`.
pub fn simulate(spec: &SimSpec, corpus: Option<&[String]>, reporter: &dyn Reporter) -> Result<SimReport> {
    spec.validate()?;
    let start = Instant::now();
    let mut notes = Vec::new();
    let (metrics, strategies) = with_family!(&spec.model,
    f => run_family(&f, spec, reporter),
    ngram(s) => {
        let corpus = corpus.ok_or_else(|| Error::Corpus {
            path: s.corpus.clone().into(),
            reason: "no corpus given".into(),
        })?;
        models::text::simulate(s, spec, corpus, reporter, &mut notes)?
    });
    Ok(SimReport {
        tailwatch_version: tailwatch_core::VERSION.to_string(),
        model: spec.model.name().to_string(),
        parameters: spec.model.clone(),
        generations: spec.generations,
        replicates: spec.replicates,
        seed: spec.seed,
        metrics,
        strategies,
        elapsed_s: start.elapsed().as_secs_f64(),
        notes,
    })
}
