//! Embedding vectors from NumPy `.npy` files: an n × d array of f16, f32 or f64 (either byte
//! order, C or Fortran order), read as rows of f64.
//!
//! The `.npy` format is a 10- or 12-byte preamble, a Python dict literal (`descr`,
//! `fortran_order`, `shape`) and the raw values. It is parsed here rather than with `npyz`
//! because that crate multiplies a hostile header's dimensions unchecked (a panic in debug
//! builds, a wrapped length in release) and preallocates what the header claims; this reader
//! checks the claimed size against the file's before it allocates anything.
use std::path::Path;

use crate::{Error, Result};

/// An n × d matrix of finite f64 values, row-major: n vectors of one dimension d.
#[derive(Debug, Clone, PartialEq)]
pub struct Vectors {
    dim: usize,
    values: Vec<f64>,
}

impl Vectors {
    /// The rows of `values` (row-major, `dim` values each); `None` if `dim` is 0, if
    /// `values` is not a whole number of rows, or if a value is not finite.
    pub fn from_rows(dim: usize, values: Vec<f64>) -> Option<Self> {
        (dim > 0 && values.len().is_multiple_of(dim) && values.iter().all(|v| v.is_finite()))
            .then_some(Self { dim, values })
    }

    /// The number of vectors.
    pub fn len(&self) -> usize {
        self.values.len() / self.dim
    }

    /// Whether there is no vector.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The dimension of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Vector `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// The vectors in order.
    pub fn rows(&self) -> impl Iterator<Item = &[f64]> {
        self.values.chunks_exact(self.dim)
    }

    /// All values, row after row.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

/// The element types an `.npy` file of vectors may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Float {
    F16,
    F32,
    F64,
}

impl Float {
    fn size(self) -> usize {
        match self {
            Float::F16 => 2,
            Float::F32 => 4,
            Float::F64 => 8,
        }
    }
}

/// What an `.npy` header declares.
#[derive(Debug, PartialEq)]
struct Header {
    float: Float,
    big_endian: bool,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// Read the vectors of the `.npy` file at `path`: a 2-D array [n, d] of floats, n ≥ 1, d ≥ 1,
/// every value finite. Errors name the file and, for a value, its row and column (0-based, as
/// NumPy indexes them).
pub fn read_npy(path: impl AsRef<Path>) -> Result<Vectors> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Open { path: path.to_path_buf(), source })?;
    parse_npy(path, &bytes)
}

/// [`read_npy`] of the bytes of an `.npy` file; `path` names it in errors.
pub fn parse_npy(path: &Path, bytes: &[u8]) -> Result<Vectors> {
    let invalid = |message: String| Error::Vectors { path: path.to_path_buf(), message };
    let (header, data) = header(bytes).map_err(invalid)?;
    let [rows, dim] = header.shape[..] else {
        return Err(invalid(format!(
            "expected a 2-D array of vectors [n, d]; this one has shape ({})",
            header.shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        )));
    };
    if rows == 0 || dim == 0 {
        return Err(Error::NoVectors { path: path.to_path_buf(), rows, dim });
    }
    let size = header.float.size() as u64;
    let want = rows.checked_mul(dim).and_then(|n| n.checked_mul(size));
    if want != Some(data.len() as u64) {
        return Err(invalid(format!(
            "the header declares {rows} × {dim} values of {size} bytes, but {} data bytes follow it{}",
            data.len(),
            if want.is_some_and(|w| w > data.len() as u64) { " (a truncated file?)" } else { "" }
        )));
    }
    let (rows, dim) = (rows as usize, dim as usize);
    let value = |chunk: &[u8]| -> f64 {
        match (header.float, header.big_endian) {
            (Float::F16, false) => half::f16::from_le_bytes([chunk[0], chunk[1]]).to_f64(),
            (Float::F16, true) => half::f16::from_be_bytes([chunk[0], chunk[1]]).to_f64(),
            (Float::F32, false) => f64::from(f32::from_le_bytes(chunk.try_into().expect("4 bytes"))),
            (Float::F32, true) => f64::from(f32::from_be_bytes(chunk.try_into().expect("4 bytes"))),
            (Float::F64, false) => f64::from_le_bytes(chunk.try_into().expect("8 bytes")),
            (Float::F64, true) => f64::from_be_bytes(chunk.try_into().expect("8 bytes")),
        }
    };
    let size = size as usize;
    // Fortran order stores column after column
    let at = |row: usize, column: usize| {
        let k = if header.fortran_order { column * rows + row } else { row * dim + column };
        value(&data[k * size..(k + 1) * size])
    };
    let mut values = Vec::with_capacity(rows * dim);
    for row in 0..rows {
        for column in 0..dim {
            let v = at(row, column);
            if !v.is_finite() {
                return Err(Error::NonFiniteValue { path: path.to_path_buf(), row, column, value: v });
            }
            values.push(v);
        }
    }
    Ok(Vectors { dim, values })
}

/// The header of an `.npy` file and the data bytes after it, or what is wrong with it.
fn header(bytes: &[u8]) -> std::result::Result<(Header, &[u8]), String> {
    let not_npy = || "not a NumPy .npy file (no \\x93NUMPY magic)".to_string();
    let rest = bytes.strip_prefix(b"\x93NUMPY").ok_or_else(not_npy)?;
    let (&[major, _minor], rest) = rest.split_first_chunk::<2>().ok_or_else(not_npy)?;
    let (length, rest) = match major {
        1 => rest.split_first_chunk::<2>().map(|(l, r)| (u16::from_le_bytes(*l) as usize, r)),
        2 | 3 => rest.split_first_chunk::<4>().map(|(l, r)| (u32::from_le_bytes(*l) as usize, r)),
        _ => return Err(format!("unknown .npy format version {major}")),
    }
    .ok_or("the header is truncated")?;
    let text = rest.get(..length).ok_or("the header is truncated")?;
    let text = std::str::from_utf8(text).map_err(|_| "the header is not text".to_string())?;
    Ok((parse_header(text)?, &rest[length..]))
}

