//! `Ledger`: the provenance ledger (`tailwatch ledger`) from Python: ingest records, read their
//! statistics and lineage, build capped training mixes.
use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use tailwatch_ledger::mix::{MinHuman, MixOptions, Selection, Unit, build_mix};
use tailwatch_ledger::store::{Ledger, NewRecord, Origin};
use tailwatch_sketch::dedup::DedupOptions;

use crate::errors::{CapsUnmetError, input_error, to_py};
use crate::pool::engine;

fn ledger_err(e: tailwatch_ledger::Error) -> PyErr {
    match e {
        e @ tailwatch_ledger::Error::CapsUnmet(_) => CapsUnmetError::new_err(e.to_string()),
        e => to_py(e.into()),
    }
}

/// A provenance ledger (a SQLite file, the same as `tailwatch ledger`'s): every record with
/// its origin, generator, generation, source, license, key and parents.
#[pyclass(module = "tailwatch._tailwatch", name = "Ledger")]
pub struct PyLedger {
    ledger: Mutex<Option<Ledger>>,
    path: PathBuf,
}

impl PyLedger {
    fn with<T>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Ledger) -> tailwatch_ledger::Result<T> + Send,
    ) -> PyResult<T>
    where
        T: Send,
    {
        let mut slot = self.ledger.try_lock().map_err(|_| {
            PyRuntimeError::new_err("this Ledger is in use by another thread: open one per thread")
        })?;
        let ledger = slot.as_mut().ok_or_else(|| PyValueError::new_err("the ledger is closed"))?;
        let engine = engine()?;
        py.detach(|| engine.install(|| f(ledger))).map_err(ledger_err)
    }
}

fn field<'py>(record: &Bound<'py, PyDict>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    Ok(record.get_item(name)?.filter(|v| !v.is_none()))
}

fn string_field(record: &Bound<'_, PyDict>, name: &str, at: &str) -> PyResult<Option<String>> {
    match field(record, name)? {
        None => Ok(None),
        Some(v) => v
            .extract::<String>()
            .map(Some)
            .map_err(|_| input_error(format!("{at}: field `{name}` must be a string"))),
    }
}

#[pymethods]
impl PyLedger {
    /// Open the ledger at `path`, creating it when `create` (the default) and it does not
    /// exist. A file that is not a tailwatch ledger is an error and is left untouched.
    #[staticmethod]
    #[pyo3(signature = (path, *, create = true))]
    fn open(py: Python<'_>, path: PathBuf, create: bool) -> PyResult<Self> {
        let p = path.clone();
        let ledger = py
            .detach(|| if create { Ledger::init(&p).map(|(l, _)| l) } else { Ledger::open(&p) })
            .map_err(ledger_err)?;
        Ok(Self { ledger: Mutex::new(Some(ledger)), path })
    }

