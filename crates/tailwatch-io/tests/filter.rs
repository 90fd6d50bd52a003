//! Record numbers and `write_records`: every format keeps exactly the chosen records, bytes intact.
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use tailwatch_io::{DocReader, DocSeparator, ReadOptions, write_records};

fn read(path: &Path, options: &ReadOptions) -> (Vec<String>, Vec<u64>, Vec<Option<String>>) {
    let mut reader = DocReader::open(path, options).unwrap();
    let (mut docs, mut records, mut extras) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(batch) = reader.next_batch().unwrap() {
        for record in batch.records {
            let extra = record.extra(0).map(str::to_string);
            for text in record.texts {
                docs.push(text);
                records.push(record.number);
                extras.push(extra.clone());
            }
        }
    }
    (docs, records, extras)
}

fn keep_every_other(records: &[u64]) -> HashSet<u64> {
    let mut distinct: Vec<u64> = records.to_vec();
    distinct.dedup();
    distinct.into_iter().step_by(2).collect()
}

/// Filtering then reading gives exactly the kept documents, in order.
fn round_trip(path: &Path, options: &ReadOptions, out_name: &str) -> Vec<String> {
    let (docs, records, _) = read(path, options);
    let keep = keep_every_other(&records);
    let out = path.with_file_name(out_name);
    let written = write_records(path, options, &keep, &out).unwrap();
    assert_eq!(written as usize, keep.len(), "{out_name}");
    let expected: Vec<String> =
        docs.iter().zip(&records).filter(|(_, r)| keep.contains(r)).map(|(d, _)| d.clone()).collect();
    let (again, _, _) = read(&out, options);
    assert_eq!(again, expected, "{out_name}");
    again
}

#[test]
fn text_and_jsonl_keep_raw_lines() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("in.txt");
    std::fs::write(&text, "first line\r\n\n  second  line \nthird\n\nfourth no newline").unwrap();
    let (_, records, _) = read(&text, &ReadOptions::default());
    assert_eq!(records, vec![1, 3, 4, 6]);
    round_trip(&text, &ReadOptions::default(), "out.txt");
    let out = std::fs::read(dir.path().join("out.txt")).unwrap();
    assert_eq!(out, b"first line\r\nthird\n");

    let jsonl = dir.path().join("in.jsonl");
    std::fs::write(&jsonl, "{\"text\":\"a b\",\"origin\":\"human\",\"n\":1}\n\n{\"text\":[\"x\",\"y\"],\"origin\":null}\n{ \"text\" : \"c\" , \"origin\": 5 }\n").unwrap();
    let options = ReadOptions { extra_fields: vec!["origin".into()], ..ReadOptions::default() };
    let (docs, records, extras) = read(&jsonl, &options);
    assert_eq!(docs, vec!["a b", "x", "y", "c"]);
    assert_eq!(records, vec![1, 3, 3, 4]);
    assert_eq!(extras, vec![Some("human".into()), None, None, Some("5".into())]);
    round_trip(&jsonl, &options, "out.jsonl");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap(),
        "{\"text\":\"a b\",\"origin\":\"human\",\"n\":1}\n{ \"text\" : \"c\" , \"origin\": 5 }\n"
    );
}

#[test]
fn paragraphs_csv_json_and_compressed_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let para = dir.path().join("p.txt");
    std::fs::write(&para, "a a\nb b\n\n\nc c\n\nd\ne\n").unwrap();
    let options = ReadOptions { doc_separator: DocSeparator::Blank, ..ReadOptions::default() };
    let (_, records, _) = read(&para, &options);
    assert_eq!(records, vec![1, 5, 7]);
    round_trip(&para, &options, "p_out.txt");
    assert_eq!(std::fs::read_to_string(dir.path().join("p_out.txt")).unwrap(), "a a\nb b\n\nd\ne\n\n");

    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "id,text,origin\n1,hello world,human\n2,\"quoted, text\",synthetic\n3,third,human\n",
    )
    .unwrap();
    let options = ReadOptions { extra_fields: vec!["origin".into()], ..ReadOptions::default() };
    let (_, records, extras) = read(&csv, &options);
    assert_eq!(records, vec![1, 2, 3]);
    assert_eq!(extras[1].as_deref(), Some("synthetic"));
    round_trip(&csv, &options, "out.csv");

    let json = dir.path().join("in.json");
    std::fs::write(&json, "[{\"text\": \"one\"},\n {\"text\":\"two\", \"k\": [1, 2]}, {\"text\":\"three\"}]")
        .unwrap();
    round_trip(&json, &ReadOptions::default(), "out.json");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.json")).unwrap(),
        "[\n{\"text\": \"one\"},\n{\"text\":\"three\"}\n]\n"
    );

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"{\"text\":\"p\"}\n{\"text\":\"q\"}\n{\"text\":\"r\"}\n").unwrap();
    let gz_path = dir.path().join("in.jsonl.gz");
    std::fs::write(&gz_path, gz.finish().unwrap()).unwrap();
    assert_eq!(round_trip(&gz_path, &ReadOptions::default(), "out.jsonl.zst"), vec!["p", "r"]);
}

#[test]
fn parquet_rows_are_filtered_with_their_schema() {
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.parquet");
    let text: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "c", "d", "e"]));
    let score: ArrayRef = Arc::new(Int64Array::from(vec![10, 20, 30, 40, 50]));
    let batch = RecordBatch::try_from_iter([("text", text), ("score", score)]).unwrap();
    let file = std::fs::File::create(&path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let options = ReadOptions { extra_fields: vec!["score".into()], ..ReadOptions::default() };
    let (_, records, extras) = read(&path, &options);
    assert_eq!(records, vec![1, 2, 3, 4, 5]);
    assert_eq!(extras[3].as_deref(), Some("40"));
    assert_eq!(round_trip(&path, &options, "out.parquet"), vec!["a", "c", "e"]);
    let (_, _, kept_scores) = read(&dir.path().join("out.parquet"), &options);
    assert_eq!(kept_scores, vec![Some("10".into()), Some("30".into()), Some("50".into())]);
}

#[test]
fn extra_field_on_plain_text_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("in.txt");
    std::fs::write(&text, "a\n").unwrap();
    let options = ReadOptions { extra_fields: vec!["origin".into()], ..ReadOptions::default() };
    let err = DocReader::open(&text, &options).err().unwrap().to_string();
    assert!(err.contains("plain text") && err.contains("in.txt"), "{err}");
}

#[test]
fn several_extra_fields_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("in.jsonl");
    std::fs::write(&jsonl, "{\"text\":\"a\",\"m\":{\"g\":2},\"o\":\"human\"}\n").unwrap();
    let options = ReadOptions {
        extra_fields: vec!["o".into(), "m.g".into(), "missing".into()],
        ..ReadOptions::default()
    };
    let mut reader = DocReader::open(&jsonl, &options).unwrap();
    let batch = reader.next_batch().unwrap().unwrap();
    assert_eq!(batch.records[0].extras, vec![Some("human".to_string()), Some("2".to_string()), None]);
}
