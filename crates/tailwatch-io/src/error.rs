//! Errors of the readers: each names the file and, where it applies, the line and field.
use std::fmt;
use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Where in a file something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line number.
    Line(u64),
    /// A 1-based record number (elements of a JSON array, Parquet rows).
    Record(u64),
    /// A 0-based row of a table held in memory (a Python caller's Arrow table).
    Row(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Record(n) => write!(f, "record {n}"),
            Location::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// What can go wrong while reading documents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input could not be opened.
    #[error("cannot open `{path}`: {source}")]
    Open {
        /// The input.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Reading failed part-way; for compressed inputs this is usually a truncated file.
    #[error("cannot read `{path}` (after {location}): {source}")]
    Read {
        /// The input.
        path: PathBuf,
        /// The last good position.
        location: Location,
        /// The cause.
        source: std::io::Error,
    },
    /// A line or document is not valid JSON.
    #[error("{path}: {location}: invalid JSON: {message}")]
    Json {
        /// The input.
        path: PathBuf,
        /// Where.
        location: Location,
        /// What serde_json said.
        message: String,
    },
    /// The requested field is absent.
    #[error("{path}: {location}: missing field `{field}`")]
    MissingField {
        /// The input.
        path: PathBuf,
        /// Where.
        location: Location,
        /// The dotted field path.
        field: String,
    },
    /// The field holds something other than a string or an array of strings.
    #[error("{path}: {location}: field `{field}` holds {found}, expected a string or an array of strings")]
    FieldType {
        /// The input.
        path: PathBuf,
        /// Where.
        location: Location,
        /// The dotted field path.
        field: String,
        /// What it holds instead.
        found: String,
    },
    /// A line is not valid UTF-8 (use `--lossy` to replace bad bytes).
    #[error("{path}: {location}: invalid UTF-8 at byte {offset} of the line")]
    Utf8 {
        /// The input.
        path: PathBuf,
        /// Where.
        location: Location,
        /// Offset of the first bad byte within the line.
        offset: usize,
    },
    /// A CSV record could not be parsed.
    #[error("{path}: {location}: invalid CSV: {message}")]
    Csv {
        /// The input.
        path: PathBuf,
        /// Where.
        location: Location,
        /// What the csv crate said.
        message: String,
    },
    /// The CSV or Parquet column does not exist.
    #[error("`{path}` has no column `{column}` (columns: {available})")]
    MissingColumn {
        /// The input.
        path: PathBuf,
        /// The requested column.
        column: String,
        /// The columns that exist, comma separated.
        available: String,
    },
    /// A Parquet file could not be read.
    #[error("`{path}`: invalid Parquet: {message}")]
    Parquet {
        /// The input.
        path: PathBuf,
        /// What the parquet crate said.
        message: String,
    },
    /// Plain text has no fields, yet a field was asked for.
    #[error(
        "`{path}` is plain text: it has no fields, so {what} cannot be read (use JSONL, JSON, CSV or Parquet)"
    )]
    NoFields {
        /// The input.
        path: PathBuf,
        /// What was asked for.
        what: &'static str,
    },
    /// A record is larger than [`crate::ReadOptions::max_record_bytes`].
    #[error("{path}: {location}: a record longer than {limit} bytes, the most one may hold")]
    RecordTooLarge {
        /// The input.
        path: PathBuf,
        /// Where the record starts.
        location: Location,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A side file (tokenizer, profile, model) is larger than it may be.
    #[error("`{}` is larger than {limit} bytes, more than a file of its kind may hold", .path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A file of vectors (`.npy`) is malformed or holds something other than a matrix of floats.
    #[error("`{}`: {message}", .path.display())]
    Vectors {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file of vectors holds no vector, or vectors of no dimension.
    #[error("`{}` holds no vectors (shape {rows} × {dim})", .path.display())]
    NoVectors {
        /// The file.
        path: PathBuf,
        /// Its number of rows.
        rows: u64,
        /// Its number of columns.
        dim: u64,
    },
    /// A vector's value is NaN or infinite.
    #[error("{}: row {row}, column {column}: {value} is not a finite value", .path.display())]
    NonFiniteValue {
        /// The file.
        path: PathBuf,
        /// The vector, from 0.
        row: usize,
        /// The value's place in it, from 0.
        column: usize,
        /// The value.
        value: f64,
    },
    /// Writing an output failed.
    #[error("cannot write `{path}`: {message}")]
    Write {
        /// The output.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// An output is one of the run's inputs (or its database), under this name or another.
    #[error("`{}` is also an input of this run (`{}`): writing it would destroy it; choose another output", .output.display(), .input.display())]
    OutputOverInput {
        /// The output.
        output: PathBuf,
        /// The input it is.
        input: PathBuf,
    },
    /// Two outputs of one run are the same file.
    #[error("`{}` and `{}` are the same file: each output of a run needs its own", .output.display(), .other.display())]
    OutputTwice {
        /// The output.
        output: PathBuf,
        /// The output claimed before it.
        other: PathBuf,
    },
    /// An output is a symbolic link, which would be replaced by a file.
    #[error("`{}` is a symbolic link (to `{}`); it is not replaced: give the file it points to, or remove the link", .path.display(), .target.display())]
    OutputIsSymlink {
        /// The output.
        path: PathBuf,
        /// Where the link points.
        target: PathBuf,
    },
    /// This format cannot be read from stdin or through a compressor.
    #[error("`{path}`: {format} input must be a plain (uncompressed) file, not stdin or compressed")]
    NeedsPlainFile {
        /// The input.
        path: PathBuf,
        /// The format.
        format: &'static str,
    },
}

impl Error {
    /// The 1-based line or record where the error happened, if it is tied to one.
    pub fn location(&self) -> Option<Location> {
        match self {
            Error::Read { location, .. }
            | Error::Json { location, .. }
            | Error::MissingField { location, .. }
            | Error::FieldType { location, .. }
            | Error::Utf8 { location, .. }
            | Error::Csv { location, .. }
            | Error::RecordTooLarge { location, .. } => Some(*location),
            _ => None,
        }
    }

    /// Whether `--skip-invalid` may skip this record and go on.
    pub fn is_skippable(&self) -> bool {
        matches!(
            self,
            Error::Json { .. }
                | Error::MissingField { .. }
                | Error::FieldType { .. }
                | Error::Utf8 { .. }
                | Error::Csv { .. }
        )
    }
}
