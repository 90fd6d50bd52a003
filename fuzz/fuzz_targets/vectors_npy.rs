//! `.npy` files of embedding vectors (`tailwatch_io::vectors::parse_npy`): any bytes give
//! vectors or an `Err`, never a panic or an allocation the file does not back; vectors are n × d
//! with n, d ≥ 1, every value finite, and no more values than the file has bytes.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tailwatch_io::vectors::parse_npy;

fuzz_target!(|data: &[u8]| {
    let Ok(vectors) = parse_npy(Path::new("<fuzz>"), data) else { return };
    assert!(vectors.len() >= 1 && vectors.dim() >= 1);
    assert_eq!(vectors.values().len(), vectors.len() * vectors.dim());
    assert!(vectors.values().len() * 2 <= data.len(), "more values than bytes");
    assert!(vectors.values().iter().all(|v| v.is_finite()));
    assert_eq!(vectors.rows().count(), vectors.len());
});
