//! Documents from Python: Arrow string arrays (borrowed, zero-copy) or Python strings.
use arrow_array::cast::AsArray;
use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_array::{Array, ArrayRef, RecordBatchReader, make_array};
use arrow_data::ArrayData;
use arrow_pyarrow::FromPyArrow;
use arrow_schema::DataType;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBytes, PyString};

use crate::errors::input_error;

/// Documents handed over from Python, held without copying their text.
pub enum Documents {
    /// Python strings.
    Strings(Vec<PyBackedStr>),
    /// Arrow string arrays (`Utf8`, `LargeUtf8` or `Utf8View`; dictionaries are cast).
    Arrow(Vec<ArrayRef>),
}

impl Documents {
    /// The documents as borrowed strings; nulls are skipped when `skip_nulls`, else refused
    /// naming their position.
    pub fn strs(&self, skip_nulls: bool) -> PyResult<Vec<&str>> {
        match self {
            Documents::Strings(strings) => Ok(strings.iter().map(|s| &**s).collect()),
            Documents::Arrow(arrays) => {
                let total = arrays.iter().map(|a| a.len()).sum();
                let mut docs = Vec::with_capacity(total);
                let mut offset = 0;
                for array in arrays {
                    push_strs(array, offset, skip_nulls, &mut docs)?;
                    offset += array.len();
                }
                Ok(docs)
            }
        }
    }
}

/// Append the strings of `array` (whose first element is element `offset` of the column).
fn push_strs<'a>(
    array: &'a ArrayRef,
    offset: usize,
    skip_nulls: bool,
    docs: &mut Vec<&'a str>,
) -> PyResult<()> {
    if !skip_nulls && array.null_count() > 0 {
        let first = (0..array.len()).find(|&i| array.is_null(i)).unwrap_or(0);
        return Err(null_error(offset + first));
    }
    match array.data_type() {
        DataType::Utf8 => docs.extend(array.as_string::<i32>().iter().flatten()),
        DataType::LargeUtf8 => docs.extend(array.as_string::<i64>().iter().flatten()),
        DataType::Utf8View => docs.extend(array.as_string_view().iter().flatten()),
        other => return Err(type_error(other)),
    }
    Ok(())
}

fn null_error(index: usize) -> PyErr {
    input_error(format!(
        "element {index} of the column is null, not a document (pass skip_nulls=True to skip nulls)"
    ))
}

fn type_error(found: &DataType) -> PyErr {
    PyTypeError::new_err(format!(
        "documents must be strings: the Arrow column has type {found} (expected string, large_string or string_view)"
    ))
}

/// A string array of `data`: strings as they are, dictionaries of strings cast to strings.
pub(crate) fn string_array(data: ArrayData) -> PyResult<ArrayRef> {
    let array = make_array(data);
    match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(array),
        DataType::Dictionary(_, value)
            if matches!(**value, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) =>
        {
            arrow_cast::cast(&array, value)
                .map_err(|e| input_error(format!("cannot read the dictionary column: {e}")))
        }
        DataType::Null => Ok(array),
        other => Err(type_error(other)),
    }
}

/// The documents of `texts`: an object with `__arrow_c_array__` (a pyarrow array, and other
/// Arrow libraries' arrays), a pyarrow `ChunkedArray`, or an iterable of `str`.
pub fn documents(texts: &Bound<'_, PyAny>, skip_nulls: bool) -> PyResult<Documents> {
    if texts.is_instance_of::<PyString>() || texts.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(
            "documents must be an iterable of strings or an Arrow string array, not a single string",
        ));
    }
    if texts.hasattr("__arrow_c_array__")? {
        return Ok(Documents::Arrow(vec![string_array(ArrayData::from_pyarrow_bound(texts)?)?]));
    }
    if texts.hasattr("__arrow_c_stream__")? && texts.hasattr("chunks")? {
        // a pyarrow ChunkedArray: each chunk is an array
        let mut arrays = Vec::new();
        for chunk in texts.getattr("chunks")?.try_iter()? {
            arrays.push(string_array(ArrayData::from_pyarrow_bound(&chunk?)?)?);
        }
        return Ok(Documents::Arrow(arrays));
    }
    let mut strings = Vec::with_capacity(texts.len().unwrap_or(0));
    let iter = texts.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "documents must be an iterable of strings or an Arrow string array, not {}",
            type_name(texts)
        ))
    })?;
    for (index, item) in iter.enumerate() {
        let item = item?;
        if item.is_none() {
            if skip_nulls {
                continue;
            }
            return Err(null_error(index));
        }
        match item.extract::<PyBackedStr>() {
            Ok(s) => strings.push(s),
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "element {index} is {}, not a string: documents must be strings",
                    type_name(&item)
                )));
            }
        }
    }
    Ok(Documents::Strings(strings))
}

/// The column `column` of every batch of a tabular Arrow stream (`__arrow_c_stream__`: a
/// pyarrow Table or RecordBatchReader, a polars DataFrame, ...).
pub fn stream_column(stream: &Bound<'_, PyAny>, column: &str) -> PyResult<Documents> {
    let reader = RecordBatchStreamReader::from_pyarrow_bound(stream)?;
    let schema = reader.schema();
    let Ok(index) = schema.index_of(column) else {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        return Err(input_error(format!("no column `{column}`: the columns are {}", names.join(", "))));
    };
    let mut arrays = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| input_error(format!("cannot read the Arrow stream: {e}")))?;
        arrays.push(string_array(batch.column(index).to_data())?);
    }
    Ok(Documents::Arrow(arrays))
}

fn type_name(object: &Bound<'_, PyAny>) -> String {
    object.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "an object".to_string())
}
