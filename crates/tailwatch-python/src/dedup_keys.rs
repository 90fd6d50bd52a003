//! The pieces of a distributed dedup (`tailwatch.spark.dedup_dataframe`,
//! `tailwatch.ray.dedup_dataset`): what executors compute per document (the exact-duplicate
//! digest and the band keys) and per candidate pair (its similarity), and what a driver
//! computes from key rows and verified pairs (candidates, clusters). Each is the sketch
//! crate's own function, so the distributed result is `tailwatch dedup`'s.
use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch, make_array,
};
use arrow_cast::cast;
use arrow_data::ArrayData;
use arrow_pyarrow::{FromPyArrow, ToPyArrow};
use arrow_schema::{DataType, Field};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tailwatch_sketch::dedup::{BatchHasher, KeepPolicy, cluster_groups};
use tailwatch_sketch::lsh::{MAX_PAIRWISE_BUCKET, candidate_pairs};

use crate::dedup::DedupArgs;
use crate::errors::{input_error, to_py};
use crate::pool::engine;
use crate::texts::documents;

/// The hasher of validated options.
fn hasher(args: &DedupArgs) -> PyResult<BatchHasher> {
    BatchHasher::new(args.options.clone()).map_err(|e| to_py(e.into()))
}

/// The dedup options as a driver needs them, checked as `tailwatch.dedup` checks them (the
/// same keywords): `threshold`, `exact_only`, `exact_pairs`, `keep` (`first` or `longest`),
/// `verify`, `skip_nulls`, the LSH `bands` and `rows`, and `max_pairwise_bucket` (buckets with
/// more members are linked to their first member only).
#[pyfunction]
#[pyo3(signature = (**options))]
pub fn dedup_settings<'py>(
    py: Python<'py>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let args = DedupArgs::from_kwargs(options)?;
    let o = &args.options;
    let banding = o.banding();
    let d = PyDict::new(py);
    d.set_item("threshold", o.threshold)?;
    d.set_item("exact_only", o.exact_only)?;
    d.set_item("exact_pairs", o.exact_pairs)?;
    d.set_item("keep", serde_json::to_value(&o.keep).expect("serializable").as_str())?;
    d.set_item("verify", serde_json::to_value(o.verify).expect("serializable").as_str())?;
    d.set_item("skip_nulls", args.skip_nulls)?;
    d.set_item("bands", banding.bands)?;
    d.set_item("rows", banding.rows)?;
    d.set_item("max_pairwise_bucket", MAX_PAIRWISE_BUCKET)?;
    Ok(d)
}

/// Per document of `texts` (strings or an Arrow string array, no nulls), in order, what a
/// deduper takes in of it: a pyarrow RecordBatch with `digest` (binary: BLAKE3 of the
/// normalized text; equal digests are exact duplicates) and `band_keys` (list<int64>, the
/// u64 keys' bits; null when `exact_only` or the text has no shingles, so it is never a
/// candidate). Takes `tailwatch.dedup`'s options; `skip_nulls` does not apply (every row
/// needs its keys: filter nulls first).
#[pyfunction]
#[pyo3(signature = (texts, **options))]
pub fn dedup_keys<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = DedupArgs::from_kwargs(options)?;
    let hasher = hasher(&args)?;
    let docs = documents(texts, false)?;
    let strs = docs.strs(false)?;
    let engine = engine()?;
    let batch = py.detach(|| {
        engine.install(|| {
            let hashed = hasher.hash(&strs);
            let digests = BinaryArray::from_iter_values(hashed.docs().map(|d| d.digest));
            let keys = ListArray::from_iter_primitive::<Int64Type, _, _>(
                // a u64 key as the i64 of the same bits: Spark has no unsigned longs
                hashed.docs().map(|d| d.band_keys.map(|k| k.iter().map(|&key| Some(key as i64)))),
            );
            RecordBatch::try_from_iter([
                ("digest", Arc::new(digests) as ArrayRef),
                ("band_keys", Arc::new(keys) as ArrayRef),
            ])
            .expect("columns of one length")
        })
    });
    batch.to_pyarrow(py)
}

