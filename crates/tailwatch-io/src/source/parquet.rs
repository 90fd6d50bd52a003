//! Parquet: the text column and the extra columns, a record batch at a time.
use std::fs::File;
use std::path::Path;

use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::{Context, RecordSource};
use crate::arrow_values::{field_texts, string_values};
use crate::{Error, Location, Record, Result, Texts};

/// Rows of a Parquet file.
pub(crate) struct ParquetSource {
    reader: ParquetRecordBatchReader,
    /// Rows read so far.
    row: u64,
}

impl ParquetSource {
    /// Open `file`, reading only the text column and the extra columns.
    pub(crate) fn open(path: &Path, file: File, column: &str, extras: &[String]) -> Result<Self> {
        let err = |e: parquet::errors::ParquetError| Error::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(err)?;
        // the reader adds up the row groups' row counts as `usize` (and casts a negative one),
        // which panics with overflow checks on: refuse a file whose counts cannot be (issue 16)
        let mut rows = 0u64;
        for (i, group) in builder.metadata().row_groups().iter().enumerate() {
            rows = u64::try_from(group.num_rows())
                .ok()
                .and_then(|n| rows.checked_add(n))
                .filter(|&total| usize::try_from(total).is_ok())
                .ok_or_else(|| Error::Parquet {
                    path: path.to_path_buf(),
                    message: format!("row group {i} claims {} rows", group.num_rows()),
                })?;
        }
        let schema = builder.schema().clone();
        let find = |name: &str| {
            schema.fields().iter().position(|f| f.name() == name).ok_or_else(|| Error::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                available: schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", "),
            })
        };
        let mut indices = vec![find(column)?];
        for extra in extras {
            let index = find(extra)?;
            if !indices.contains(&index) {
                indices.push(index);
            }
        }
        let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
        let reader = builder.with_projection(mask).with_batch_size(4096).build().map_err(err)?;
        Ok(Self { reader, row: 0 })
    }
}

impl RecordSource for ParquetSource {
    fn read(&mut self, cx: &mut Context<'_>, out: &mut Vec<Record>) -> Result<Option<usize>> {
        let Some(batch) = self.reader.next() else {
            return Ok(None);
        };
        let batch =
            batch.map_err(|e| Error::Parquet { path: cx.path.to_path_buf(), message: e.to_string() })?;
        let field = cx.options.field_name().to_string();
        let base = self.row;
        let schema = batch.schema();
        let text_index = schema.index_of(&field).unwrap_or(0);
        let column = batch.column(text_index);
        let mut columns: Vec<Vec<Option<String>>> = Vec::new();
        for name in &cx.options.extra_fields {
            let index = schema
                .index_of(name)
                .map_err(|e| Error::Parquet { path: cx.path.to_path_buf(), message: e.to_string() })?;
            columns.push(field_texts(batch.column(index)).map_err(|found| Error::FieldType {
                path: cx.path.to_path_buf(),
                location: Location::Record(base + 1),
                field: name.to_string(),
                found: format!("Parquet type {found}"),
            })?);
        }
        let texts = string_values(column.as_ref()).ok_or_else(|| Error::FieldType {
            path: cx.path.to_path_buf(),
            location: Location::Record(base + 1),
            field: field.clone(),
            found: format!("Parquet type {}", column.data_type()),
        })?;
        let mut bytes = 0;
        for (i, value) in texts.into_iter().enumerate() {
            let number = base + i as u64 + 1;
            match value {
                Some(s) if s.len() > cx.options.max_record_bytes => {
                    return Err(Error::RecordTooLarge {
                        path: cx.path.to_path_buf(),
                        location: Location::Record(number),
                        limit: cx.options.max_record_bytes,
                    });
                }
                Some(s) => {
                    bytes += s.len() + 1;
                    let extras = columns.iter().map(|c| c[i].clone()).collect();
                    out.push(Record::new(number, Texts::from_elem(s.to_string(), 1), extras, None));
                }
                None => {
                    let error = Error::MissingField {
                        path: cx.path.to_path_buf(),
                        location: Location::Record(number),
                        field: field.clone(),
                    };
                    if cx.options.skip_invalid {
                        cx.stats.skip(&error);
                    } else {
                        return Err(error);
                    }
                }
            }
        }
        self.row += batch.num_rows() as u64;
        cx.stats.records += batch.num_rows() as u64;
        Ok(Some(bytes.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use crate::{DocReader, Error, ReadOptions};

    /// Issue 16 (fuzzing): a file whose row groups claim more rows than a `usize` holds (a
    /// negative count, cast) panicked in the parquet crate with overflow checks on.
    #[test]
    fn impossible_row_counts_are_an_error_issue_16() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/row-count-overflow.parquet");
        match DocReader::open(path, &ReadOptions::default()) {
            Err(Error::Parquet { message, .. }) => assert!(message.contains("claims"), "{message}"),
            Err(e) => panic!("another error: {e}"),
            Ok(_) => panic!("an impossible file opened"),
        }
    }
}
