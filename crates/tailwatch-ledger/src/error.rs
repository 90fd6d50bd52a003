//! Errors of the ledger: a file that is not a ledger, a newer schema, bad records, SQLite.
use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong with a ledger, a mix or a detector.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file exists but is not a tailwatch ledger.
    #[error("`{path}` is not a tailwatch ledger ({reason})")]
    NotALedger {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The ledger was written by a newer tailwatch.
    #[error(
        "`{path}` is a tailwatch ledger of schema version {found}; this tailwatch reads up to version {supported} (upgrade tailwatch)"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// The ledger file does not exist (use `ledger init`).
    #[error("`{path}` does not exist (create it with `tailwatch ledger init --db {path}`)")]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A record to ingest is invalid.
    #[error("{location}: {message}")]
    InvalidRecord {
        /// Where (`file: line N`).
        location: String,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A record reference (id prefix or key) matches nothing, or several records.
    #[error("{0}")]
    Reference(String),
    /// A mix cannot honor its caps.
    #[error("{0}")]
    CapsUnmet(String),
    /// Anything else that is the caller's fault, with a message.
    #[error("{0}")]
    Invalid(String),
    /// SQLite failed.
    #[error("ledger database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// JSON (de)serialization failed.
    #[error("{context}: {source}")]
    Json {
        /// What was being read or written.
        context: String,
        /// The error.
        source: serde_json::Error,
    },
}
