//! Bytes to text, naming the input and the record when they are not UTF-8.
use std::borrow::Cow;
use std::path::Path;

use crate::{Error, Location, Result};

/// `bytes` as text, borrowed when they are valid UTF-8; with `lossy`, invalid bytes become
/// U+FFFD instead of an error.
pub(crate) fn decode_str<'a>(
    path: &Path,
    location: Location,
    bytes: &'a [u8],
    lossy: bool,
) -> Result<Cow<'a, str>> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(_) if lossy => Ok(String::from_utf8_lossy(bytes)),
        Err(e) => Err(Error::Utf8 { path: path.to_path_buf(), location, offset: e.valid_up_to() }),
    }
}

/// [`decode_str`] of bytes the caller gives up: valid UTF-8 becomes the text without a copy.
pub(crate) fn decode_owned(path: &Path, location: Location, bytes: Vec<u8>, lossy: bool) -> Result<String> {
    String::from_utf8(bytes).or_else(|e| {
        if lossy {
            Ok(String::from_utf8_lossy(e.as_bytes()).into_owned())
        } else {
            Err(Error::Utf8 { path: path.to_path_buf(), location, offset: e.utf8_error().valid_up_to() })
        }
    })
}

/// [`decode_str`], owned.
pub(crate) fn decode_utf8(path: &Path, location: Location, bytes: &[u8], lossy: bool) -> Result<String> {
    decode_str(path, location, bytes, lossy).map(Cow::into_owned)
}