/// The three entries of an `.npy` header dict, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
fn parse_header(text: &str) -> std::result::Result<Header, String> {
    let entry = |key: &str| -> std::result::Result<&str, String> {
        let quoted = [format!("'{key}'"), format!("\"{key}\"")];
        let at = quoted
            .iter()
            .find_map(|q| text.find(q.as_str()).map(|i| i + q.len()))
            .ok_or_else(|| format!("the header has no `{key}`"))?;
        let value = text[at..].trim_start().strip_prefix(':').ok_or_else(|| format!("bad `{key}` entry"))?;
        Ok(value.trim_start())
    };
    let descr = entry("descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split_once('\''))
        .or_else(|| descr.strip_prefix('"').and_then(|d| d.split_once('"')))
        .map(|(d, _)| d)
        .ok_or_else(|| {
            "a structured dtype (a record of fields) is not a matrix of vectors: save one float array"
                .to_string()
        })?;
    let (big_endian, code) = match descr.split_at_checked(1) {
        Some(("<" | "=" | "|", code)) => (false, code),
        Some((">", code)) => (true, code),
        _ => (false, descr),
    };
    let float = match code {
        "f2" | "e" => Float::F16,
        "f4" | "f" => Float::F32,
        "f8" | "d" => Float::F64,
        "O" => return Err("the array holds pickled Python objects (dtype object), which are never read: save the vectors as a float array".into()),
        other => return Err(format!("dtype `{other}` is not a float of 16, 32 or 64 bits")),
    };
    let fortran_order = match entry("fortran_order")? {
        v if v.starts_with("True") => true,
        v if v.starts_with("False") => false,
        _ => return Err("bad `fortran_order` entry".into()),
    };
    let shape = entry("shape")?;
    let shape =
        shape.strip_prefix('(').and_then(|s| s.split_once(')')).map(|(s, _)| s).ok_or("bad `shape` entry")?;
    let shape = shape
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.trim_end_matches('L').parse::<u64>().map_err(|_| format!("bad dimension `{d}` in `shape`"))
        })
        .collect::<std::result::Result<Vec<u64>, String>>()?;
    Ok(Header { float, big_endian, fortran_order, shape })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `.npy` file as NumPy 1.x writes it (format 1.0, header padded to 64 bytes).
    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let dict = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        let mut header = dict.into_bytes();
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(b' ');
        }
        header.push(b'\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header);
        out.extend(data);
        out
    }

    fn parse(bytes: &[u8]) -> Result<Vectors> {
        parse_npy(Path::new("v.npy"), bytes)
    }

    #[test]
    fn floats_of_every_width_and_order_read_alike() {
        let values = [1.5f64, -2.0, 0.25, 3.0, 4.0, -0.5]; // 2 × 3, row-major
        let want = Vectors::from_rows(3, values.to_vec()).unwrap();
        let f8: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(parse(&npy("<f8", false, "(2, 3)", &f8)).unwrap(), want);
        let f4be: Vec<u8> = values.iter().flat_map(|&v| (v as f32).to_be_bytes()).collect();
        assert_eq!(parse(&npy(">f4", false, "(2, 3)", &f4be)).unwrap(), want);
        let f2: Vec<u8> = values.iter().flat_map(|&v| half::f16::from_f64(v).to_le_bytes()).collect();
        assert_eq!(parse(&npy("<f2", false, "(2, 3)", &f2)).unwrap(), want);
        // column after column
        let fortran: Vec<u8> = [0, 3, 1, 4, 2, 5].iter().flat_map(|&i| values[i].to_le_bytes()).collect();
        assert_eq!(parse(&npy("<f8", true, "(2, 3)", &fortran)).unwrap(), want);
        assert_eq!(want.len(), 2);
        assert_eq!(want.row(1), &[3.0, 4.0, -0.5]);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let message = |bytes: &[u8]| parse(bytes).unwrap_err().to_string();
        let one = 1.0f64.to_le_bytes();
        assert!(message(b"PK\x03\x04").contains("not a NumPy .npy file"));
        assert!(message(&npy("<f8", false, "(3,)", &[one, one, one].concat())).contains("shape (3)"));
        assert!(message(&npy("<f8", false, "(2, 2)", &one)).contains("a truncated file?"));
        assert!(message(&npy("|O", false, "(1, 1)", &one)).contains("pickled"));
        assert!(message(&npy("<i4", false, "(1, 1)", &[0; 4])).contains("dtype `i4`"));
        assert!(message(&npy("<f8", false, "(0, 4)", &[])).contains("no vectors"));
        // a hostile header: dimensions whose product overflows allocate nothing
        let huge = npy("<f8", false, "(18446744073709551615, 18446744073709551615)", &one);
        assert!(message(&huge).contains("data bytes follow"));
        let nan = [1.0f64, f64::NAN].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        assert_eq!(
            message(&npy("<f8", false, "(1, 2)", &nan)),
            "v.npy: row 0, column 1: NaN is not a finite value"
        );
        let mut cut = npy("<f8", false, "(1, 1)", &one);
        cut.truncate(20);
        assert!(message(&cut).contains("truncated"));
    }

    proptest::proptest! {
        /// No byte string makes the reader panic.
        #[test]
        fn any_bytes_give_vectors_or_an_error(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
            bytes.extend(tail);
            let _ = parse(&bytes);
        }
    }
}