    /// Ingest records: dicts with `text` and optionally `origin` (human, synthetic, unknown),
    /// `generator`, `generation`, `source`, `license`, `key` and `parents` (keys or content ids),
    /// or plain strings; the keyword arguments give what a record leaves out. All records are
    /// checked before anything is written (a bad one changes nothing); the summary as a dict.
    #[pyo3(signature = (records, *, origin = None, generator = None, generation = None, source = None, license = None, name = "<python>", batch_size = 10_000))]
    #[allow(clippy::too_many_arguments)]
    fn ingest<'py>(
        &self,
        py: Python<'py>,
        records: &Bound<'py, PyAny>,
        origin: Option<&str>,
        generator: Option<String>,
        generation: Option<u32>,
        source: Option<String>,
        license: Option<String>,
        name: &str,
        batch_size: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let default_origin = origin
            .map(|o| o.parse::<Origin>().map_err(|e| input_error(format!("origin: {e}"))))
            .transpose()?;
        let mut new = Vec::new();
        for (i, item) in records.try_iter()?.enumerate() {
            let item = item?;
            let at = format!("{name}: record {}", i + 1);
            let record = if item.is_instance_of::<PyString>() {
                let d = PyDict::new(py);
                d.set_item("text", &item)?;
                d
            } else {
                item.cast_into::<PyDict>()
                    .map_err(|_| PyTypeError::new_err(format!("{at}: a record must be a dict or a string")))?
            };
            let text = string_field(&record, "text", &at)?
                .ok_or_else(|| input_error(format!("{at}: missing field `text`")))?;
            let origin = match string_field(&record, "origin", &at)? {
                Some(o) => {
                    o.parse::<Origin>().map_err(|e| input_error(format!("{at}: field `origin`: {e}")))?
                }
                None => default_origin.ok_or_else(|| {
                    input_error(format!("{at}: missing field `origin` and no origin= for the records"))
                })?,
            };
            let generation = match field(&record, "generation")? {
                Some(g) => Some(g.extract::<u32>().map_err(|_| {
                    input_error(format!("{at}: field `generation` must be a non-negative integer"))
                })?),
                None => generation,
            };
            let parents = match field(&record, "parents")? {
                None => Vec::new(),
                Some(p) if p.is_instance_of::<PyString>() => vec![p.extract()?],
                Some(p) => p.extract::<Vec<String>>().map_err(|_| {
                    input_error(format!("{at}: field `parents` must be a string or a list of strings"))
                })?,
            };
            new.push(NewRecord {
                text,
                origin,
                generator: string_field(&record, "generator", &at)?.or_else(|| generator.clone()),
                generation,
                source: string_field(&record, "source", &at)?.or_else(|| source.clone()),
                license: string_field(&record, "license", &at)?.or_else(|| license.clone()),
                key: string_field(&record, "key", &at)?,
                parents,
                detector_score: None,
                detector_model: None,
                location: at,
            });
        }
        if new.is_empty() {
            return Err(input_error("no records to ingest"));
        }
        let name = name.to_string();
        let summary = self.with(py, move |ledger| {
            ledger.ingest(&name, new, batch_size.max(1), &tailwatch_core::NoReporter)
        })?;
        crate::json_to_py(py, &serde_json::to_value(summary).expect("serializable"))
    }

    /// Counts by origin, generator, generation and source (what `tailwatch ledger stats` shows).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let stats = self.with(py, |ledger| ledger.stats())?;
        crate::json_to_py(py, &serde_json::to_value(stats).expect("serializable"))
    }

    /// A record's ancestors and descendants (by key or content id).
    fn lineage<'py>(&self, py: Python<'py>, reference: String) -> PyResult<Bound<'py, PyAny>> {
        let lineage = self.with(py, move |ledger| ledger.lineage(&reference))?;
        crate::json_to_py(py, &serde_json::to_value(lineage).expect("serializable"))
    }

    /// Build a training mix under caps, as `tailwatch mix` does, and record it: a dict with the
    /// mix's `records` (text and provenance) and its `manifest`. A cap that cannot be met
    /// raises `CapsUnmetError` and records nothing. `min_human`: a count (int) or a share
    /// (float).
    #[pyo3(signature = (name, *, max_synthetic, size = None, unit = "records", min_human = None, accumulate = false, dedup = false, tail_preserve = None, generators = Vec::new(), max_generation = None, sources = Vec::new(), seed = 0))]
    #[allow(clippy::too_many_arguments)]
    fn mix<'py>(
        &self,
        py: Python<'py>,
        name: String,
        max_synthetic: f64,
        size: Option<u64>,
        unit: &str,
        min_human: Option<&Bound<'py, PyAny>>,
        accumulate: bool,
        dedup: bool,
        tail_preserve: Option<f64>,
        generators: Vec<String>,
        max_generation: Option<i64>,
        sources: Vec<String>,
        seed: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let unit = match unit {
            "records" => Unit::Records,
            "tokens" => Unit::Tokens,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unit must be records or tokens, found {other:?}"
                )));
            }
        };
        let min_human =
            match min_human {
                None => None,
                Some(v) if v.is_instance_of::<pyo3::types::PyFloat>() => Some(MinHuman::Share(v.extract()?)),
                Some(v) => Some(MinHuman::Count(v.extract().map_err(|_| {
                    PyTypeError::new_err("min_human must be a count (int) or a share (float)")
                })?)),
            };
        let options = MixOptions {
            name,
            size,
            unit,
            max_synthetic,
            min_human,
            accumulate,
            dedup: dedup.then(DedupOptions::default),
            tail_preserve,
            selection: Selection { generators, max_generation, sources },
            seed,
        };
        let (members, manifest) = self.with(py, move |ledger| build_mix(ledger, &options))?;
        let records: Vec<serde_json::Value> =
            members.iter().map(tailwatch::ledger_files::mix_record).collect();
        let value = serde_json::json!({ "records": records, "manifest": manifest });
        crate::json_to_py(py, &value)
    }

    /// Close the ledger (also on garbage collection, and at the end of a `with` block).
    fn close(&self) {
        if let Ok(mut slot) = self.ledger.lock() {
            slot.take();
        }
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) {
        self.close();
    }

    /// The ledger's file.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    fn __repr__(&self) -> String {
        format!("Ledger({:?})", self.path.display().to_string())
    }
}
