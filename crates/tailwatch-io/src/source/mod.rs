//! One type per input format, behind [`RecordSource`]: plain text and JSONL lines, a JSON
//! document, CSV and Parquet.
use std::path::Path;

use crate::{ReadOptions, ReadStats, Record, Result};

pub(crate) mod csv;
pub(crate) mod json;
pub(crate) mod lines;
pub(crate) mod parquet;

/// What a source reads with: the input's name for errors, the options, and the counters.
pub(crate) struct Context<'a> {
    pub path: &'a Path,
    pub options: &'a ReadOptions,
    pub stats: &'a mut ReadStats,
}

/// The records of one input in input order, read a unit at a time.
pub(crate) trait RecordSource: Send {
    /// Append the next unit of records to `out` (one record; for Parquet, the rows of one
    /// record batch) and return the bytes of text added, or `None` at the end of the input. An
    /// error that [`crate::Error::is_skippable`] says is one bad record: the reader may skip it
    /// and call again.
    fn read(&mut self, cx: &mut Context<'_>, out: &mut Vec<Record>) -> Result<Option<usize>>;

    /// Whether the records carry their [`Record::span`] (uncompressed text and JSONL files).
    fn rereadable(&self) -> bool {
        false
    }
}
