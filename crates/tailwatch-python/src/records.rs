//! Answers from Python for profiles that group or score them: the rows of an Arrow table, and
//! the answers of `update_groups`, each a record of one answer whose fields (the group key,
//! the order, the scores) the engine reads as it reads a Parquet row's or a JSON record's.
use std::path::Path;

use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_array::{Array, ArrayRef, RecordBatchReader};
use arrow_pyarrow::FromPyArrow;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};
use tailwatch::profiling::{FieldRole, RecordAnswers, RecordFields};
use tailwatch_io::Location;
use tailwatch_io::arrow_values::{field_texts, string_values};

use crate::errors::{input_error, to_py};
use crate::texts::string_array;

/// What a table is called in the engine's errors (`<table>: row 3: score field ...`).
const TABLE: &str = "<table>";

fn role_name(role: Option<FieldRole>) -> &'static str {
    match role {
        Some(FieldRole::Group) => "the group field",
        Some(FieldRole::Order) => "the order field",
        Some(FieldRole::Score) => "a score field",
        None => "a field",
    }
}

/// The rows of a table as answers: each batch's text column and, per row kept, its fields.
pub struct TableAnswers {
    texts: Vec<ArrayRef>,
    /// (batch, row in the batch, the row's fields), in order.
    rows: Vec<(usize, usize, RecordAnswers)>,
}

impl TableAnswers {
    /// Every answer, in order: its text and its fields.
    pub fn answers(&self) -> impl Iterator<Item = (&str, &RecordAnswers)> {
        let texts: Vec<Vec<Option<&str>>> =
            self.texts.iter().map(|a| string_values(a.as_ref()).unwrap_or_default()).collect();
        self.rows.iter().map(move |(batch, row, answers)| (texts[*batch][*row].unwrap_or_default(), answers))
    }
}

/// Read the rows of `table` (`__arrow_c_stream__`): the text column `column` and the fields of
/// `fields`, every row checked (a missing column, a null text unless `skip_nulls`, a field the
/// engine cannot read) before any is added.
pub fn table_answers(
    table: &Bound<'_, PyAny>,
    column: &str,
    fields: &RecordFields,
    skip_nulls: bool,
) -> PyResult<TableAnswers> {
    let reader = RecordBatchStreamReader::from_pyarrow_bound(table)?;
    let schema = reader.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let find = |name: &str, what: &str| {
        schema.index_of(name).map_err(|_| {
            input_error(format!("no column `{name}` ({what}): the columns are {}", names.join(", ")))
        })
    };
    let text_index = find(column, "the documents")?;
    let field_indices = fields
        .names()
        .iter()
        .map(|name| find(name, role_name(fields.role(name))))
        .collect::<PyResult<Vec<_>>>()?;
    let path = Path::new(TABLE);
    let (mut texts, mut rows) = (Vec::new(), Vec::new());
    let mut offset = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| input_error(format!("cannot read the Arrow stream: {e}")))?;
        let text = string_array(batch.column(text_index).to_data())?;
        let mut values = Vec::with_capacity(field_indices.len());
        for (name, &index) in fields.names().iter().zip(&field_indices) {
            values.push(field_texts(batch.column(index).as_ref()).map_err(|found| {
                PyTypeError::new_err(format!("the column `{name}` has type {found}, which has no text"))
            })?);
        }
        for i in 0..batch.num_rows() {
            let row = offset + i as u64;
            if text.is_null(i) {
                if skip_nulls {
                    continue;
                }
                return Err(input_error(format!(
                    "{TABLE}: row {row}: the column `{column}` is null, not a document (pass skip_nulls=True to skip nulls)"
                )));
            }
            let extras: Vec<Option<String>> = values.iter_mut().map(|v| v[i].take()).collect();
            let answers =
                fields.read(path, row, &extras, 1).map_err(|e| to_py(e.at(path, Location::Row(row))))?;
            rows.push((texts.len(), i, answers));
        }
        offset += batch.num_rows() as u64;
        texts.push(text);
    }
    Ok(TableAnswers { texts, rows })
}

