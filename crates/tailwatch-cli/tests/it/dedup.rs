//! `dedup` end to end: outputs in the input's format, clusters, keep policies, bad input.
use crate::{tailwatch, tailwatch_stdin, write};

const BASE: &str =
    "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat in the sun";

fn variant(i: usize) -> String {
    // one substituted word near the end: Jaccard of word 5-grams ≈ 0.85
    format!("{BASE} and then {i}")
}

#[test]
fn jsonl_dedup_keeps_preferred_records_bytes_intact() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        format!("{{\"text\": \"{BASE}\", \"origin\": \"synthetic\", \"id\": 1}}"),
        format!("{{\"id\": 2, \"origin\": \"human\", \"text\": \"{}\"}}", BASE.to_uppercase()),
        format!("{{\"text\": \"{}\", \"origin\": \"synthetic\", \"id\": 3}}", variant(1)),
        "{\"text\": \"something else entirely, unrelated to foxes and dogs and cats\", \"origin\": \"synthetic\", \"id\": 4}".to_string(),
        String::new(),
        format!("{{\"text\": \"{}\", \"origin\": \"human\", \"id\": 5}}", variant(2)),
    ];
    let input = write(dir.path(), "in.jsonl", (lines.join("\n") + "\n").as_bytes());
    let kept = dir.path().join("kept.jsonl");
    let clusters = dir.path().join("clusters.jsonl");
    let run = tailwatch(&[
        "dedup",
        &input,
        "--keep",
        "prefer:origin=human",
        "-o",
        kept.to_str().unwrap(),
        "--clusters",
        clusters.to_str().unwrap(),
        "--json",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let j = run.json();
    assert_eq!(j["docs"], 5);
    assert_eq!(j["exact_duplicates"], 1, "{j}");
    assert_eq!(j["near_duplicates"], 2, "{j}");
    assert_eq!(j["kept"], 2);
    assert_eq!(j["clusters"], 1);
    assert_eq!(j["largest_cluster"], 4);
    assert!(j["banding"]["bands"].as_u64().unwrap() * j["banding"]["rows"].as_u64().unwrap() <= 128);
    assert!(j["s_curve"].as_array().unwrap().len() == 20);
    // the human record is kept, byte for byte, plus the unrelated one
    let out = std::fs::read_to_string(&kept).unwrap();
    assert_eq!(out, format!("{}\n{}\n", lines[1], lines[3]));
    let cluster: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&clusters).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(cluster["size"], 4);
    assert_eq!(cluster["kept"]["record"], 2);
    let relations: Vec<&str> =
        cluster["members"].as_array().unwrap().iter().map(|m| m["relation"].as_str().unwrap()).collect();
    assert_eq!(relations, ["exact", "kept", "near", "near"]);
    for m in cluster["members"].as_array().unwrap() {
        let s = m["similarity"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&s));
    }
}

