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
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            let json_error = |message: String| Error::Json { path: path.to_path_buf(), location, message };
            let Some((fixed, escape, column)) = replace_lone_surrogates(text) else {
                return Err(json_error(e.to_string()));
            };
            if !options.lossy {
                return Err(json_error(format!(
                    "a lone UTF-16 surrogate `{escape}` at column {column}: JSON text holds one only as half of a pair (read lossily, it becomes U+FFFD)"
                )));
            }
            serde_json::from_str(&fixed).map_err(|e| json_error(e.to_string()))?
        }
    };
    let texts = record_texts(path, location, &value, options)?;
    Ok((texts, value))
}

/// `text` with every `\uD800`..`\uDFFF` escape that is not half of a high-low pair replaced by
/// `\uFFFD`, the first such escape and its 1-based column; `None` when there is none. (serde_json
/// refuses them, as RFC 8259 allows; Python's `json.dumps` writes them for lone surrogates.)
pub(crate) fn replace_lone_surrogates(text: &str) -> Option<(String, String, usize)> {
    let bytes = text.as_bytes();
    let code = |at: usize| -> Option<u16> {
        let digits = bytes.get(at + 2..at + 6)?;
        if bytes.get(at + 1) != Some(&b'u') {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let (mut out, mut first, mut copied, mut i) = (String::new(), None, 0, 0);
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = code(i) else {
            i += 2; // another escape (`\\`, `\"`, ...): skip both characters
            continue;
        };
        let paired = (0xD800..0xDC00).contains(&unit)
            && bytes.get(i + 6) == Some(&b'\\')
            && code(i + 6).is_some_and(|low| (0xDC00..0xE000).contains(&low));
        if paired {
            i += 12;
        } else if (0xD800..0xE000).contains(&unit) {
            first.get_or_insert_with(|| (text[i..i + 6].to_string(), text[..i].chars().count() + 1));
            out.push_str(&text[copied..i]);
            out.push_str("\\uFFFD");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    let (escape, column) = first?;
    out.push_str(&text[copied..]);
    Some((out, escape, column))
}
