//! Input formats and how they are recognized from file names and magic bytes.
use std::path::Path;

/// The record format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text: one document per line (or per paragraph with [`DocSeparator::Blank`]).
    Text,
    /// One JSON value per line.
    Jsonl,
    /// One JSON document: an object (one record) or an array of records.
    Json,
    /// CSV with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// Parse a `--format` value.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "text" | "txt" => Format::Text,
            "jsonl" | "ndjson" => Format::Jsonl,
            "json" => Format::Json,
            "csv" => Format::Csv,
            "parquet" => Format::Parquet,
            _ => return None,
        })
    }

    /// The format's name as `--format` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Jsonl => "jsonl",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// Guess the format from a file name, ignoring a trailing `.gz`/`.zst`. Unknown: text.
    pub fn from_path(path: &Path) -> Self {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
        let stem = Compression::strip_extension(&name);
        let ext = stem.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        Format::parse(ext).unwrap_or(Format::Text)
    }
}

/// A stream compression wrapper, detected from magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// Recognize a compressed stream from its first bytes.
    pub fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    fn strip_extension(name: &str) -> &str {
        for ext in [".gz", ".gzip", ".zst", ".zstd"] {
            if let Some(stem) = name.strip_suffix(ext) {
                return stem;
            }
        }
        name
    }
}

/// How plain text is cut into documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DocSeparator {
    /// One document per non-blank line.
    #[default]
    Line,
    /// Documents are paragraphs separated by blank lines.
    Blank,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        for (name, want) in [
            ("a.txt", Format::Text),
            ("a.jsonl", Format::Jsonl),
            ("a.JSONL.gz", Format::Jsonl),
            ("a.ndjson.zst", Format::Jsonl),
            ("a.json", Format::Json),
            ("a.csv", Format::Csv),
            ("a.parquet", Format::Parquet),
            ("README", Format::Text),
            ("-", Format::Text),
        ] {
            assert_eq!(Format::from_path(Path::new(name)), want, "{name}");
        }
    }
}
