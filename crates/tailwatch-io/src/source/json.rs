//! A JSON document: one record, or an array of records, parsed whole.
use std::collections::VecDeque;
use std::io::{BufRead, Read as _};

use serde_json::Value;

use super::{Context, RecordSource};
use crate::decode::decode_utf8;
use crate::json_fields::{extra_values, record_texts};
use crate::{Error, Location, Record, Result};

/// The records of a JSON document, parsed when it is opened.
pub(crate) struct JsonDocument {
    records: VecDeque<Record>,
}

impl JsonDocument {
    /// Parse the whole document (records skipped by `skip_invalid` are counted in `cx`).
    pub(crate) fn parse(reader: Box<dyn BufRead + Send>, cx: &mut Context<'_>) -> Result<Self> {
        let mut bytes = Vec::new();
        let limit = cx.options.max_record_bytes.saturating_mul(crate::JSON_DOCUMENT_RECORDS);
        let mut bounded = reader.take(limit as u64 + 1);
        bounded.read_to_end(&mut bytes).map_err(|source| Error::Read {
            path: cx.path.to_path_buf(),
            location: Location::Record(0),
            source,
        })?;
        if bytes.len() > limit {
            // one document, read whole: the limit is that of a record times JSON_DOCUMENT_RECORDS
            return Err(Error::RecordTooLarge {
                path: cx.path.to_path_buf(),
                location: Location::Line(1),
                limit,
            });
        }
        let text = decode_utf8(cx.path, Location::Line(1), &bytes, cx.options.lossy)?;
        let value: Value = serde_json::from_str(&text).map_err(|e| Error::Json {
            path: cx.path.to_path_buf(),
            location: Location::Line(e.line() as u64),
            message: e.to_string(),
        })?;
        let values: Vec<&Value> = match &value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let mut records = VecDeque::new();
        for (i, value) in values.into_iter().enumerate() {
            cx.stats.records += 1;
            let number = i as u64 + 1;
            match record_texts(cx.path, Location::Record(number), value, cx.options) {
                Ok(texts) if texts.is_empty() => {}
                Ok(texts) => {
                    records.push_back(Record::new(number, texts, extra_values(value, cx.options), None))
                }
                Err(e) if cx.options.skip_invalid => cx.stats.skip(&e),
                Err(e) => return Err(e),
            }
        }
        Ok(Self { records })
    }
}

impl RecordSource for JsonDocument {
    fn read(&mut self, _cx: &mut Context<'_>, out: &mut Vec<Record>) -> Result<Option<usize>> {
        Ok(self.records.pop_front().map(|record| {
            let bytes = record.texts.iter().map(|t| t.len() + 1).sum();
            out.push(record);
            bytes
        }))
    }
}
