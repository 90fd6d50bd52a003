//! gzip sizes with stock zlib (statically linked), byte-identical to CPython's `zlib`/`gzip`.
use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;

/// Raw deflate size at `level` (zlib defaults: window 15, memLevel 8), as `zlib.compress(.., level)`
/// minus its 6-byte zlib wrapper.
pub fn deflate_size(data: &[u8], level: u32) -> usize {
    deflate(data, level).len()
}

/// Raw deflate bytes.
pub fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(data.len() / 2 + 64), Compression::new(level));
    encoder.write_all(data).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// Size of `gzip.compress(data, 9)` without a file name: 10-byte header + deflate + 8-byte trailer.
pub fn gzip9_size(data: &[u8]) -> usize {
    10 + deflate_size(data, 9) + 8
}

/// `compression_ratio`: raw bytes / gzip-9 bytes.
///
/// Range: about 0.9 (incompressible) upward. Collapse: higher (repetitive text compresses
/// better). Cost: O(bytes). Source: Shaib et al. 2024. Canonical tailwatch computes it on the
/// document sample joined by single spaces (order-free and mergeable); `--compat diversity`
/// reproduces the package's double gzip over all documents.
pub fn gzip_ratio(data: &[u8]) -> Option<f64> {
    (!data.is_empty()).then(|| data.len() as f64 / gzip9_size(data) as f64)
}

/// The zlib version linked in, recorded in reports because deflate output depends on it.
pub fn zlib_version() -> String {
    // SAFETY-free: libz-sys exposes zlibVersion as an unsafe extern fn; we read its static string.
    zlib_version_string()
}

#[allow(unsafe_code)]
fn zlib_version_string() -> String {
    // SAFETY: zlibVersion returns a pointer to a static NUL-terminated string owned by zlib.
    unsafe { std::ffi::CStr::from_ptr(libz_sys::zlibVersion()).to_string_lossy().into_owned() }
}