/// The similarity of each pair (`texts_a[i]`, `texts_b[i]`) exactly as `tailwatch dedup`
/// verifies a candidate: the exact Jaccard of the shingle sets (`verify="exact"`), or the
/// signatures' estimate (`verify="estimate"`). A pyarrow float64 array; a pair is a near
/// duplicate when it reaches `threshold`. Takes `tailwatch.dedup`'s options.
#[pyfunction]
#[pyo3(signature = (texts_a, texts_b, **options))]
pub fn jaccard_pairs<'py>(
    py: Python<'py>,
    texts_a: &Bound<'py, PyAny>,
    texts_b: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let args = DedupArgs::from_kwargs(options)?;
    let hasher = hasher(&args)?;
    let (docs_a, docs_b) = (documents(texts_a, false)?, documents(texts_b, false)?);
    let (a, b) = (docs_a.strs(false)?, docs_b.strs(false)?);
    if a.len() != b.len() {
        return Err(PyValueError::new_err(format!(
            "texts_a and texts_b must be pairs: they hold {} and {} documents",
            a.len(),
            b.len()
        )));
    }
    let engine = engine()?;
    let similarities: Vec<f64> = py.detach(|| {
        use rayon::prelude::*;
        engine.install(|| a.par_iter().zip(b.par_iter()).map(|(x, y)| hasher.similarity(x, y)).collect())
    });
    Float64Array::from(similarities).to_data().to_pyarrow(py)
}

/// An Arrow array from Python (an object with `__arrow_c_array__`).
fn arrow_array(object: &Bound<'_, PyAny>, name: &str) -> PyResult<ArrayRef> {
    let data = ArrayData::from_pyarrow_bound(object)
        .map_err(|e| PyTypeError::new_err(format!("`{name}` must be an Arrow array: {e}")))?;
    Ok(make_array(data))
}

/// The values of an Arrow int64 array without nulls, as document numbers.
fn doc_numbers(object: &Bound<'_, PyAny>, name: &str, docs: usize) -> PyResult<Vec<u32>> {
    let array = arrow_array(object, name)?;
    let Some(values) = array.as_primitive_opt::<Int64Type>() else {
        return Err(PyTypeError::new_err(format!("`{name}` must be int64, found {}", array.data_type())));
    };
    if values.null_count() > 0 {
        return Err(input_error(format!("`{name}` holds nulls")));
    }
    values
        .values()
        .iter()
        .map(|&v| {
            u32::try_from(v)
                .ok()
                .filter(|&d| (d as usize) < docs)
                .ok_or_else(|| input_error(format!("`{name}` holds {v}, not a document of 0..{docs}")))
        })
        .collect()
}

/// On a driver, from every document's `digests` and `band_keys` in input order (the columns
/// of `dedup_keys`, as pyarrow arrays): each document's `representative` (the first document
/// with the same digest) and the LSH candidate pairs `a` < `b` among representatives with band
/// keys, exactly as `tailwatch dedup` makes them (all pairs of a bucket, or a star from the
/// first member of a bucket above `max_pairwise_bucket`), as int64 arrays; and
/// `large_buckets`. The texts are not needed.
#[pyfunction]
pub fn dedup_candidates<'py>(
    py: Python<'py>,
    digests: &Bound<'py, PyAny>,
    band_keys: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let (digests, keys) = (arrow_array(digests, "digests")?, arrow_array(band_keys, "band_keys")?);
    if digests.len() != keys.len() {
        return Err(PyValueError::new_err(format!(
            "digests and band_keys must be of the same documents: they hold {} and {}",
            digests.len(),
            keys.len()
        )));
    }
    if u32::try_from(digests.len()).is_err() {
        return Err(input_error(format!("{} documents: dedup takes at most 2^32 − 1", digests.len())));
    }
    // one layout for every width: binary and list offsets widened, key values as int64
    let digests = cast(&digests, &DataType::LargeBinary)
        .map_err(|e| PyTypeError::new_err(format!("`digests` must be binary: {e}")))?;
    let list_of_keys = DataType::LargeList(Arc::new(Field::new_list_field(DataType::Int64, true)));
    let keys = cast(&keys, &list_of_keys)
        .map_err(|e| PyTypeError::new_err(format!("`band_keys` must be list<int64>: {e}")))?;
    let (digests, keys) = (digests.as_binary::<i64>(), keys.as_list::<i64>());
    let mut first: HashMap<&[u8], u32> = HashMap::with_capacity(digests.len());
    let mut representative = Vec::with_capacity(digests.len());
    let mut candidates: Vec<u32> = Vec::new();
    let mut candidate_keys: Vec<Vec<u64>> = Vec::new();
    for doc in 0..digests.len() {
        if digests.is_null(doc) {
            return Err(input_error(format!("the digest of document {doc} is null")));
        }
        let rep = *first.entry(digests.value(doc)).or_insert(doc as u32);
        representative.push(i64::from(rep));
        if rep as usize != doc || keys.is_null(doc) {
            continue;
        }
        let row = keys.value(doc);
        let row = row.as_primitive::<Int64Type>();
        let row: Vec<u64> = row.values().iter().map(|&k| k as u64).collect();
        if candidate_keys.first().is_some_and(|k| k.len() != row.len()) {
            return Err(input_error(format!(
                "document {doc} has {} band keys, the first candidate {}: keys of other options",
                row.len(),
                candidate_keys[0].len()
            )));
        }
        candidates.push(doc as u32);
        candidate_keys.push(row);
    }
    let engine = engine()?;
    let (pairs, large) = py.detach(|| engine.install(|| candidate_pairs(&candidate_keys)));
    let side = |pick: fn(&(u32, u32)) -> u32| {
        Int64Array::from_iter_values(pairs.iter().map(|p| i64::from(candidates[pick(p) as usize])))
    };
    let d = PyDict::new(py);
    d.set_item("representative", Int64Array::from(representative).to_data().to_pyarrow(py)?)?;
    d.set_item("a", side(|p| p.0).to_data().to_pyarrow(py)?)?;
    d.set_item("b", side(|p| p.1).to_data().to_pyarrow(py)?)?;
    d.set_item("large_buckets", large)?;
    Ok(d)
}

