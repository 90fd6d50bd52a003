//! `dedup`: records in, cluster ids and keep flags out, with the CLI's options and clusters.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tailwatch_sketch::dedup::{DedupOptions, Deduper, KeepPolicy, SignatureMode, Verify};
use tailwatch_sketch::normalize::NormalizeOptions;

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

/// Deduplicate documents exactly and near-exactly (MinHash + LSH, candidates verified), as
/// `tailwatch dedup` does with the same options. Returns a `DedupResult`: `keep` (one flag per
/// document), `cluster` (each document's cluster id, None when it has no duplicate),
/// `clusters`, `pairs` (verified near-duplicate pairs) and `summary`.
#[pyfunction]
#[pyo3(signature = (texts, *, threshold = 0.8, shingle_size = 5, num_perm = 128, signature = "oph", seed = 1, recall = 0.99, verify = "exact", exact_only = false, exact_pairs = false, keep = "first", nfkc = true, lowercase = true, strip_punctuation = true, skip_nulls = false))]
#[allow(clippy::too_many_arguments)]
pub fn dedup<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    threshold: f64,
    shingle_size: usize,
    num_perm: usize,
    signature: &str,
    seed: u64,
    recall: f64,
    verify: &str,
    exact_only: bool,
    exact_pairs: bool,
    keep: &str,
    nfkc: bool,
    lowercase: bool,
    strip_punctuation: bool,
    skip_nulls: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let options = DedupOptions {
        normalize: NormalizeOptions { nfkc, lowercase, strip_punctuation },
        shingle_size,
        threshold,
        num_perm,
        signature: signature_mode(signature)?,
        seed,
        recall,
        banding: None,
        verify: verification(verify)?,
        exact_only,
        exact_pairs,
        keep: keep_policy(keep)?,
        ..DedupOptions::default()
    };
    let docs = documents(texts, skip_nulls)?;
    let strs = docs.strs(skip_nulls)?;
    if strs.is_empty() {
        return Err(input_error("no documents to deduplicate"));
    }
    let engine = engine()?;
    let result = py.detach(|| {
        options.validate()?;
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
