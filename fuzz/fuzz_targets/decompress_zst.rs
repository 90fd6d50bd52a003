//! Zstandard (every frame) input, detected by its magic bytes. Byte 0 picks the read options, byte 1 the format
//! (text, JSONL, JSON or CSV) and the mode: compressed here, the input must read exactly as
//! the same bytes uncompressed, in one or two pieces; raw, the rest follows the magic bytes
//! as is and must give records or an `Err`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailwatch_fuzz::{read_bytes, read_options, without_spans};
use tailwatch_io::{Compression, Format};

const MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

fn compress(frames: &[&[u8]]) -> Vec<u8> {
    frames.iter().flat_map(|frame| zstd::bulk::compress(frame, 1).expect("zstd in memory")).collect()
}

fuzz_target!(|data: &[u8]| {
    let [flags, mode, input @ ..] = data else { return };
    let format = [Format::Text, Format::Jsonl, Format::Json, Format::Csv][usize::from(mode % 4)];
    let options = read_options(format, *flags);
    if mode & 0x80 != 0 {
        let raw = [MAGIC, input].concat();
        let _ = read_bytes("input.zst", raw, &options);
        return;
    }
    if Compression::sniff(input) != Compression::None {
        return; // the plain side would itself be read as compressed
    }
    let pieces: Vec<&[u8]> = if mode & 0x40 != 0 {
        let (a, b) = input.split_at(input.len() / 2);
        vec![a, b]
    } else {
        vec![input]
    };
    let plain = read_bytes("input", input.to_vec(), &options).map(without_spans);
    let compressed = read_bytes("input.zst", compress(&pieces), &options).map(without_spans);
    match (plain, compressed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "zstd input read differently from the same bytes uncompressed"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("zstd changed the outcome: plain {a:?}, compressed {b:?}"),
    }
});