/// One answer of `update_groups`: a `str`, or a `(str, {field: value})` pair whose mapping
/// gives the answer's order and score fields.
pub fn group_answer(
    key: &str,
    index: usize,
    answer: &Bound<'_, PyAny>,
    fields: &RecordFields,
) -> PyResult<(String, RecordAnswers)> {
    let here = || format!("group `{key}`, answer {index}");
    let (text, values) = if let Ok(text) = answer.extract::<String>() {
        (text, None)
    } else if let Ok((text, values)) = answer.extract::<(String, Bound<'_, PyAny>)>() {
        let values = values.cast_into::<PyDict>().map_err(|_| {
            PyTypeError::new_err(format!("{}: the fields of an answer are a dict of field to value", here()))
        })?;
        (text, Some(values))
    } else {
        return Err(PyTypeError::new_err(format!(
            "{}: an answer is a str, or a (str, {{field: value}}) pair, not a value {}",
            here(),
            type_name(answer)
        )));
    };
    let mut extras: Vec<Option<String>> = vec![None; fields.names().len()];
    let place = |name: &str| fields.names().iter().position(|n| n == name);
    if let Some(group) = fields.names().iter().position(|n| fields.role(n) == Some(FieldRole::Group)) {
        extras[group] = Some(key.to_string());
    }
    for (name, value) in values.iter().flat_map(|d| d.iter()) {
        let name: String = name.extract().map_err(|_| {
            PyTypeError::new_err(format!("{}: field names are str, not values {}", here(), type_name(&name)))
        })?;
        match fields.role(&name) {
            Some(FieldRole::Group) => {
                return Err(input_error(format!(
                    "{}: `{name}` is the group field: the group's key gives it",
                    here()
                )));
            }
            None => {
                let known: Vec<&str> = fields
                    .names()
                    .iter()
                    .filter(|n| fields.role(n) != Some(FieldRole::Group))
                    .map(String::as_str)
                    .collect();
                let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                return Err(input_error(format!(
                    "{}: `{name}` is not an order or score field of this profile (its fields: {known})",
                    here()
                )));
            }
            Some(_) => {
                let slot = place(&name).expect("a field with a role has a place");
                extras[slot] = value_text(&value).map_err(|found| {
                    PyTypeError::new_err(format!(
                        "{}: field `{name}` holds a value {found}: give a number, a bool, a str or None",
                        here()
                    ))
                })?;
            }
        }
    }
    let mut answers = fields
        .read(Path::new(key), index as u64, &extras, 1)
        .map_err(|e| input_error(format!("{}: {e}", here())))?;
    answers.key = Some(key.to_string());
    Ok((text, answers))
}

/// A Python value as the text of a record's field, as a JSON record's value is read: `None`
/// for None, `true`/`false`, integers in decimal, floats in their shortest form that reads back
/// to the same value, strings as they are; else the value's type.
fn value_text(value: &Bound<'_, PyAny>) -> Result<Option<String>, String> {
    if value.is_none() {
        return Ok(None);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Some(if b.is_true() { "true" } else { "false" }.to_string()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return s.to_str().map(|s| Some(s.to_string())).map_err(|_| "a str that is not UTF-8".to_string());
    }
    // integers (numpy's too) in decimal: an order field reads whole numbers only
    if value.is_instance_of::<PyInt>() || value.hasattr("__index__").unwrap_or(false) {
        let index = value.call_method0("__index__").and_then(|i| i.str());
        if let Ok(text) = index {
            return Ok(Some(text.to_string()));
        }
    }
    if let Ok(number) = value.extract::<f64>() {
        return Ok(Some(format!("{number:?}")));
    }
    Err(type_name(value))
}

fn type_name(object: &Bound<'_, PyAny>) -> String {
    object.get_type().name().map(|n| format!("of type `{n}`")).unwrap_or_else(|_| "an object".to_string())
}