#[test]
fn text_csv_and_several_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.txt",
        format!("{BASE}\nunique line one two three four five six\n{}\n", variant(3)).as_bytes(),
    );
    let b = write(
        dir.path(),
        "b.csv",
        format!("id,text\n1,\"{BASE}\"\n2,another unique row of words here for testing\n").as_bytes(),
    );
    let out = dir.path().join("out");
    let run = tailwatch(&["dedup", &a, &b, "-o", out.to_str().unwrap(), "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("records                 5"), "{}", run.stdout);
    assert!(run.stdout.contains("bands ×"), "{}", run.stdout);
    assert_eq!(
        std::fs::read_to_string(out.join("a.txt")).unwrap(),
        format!("{BASE}\nunique line one two three four five six\n")
    );
    assert_eq!(
        std::fs::read_to_string(out.join("b.csv")).unwrap(),
        "id,text\n2,another unique row of words here for testing\n"
    );
    // exact-only: the variant survives
    let run = tailwatch(&["dedup", &a, "--exact-only", "--json", "-q"]);
    assert_eq!(run.json()["kept"], 3);
    // the exact join finds the same near duplicate
    let run = tailwatch(&["dedup", &a, "--exact-pairs", "--json", "-q"]);
    assert_eq!(run.json()["near_duplicates"], 1);
    // every signature scheme finds it
    for mode in [
        ["--mode", "classic"],
        ["--mode", "fss"],
        ["--compat", "datasketch"],
        ["--compat", "datasketch-legacy"],
    ] {
        let run = tailwatch(&["dedup", &a, mode[0], mode[1], "--json", "-q"]);
        assert_eq!(run.json()["near_duplicates"], 1, "{mode:?}");
    }
    // stdin with an output
    let kept = dir.path().join("stdin_kept.txt");
    let run = tailwatch_stdin(
        &["dedup", "-", "-o", kept.to_str().unwrap(), "-q"],
        Some(format!("{BASE}\n{BASE}\nx y z\n").as_bytes()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), format!("{BASE}\nx y z\n"));
}

#[test]
fn bad_dedup_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let ok = write(dir.path(), "ok.txt", b"a b c d e f\n");
    let broken = write(dir.path(), "broken.jsonl", b"{\"text\":\"a\"}\n{\"text\": oops}\n");
    let text = write(dir.path(), "plain.txt", b"hello\n");
    let empty = write(dir.path(), "empty.txt", b"");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["dedup", &broken], "broken.jsonl: line 2"),
        (vec!["dedup", &empty], "no documents"),
        (
            vec!["dedup", &ok, "--threshold", "0"],
            "threshold must be in (0, 1], found 0\nhint: set it with --threshold",
        ),
        (vec!["dedup", &ok, "--threshold", "1.5"], "threshold must be in (0, 1], found 1.5"),
        (
            vec!["dedup", &ok, "--shingle", "0"],
            "shingle_size must be at least 1, found 0\nhint: set it with --shingle",
        ),
        (
            vec!["dedup", &ok, "--bands", "20", "--rows", "10"],
            "bands × rows must be between 1 and num_perm, found 20 × 10\nhint: set --bands × --rows at most --num-perm",
        ),
        (vec!["dedup", &ok, "--keep", "random"], "--keep must be"),
        (vec!["dedup", &text, "--keep", "prefer:origin=human"], "plain text"),
        (
            vec!["dedup", &ok, "--recall", "1"],
            "recall must be in (0, 1), found 1\nhint: set it with --recall",
        ),
        (vec!["dedup", &ok, "-o", &ok], "is also an input of this run"),
        (
            vec!["dedup", &ok, "--exact-only", "--exact-pairs"],
            "exact_only and exact_pairs exclude each other\nhint: pass one of --exact-only and --exact-pairs",
        ),
    ];
    for (args, needle) in cases {
        let run = tailwatch(&args);
        assert_eq!(run.code, 2, "{args:?}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: stderr lacks `{needle}`: {}", run.stderr);
    }
    // --skip-invalid skips the broken line and says so
    let run = tailwatch(&["dedup", &broken, "--skip-invalid", "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["skipped_records"], 1);
    assert!(run.stderr.contains("skipped 1 invalid record"));
}

#[test]
fn candidates_read_again_from_plain_files_match_kept_sets() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    // paragraphs (CRLF lines) and JSONL records holding arrays: a unit spans several lines or
    // several documents, and is read again whole
    let mut paragraphs = String::new();
    let mut jsonl = String::new();
    for i in 0..40 {
        // about 60 words: one different word makes Jaccard ≈ 0.85
        let long = format!("{BASE} {} {}", BASE.replace("the", "a"), BASE.replace("the", "one"));
        let text =
            if i % 3 == 0 { format!("{long} {i}") } else { format!("unrelated words {i} of record {i}") };
        paragraphs.push_str(&format!("{text}\r\nsecond line\r\n\r\n"));
        let docs = serde_json::json!([text, "tail"]);
        jsonl.push_str(&format!("{}\n", serde_json::json!({"id": i, "text": docs})));
    }
    let cases = [
        ("paragraphs.txt", paragraphs, ["--doc-sep", "blank"]),
        ("records.jsonl", jsonl, ["--format", "jsonl"]),
    ];
    for (name, content, extra) in cases {
        let plain = write(dir.path(), name, content.as_bytes());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(content.as_bytes()).unwrap();
        let compressed = write(dir.path(), &format!("{name}.gz"), &gz.finish().unwrap());
        let run_on = |input: &str, stdin: Option<&[u8]>| {
            let clusters = dir.path().join(format!("clusters-{}.jsonl", input.len()));
            let mut args = vec!["dedup", input, "--clusters", clusters.to_str().unwrap(), "--json", "-q"];
            args.extend(extra.iter().copied());
            let run = tailwatch_stdin(&args, stdin);
            assert_eq!(run.code, 0, "{name}: {}", run.stderr);
            let clusters: Vec<serde_json::Value> = std::fs::read_to_string(&clusters)
                .unwrap()
                .lines()
                .map(|l| {
                    let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                    for m in v["members"].as_array_mut().unwrap() {
                        m.as_object_mut().unwrap().remove("input");
                    }
                    v["kept"].as_object_mut().unwrap().remove("input");
                    v
                })
                .collect();
            (run.json(), clusters)
        };
        let (reread, reread_clusters) = run_on(&plain, None);
        assert_eq!(reread["parameters"]["verify"], "reread", "{name}");
        assert!(reread["near_duplicates"].as_u64().unwrap() >= 10, "{name}: {reread}");
        for (other, stdin) in [(compressed.as_str(), None), ("-", Some(content.as_bytes()))] {
            let (kept, kept_clusters) = run_on(other, stdin);
            assert_eq!(kept["parameters"]["verify"], "exact", "{name} {other}");
            assert_eq!(kept_clusters, reread_clusters, "{name} {other}");
            assert_eq!(kept["kept"], reread["kept"], "{name} {other}");
        }
    }
}

#[cfg(unix)]
#[test]
fn a_pipe_is_read_once_and_spooled_for_the_kept_records() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("in.txt");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let content = format!("{BASE}\n{BASE}\nunique words here for a change\n{}\n", variant(1));
    let kept = dir.path().join("kept.txt");
    for with_output in [false, true] {
        // as `<(zcat …)` gives it: a pipe, written while tailwatch reads it
        let writer = {
            let (fifo, content) = (fifo.clone(), content.clone());
            std::thread::spawn(move || std::fs::write(fifo, content).unwrap())
        };
        let mut args = vec!["dedup", fifo.to_str().unwrap(), "--json", "-q"];
        if with_output {
            args.extend(["-o", kept.to_str().unwrap()]);
        }
        let run = tailwatch(&args);
        writer.join().unwrap();
        assert_eq!(run.code, 0, "{}", run.stderr);
        let j = run.json();
        assert_eq!((j["docs"].as_u64(), j["kept"].as_u64()), (Some(4), Some(2)), "{j}");
        // read once as it streams by; spooled to a file (which can be reread) for `-o`
        assert_eq!(j["parameters"]["verify"], if with_output { "reread" } else { "exact" });
    }
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), format!("{BASE}\nunique words here for a change\n"));
}
