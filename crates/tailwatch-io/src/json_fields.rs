//! Fields of JSON records: dotted paths, the documents a field holds, extra fields as text.
use std::path::Path;

use serde_json::Value;

use crate::{Error, Location, ReadOptions, Result, Texts};

/// How a JSON value is named in errors ("a number", "an object", ...).
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Resolve a dotted path (`a.b.0.c`) in a JSON value.
pub(crate) fn resolve<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for part in path.split('.') {
        current = match current {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// The documents of one JSON record: its text field (`options.field`, default `text`; a bare
/// string when no field is asked for), one document per element of an array field, or the
/// array's items joined by spaces with [`ReadOptions::array_is_one_doc`].
pub(crate) fn record_texts(
    path: &Path,
    location: Location,
    record: &Value,
    options: &ReadOptions,
) -> Result<Texts> {
    let field = options.field_name();
    let value = match (record, &options.field) {
        (Value::String(_), None) => record,
        _ => resolve(record, field).ok_or_else(|| Error::MissingField {
            path: path.to_path_buf(),
            location,
            field: field.to_string(),
        })?,
    };
    let type_error = |found: String| Error::FieldType {
        path: path.to_path_buf(),
        location,
        field: field.to_string(),
        found,
    };
    let mut out = Texts::new();
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) if options.array_is_one_doc => {
            let mut doc = String::new();
            for (i, item) in items.iter().enumerate() {
                let part = match item {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => return Err(type_error(format!("{} at index {i}", json_kind(other)))),
                };
                if i > 0 {
                    doc.push(' ');
                }
                doc.push_str(&part);
            }
            out.push(doc);
        }
        Value::Number(n) if options.array_is_one_doc => out.push(n.to_string()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    other => return Err(type_error(format!("{} at index {i}", json_kind(other)))),
                }
            }
        }
        other => return Err(type_error(json_kind(other).to_string())),
    }
    Ok(out)
}

/// The extra fields of a record ([`ReadOptions::extra_fields`]) as text: strings as they are,
/// other scalars printed, missing or null as `None`, arrays and objects as JSON.
pub(crate) fn extra_values(record: &Value, options: &ReadOptions) -> Vec<Option<String>> {
    options
        .extra_fields
        .iter()
        .map(|field| match resolve(record, field)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
        .collect()
}

/// The documents and the value of one JSONL line.
pub(crate) fn json_line(
    path: &Path,
    options: &ReadOptions,
    location: Location,
    text: &str,
) -> Result<(Texts, Value)> {
    let value: Value = serde_json::from_str(text).map_err(|e| Error::Json {
        path: path.to_path_buf(),
        location,
        message: e.to_string(),
    })?;
    let texts = record_texts(path, location, &value, options)?;
    Ok((texts, value))
}
