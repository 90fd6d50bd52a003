//! Values of Arrow columns as records' texts and fields: what the Parquet reader reads, and
//! what front ends holding Arrow tables in memory (the Python package) read the same way.
use arrow_array::{Array, LargeStringArray, StringArray, StringViewArray};
use arrow_schema::DataType;

/// The values of a string column (`utf8`, `large_utf8` or `utf8_view`; `None` for nulls), or
/// `None` for a column of another type.
pub fn string_values(column: &dyn Array) -> Option<Vec<Option<&str>>> {
    let any = column.as_any();
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return Some((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))).collect());
    }
    if let Some(a) = any.downcast_ref::<LargeStringArray>() {
        return Some((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))).collect());
    }
    if let Some(a) = any.downcast_ref::<StringViewArray>() {
        return Some((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))).collect());
    }
    None
}

/// Any column's values as the text of a record's extra field (`None` for nulls): strings as
/// they are, other values in Arrow's display formatting (numbers in their shortest form that
/// reads back to the same value, booleans as `true`/`false`), as a JSON record's numbers are
/// printed. The column's type when Arrow cannot print it.
pub fn field_texts(column: &dyn Array) -> Result<Vec<Option<String>>, DataType> {
    if let Some(strings) = string_values(column) {
        return Ok(strings.into_iter().map(|s| s.map(str::to_string)).collect());
    }
    let formatter = arrow_cast::display::ArrayFormatter::try_new(column, &Default::default())
        .map_err(|_| column.data_type().clone())?;
    Ok((0..column.len()).map(|i| column.is_valid(i).then(|| formatter.value(i).to_string())).collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array};

    use super::*;

    #[test]
    fn numbers_print_as_values_that_read_back() {
        let floats: ArrayRef =
            Arc::new(Float64Array::from(vec![Some(0.1), None, Some(1e300), Some(f64::NAN)]));
        let texts = field_texts(&floats).unwrap();
        assert_eq!(texts[1], None);
        for (text, value) in texts.iter().zip([0.1, 0.0, 1e300]).filter(|(t, _)| t.is_some()) {
            assert_eq!(text.as_deref().unwrap().parse::<f64>().unwrap(), value);
        }
        assert!(texts[3].as_deref().unwrap().parse::<f64>().unwrap().is_nan());
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![3, -1]));
        assert_eq!(field_texts(&ints).unwrap(), [Some("3".to_string()), Some("-1".to_string())]);
        let bools: ArrayRef = Arc::new(BooleanArray::from(vec![true, false]));
        assert_eq!(field_texts(&bools).unwrap(), [Some("true".to_string()), Some("false".to_string())]);
        let strings: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None]));
        assert_eq!(string_values(&strings).unwrap(), [Some("a"), None]);
        assert!(string_values(&ints).is_none());
    }
}
