//! Streaming document readers of tailwatch: plain text, JSONL, JSON, CSV and Parquet, transparently
//! decompressing gzip and zstd, from files or stdin.
//!
//! The principal type is [`DocReader`]: it yields documents in bounded-size [`Batch`]es, so a
//! 10 GB input never needs 10 GB of memory. Errors name the file, the line (or record) and the
//! field.
//!
//! ```no_run
//! use tailwatch_io::{DocReader, ReadOptions};
//! let mut reader = DocReader::open("outputs.jsonl", &ReadOptions::default())?;
//! while let Some(batch) = reader.next_batch()? {
//!     for doc in &batch.docs {
//!         assert!(doc.len() < 1 << 30);
//!     }
//! }
//! # Ok::<(), tailwatch_io::Error>(())
//! ```
#![deny(missing_docs)]

mod error;
mod filter;
mod format;
mod reader;

pub use error::{Error, Location, Result};
pub use filter::write_records;
pub use format::{Compression, DocSeparator, Format};
pub use reader::{Batch, DocReader, ReadOptions, ReadStats, RecordRereader, RecordSpan, open_text, read_all};
