//! Errors of the metrics crate.
use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong while profiling, merging, loading or comparing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Tokenizing failed.
    #[error(transparent)]
    Tokenizer(#[from] tailwatch_core::Error),
    /// A sampled document names a token its profile's vocabulary does not hold.
    #[error("a sampled document holds a token (hash {hash:#018x}) that its profile's vocabulary does not")]
    UnknownSampleToken {
        /// The token's stable hash.
        hash: u64,
    },
    /// A score column's field name or counts.
    #[error(transparent)]
    ScoreColumn(#[from] crate::score_columns::ScoreColumnError),
    /// A record's scores do not match its answers and the profile's score fields.
    #[error(
        "scores of {answers} answer(s) for {fields} score field(s) must give each field one value per answer"
    )]
    ScoreShape {
        /// The profile's score fields.
        fields: usize,
        /// The record's answers.
        answers: usize,
    },
    /// Two profiles cannot be merged or compared.
    #[error("profiles are incompatible: {what}")]
    Incompatible {
        /// What differs.
        what: String,
    },
    /// A file is not a tailwatch profile.
    #[error("`{path}` is not a tailwatch profile (.twp): {reason}")]
    NotAProfile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A profile was written by a different format version.
    #[error(
        "`{path}` is a tailwatch profile of format version {found}; this tailwatch reads versions 1 to {supported} (upgrade tailwatch or re-create the profile)"
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// A reference file could not be parsed.
    #[error("{path}:{line}: {message}")]
    Reference {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A rules file could not be parsed.
    #[error("rules `{path}`: {message}")]
    Rules {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// I/O on a named file.
    #[error("cannot access `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A profile kind this build does not know (written by a newer tailwatch).
    #[error("`{path}` is a tailwatch profile of an unknown kind (tag {tag}); upgrade tailwatch")]
    UnknownKind {
        /// The file.
        path: PathBuf,
        /// The kind tag in its header.
        tag: u8,
    },
    /// A partial profile (one that skipped some parts) cannot be saved.
    #[error("a profile that keeps only some parts cannot be saved; profile every part to save it")]
    PartialProfile,
    /// The profile could not be encoded.
    #[error("cannot encode the profile: {0}")]
    Encode(postcard::Error),
    /// The profile could not be compressed.
    #[error("cannot compress the profile: {0}")]
    Compress(std::io::Error),
    /// A metric id that is not in the catalog.
    #[error("unknown metric `{id}` (see `tailwatch metrics` for the catalog)")]
    UnknownMetric {
        /// The id given.
        id: String,
    },
    /// A line of a phrase bank (`phrases::PhraseBank::from_tsv`) is malformed.
    #[error("phrase bank line {line}: {message}")]
    PhraseBank {
        /// 1-based line of the TSV text.
        line: usize,
        /// What is wrong.
        message: String,
    },
}
