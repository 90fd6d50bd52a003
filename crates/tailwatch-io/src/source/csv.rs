//! CSV with a header row: the text column and the extra columns by name.
use std::io::Read;

use super::{Context, RecordSource};
use crate::decode::decode_utf8;
use crate::{Error, Location, Record, Result, Texts};

/// Rows of a CSV input.
pub(crate) struct CsvSource {
    reader: csv::Reader<Box<dyn Read + Send>>,
    column: usize,
    extra_columns: Vec<usize>,
}

impl CsvSource {
    /// Read the header and find the columns.
    pub(crate) fn open(reader: Box<dyn Read + Send>, cx: &Context<'_>) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
        let headers = reader.headers().map_err(|e| csv_error(cx.path, &e))?.clone();
        let find = |name: &str| {
            headers.iter().position(|h| h == name).ok_or_else(|| Error::MissingColumn {
                path: cx.path.to_path_buf(),
                column: name.to_string(),
                available: headers.iter().collect::<Vec<_>>().join(", "),
            })
        };
        let column = find(cx.options.field_name())?;
        let extra_columns = cx.options.extra_fields.iter().map(|f| find(f)).collect::<Result<Vec<_>>>()?;
        Ok(Self { reader, column, extra_columns })
    }
}

impl RecordSource for CsvSource {
    fn read(&mut self, cx: &mut Context<'_>, out: &mut Vec<Record>) -> Result<Option<usize>> {
        let mut row = csv::ByteRecord::new();
        let more = self.reader.read_byte_record(&mut row).map_err(|e| csv_error(cx.path, &e))?;
        if !more {
            return Ok(None);
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

fn csv_error(path: &std::path::Path, e: &csv::Error) -> Error {
    let location = Location::Line(e.position().map_or(0, |p| p.line()));
    match e.kind() {
        csv::ErrorKind::Io(io) => Error::Read {
            path: path.to_path_buf(),
            location,
            source: std::io::Error::new(io.kind(), io.to_string()),
        },
        csv::ErrorKind::Utf8 { .. } => Error::Utf8 { path: path.to_path_buf(), location, offset: 0 },
        _ => Error::Csv { path: path.to_path_buf(), location, message: e.to_string() },
    }
}
