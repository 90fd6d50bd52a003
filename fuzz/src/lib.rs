//! Helpers shared by the fuzz targets: read options from a flags byte, the invariants every
//! reader promises, and `.twp` framing so the fuzzer reaches the body decoder past the checksum.
use std::path::Path;

use tailwatch_io::{DocReader, DocSeparator, Format, ReadOptions, Record};

/// Read options chosen by the bits of `flags`, so one input explores every reader mode.
pub fn read_options(format: Format, flags: u8) -> ReadOptions {
    ReadOptions {
        format: Some(format),
        field: (flags & 0x01 != 0).then(|| "out.text".to_string()),
        doc_separator: if flags & 0x02 != 0 { DocSeparator::Blank } else { DocSeparator::Line },
        skip_invalid: flags & 0x04 != 0,
        lossy: flags & 0x08 != 0,
        array_is_one_doc: flags & 0x10 != 0,
        batch_bytes: if flags & 0x20 != 0 { 1 } else { 1 << 16 },
        extra_fields: if flags & 0x40 != 0 && format != Format::Text {
            vec!["id".to_string(), "meta.origin".to_string()]
        } else {
            Vec::new()
        },
        prompt_field: (flags & 0x80 != 0 && format != Format::Text).then(|| "prompt".to_string()),
        // the default: inputs (at most 128 KB) stay under it, so the targets' round trips hold
        max_record_bytes: tailwatch_io::DEFAULT_MAX_RECORD_BYTES,
    }
}

/// Every record of `reader`, checking what each batch promises: records are never empty,
/// numbered in input order, carry one extra per asked field, and the stats count the documents.
pub fn drain(mut reader: DocReader, options: &ReadOptions) -> tailwatch_io::Result<Vec<Record>> {
    let mut records: Vec<Record> = Vec::new();
    let mut docs = 0u64;
    while let Some(batch) = reader.next_batch()? {
        for record in batch.records {
            assert!(!record.texts.is_empty(), "a record without documents: {record:?}");
            if let Some(last) = records.last() {
                assert!(
                    record.number > last.number,
                    "records out of order: {} then {}",
                    last.number,
                    record.number
                );
            }
            assert!(
                record.extras.is_empty() || record.extras.len() == options.extra_fields.len(),
                "{} extras for {} fields",
                record.extras.len(),
                options.extra_fields.len()
            );
            docs += record.texts.len() as u64;
            records.push(record);
        }
        assert!(records.len() < 1 << 24);
    }
    assert_eq!(reader.stats().docs, docs, "stats count {} documents, {docs} were read", reader.stats().docs);
    Ok(records)
}

/// Read `bytes` held in memory as `format` (`name` is only used in errors).
pub fn read_bytes(name: &str, bytes: Vec<u8>, options: &ReadOptions) -> tailwatch_io::Result<Vec<Record>> {
    drain(DocReader::from_bytes(Path::new(name), bytes, options)?, options)
}

/// The records without their spans (a compressed or in-memory input has none), for comparing
/// two reads of the same content.
pub fn without_spans(records: Vec<Record>) -> Vec<Record> {
    records.into_iter().map(|r| Record { span: None, ..r }).collect()
}

/// A `.twp` file of `kind` and format `version` around an uncompressed postcard `body`: the
/// body compressed, and (version 3) its checksum, as `Profile::to_bytes` writes them.
pub fn twp_of_body(kind: u8, version: u32, body: &[u8]) -> Vec<u8> {
    let compressed = zstd::bulk::compress(body, 1).expect("zstd compresses in memory");
    let mut out = b"TWPROF".to_vec();
    out.extend_from_slice(&[kind, 0x01]);
    out.extend_from_slice(&version.to_le_bytes());
    if version >= 3 {
        out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&compressed).to_le_bytes());
    }
    out.extend_from_slice(&compressed);
    out
}

/// Fuzz input to `.twp` bytes. First byte even: the rest is the file as is, with a format-3
/// checksum recomputed so mutations reach the decompressor. Odd: byte 1 is the kind tag, byte 2
/// picks the format version (1 to 4), and the rest is the uncompressed body ([`twp_of_body`]).
pub fn twp_input(data: &[u8]) -> Vec<u8> {
    match data {
        [mode, kind, version, body @ ..] if mode & 1 == 1 => {
            twp_of_body(kind % 3, u32::from(version % 4) + 1, body)
        }
        [_, file @ ..] => {
            let mut file = file.to_vec();
            if file.len() >= 20 && file.starts_with(b"TWPROF") && file[8..12] == 3u32.to_le_bytes() {
                let sum = xxhash_rust::xxh3::xxh3_64(&file[20..]).to_le_bytes();
                file[12..20].copy_from_slice(&sum);
            }
            file
        }
        [] => Vec::new(),
    }
}

pub mod seeds;
pub mod server;

/// The body of the `decompress_*` targets. Byte 0 picks the read options, byte 1 the format
/// (text, JSONL, JSON or CSV) and the mode: compressed with `compress` (in one or two pieces),
/// the input must read exactly as the same bytes uncompressed; raw, the rest follows `magic` as
/// is and must give records or an `Err`, never a panic. `name` is the file name, its extension
/// the compression's (`input.gz`).
pub fn check_compressed(data: &[u8], name: &str, magic: &[u8], compress: fn(&[&[u8]]) -> Vec<u8>) {
    let [flags, mode, input @ ..] = data else { return };
    let format = [Format::Text, Format::Jsonl, Format::Json, Format::Csv][usize::from(mode % 4)];
    let options = read_options(format, *flags);
    if mode & 0x80 != 0 {
        let _ = read_bytes(name, [magic, input].concat(), &options);
        return;
    }
    if tailwatch_io::Compression::sniff(input) != tailwatch_io::Compression::None {
        return; // the plain side would itself be read as compressed
    }
    let pieces: Vec<&[u8]> = if mode & 0x40 != 0 {
        let (a, b) = input.split_at(input.len() / 2);
        vec![a, b]
    } else {
        vec![input]
    };
    let plain = read_bytes("input", input.to_vec(), &options).map(without_spans);
    let compressed = read_bytes(name, compress(&pieces), &options).map(without_spans);
    match (plain, compressed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{name} read differently from the same bytes uncompressed"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("{name}: compression changed the outcome: plain {a:?}, compressed {b:?}"),
    }
}