/// On a driver, from each document's `representative` (int64, as `dedup_candidates` gives
/// it), the verified near-duplicate pairs (`a`, `b`: int64 documents) and each document's
/// `lengths` (int64 bytes of its text; None unless `keep="longest"`): each document's
/// `cluster` (int64, null when it has no duplicate; ids 0-based by first member) and `keep`
/// (bool), exactly as `tailwatch dedup` decides them. Takes `tailwatch.dedup`'s options (for
/// `keep`).
#[pyfunction]
#[pyo3(signature = (representative, a, b, lengths = None, **options))]
pub fn dedup_clusters<'py>(
    py: Python<'py>,
    representative: &Bound<'py, PyAny>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    lengths: Option<&Bound<'py, PyAny>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let args = DedupArgs::from_kwargs(options)?;
    let n = arrow_array(representative, "representative")?.len();
    let representative = doc_numbers(representative, "representative", n)?;
    let (a, b) = (doc_numbers(a, "a", n)?, doc_numbers(b, "b", n)?);
    if a.len() != b.len() {
        return Err(PyValueError::new_err(format!(
            "a and b must be pairs: they hold {} and {}",
            a.len(),
            b.len()
        )));
    }
    let lengths: Vec<u64> = match lengths {
        Some(lengths) => {
            let array = arrow_array(lengths, "lengths")?;
            let Some(values) = array.as_primitive_opt::<Int64Type>().filter(|v| v.null_count() == 0) else {
                return Err(PyTypeError::new_err(format!(
                    "`lengths` must be int64 without nulls, found {}",
                    array.data_type()
                )));
            };
            if values.len() != n {
                return Err(PyValueError::new_err(format!("{} lengths for {n} documents", values.len())));
            }
            values.values().iter().map(|&v| v.max(0) as u64).collect()
        }
        None if args.options.keep == KeepPolicy::Longest => {
            return Err(PyValueError::new_err("keep=\"longest\" needs the documents' lengths"));
        }
        None => Vec::new(),
    };
    let (cluster, keep) = py.detach(|| {
        let mut cluster: Vec<Option<i64>> = vec![None; n];
        let mut keep = vec![true; n];
        for (id, members) in
            cluster_groups(&representative, a.iter().copied().zip(b.iter().copied())).into_iter().enumerate()
        {
            let kept = args.options.keep.choose(&members, &lengths, &[]);
            for m in members {
                cluster[m as usize] = Some(id as i64);
                keep[m as usize] = m == kept;
            }
        }
        (cluster, keep)
    });
    let d = PyDict::new(py);
    d.set_item("cluster", Int64Array::from(cluster).to_data().to_pyarrow(py)?)?;
    d.set_item("keep", BooleanArray::from(keep).to_data().to_pyarrow(py)?)?;
    Ok(d)
}
