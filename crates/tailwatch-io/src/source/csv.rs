//! CSV with a header row: the text column and the extra columns by name.
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Context, RecordSource};
use crate::decode::decode_utf8;
use crate::{Error, Location, Record, Result, Texts};

/// Rows of a CSV input.
pub(crate) struct CsvSource {
    reader: csv::Reader<RecordGuard>,
    column: usize,
    extra_columns: Vec<usize>,
    /// Where the record being parsed starts, for [`RecordGuard`].
    record_start: Arc<AtomicU64>,
}

/// Hands bytes to the CSV parser, but not more than the maximum record size past the start of
/// the record being parsed: the parser would buffer an endless row (a quoted field never
/// closed, a 2 GiB line) whole.
struct RecordGuard {
    inner: Box<dyn Read + Send>,
    handed: u64,
    record_start: Arc<AtomicU64>,
    limit: u64,
}

/// The I/O error [`RecordGuard`] stops the parser with.
#[derive(Debug)]
struct RecordTooLarge;

impl std::fmt::Display for RecordTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("record too large")
    }
}

impl std::error::Error for RecordTooLarge {}

impl Read for RecordGuard {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.handed.saturating_sub(self.record_start.load(Ordering::Relaxed)) > self.limit {
            return Err(std::io::Error::other(RecordTooLarge));
        }
        let n = self.inner.read(buf)?;
        self.handed += n as u64;
        Ok(n)
    }
}

impl CsvSource {
    /// Read the header and find the columns.
    pub(crate) fn open(reader: Box<dyn Read + Send>, cx: &Context<'_>) -> Result<Self> {
        let record_start = Arc::new(AtomicU64::new(0));
        let limit = cx.options.max_record_bytes as u64;
        let guard = RecordGuard { inner: reader, handed: 0, record_start: record_start.clone(), limit };
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(guard);
        let headers = reader.headers().map_err(|e| csv_error(cx, 1, &e))?.clone();
        record_start.store(reader.position().byte(), Ordering::Relaxed);
        let find = |name: &str| {
            headers.iter().position(|h| h == name).ok_or_else(|| Error::MissingColumn {
                path: cx.path.to_path_buf(),
                column: name.to_string(),
                available: headers.iter().collect::<Vec<_>>().join(", "),
            })
        };
        let column = find(cx.options.field_name())?;
        let extra_columns = cx.options.extra_fields.iter().map(|f| find(f)).collect::<Result<Vec<_>>>()?;
        Ok(Self { reader, column, extra_columns, record_start })
    }
}

impl RecordSource for CsvSource {
    fn read(&mut self, cx: &mut Context<'_>, out: &mut Vec<Record>) -> Result<Option<usize>> {
        let mut row = csv::ByteRecord::new();
        let next_line = self.reader.position().line();
        let more = self.reader.read_byte_record(&mut row).map_err(|e| csv_error(cx, next_line, &e))?;
        self.record_start.store(self.reader.position().byte(), Ordering::Relaxed);
        if !more {
            return Ok(None);
        }
        if row.as_slice().len() > cx.options.max_record_bytes {
            return Err(Error::RecordTooLarge {
                path: cx.path.to_path_buf(),
                location: Location::Line(next_line),
                limit: cx.options.max_record_bytes,
            });
        }
        cx.stats.records += 1;
        let location = Location::Line(row.position().map_or(0, |p| p.line()));
        let Some(cell) = row.get(self.column) else {
            return Err(Error::MissingField {
                path: cx.path.to_path_buf(),
                location,
                field: cx.options.field_name().to_string(),
            });
        };
        let text = decode_utf8(cx.path, location, cell, cx.options.lossy)?;
        let mut extras = Vec::with_capacity(self.extra_columns.len());
        for &c in &self.extra_columns {
            extras.push(match row.get(c) {
                Some(bytes) => Some(decode_utf8(cx.path, location, bytes, cx.options.lossy)?),
                None => None,
            });
        }
        let len = text.len();
        out.push(Record::new(cx.stats.records, Texts::from_elem(text, 1), extras, None));
        Ok(Some(len + 1))
    }
}

/// The error of a failed read; `next_line` is where the record being read starts.
fn csv_error(cx: &Context<'_>, next_line: u64, e: &csv::Error) -> Error {
    let path = cx.path;
    let location = Location::Line(e.position().map_or(next_line, |p| p.line()));
    match e.kind() {
        csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<RecordTooLarge>()) => {
            Error::RecordTooLarge {
                path: path.to_path_buf(),
                location: Location::Line(next_line),
                limit: cx.options.max_record_bytes,
            }
        }
        csv::ErrorKind::Io(io) => Error::Read {
            path: path.to_path_buf(),
            location,
            source: std::io::Error::new(io.kind(), io.to_string()),
        },
        csv::ErrorKind::Utf8 { .. } => Error::Utf8 { path: path.to_path_buf(), location, offset: 0 },
        _ => Error::Csv { path: path.to_path_buf(), location, message: e.to_string() },
    }
}
