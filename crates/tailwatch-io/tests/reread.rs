//! Records read again by their spans are the records the reader gave.
use std::io::Write;

use proptest::prelude::*;
use tailwatch_io::{DocReader, DocSeparator, Format, ReadOptions, RecordRereader};

/// Each record's documents as the reader gave them, and as the rereader gives them.
fn read_and_reread(bytes: &[u8], options: &ReadOptions) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    let mut reader = DocReader::open(file.path(), options).unwrap();
    assert!(reader.rereadable());
    let mut records: Vec<(u64, tailwatch_io::RecordSpan, Vec<String>)> = Vec::new();
    while let Some(batch) = reader.next_batch().unwrap() {
        for record in batch.records {
            let span = record.span.expect("a span for every record");
            assert!(records.last().is_none_or(|(r, _, _)| *r < record.number), "one record per number");
            records.push((record.number, span, record.texts.into_vec()));
        }
    }
    let rereader = RecordRereader::open(file.path(), options).unwrap();
    let again = records.iter().map(|(record, span, _)| rereader.texts(*span, *record).unwrap()).collect();
    (records.into_iter().map(|(_, _, docs)| docs).collect(), again)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn text_records_reread_as_read(
        lines in prop::collection::vec("[a-zé \t]{0,12}", 0..30),
        crlf: bool,
        final_newline: bool,
        paragraphs: bool,
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = lines.join(end);
        if final_newline {
            text.push_str(end);
        }
        let options = ReadOptions {
            format: Some(Format::Text),
            doc_separator: if paragraphs { DocSeparator::Blank } else { DocSeparator::Line },
            ..ReadOptions::default()
        };
        let (read, again) = read_and_reread(text.as_bytes(), &options);
        prop_assert_eq!(read, again);
    }

    #[test]
    fn jsonl_records_reread_as_read(
        records in prop::collection::vec(prop::collection::vec("[a-z \"\\\\é]{0,10}", 1..4), 0..20),
        arrays: bool,
        blank_every in 0usize..4,
    ) {
        let mut text = String::new();
        for (i, docs) in records.iter().enumerate() {
            let value = if arrays { serde_json::json!(docs) } else { serde_json::json!(docs[0]) };
            text.push_str(&serde_json::json!({"id": i, "text": value}).to_string());
            text.push('\n');
            if blank_every > 0 && i % blank_every == 0 {
                text.push_str("  \n");
            }
        }
        let options = ReadOptions { format: Some(Format::Jsonl), ..ReadOptions::default() };
        let (read, again) = read_and_reread(text.as_bytes(), &options);
        prop_assert_eq!(read.len(), records.len());
        prop_assert_eq!(read, again);
    }
}

#[test]
fn compressed_and_csv_files_are_not_rereadable() {
    let mut file = tempfile::Builder::new().suffix(".txt.gz").tempfile().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"one\ntwo\n").unwrap();
    file.write_all(&gz.finish().unwrap()).unwrap();
    let mut reader = DocReader::open(file.path(), &ReadOptions::default()).unwrap();
    assert!(!reader.rereadable());
    assert!(reader.next_batch().unwrap().unwrap().records.iter().all(|r| r.span.is_none()));
    let csv = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    std::fs::write(csv.path(), "text\na\n").unwrap();
    assert!(!DocReader::open(csv.path(), &ReadOptions::default()).unwrap().rereadable());
}

#[test]
fn a_changed_record_is_an_error_naming_its_line() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"{\"text\": \"a\"}\n{\"text\": \"b\"}\n").unwrap();
    let options = ReadOptions { format: Some(Format::Jsonl), ..ReadOptions::default() };
    let mut reader = DocReader::open(file.path(), &options).unwrap();
    let batch = reader.next_batch().unwrap().unwrap();
    std::fs::write(file.path(), b"{\"text\": \"a\"}\n{\"text\": 7}\n").unwrap();
    let rereader = RecordRereader::open(file.path(), &options).unwrap();
    let second = &batch.records[1];
    let error = rereader.texts(second.span.unwrap(), second.number).unwrap_err();
    assert_eq!(error.location(), Some(tailwatch_io::Location::Line(2)), "{error}");
    std::fs::write(file.path(), b"{}").unwrap();
    assert!(rereader.texts(second.span.unwrap(), second.number).is_err(), "past the end of the file");
}
