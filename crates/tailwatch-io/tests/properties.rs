//! Parsers never panic on hostile input, and errors point at the right line.
use std::io::Write;

use proptest::prelude::*;
use tailwatch_io::{DocReader, Format, Location, ReadOptions};

fn read(bytes: &[u8], format: Format, skip_invalid: bool) -> Result<(Vec<String>, u64), tailwatch_io::Error> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    let options = ReadOptions { format: Some(format), skip_invalid, ..ReadOptions::default() };
    let mut reader = DocReader::open(file.path(), &options)?;
    let mut docs = Vec::new();
    while let Some(batch) = reader.next_batch()? {
        docs.extend(batch.into_texts());
    }
    Ok((docs, reader.stats().skipped))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        for format in [Format::Text, Format::Jsonl, Format::Json, Format::Csv, Format::Parquet] {
            let _ = read(&bytes, format, false);
            let _ = read(&bytes, format, true);
        }
    }

    #[test]
    fn jsonl_errors_name_the_first_bad_line(good in prop::collection::vec("[a-z ]{0,12}", 0..20), bad in "[^\n]{0,10}") {
        let mut text = String::new();
        for g in &good {
            text.push_str(&serde_json::json!({"text": g}).to_string());
            text.push('\n');
        }
        text.push_str("{\"text\": ");
        text.push_str(&bad);
        text.push_str(",\n"); // a trailing comma: invalid whatever `bad` holds
        match read(text.as_bytes(), Format::Jsonl, false) {
            Err(e) => prop_assert_eq!(e.location(), Some(Location::Line(good.len() as u64 + 1))),
            Ok(_) => prop_assert!(false, "a truncated object must not parse"),
        }
        let (docs, skipped) = read(text.as_bytes(), Format::Jsonl, true).unwrap();
        prop_assert_eq!(docs.len(), good.len());
        prop_assert_eq!(skipped, 1);
    }

    #[test]
    fn text_lines_round_trip(lines in prop::collection::vec("[^\r\n]{0,30}", 0..30)) {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let (docs, _) = read(text.as_bytes(), Format::Text, false).unwrap();
        // a byte order mark opening the file is not part of its first line
        let mut lines = lines;
        if let Some(first) = lines.first_mut().and_then(|l| l.strip_prefix('\u{feff}').map(str::to_string)) {
            lines[0] = first;
        }
        let want: Vec<&String> = lines.iter().filter(|l| !l.trim().is_empty()).collect();
        prop_assert_eq!(docs.iter().collect::<Vec<_>>(), want);
    }
}

#[test]
fn batches_are_bounded() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for i in 0..20_000 {
        writeln!(file, "document number {i} with some words").unwrap();
    }
    let options = ReadOptions { batch_bytes: 4096, ..ReadOptions::default() };
    let mut reader = DocReader::open(file.path(), &options).unwrap();
    let mut total = 0;
    while let Some(batch) = reader.next_batch().unwrap() {
        let bytes: usize = batch.texts().map(|d| d.len() + 1).sum();
        assert!(bytes < 4096 + 100, "batch of {bytes} bytes");
        total += batch.n_docs();
    }
    assert_eq!(total, 20_000);
}
