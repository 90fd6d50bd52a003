//! Streaming document readers of tailwatch: plain text, JSONL, JSON, CSV and Parquet, transparently
//! decompressing gzip and zstd, from files or stdin.
//!
//! The principal type is [`DocReader`]: it yields [`Record`]s (a record's number, its
//! documents, its extra fields and where it lies in its file) in bounded-size [`Batch`]es, so a
//! 10 GB input never needs 10 GB of memory. Each input format is its own type behind one trait
//! (`source`). Errors name the file, the line (or record) and the field.
//!
//! ```no_run
//! use tailwatch_io::{DocReader, ReadOptions};
//! let mut reader = DocReader::open("outputs.jsonl", &ReadOptions::default())?;
//! while let Some(batch) = reader.next_batch()? {
//!     for record in &batch.records {
//!         assert!(record.texts.iter().all(|doc| doc.len() < 1 << 30));
//!     }
//! }
//! # Ok::<(), tailwatch_io::Error>(())
//! ```
#![deny(missing_docs)]

pub mod arrow_values;
mod decode;
mod error;
mod filter;
mod format;
mod json_fields;
pub mod output;
mod reader;
mod reread;
mod source;
pub mod vectors;

pub use error::{Error, Location, Result};
pub use filter::write_records;
pub use format::{Compression, DocSeparator, Format};
pub use output::{OutputFile, RunFiles};
pub use reader::{
    Batch, DEFAULT_MAX_RECORD_BYTES, DocReader, JSON_DOCUMENT_RECORDS, ReadOptions, ReadStats, Record,
    RecordSpan, Texts, open_text, open_text_limited, read_all, read_file_limited,
};
pub use reread::RecordRereader;
