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
    /// The file is a ledger, but damaged.
    #[error("`{}` is a damaged ledger: {reason}; restore it from a backup (`ledger export` writes one)", .path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
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
    /// The ledger file does not exist (create it first).
    #[error("the ledger `{path}` does not exist")]
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
    /// A record reference (key, content id or id prefix) that matches no record.
    #[error("no record has the key {}`{reference}`{}", if *.hex { "or id " } else { "" }, if *.hex { "" } else { " (ids are hex, at least 8 digits)" })]
    NoSuchRecord {
        /// The reference given.
        reference: String,
        /// Whether it could be an id (8 to 64 hex digits).
        hex: bool,
    },
    /// An id prefix that several records share.
    #[error("`{reference}` matches several record ids; give more digits")]
    AmbiguousReference {
        /// The prefix given.
        reference: String,
    },
    /// A mix cannot honor its caps; nothing was written.
    #[error("the mix cannot meet its caps: {0}; nothing was written")]
    CapsUnmet(crate::mix::UnmetCap),
    /// A mix option outside its range.
    #[error("{name} must be {expected}, found {found}")]
    InvalidParameter {
        /// The option, as [`crate::mix::MixOptions`] names its field.
        name: &'static str,
        /// Its valid range, in words.
        expected: &'static str,
        /// The value given.
        found: String,
    },
    /// `PRAGMA integrity_check` found damage.
    #[error("integrity check failed: {0}")]
    Integrity(String),
    /// Rows whose foreign keys point at nothing.
    #[error("{0} foreign-key violations")]
    ForeignKeys(i64),
    /// The tokenizer could not be built or failed on a record.
    #[error(transparent)]
    Tokenizer(#[from] tailwatch_core::Error),
    /// Dedup options of a mix that cannot run.
    #[error(transparent)]
    Dedup(#[from] tailwatch_sketch::Error),
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
