//! The package's exceptions: one base class, a subclass per kind of failure, and the mapping
//! from the engine's errors.
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyRuntimeError};
use pyo3::prelude::*;

pyo3::create_exception!(
    tailwatch,
    TailwatchError,
    PyException,
    "The base class of every error tailwatch raises for its own reasons."
);
pyo3::create_exception!(
    tailwatch,
    IncompatibleProfilesError,
    TailwatchError,
    "Two profiles cannot merge or be compared: their tokenizer, sample size, seed or items_k differ."
);
pyo3::create_exception!(
    tailwatch,
    NotAProfileError,
    TailwatchError,
    "Bytes or a file that are not a tailwatch profile (.twp), or a damaged one."
);
pyo3::create_exception!(
    tailwatch,
    UnsupportedVersionError,
    NotAProfileError,
    "A profile written by another tailwatch in a format version this one cannot read."
);
pyo3::create_exception!(
    tailwatch,
    TokenizerError,
    TailwatchError,
    "An unknown tokenizer, a tokenizer.json that does not load, or a document it cannot encode."
);
pyo3::create_exception!(
    tailwatch,
    InputError,
    TailwatchError,
    "Input that cannot be used: a null or non-string document, an empty corpus, a bad value of an option."
);

pyo3::create_exception!(
    tailwatch,
    CapsUnmetError,
    TailwatchError,
    "A training mix whose caps (max_synthetic, min_human, size) cannot all be met; nothing was recorded."
);

/// The Python exception of an engine error: the message is the engine's (it names files,
/// records and fields as the CLI does).
pub fn to_py(error: tailwatch::Error) -> PyErr {
    use tailwatch::Error as E;
    use tailwatch_metrics::Error as M;
    let message = error_chain(&error);
    match &error {
        E::Metrics(M::Incompatible { .. }) => IncompatibleProfilesError::new_err(message),
        E::Metrics(M::UnsupportedVersion { .. }) => UnsupportedVersionError::new_err(message),
        E::Metrics(M::NotAProfile { .. } | M::UnknownKind { .. }) => NotAProfileError::new_err(message),
        E::Merge { source: M::Incompatible { .. }, .. } => IncompatibleProfilesError::new_err(message),
        E::Tokenizer(_)
        | E::Metrics(M::Tokenizer(_))
        | E::UnknownTokenizer { .. }
        | E::NotATokenizer { .. }
        | E::Encode { .. } => TokenizerError::new_err(message),
        E::Metrics(M::Io { source, .. }) | E::File { source, .. }
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            PyFileNotFoundError::new_err(message)
        }
        E::Input(tailwatch_io::Error::Open { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            PyFileNotFoundError::new_err(message)
        }
        E::WorkerPanicked | E::ThreadPool { .. } => PyRuntimeError::new_err(message),
        _ => InputError::new_err(message),
    }
}

/// A metrics-crate error as a Python exception.
pub fn metrics_to_py(error: tailwatch_metrics::Error) -> PyErr {
    to_py(tailwatch::Error::Metrics(error))
}

/// The error's message followed by its causes, as the CLI prints them (`: ` between).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// An [`InputError`] with `message`.
pub fn input_error(message: impl Into<String>) -> PyErr {
    InputError::new_err(message.into())
}

/// Engine results as Python results.
pub trait IntoPy<T> {
    /// The value, or the error as a Python exception.
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for tailwatch::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

impl<T> IntoPy<T> for tailwatch_metrics::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(metrics_to_py)
    }
}
