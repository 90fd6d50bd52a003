//! `Reference`: a frozen reference distribution for the reference metrics (KL, tail coverage).
use std::path::PathBuf;

use pyo3::prelude::*;
use tailwatch_io::ReadOptions;
use tailwatch_metrics::Reference;

use crate::errors::IntoPy;
use crate::pool::engine;
use crate::profile::PyProfile;

/// A frozen reference (usually human text) that a profile's reference metrics (KL to the
/// reference, tail coverage, ...) are measured against.
#[pyclass(module = "tailwatch._tailwatch", name = "Reference", frozen)]
pub struct PyReference {
    pub(crate) reference: Reference,
}

#[pymethods]
impl PyReference {
    /// The reference of a profile's token distribution.
    #[staticmethod]
    #[pyo3(signature = (profile, name = "profile"))]
    fn from_profile(profile: &Bound<'_, PyProfile>, name: &str) -> PyResult<Self> {
        let profile = profile.try_borrow().map_err(|_| {
            pyo3::exceptions::PyRuntimeError::new_err("the Profile is being updated by another thread")
        })?;
        Ok(Self { reference: Reference::from_profile(&profile.profile, name, "profile") })
    }

    /// A reference from a file, as `tailwatch score --reference` reads it: a saved profile
    /// (`.twp`), a word-frequency table (`.tsv`, `.tsv.gz`, `.tsv.zst`: `word<TAB>count`), or a
    /// corpus profiled with the built-in tokenizer `tokenizer`.
    #[staticmethod]
    #[pyo3(signature = (path, *, tokenizer = "words", lowercase = false))]
    fn load(py: Python<'_>, path: PathBuf, tokenizer: &str, lowercase: bool) -> PyResult<Self> {
        let tokenizer = tailwatch::tokenizer_by_name(tokenizer, lowercase).py_err()?;
        let settings = tailwatch::ProfileSettings::new(tokenizer);
        let engine = engine()?;
        let reference = py
            .detach(|| {
                engine.load_reference(&path, &ReadOptions::default(), &settings, &tailwatch_core::NoReporter)
            })
            .py_err()?;
        Ok(Self { reference })
    }

    /// Where it came from.
    #[getter]
    fn source(&self) -> String {
        self.reference.source.clone()
    }

    fn __repr__(&self) -> String {
        format!("Reference(source={:?})", self.reference.source)
    }
}
