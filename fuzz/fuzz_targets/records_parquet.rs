//! The Parquet reader, which needs a file (written under the temp directory, one per process).
//! Byte 0 picks the read options, byte 1 the mode. Raw: the rest is the file, and gives records
//! or an `Err`, never a panic. Written: the rest is documents split on `\n` (`~` is a null),
//! written here with writer settings from byte 1 as the columns `text`, `id` and `prompt`; the
//! reader must give back exactly those documents, a null being an error or, with
//! `--skip-invalid`, skipped.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use libfuzzer_sys::fuzz_target;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tailwatch_fuzz::{drain, read_options};
use tailwatch_io::{DocReader, Format};

static PATH: LazyLock<PathBuf> =
    LazyLock::new(|| std::env::temp_dir().join(format!("tailwatch-fuzz-{}.parquet", std::process::id())));

fn written(docs: &[Option<String>], mode: u8) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("text", DataType::Utf8, true),
        Field::new("id", DataType::Int64, false),
        Field::new("prompt", DataType::Utf8, true),
    ]));
    let text: ArrayRef = Arc::new(StringArray::from(docs.to_vec()));
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..docs.len() as i64));
    let prompts: ArrayRef =
        Arc::new(StringArray::from_iter(docs.iter().map(|d| d.as_ref().and_then(|d| d.get(..1)))));
    let batch = RecordBatch::try_new(schema.clone(), vec![text, ids, prompts]).expect("columns match");
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(usize::from(mode & 0x07) + 1))
        .set_data_page_row_count_limit(usize::from(mode >> 3 & 0x03) + 1)
        .set_write_batch_size(2)
        .set_dictionary_enabled(mode & 0x20 != 0)
        .set_compression(if mode & 0x40 != 0 { Compression::SNAPPY } else { Compression::UNCOMPRESSED })
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, Some(properties)).expect("writer");
    writer.write(&batch).expect("written in memory");
    writer.close().expect("written in memory");
    out
}

fuzz_target!(|data: &[u8]| {
    let [flags, mode, input @ ..] = data else { return };
    let mut options = read_options(Format::Parquet, *flags);
    let docs: Option<Vec<Option<String>>> = (mode & 0x80 == 0).then(|| {
        options.field = None;
        options.extra_fields.retain(|f| f == "id");
        input
            .split(|&b| b == b'\n')
            .map(|d| (d != b"~").then(|| String::from_utf8_lossy(d).into_owned()))
            .collect()
    });
    let bytes = match &docs {
        Some(docs) => written(docs, *mode),
        None => input.to_vec(),
    };
    std::fs::write(&*PATH, &bytes).expect("the temp directory is writable");
    let read = DocReader::open(&*PATH, &options).and_then(|reader| drain(reader, &options));
    let Some(docs) = docs else { return };
    let expected: Vec<(u64, String)> =
        docs.iter().enumerate().filter_map(|(i, d)| d.clone().map(|d| (i as u64 + 1, d))).collect();
    let has_null = expected.len() < docs.len();
    match read {
        Ok(records) => {
            assert!(!has_null || options.skip_invalid, "a null document was read");
            let got: Vec<(u64, String)> = records.iter().map(|r| (r.number, r.texts.join("\n"))).collect();
            let expected: Vec<(u64, String)> = match &options.prompt_field {
                // a document that starts with its prompt (its first character) loses it
                Some(_) => expected
                    .into_iter()
                    .map(|(n, d)| match d.get(..1) {
                        Some(p) if !p.is_empty() => (n, d[1..].trim_start().to_string()),
                        _ => (n, d),
                    })
                    .collect(),
                None => expected,
            };
            assert_eq!(got, expected, "the Parquet reader did not give back what was written");
            for record in &records {
                if !options.extra_fields.is_empty() {
                    assert_eq!(record.extra(0), Some((record.number - 1).to_string().as_str()));
                }
            }
        }
        Err(e) => assert!(has_null && !options.skip_invalid, "written Parquet failed to read: {e}"),
    }
});
