//! Hostile and careless inputs (issue 16). `max_record_bytes`: a record over the limit is an
//! error naming its line, found before it is all in memory, in every format (a 2 GiB line in a
//! 2 MB `.gz`, `/dev/zero`, an unclosed CSV quote took the readers past 10 GB); a byte order mark
//! and lone surrogate escapes no longer give misleading errors.
use std::io::Write;
use std::path::Path;

use tailwatch_io::{DocReader, DocSeparator, Error, Location, ReadOptions};

const LIMIT: usize = 1 << 16;

fn options() -> ReadOptions {
    ReadOptions { max_record_bytes: LIMIT, ..ReadOptions::default() }
}

fn read_error(path: &Path, options: &ReadOptions) -> Error {
    let mut reader = match DocReader::open(path, options) {
        Ok(reader) => reader,
        Err(e) => return e,
    };
    loop {
        match reader.next_batch() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("{}: read to the end without an error", path.display()),
            Err(e) => return e,
        }
    }
}

fn assert_too_large(error: &Error, location: Location) {
    match error {
        Error::RecordTooLarge { location: found, limit, .. } => {
            assert_eq!((*found, *limit), (location, LIMIT), "{error}");
        }
        other => panic!("expected RecordTooLarge, got {other}"),
    }
}

/// Lines at the limit pass; one byte more fails, naming the line.
#[test]
fn a_line_over_the_limit_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    let mut text = Vec::new();
    text.extend(b"short\n");
    text.extend(vec![b'a'; LIMIT]);
    text.extend(b"\r\n");
    text.extend(vec![b'b'; LIMIT + 1]);
    text.extend(b"\n");
    std::fs::write(&path, &text).unwrap();
    assert_too_large(&read_error(&path, &options()), Location::Line(3));
}

/// A compressed bomb: 64 MiB of one line in a few kilobytes of gzip.
#[test]
fn a_gzip_bomb_of_one_line_stops_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(b"{\"text\": \"").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&chunk).unwrap();
    }
    let bytes = encoder.finish().unwrap();
    assert!(bytes.len() < 1 << 20);
    std::fs::write(&path, bytes).unwrap();
    assert_too_large(&read_error(&path, &options()), Location::Line(1));
}

/// An endless input with no newline ends with the error instead of growing forever.
#[cfg(unix)]
#[test]
fn dev_zero_ends_with_the_error() {
    let path = Path::new("/dev/zero");
    for format in [tailwatch_io::Format::Text, tailwatch_io::Format::Jsonl, tailwatch_io::Format::Csv] {
        let options = ReadOptions { format: Some(format), lossy: true, ..options() };
        let error = read_error(path, &options);
        assert!(matches!(error, Error::RecordTooLarge { .. }), "{format:?}: {error}");
    }
    let options = ReadOptions { format: Some(tailwatch_io::Format::Json), ..options() };
    assert!(matches!(read_error(path, &options), Error::RecordTooLarge { .. }));
}

/// A CSV quote never closed would swallow the rest of the file into one field.
#[test]
fn an_unclosed_csv_quote_names_the_row_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    let mut text = b"id,text\n1,fine\n2,\"never closed\n".to_vec();
    for _ in 0..(2 * LIMIT / 10) {
        text.extend(b"more text\n");
    }
    std::fs::write(&path, &text).unwrap();
    assert_too_large(&read_error(&path, &options()), Location::Line(3));
}

/// Paragraphs are records too.
#[test]
fn a_paragraph_over_the_limit_names_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.txt");
    let mut text = b"one\n\n".to_vec();
    for _ in 0..(2 * LIMIT / 10) {
        text.extend(b"more text\n");
    }
    std::fs::write(&path, &text).unwrap();
    let options = ReadOptions { doc_separator: DocSeparator::Blank, ..options() };
    assert_too_large(&read_error(&path, &options), Location::Line(3));
}

/// A JSON document is read whole, up to JSON_DOCUMENT_RECORDS records' worth.
#[test]
fn a_json_document_over_its_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.json");
    let text = format!("[\"{}\"]", "y".repeat(LIMIT * tailwatch_io::JSON_DOCUMENT_RECORDS));
    std::fs::write(&path, text).unwrap();
    match read_error(&path, &options()) {
        Error::RecordTooLarge { limit, .. } => assert_eq!(limit, LIMIT * tailwatch_io::JSON_DOCUMENT_RECORDS),
        other => panic!("{other}"),
    }
}

/// A UTF-8 byte order mark is not part of the first record ("invalid JSON at line 1 column 1"),
/// and rereading (spans) still finds each record.
#[test]
fn a_byte_order_mark_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("bom.jsonl", &b"\xEF\xBB\xBF{\"text\": \"one two\"}\n{\"text\": \"three\"}\n"[..]),
        ("bom.txt", b"\xEF\xBB\xBFone two\nthree\n"),
        ("bom.csv", b"\xEF\xBB\xBFtext\none two\nthree\n"),
        ("bom.json", b"\xEF\xBB\xBF[{\"text\": \"one two\"}, {\"text\": \"three\"}]"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let texts = tailwatch_io::read_all(&path, &ReadOptions::default()).unwrap();
        assert_eq!(texts, ["one two", "three"], "{name}");
        let mut reader = DocReader::open(&path, &ReadOptions::default()).unwrap();
        let batch = reader.next_batch().unwrap().unwrap();
        if let Some(span) = batch.records[0].span {
            assert_eq!(span.offset, 3, "{name}");
        }
    }
}

/// A lone surrogate escape (`"\ud800"`, which Python's json.dumps writes) is named as such;
/// read lossily it becomes U+FFFD.
#[test]
fn a_lone_surrogate_is_named_and_read_lossily() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, b"{\"text\": \"ok \\ud83d\\ude00\"}\n{\"text\": \"bad \\ud800 x \\\\ud800\"}\n")
        .unwrap();
    let error = tailwatch_io::read_all(&path, &ReadOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("line 2") && message.contains("lone UTF-16 surrogate `\\ud800` at column 15"),
        "{message}"
    );
    let lossy = ReadOptions { lossy: true, ..ReadOptions::default() };
    let texts = tailwatch_io::read_all(&path, &lossy).unwrap();
    assert_eq!(texts, ["ok \u{1F600}", "bad \u{FFFD} x \\ud800"]);
}
