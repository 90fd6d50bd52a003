//! gzip (every member, as `MultiGzDecoder` reads them) input, detected by its magic bytes. Byte 0 picks the read options, byte 1 the format
//! (text, JSONL, JSON or CSV) and the mode: compressed here, the input must read exactly as
//! the same bytes uncompressed, in one or two pieces; raw, the rest follows the magic bytes
//! as is and must give records or an `Err`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailwatch_fuzz::check_compressed;

const MAGIC: &[u8] = &[0x1f, 0x8b];

fn compress(members: &[&[u8]]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    for member in members {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(member).expect("gzip in memory");
        out.extend(encoder.finish().expect("gzip in memory"));
    }
    out
}

fuzz_target!(|data: &[u8]| check_compressed(data, "input.gz", MAGIC, compress));
