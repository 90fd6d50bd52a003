//! Errors of the simulator: bad parameters and unusable corpora, each with what was expected.
use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong while setting up or running a simulation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A strategy string that does not parse.
    #[error(
        "unknown strategy `{0}` (expected replace, accumulate, accumulate-subsample, fresh:<share> or weighted:<w>, e.g. fresh:0.1)"
    )]
    UnknownStrategy(String),
    /// A parameter outside its valid range.
    #[error("{name} must be {expected}, found {found}")]
    InvalidParameter {
        /// The parameter, as the spec's field is named.
        name: &'static str,
        /// The valid range, in words.
        expected: String,
        /// The value given.
        found: String,
    },
    /// A text corpus the `ngram` model cannot train on.
    #[error("corpus `{path}`: {reason}")]
    Corpus {
        /// The corpus file (or a description of generated data).
        path: PathBuf,
        /// Why it is unusable.
        reason: String,
    },
    /// The dedup policy's options cannot run.
    #[error(transparent)]
    Dedup(#[from] tailwatch_sketch::Error),
    /// Measuring a generated corpus failed.
    #[error(transparent)]
    Metrics(#[from] tailwatch_metrics::Error),
}

impl Error {
    /// An [`Error::InvalidParameter`].
    pub fn invalid(name: &'static str, expected: impl Into<String>, found: impl ToString) -> Self {
        Error::InvalidParameter { name, expected: expected.into(), found: found.to_string() }
    }
}
