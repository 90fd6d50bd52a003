//! Zstandard (every frame) input, detected by its magic bytes. Byte 0 picks the read options, byte 1 the format
//! (text, JSONL, JSON or CSV) and the mode: compressed here, the input must read exactly as
//! the same bytes uncompressed, in one or two pieces; raw, the rest follows the magic bytes
//! as is and must give records or an `Err`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailwatch_fuzz::check_compressed;

const MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

fn compress(frames: &[&[u8]]) -> Vec<u8> {
    frames.iter().flat_map(|frame| zstd::bulk::compress(frame, 1).expect("zstd in memory")).collect()
}

fuzz_target!(|data: &[u8]| check_compressed(data, "input.zst", MAGIC, compress));
