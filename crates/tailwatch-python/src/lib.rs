//! tailwatch as a Python package (`tailwatch._tailwatch`): profiles, scores, references and
//! dedup over the engine, on a thread pool of the package's own, with the GIL released.
//!
//! The Python sources (`python/tailwatch/`) wrap this module: Spark, Ray, HF `datasets`, the
//! watch-server client and the report frames. Every error is a `TailwatchError` subclass
//! (`errors.rs`) whose message is the engine's.
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tailwatch::{ScoreOptions, Scorer};

mod compare;
mod dedup;
mod dedup_keys;
mod errors;
mod ledger;
mod pool;
mod profile;
mod records;
mod reference;
mod simulate;
mod texts;

use errors::IntoPy;
use profile::{PyProfile, SampleArg, TokenizerArg};

/// A JSON value as the Python object `json.loads` makes of it.
pub(crate) fn json_to_py<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value).expect("serializable");
    py.import("json")?.call_method1("loads", (text,))
}

/// A result as an object of `tailwatch._report` (`Report`, `Comparison`, `DedupResult`,
/// `Simulation`), made from its JSON.
pub(crate) fn result_object<'py>(
    py: Python<'py>,
    class: &str,
    value: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    let class = py.import("tailwatch._report")?.getattr(class)?;
    class.call_method1("from_dict", (json_to_py(py, value)?,))
}

/// Use `threads` worker threads from now on (`None`: the default: `TAILWATCH_NUM_THREADS`,
/// `RAYON_NUM_THREADS`, `OMP_NUM_THREADS`, else one per core). Results never depend on it.
#[pyfunction]
#[pyo3(signature = (threads = None))]
fn set_num_threads(threads: Option<usize>) -> PyResult<()> {
    pool::set_threads(threads)
}

/// Worker threads of the package's pool.
#[pyfunction]
fn num_threads() -> PyResult<usize> {
    Ok(pool::engine()?.threads())
}

/// Every metric id tailwatch computes, with its family, collapse direction, range and
/// definition (what `tailwatch metrics --json` lists).
#[pyfunction]
fn catalog(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    json_to_py(py, &serde_json::to_value(tailwatch_metrics::catalog::METRICS).expect("serializable"))
}

/// Score documents as `tailwatch score --json` does: a `Report` (`metrics`, sizes, notes; `raw`
/// is the CLI's JSON). `compat` reproduces an anchor tool's formulas (diversity, nltk,
/// degen, texygen, simctg, lexicaldiversity) over the documents in order; `confidence` (0.95,
/// say) gives each metric a jackknife interval (`Report.intervals`), as `score --ci` does.
#[pyfunction]
#[pyo3(signature = (texts, *, reference = None, metrics = None, compat = None, confidence = None, skip_nulls = false, tokenizer = TokenizerArg::Name("words".to_string()), lowercase = false, sample = SampleArg::Docs(1000), seed = 0, items_k = 10, max_memory = None))]
#[allow(clippy::too_many_arguments)]
fn score<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    reference: Option<&Bound<'py, PyAny>>,
    metrics: Option<Vec<String>>,
    compat: Option<&str>,
    confidence: Option<f64>,
    skip_nulls: bool,
    tokenizer: TokenizerArg,
    lowercase: bool,
    sample: SampleArg,
    seed: u64,
    items_k: u32,
    max_memory: Option<u64>,
) -> PyResult<Bound<'py, PyAny>> {
    let compat = compat
        .map(|name| {
            serde_json::from_value::<tailwatch::Compat>(serde_json::json!(name)).map_err(|_| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "compat must be diversity, nltk, degen, texygen, simctg or lexicaldiversity, found {name:?}"
                ))
            })
        })
        .transpose()?;
    let made = PyProfile::new_settings(tokenizer, lowercase, sample, seed, items_k, false, max_memory)?;
    let options = ScoreOptions {
        metrics: profile::selection(metrics)?,
        reference: profile::reference_of(reference)?,
        compat,
        confidence,
        ..ScoreOptions::default()
    };
    let scorer = Scorer::new(made, options).py_err()?;
    let docs = texts::documents(texts, skip_nulls)?;
    let strs = docs.strs(skip_nulls)?;
    let engine = pool::engine()?;
    let report = py.detach(|| scorer.score_texts(&engine, "<texts>", &strs)).py_err()?;
    result_object(py, "Report", &serde_json::to_value(report).expect("serializable"))
}

/// The package's version and the profile format versions it reads and writes.
#[pyfunction]
fn _versions(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("tailwatch", tailwatch_core::VERSION)?;
    d.set_item("profile_format", tailwatch_metrics::profile::PROFILE_FORMAT_VERSION)?;
    Ok(d)
}

/// The hex BLAKE3 of `data`: the hash behind `tailwatch push`'s idempotency keys.
#[pyfunction]
fn _blake3_hex(py: Python<'_>, data: &[u8]) -> String {
    py.detach(|| blake3::hash(data).to_hex().to_string())
}

/// The native module.
#[pymodule]
mod _tailwatch {
    #[pymodule_export]
    use super::compare::compare;
    #[pymodule_export]
    use super::dedup::dedup;
    #[pymodule_export]
    use super::dedup_keys::{dedup_candidates, dedup_clusters, dedup_keys, dedup_settings, jaccard_pairs};
    #[pymodule_export]
    use super::errors::{
        CapsUnmetError, IncompatibleProfilesError, InputError, NotAProfileError, TailwatchError,
        TokenizerError, UnsupportedVersionError,
    };
    #[pymodule_export]
    use super::ledger::PyLedger;
    #[pymodule_export]
    use super::profile::{_profile_from_bytes, PyProfile, merge};
    #[pymodule_export]
    use super::reference::PyReference;
    #[pymodule_export]
    use super::simulate::simulate;
    #[pymodule_export]
    use super::{_blake3_hex, _versions, catalog, num_threads, score, set_num_threads};
}
