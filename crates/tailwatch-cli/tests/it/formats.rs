//! Every input format yields the same documents; tokenizers; HTML output.
use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use crate::{tailwatch, tailwatch_stdin, write};

const DOCS: [&str; 4] =
    ["the cat sat on the mat", "a dog ran in the park", "the cat sat on the mat", "naïve café owners"];

fn counts(args: &[&str], stdin: Option<&[u8]>) -> (u64, u64, f64) {
    let run = tailwatch_stdin(args, stdin);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    let j = run.json();
    (
        j["n_docs"].as_u64().unwrap(),
        j["n_tokens"].as_u64().unwrap(),
        j["metrics"]["distinct_2"].as_f64().unwrap(),
    )
}

#[test]
fn all_formats_agree() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = DOCS.join("\n") + "\n";
    let want = counts(&["score", "-", "--json", "-q"], Some(text.as_bytes()));
    assert_eq!(want.0, 4);
    assert_eq!(want.1, 6 + 6 + 6 + 3);

    let txt = write(d, "a.txt", text.as_bytes());
    let jsonl: String =
        DOCS.iter().map(|t| format!("{{\"out\":{{\"text\":{}}}}}\n", serde_json::json!(t))).collect();
    let jsonl = write(d, "a.jsonl", jsonl.as_bytes());
    let arrays = format!("{{\"gen\":{}}}\n", serde_json::json!(DOCS));
    let arrays = write(d, "b.jsonl", arrays.as_bytes());
    let json_doc = write(d, "c.json", serde_json::json!({"sampled": DOCS}).to_string().as_bytes());
    let json_arr: Vec<_> = DOCS.iter().map(|t| serde_json::json!({"text": t})).collect();
    let json_arr = write(d, "d.json", serde_json::Value::Array(json_arr).to_string().as_bytes());
    let mut csv = String::from("id,text\n");
    for (i, t) in DOCS.iter().enumerate() {
        csv.push_str(&format!("{i},\"{t}\"\n"));
    }
    let csv = write(d, "a.csv", csv.as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = write(d, "a.txt.gz", &gz.finish().unwrap());
    let zst =
        write(d, "a.jsonl.zst", &zstd::encode_all(std::fs::read(&jsonl).unwrap().as_slice(), 3).unwrap());
    let parquet = d.join("a.parquet");
    {
        let schema = Arc::new(Schema::new(vec![Field::new("body", DataType::Utf8, true)]));
        let column: ArrayRef = Arc::new(StringArray::from(DOCS.to_vec()));
        let batch = RecordBatch::try_new(schema.clone(), vec![column]).unwrap();
        let file = std::fs::File::create(&parquet).unwrap();
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }
    let parquet = parquet.to_str().unwrap();
    let paragraphs = write(
        d,
        "p.txt",
        DOCS.iter().map(|t| t.replace(' ', "\n")).collect::<Vec<_>>().join("\n\n").as_bytes(),
    );

    let cases: Vec<Vec<&str>> = vec![
        vec!["score", &txt],
        vec!["score", &jsonl, "--field", "out.text"],
        vec!["score", &arrays, "--field", "gen"],
        vec!["score", &json_doc, "--field", "sampled"],
        vec!["score", &json_arr],
        vec!["score", &csv, "--column", "text"],
        vec!["score", &gz],
        vec!["score", &zst, "--field", "out.text"],
        vec!["score", parquet, "--column", "body"],
        vec!["score", &paragraphs, "--doc-sep", "blank"],
        vec!["score", &txt, "--format", "text"],
    ];
    for mut args in cases {
        args.extend(["--json", "-q"]);
        assert_eq!(counts(&args, None), want, "{args:?}");
    }
}

#[test]
fn tokenizers() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.txt", "Hello, World! hello\u{1c}world\n".as_bytes());
    let tokens = |extra: &[&str]| {
        let mut args = vec!["score", p.as_str(), "--json", "-q"];
        args.extend(extra);
        let run = tailwatch(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        (run.json()["n_tokens"].as_u64().unwrap(), run.metric("distinct_1"))
    };
    assert_eq!(tokens(&[]), (4, 1.0));
    assert_eq!(tokens(&["--lowercase"]), (4, 0.5));
    assert_eq!(tokens(&["--tokenizer", "whitespace"]), (3, 1.0));
    assert_eq!(tokens(&["--tokenizer", "python-split"]), (4, 1.0));

    // A HuggingFace tokenizer.json (WordLevel model with a whitespace pre-tokenizer).
    let hf = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": null, "decoder": null,
        "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "hello": 1, "world": 2, ",": 3, "!": 4}, "unk_token": "[UNK]"}
    });
    let hf_path = write(dir.path(), "tokenizer.json", hf.to_string().as_bytes());
    let (n, d1) = tokens(&["--tokenizer", &hf_path]);
    assert_eq!(n, 7, "hello , world ! hello U+001C world: the pre-tokenizer keeps U+001C as a symbol");
    assert!(d1 > 0.0 && d1 <= 1.0);
    let broken = write(dir.path(), "broken.json", b"{\"model\": 3}");
    let run = tailwatch(&["score", &p, "--tokenizer", &broken, "-q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("broken.json"), "{}", run.stderr);
}

#[test]
fn items_tokenizer_reports_coverage_and_gini() {
    let dir = tempfile::tempdir().unwrap();
    let lists = "{\"recs\":[\"a\",\"b\",\"c\"]}\n{\"recs\":[\"a\",\"b\",\"d\"]}\n{\"recs\":[1,2,3]}\n";
    let p = write(dir.path(), "recs.jsonl", lists.as_bytes());
    let catalog = write(dir.path(), "catalog.txt", b"a\nb\nc\nd\ne\nf\n1\n2\n3\n4\n");
    let run = tailwatch(&[
        "score",
        &p,
        "--field",
        "recs",
        "--tokenizer",
        "items",
        "--k",
        "2",
        "--catalog",
        &catalog,
        "--json",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["n_docs"], 3);
    // top-2 exposure: a×2, b×2, 1, 2 -> 4 of 10 catalog items
    assert!((run.metric("coverage_at_k") - 0.4).abs() < 1e-12);
    // Gini of [0,0,0,0,0,0,1,1,2,2] = Σ(2i-n-1)x / (n Σx) with i = 1..10
    let x = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0];
    let g: f64 =
        x.iter().enumerate().map(|(i, v)| (2.0 * (i as f64 + 1.0) - 11.0) * v).sum::<f64>() / (10.0 * 6.0);
    assert!((run.metric("exposure_gini") - g).abs() < 1e-12);
}

#[test]
fn html_report_is_self_contained_and_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", b"one two three four\nfive six seven eight\n");
    let b = write(dir.path(), "b.txt", b"one one one one\none one one one\n");
    let html = dir.path().join("r.html");
    let run = tailwatch(&["score", &a, &b, "--html", html.to_str().unwrap(), "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json().as_array().map(Vec::len), Some(2), "two inputs give an array of two reports");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("a.txt") && page.contains("b.txt"));
    assert!(
        !page.contains("http://") && !page.contains("https://") && !page.contains("<script src"),
        "no network"
    );
    // one card per metric, and the table of every metric with the change against the first input
    assert_eq!(page.matches("</span> distinct_2</h3>").count(), 1);
    assert!(page.contains("<tr data-metric=\"distinct_2\">"));
    assert!(page.contains("<th>change vs first</th>") && page.contains("<td class=change>"));
}
