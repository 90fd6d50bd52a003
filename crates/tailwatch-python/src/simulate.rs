//! `simulate`: recursive training of a model on its own output, as `tailwatch simulate` runs it.
use std::path::PathBuf;

use pyo3::prelude::*;
use tailwatch::simulating::{Corpus, ModelOptions, default_generations, default_replicates, model_spec};
use tailwatch_core::NoReporter;
use tailwatch_sim::{SimSpec, Strategy};

use crate::errors::{IntoPy, input_error, to_py};
use crate::pool::engine;
use crate::texts::documents;

/// Strategies: a list of names, or one comma-separated string (`"replace,accumulate"`,
/// `"fresh:0.2"`).
#[derive(FromPyObject)]
pub enum StrategiesArg {
    /// One string.
    Text(String),
    /// A list.
    List(Vec<String>),
}

/// Simulate recursive training of `model` (gaussian, mvgaussian, gmm, categorical, poisson,
/// zipf, mean, regression, ngram) under each strategy: the report `tailwatch simulate --json`
/// writes, as a `Simulation` (one series per metric and strategy: mean, se, quantiles and closed
/// forms, per generation). The ngram model trains on `corpus`: a path, or documents.
#[pyfunction]
#[pyo3(signature = (model, *, strategies = StrategiesArg::Text("replace".to_string()), generations = None, replicates = None, seed = 0, samples = None, corpus = None, estimator = None, dim = None, components = None, categories = None, exponent = None, lam = None, mean = None, std = None, noise_variance = None, tolerance = None, max_iterations = None, order = None, heldout = None, max_doc_tokens = None, dedup = false, tail_preserve = None, tail_mass = None, lowercase = false))]
#[allow(clippy::too_many_arguments)]
pub fn simulate<'py>(
    py: Python<'py>,
    model: &str,
    strategies: StrategiesArg,
    generations: Option<usize>,
    replicates: Option<usize>,
    seed: u64,
    samples: Option<usize>,
    corpus: Option<&Bound<'py, PyAny>>,
    estimator: Option<String>,
    dim: Option<usize>,
    components: Option<usize>,
    categories: Option<usize>,
    exponent: Option<f64>,
    lam: Option<f64>,
    mean: Option<f64>,
    std: Option<f64>,
    noise_variance: Option<f64>,
    tolerance: Option<f64>,
    max_iterations: Option<usize>,
    order: Option<usize>,
    heldout: Option<f64>,
    max_doc_tokens: Option<usize>,
    dedup: bool,
    tail_preserve: Option<&Bound<'py, PyAny>>,
    tail_mass: Option<f64>,
    lowercase: bool,
) -> PyResult<Bound<'py, PyAny>> {
    // the corpus: a path (read as the CLI reads it) or documents
    let (corpus_path, corpus_docs): (Option<PathBuf>, Option<Vec<String>>) = match corpus {
        None => (None, None),
        Some(c) if c.hasattr("__fspath__")? || c.is_instance_of::<pyo3::types::PyString>() => {
            (Some(c.extract()?), None)
        }
        Some(c) => {
            let docs = documents(c, false)?;
            let texts = docs.strs(false)?.into_iter().map(str::to_string).collect();
            (Some(PathBuf::from("<documents>")), Some(texts))
        }
    };
    // tail_preserve: True (the default tail), or a tail mass
    let tail_preserve = match tail_preserve {
        None => None,
        Some(v) if v.is_instance_of::<pyo3::types::PyBool>() => v.extract::<bool>()?.then_some(None),
        Some(v) => Some(Some(v.extract::<f64>()?)),
    };
    let options = ModelOptions {
        estimator,
        dim,
        components,
        categories,
        exponent,
        lambda: lam,
        mean,
        std,
        noise_variance,
        tolerance,
        max_iterations,
        corpus: corpus_path.clone(),
        order,
        heldout,
        max_doc_tokens,
        dedup,
        tail_preserve,
        tail_mass,
        lowercase,
        field: false,
        samples,
    };
    let model = model_spec(model, &options).py_err()?;
    let strategies = match strategies {
        StrategiesArg::Text(text) => Strategy::parse_list(&text),
        StrategiesArg::List(list) => list.iter().map(|s| s.trim().parse()).collect(),
    }
    .map_err(|e| to_py(e.into()))?;
    if strategies.is_empty() {
        return Err(input_error("strategies must name at least one strategy"));
    }
    let generations = generations.unwrap_or_else(|| default_generations(&model));
    let replicates = replicates.unwrap_or_else(|| default_replicates(&model));
    let spec = SimSpec { model, strategies, generations, replicates, seed };
    let engine = engine()?;
    let read = tailwatch_io::ReadOptions::default();
    let report = py
        .detach(|| match (&corpus_docs, &corpus_path) {
            (Some(docs), _) => engine.simulate_documents(&spec, Some(docs), &NoReporter),
            (None, path) => {
                let corpus = path.as_deref().map(|path| Corpus { path, read: &read });
                engine.simulate(&spec, corpus, &NoReporter)
            }
        })
        .py_err()?;
    crate::result_object(py, "Simulation", &serde_json::to_value(report).expect("serializable"))
}
