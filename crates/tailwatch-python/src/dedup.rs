//! `dedup`: records in, cluster ids and keep flags out, with the CLI's options and clusters.
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tailwatch_sketch::dedup::{DedupOptions, Deduper, KeepPolicy, SignatureMode, Verify};

use crate::errors::{input_error, to_py};
use crate::pool::engine;
use crate::texts::documents;

fn signature_mode(name: &str) -> PyResult<SignatureMode> {
    Ok(match name {
        "oph" => SignatureMode::Oph,
        "fss" => SignatureMode::Fss,
        "classic" => SignatureMode::Classic,
        "datasketch" => SignatureMode::Datasketch,
        "datasketch-legacy" => SignatureMode::DatasketchLegacy,
        other => {
            return Err(PyValueError::new_err(format!(
                "signature must be oph, fss, classic, datasketch or datasketch-legacy, found {other:?}"
            )));
        }
    })
}

fn verification(name: &str) -> PyResult<Verify> {
    match name {
        "exact" => Ok(Verify::Exact),
        "estimate" => Ok(Verify::Estimate),
        other => Err(PyValueError::new_err(format!("verify must be exact or estimate, found {other:?}"))),
    }
}

fn keep_policy(name: &str) -> PyResult<KeepPolicy> {
    match name {
        "first" => Ok(KeepPolicy::First),
        "longest" => Ok(KeepPolicy::Longest),
        other => Err(PyValueError::new_err(format!("keep must be first or longest, found {other:?}"))),
    }
}

/// The keyword arguments of `dedup`, shared by every function that takes them (the native
/// helpers of `tailwatch.spark.dedup_dataframe` and `tailwatch.ray.dedup_dataset` too), so
/// that each accepts the same names with the same defaults: those of [`DedupOptions`].
pub struct DedupArgs {
    /// The options.
    pub options: DedupOptions,
    /// Skip null documents instead of refusing them.
    pub skip_nulls: bool,
}

/// Every keyword `DedupArgs` reads, for the message about an unknown one.
const DEDUP_KEYWORDS: &str = "threshold, shingle_size, num_perm, signature, seed, recall, verify, exact_only, \
                              exact_pairs, keep, nfkc, lowercase, strip_punctuation, skip_nulls";

impl DedupArgs {
    /// The options of `kwargs` (defaults for those absent), checked with
    /// [`DedupOptions::validate`]: a bad value raises `InputError` naming it, an unknown
    /// keyword or a value of the wrong type raises `TypeError`, an unknown name (`signature`,
    /// `verify`, `keep`) raises `ValueError`.
    pub fn from_kwargs(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut options = DedupOptions::default();
        let mut skip_nulls = false;
        for (key, value) in kwargs.into_iter().flat_map(|k| k.iter()) {
            let key: String = key.extract()?;
            match key.as_str() {
                "threshold" => options.threshold = extract(&key, &value, "a float")?,
                "shingle_size" => options.shingle_size = extract(&key, &value, "a non-negative int")?,
                "num_perm" => options.num_perm = extract(&key, &value, "a non-negative int")?,
                "signature" => {
                    options.signature = signature_mode(&extract::<String>(&key, &value, "a str")?)?
                }
                "seed" => options.seed = extract(&key, &value, "a non-negative int")?,
                "recall" => options.recall = extract(&key, &value, "a float")?,
                "verify" => options.verify = verification(&extract::<String>(&key, &value, "a str")?)?,
                "exact_only" => options.exact_only = extract(&key, &value, "a bool")?,
                "exact_pairs" => options.exact_pairs = extract(&key, &value, "a bool")?,
                "keep" => options.keep = keep_policy(&extract::<String>(&key, &value, "a str")?)?,
                "nfkc" => options.normalize.nfkc = extract(&key, &value, "a bool")?,
                "lowercase" => options.normalize.lowercase = extract(&key, &value, "a bool")?,
                "strip_punctuation" => options.normalize.strip_punctuation = extract(&key, &value, "a bool")?,
                "skip_nulls" => skip_nulls = extract(&key, &value, "a bool")?,
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "unexpected keyword argument `{other}`: the dedup options are {DEDUP_KEYWORDS}"
                    )));
                }
            }
        }
        options.validate().map_err(|e| to_py(e.into()))?;
        Ok(Self { options, skip_nulls })
    }
}

/// The value of keyword `key`, or a `TypeError` naming it and the type it takes.
fn extract<'py, T: FromPyObjectOwned<'py>>(
    key: &str,
    value: &Bound<'py, PyAny>,
    expected: &str,
) -> PyResult<T> {
    value.extract().map_err(|_| {
        let kind = value.get_type().name().map_or_else(|_| "an object".to_string(), |n| n.to_string());
        // a number of the right kind out of range (a negative seed): show it
        let found = match value.repr() {
            Ok(repr) if matches!(kind.as_str(), "int" | "float" | "bool") => format!("{kind} {repr}"),
            _ => kind,
        };
        PyTypeError::new_err(format!("`{key}` must be {expected}, found {found}"))
    })
}

/// Deduplicate documents exactly and near-exactly (MinHash + LSH, candidates verified), as
/// `tailwatch dedup` does with the same options. Returns a `DedupResult`: `keep` (one flag per
/// document), `cluster` (each document's cluster id, None when it has no duplicate),
/// `clusters`, `pairs` (verified near-duplicate pairs) and `summary`.
///
/// Options (keywords): `threshold` (0.8), `shingle_size` (5), `num_perm` (128), `signature`
/// (`oph`, `fss`, `classic`, `datasketch`, `datasketch-legacy`), `seed` (1), `recall` (0.99),
/// `verify` (`exact` or `estimate`), `exact_only`, `exact_pairs`, `keep` (`first` or
/// `longest`), `nfkc`, `lowercase`, `strip_punctuation` (all True), `skip_nulls` (False).
#[pyfunction]
#[pyo3(signature = (texts, **options))]
pub fn dedup<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let DedupArgs { options, skip_nulls } = DedupArgs::from_kwargs(options)?;
    let docs = documents(texts, skip_nulls)?;
    let strs = docs.strs(skip_nulls)?;
    if strs.is_empty() {
        return Err(input_error("no documents to deduplicate"));
    }
    let engine = engine()?;
    let result = py.detach(|| {
        let mut deduper = Deduper::new(options)?;
        engine.install(|| {
            for chunk in strs.chunks(8192) {
                let owned: Vec<String> = chunk.iter().map(|s| s.to_string()).collect();
                deduper.add(&owned, None);
            }
            Ok::<_, tailwatch_sketch::Error>(deduper.finish())
        })
    });
    let result = result.map_err(|e| to_py(e.into()))?;
    let mut cluster: Vec<Option<usize>> = vec![None; result.keep.len()];
    for c in &result.clusters {
        for m in &c.members {
            cluster[m.doc as usize] = Some(c.id);
        }
    }
    let value = serde_json::json!({
        "keep": result.keep,
        "cluster": cluster,
        "clusters": result.clusters,
        "pairs": result.pairs,
        "summary": result.summary,
        "warnings": result.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
    });
    crate::result_object(py, "DedupResult", &value)
}
