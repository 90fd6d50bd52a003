//! `detect` end to end on real data, the watermark test, and `ledger ingest --detect`.
use tailwatch_detect::{WatermarkConfig, generate_toy};

use crate::{Run, shared_data, tailwatch, write};

/// `detect train` on a Fast-DetectGPT raw_data file: `original` texts are human, `sampled` machine.
fn train_on_fast_detect_gpt(file: &str, model: &std::path::Path) -> Run {
    tailwatch(&[
        "detect",
        "train",
        "--human",
        file,
        "--human-field",
        "original",
        "--machine",
        file,
        "--machine-field",
        "sampled",
        "-o",
        model.to_str().unwrap(),
        "--json",
        "-q",
    ])
}

#[test]
fn train_eval_score_on_fast_detect_gpt_and_seqxgpt() {
    let dir = tempfile::tempdir().unwrap();
    let writing =
        |model: &str| shared_data(&format!("fast-detect-gpt/exp_main/writing_{model}.raw_data.json"));
    let train_file = writing("gpt2-xl");
    let t = train_file.to_str().unwrap();
    let model = dir.path().join("det.json");
    let run = train_on_fast_detect_gpt(t, &model);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.json()["train_auroc"].as_f64().unwrap() > 0.85);
    // another generator of the same domain (measured 0.861)
    let other = writing("opt-2.7b");
    let o = other.to_str().unwrap();
    let run = tailwatch(&[
        "detect",
        "eval",
        "--detector",
        model.to_str().unwrap(),
        "--human",
        o,
        "--human-field",
        "original",
        "--machine",
        o,
        "--machine-field",
        "sampled",
        "--json",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let j = run.json();
    assert!(j["auroc"].as_f64().unwrap() > 0.78, "{j}");
    assert_eq!((j["machine"].as_u64(), j["human"].as_u64()), (Some(500), Some(500)));
    // labelled input (seqxgpt) and scoring keeps the records
    let llama = shared_data("seqxgpt/document-level/llama_lines.jsonl");
    let scored = dir.path().join("scored.jsonl");
    let run = tailwatch(&[
        "detect",
        "score",
        llama.to_str().unwrap(),
        "--detector",
        model.to_str().unwrap(),
        "-o",
        scored.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&scored).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() > 100);
    for l in &lines {
        assert_eq!(l["label"], "llama");
        let p = l["machine_probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }
    // outputs never destroy data: -o its own input is refused and the input stays; a run that
    // fails on a bad record leaves the earlier output as it was; -o /dev/null writes into the
    // device and leaves it a device
    let copy = write(dir.path(), "copy.jsonl", &std::fs::read(&llama).unwrap());
    let before = std::fs::read(&copy).unwrap();
    let own =
        tailwatch(&["detect", "score", &copy, "--detector", model.to_str().unwrap(), "-o", &copy, "-q"]);
    assert_eq!(own.code, 2, "{}", own.stderr);
    assert!(own.stderr.contains("is also an input of this run"), "{}", own.stderr);
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    let mut broken = before.clone();
    broken.extend_from_slice(b"{broken\n");
    let broken = write(dir.path(), "broken.jsonl", &broken);
    let kept = std::fs::read(&scored).unwrap();
    let failed = tailwatch(&[
        "detect",
        "score",
        &broken,
        "--detector",
        model.to_str().unwrap(),
        "-o",
        scored.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(failed.code, 2, "{}", failed.stderr);
    assert_eq!(std::fs::read(&scored).unwrap(), kept, "a failed run replaced the output");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let null = tailwatch(&[
        "detect",
        "score",
        &copy,
        "--detector",
        model.to_str().unwrap(),
        "-o",
        "/dev/null",
        "-q",
    ]);
    assert_eq!(null.code, 0, "{}", null.stderr);
    {
        use std::os::unix::fs::FileTypeExt as _;
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    }
    // records pass through byte for byte (big integers, key order, spacing), the score added
    // last; a record without text scores null; a record that has the score field already is
    // refused, naming its line
    let records = "{\"z\": 12345678901234567890, \"text\": \"the cat sat on the mat today\",\t\"a\":{\"b\":[1.50,2]}}\n\n{\"text\": \"  \"}\n";
    let records = write(dir.path(), "records.jsonl", records.as_bytes());
    let out = dir.path().join("records.scored.jsonl");
    let args = [
        "detect",
        "score",
        &records,
        "--detector",
        model.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ];
    let run = tailwatch(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let scored = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = scored.lines().collect();
    assert_eq!(lines.len(), 2, "{scored}");
    let prefix = "{\"z\": 12345678901234567890, \"text\": \"the cat sat on the mat today\",\t\"a\":{\"b\":[1.50,2]}, \"machine_probability\": ";
    assert!(lines[0].starts_with(prefix), "{}", lines[0]);
    assert_eq!(lines[1], "{\"text\": \"  \", \"machine_probability\": null}");
    let rescore = write(dir.path(), "rescore.jsonl", &std::fs::read(&out).unwrap());
    let run = tailwatch(&["detect", "score", &rescore, "--detector", model.to_str().unwrap(), "-q"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("rescore.jsonl: line 1: the record already has a field `machine_probability`"),
        "{}",
        run.stderr
    );
    let human = shared_data("seqxgpt/document-level/human_lines.jsonl");
    let run = tailwatch(&[
        "detect",
        "eval",
        "--detector",
        model.to_str().unwrap(),
        "--labelled",
        human.to_str().unwrap(),
        "--labelled",
        llama.to_str().unwrap(),
        "--json",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.json()["auroc"].as_f64().unwrap() > 0.6, "cross-domain (measured 0.77)");
    // bad input
    let bad = write(dir.path(), "bad.jsonl", b"{\"text\": \"a\", \"label\": \"human\"}\n");
    let run = tailwatch(&[
        "detect",
        "train",
        "--labelled",
        &bad,
        "-o",
        dir.path().join("m.json").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("both classes are needed"), "{}", run.stderr);
    let not_model = write(dir.path(), "not_model.json", b"{\"nope\": 1}");
    let run = tailwatch(&["detect", "score", &bad, "--detector", &not_model]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not_model.json"), "{}", run.stderr);
}

#[test]
fn watermark_z_test_flags_watermarked_text_only() {
    let dir = tempfile::tempdir().unwrap();
    let vocab: serde_json::Map<String, serde_json::Value> =
        (0..1000).map(|i| (format!("w{i}"), serde_json::json!(i))).collect();
    let tokenizer = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
        "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "w0"}
    });
    let tok = write(dir.path(), "tokenizer.json", tokenizer.to_string().as_bytes());
    let config = WatermarkConfig { key: 42, ..WatermarkConfig::default() };
    let text = |delta: f64, seed: u64| {
        generate_toy(&config, delta, 1000, 200, seed)
            .unwrap()
            .iter()
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let docs = format!("{}\n{}\n{}\n", text(2.0, 1), text(0.0, 2), text(2.0, 3));
    let input = write(dir.path(), "docs.txt", docs.as_bytes());
    let run = tailwatch(&["detect", "watermark", &input, "--tokenizer", &tok, "--key", "42", "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let flags: Vec<bool> = rows.iter().map(|r| r["watermarked"].as_bool().unwrap()).collect();
    assert_eq!(flags, [true, false, true], "{rows:?}");
    // the wrong key sees nothing
    let run = tailwatch(&["detect", "watermark", &input, "--tokenizer", &tok, "--key", "43", "--json", "-q"]);
    assert!(run.stdout.lines().all(|l| l.contains("\"watermarked\":false")), "{}", run.stdout);
    let run = tailwatch(&["detect", "watermark", &input, "--tokenizer", &tok, "--gamma", "1.5"]);
    assert_eq!(run.code, 2);
}

#[test]
fn ingest_flags_unknown_records_with_a_detector() {
    let dir = tempfile::tempdir().unwrap();
    let train = shared_data("fast-detect-gpt/exp_main/xsum_gpt2-xl.raw_data.json");
    let t = train.to_str().unwrap();
    let model = dir.path().join("det.json");
    assert_eq!(train_on_fast_detect_gpt(t, &model).code, 0);
    let db = dir.path().join("l.db");
    tailwatch(&["ledger", "init", "--db", db.to_str().unwrap()]);
    let records = "{\"text\": \"An unknown record: who wrote it, a person or a model? We cannot say yet.\"}\n{\"text\": \"Another unknown line of text of unclear origin.\"}\n";
    let input = write(dir.path(), "unknown.jsonl", records.as_bytes());
    let run = tailwatch(&[
        "ledger",
        "ingest",
        &input,
        "--db",
        db.to_str().unwrap(),
        "--origin",
        "unknown",
        "--detect",
        model.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // human records are never scored: declared provenance is the ground truth
    let human = write(dir.path(), "human.jsonl", b"{\"text\": \"A declared human record.\"}\n");
    let run = tailwatch(&[
        "ledger",
        "ingest",
        &human,
        "--db",
        db.to_str().unwrap(),
        "--origin",
        "human",
        "--detect",
        model.to_str().unwrap(),
        "--json",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["detector"]["scored"], 0);
    let run = tailwatch(&["ledger", "stats", "--db", db.to_str().unwrap(), "--json"]);
    let detector = &run.json()["detector"];
    assert_eq!((detector["unknown"].as_u64(), detector["scored"].as_u64()), (Some(2), Some(2)));
    assert!(detector["likely_machine"].as_u64().unwrap() <= 2);
    let export = dir.path().join("e.jsonl");
    tailwatch(&["ledger", "export", "--db", db.to_str().unwrap(), "-o", export.to_str().unwrap(), "-q"]);
    for line in std::fs::read_to_string(&export).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["origin"] == "unknown" {
            let p = v["detector_score"].as_f64().expect("unknown records are scored");
            assert!((0.0..=1.0).contains(&p));
        } else {
            assert!(v["detector_score"].is_null(), "{v}");
        }
    }
}
