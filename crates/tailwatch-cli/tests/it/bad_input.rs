//! Bad input: a clear error naming file, line and field; exit 2; never a panic.
use std::io::Write;

use crate::{tailwatch, tailwatch_stdin, write};

#[test]
fn each_bad_input_exits_2_with_a_located_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"hello world\nfoo bar baz\nmore text here\n").unwrap();
    let gz = gz.finish().unwrap();
    let cases: Vec<(String, Vec<&str>, Vec<&str>)> = vec![
        (
            write(d, "broken.jsonl", b"{\"text\":\"a b\"}\n{\"text\": broken\n"),
            vec![],
            vec!["broken.jsonl", "line 2", "invalid JSON"],
        ),
        (
            write(d, "missing.jsonl", b"{\"text\":\"a\"}\n{\"other\":\"x\"}\n"),
            vec![],
            vec!["missing.jsonl", "line 2", "missing field `text`"],
        ),
        (
            write(d, "type.jsonl", b"{\"text\":\"a\"}\n{\"text\":5}\n"),
            vec![],
            vec!["type.jsonl", "line 2", "`text`", "a number"],
        ),
        (
            write(d, "arr.jsonl", b"{\"t\":[\"a\", 3]}\n"),
            vec!["--field", "t"],
            vec!["arr.jsonl", "line 1", "`t`", "index 1"],
        ),
        (write(d, "nan.jsonl", b"{\"text\": NaN}\n"), vec![], vec!["nan.jsonl", "line 1", "invalid JSON"]),
        (write(d, "bad.txt", b"fine\n\xff\xfe nope\n"), vec![], vec!["bad.txt", "line 2", "UTF-8"]),
        (write(d, "empty.txt", b""), vec![], vec!["empty.txt", "no documents"]),
        (write(d, "blank.txt", b"\n  \n\n"), vec![], vec!["no documents"]),
        (write(d, "trunc.txt.gz", &gz[..gz.len() / 2]), vec![], vec!["trunc.txt.gz", "cannot read"]),
        (
            write(d, "future.twp", b"TWPROF\x00\x01\x09\x00\x00\x00junk"),
            vec![],
            vec!["future.twp", "version 9"],
        ),
        (write(d, "junk.twp", b"not a profile at all"), vec![], vec!["junk.twp", "not a tailwatch profile"]),
        (write(d, "col.csv", b"a,b\n1,2\n"), vec![], vec!["col.csv", "no column `text`", "a, b"]),
        (write(d, "bad.parquet", b"PAR1 definitely not parquet"), vec![], vec!["bad.parquet", "Parquet"]),
        (d.join("absent.txt").to_str().unwrap().to_string(), vec![], vec!["absent.txt", "cannot open"]),
    ];
    for (path, extra, expected) in cases {
        let mut args = vec!["score", path.as_str(), "-q"];
        args.extend(extra);
        let run = tailwatch(&args);
        assert_eq!(run.code, 2, "{path}: expected exit 2, got {}\nstderr: {}", run.code, run.stderr);
        assert!(run.stderr.starts_with("error: "), "{path}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{path}: {}", run.stderr);
        for needle in expected {
            assert!(run.stderr.contains(needle), "{path}: stderr lacks `{needle}`:\n{}", run.stderr);
        }
    }
}

#[test]
fn skip_invalid_reports_the_count_and_lossy_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "mixed.jsonl",
        b"{\"text\":\"a b c\"}\n{\"text\": broken\n{\"nope\":1}\n{\"text\":\"d e f\"}\n{\"text\":[1]}\n",
    );
    let run = tailwatch(&["score", &p, "--skip-invalid", "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["skipped_records"], 3);
    assert_eq!(run.json()["n_docs"], 2);
    assert!(run.stderr.contains("skipped 3 invalid record(s)"), "{}", run.stderr);

    let p = write(dir.path(), "bad.txt", b"good words here\n\xff bad\n");
    let run = tailwatch(&["score", &p, "--lossy", "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["n_docs"], 2);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["score"],
        vec!["score", "-", "--sample", "lots"],
        vec!["score", "-", "--tokenizer", "nonsense"],
        vec!["score", "-", "--max-memory", "12 parsecs"],
        vec!["score", "-", "--tail-mass", "1.5"],
        // a mistyped thread count is refused at once, not minutes of starting threads
        vec!["score", "-", "--threads", "5000"],
        vec!["score", "-", "--threads", "0"],
        vec!["bogus-command"],
    ] {
        let run = tailwatch_stdin(&args, Some(b"a b c\n"));
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_bad_rules_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "a.txt", b"one two three\nfour five six\n");
    let rules = write(dir.path(), "rules.toml", b"[[rule]]\nmetric = \"distinct_9\"\nrelative = 0.1\n");
    let run = tailwatch(&["compare", &data, &data, "--rules", &rules, "-q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("rules.toml") && run.stderr.contains("distinct_9"), "{}", run.stderr);
    // a rule with two thresholds used one of them silently; it is an error now
    let both = write(
        dir.path(),
        "both.toml",
        b"[[rule]]\nmetric = \"distinct_2\"\nrelative = 0.1\nabsolute = 0.05\n",
    );
    let run = tailwatch(&["compare", &data, &data, "--rules", &both, "-q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("both.toml") && run.stderr.contains("sets both"), "{}", run.stderr);
}

/// `profile` and `merge` never write over an input: `profile X -o X` replaced the corpus with
/// its profile, exit 0.
#[test]
fn profile_and_merge_refuse_to_overwrite_their_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"one two three\nfour five six\n";
    let input = write(dir.path(), "a.txt", text);
    let run = tailwatch(&["profile", &input, "-o", &input, "-q"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is also an input of this run"), "{}", run.stderr);
    assert_eq!(std::fs::read(&input).unwrap(), text);
    let twp = dir.path().join("a.twp");
    assert_eq!(tailwatch(&["profile", &input, "-o", twp.to_str().unwrap(), "-q"]).code, 0);
    let before = std::fs::read(&twp).unwrap();
    let run =
        tailwatch(&["merge", twp.to_str().unwrap(), twp.to_str().unwrap(), "-o", twp.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(std::fs::read(&twp).unwrap(), before);
}

/// A decompression bomb in `.twp` clothing (a valid header and checksum over a zstd stream of
/// 200 MB of zeros, a few KB on disk) is refused before it is inflated: it took the CLI to
/// 6.3 GB.
#[test]
fn a_profile_that_decompresses_too_far_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 200 << 20];
    let compressed = zstd::encode_all(&zeros[..], 19).unwrap();
    drop(zeros);
    assert!(compressed.len() < 1 << 20);
    let mut bytes = b"TWPROF\x00\x01\x03\x00\x00\x00".to_vec();
    // the checksum: xxh3-64 of the compressed body, as the reader computes it
    bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&compressed).to_le_bytes());
    bytes.extend_from_slice(&compressed);
    let bomb = write(dir.path(), "bomb.twp", &bytes);
    let run = tailwatch(&["score", &bomb]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("decompresses to more than"), "{}", run.stderr);
}

/// A record over `--max-record-bytes` is an error naming file and line, with the flag in a hint;
/// endless inputs (`/dev/zero` as a corpus or a tokenizer) end with an error instead of filling
/// memory.
#[test]
fn records_and_side_files_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = b"short line\n".to_vec();
    text.extend(vec![b'a'; 5000]);
    text.push(b'\n');
    let input = write(dir.path(), "long.txt", &text);
    let run = tailwatch(&["score", &input, "--max-record-bytes", "4KiB", "-q"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("long.txt: line 2: a record longer than 4096 bytes"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: if the input is right, raise --max-record-bytes"), "{}", run.stderr);
    assert_eq!(tailwatch(&["score", &input, "--max-record-bytes", "8KiB", "-q"]).code, 0);
    let run = tailwatch(&["score", &input, "--max-record-bytes", "0", "-q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--max-record-bytes must be at least 1 byte"), "{}", run.stderr);
    #[cfg(unix)]
    {
        let run = tailwatch(&["score", "/dev/zero", "--lossy", "--max-record-bytes", "1MiB", "-q"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("/dev/zero: line 1: a record longer than"), "{}", run.stderr);
        let run = tailwatch(&["score", &input, "--tokenizer", "/dev/zero", "-q"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("`/dev/zero` is larger than"), "{}", run.stderr);
    }
}

/// A malformed saved report was read as a corpus and failed with "missing field `text`"; it
/// now says it is read as a report and what is wrong with it.
#[test]
fn a_malformed_saved_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "a.txt", b"one two three\nfour five six\n");
    let report = write(dir.path(), "old.json", br#"{"tailwatch_version": "0.1.0", "metrics": 3}"#);
    let run = tailwatch(&["compare", &data, &report, "-q"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("old.json` is not a report compare can trust"), "{}", run.stderr);
    assert!(run.stderr.contains("read as a saved report"), "{}", run.stderr);
    assert!(!run.stderr.contains("missing field `text`"), "{}", run.stderr);
}

/// Misleading messages of the probe: a BOM in JSONL ("invalid JSON at line 1 column 1"), a lone
/// `\ud800` ("unexpected end of hex escape"), a damaged ledger ("no such table: records",
/// naming no file).
#[test]
fn careless_inputs_get_messages_that_name_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let bom =
        write(dir.path(), "bom.jsonl", b"\xEF\xBB\xBF{\"text\": \"one two\"}\n{\"text\": \"three four\"}\n");
    let run = tailwatch(&["score", &bom, "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["n_docs"], 2);
    let lone = write(dir.path(), "lone.jsonl", b"{\"text\": \"bad \\ud800 x\"}\n");
    let run = tailwatch(&["score", &lone, "-q"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("lone.jsonl: line 1: invalid JSON: a lone UTF-16 surrogate `\\ud800`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: pass --lossy"), "{}", run.stderr);
    assert_eq!(tailwatch(&["score", &lone, "--lossy", "-q"]).code, 0);
    let db = dir.path().join("l.db");
    let dbs = db.to_str().unwrap();
    assert_eq!(tailwatch(&["ledger", "init", "--db", dbs]).code, 0);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("DROP TABLE mix_members; DROP TABLE mixes;").unwrap();
    }
    let run = tailwatch(&["ledger", "stats", "--db", dbs]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("l.db` is a damaged ledger: tables `mixes`, `mix_members` are missing"),
        "{}",
        run.stderr
    );
}

/// Sizes from the command line are checked before anything is allocated: `--categories 1e11`
/// aborted on allocation failure (exit 134) and `ngram --samples 1e8` grew without bound.
#[test]
fn simulation_sizes_are_checked_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write(dir.path(), "c.txt", b"one two three four\nfive six seven eight\n");
    for args in [
        vec!["simulate", "zipf", "--categories", "100000000000"],
        vec!["simulate", "categorical", "--categories", "100000000000", "--replicates", "1"],
        vec!["simulate", "ngram", "--corpus", corpus.as_str(), "--samples", "100000000"],
        vec!["simulate", "gaussian", "--samples", "10000000", "--strategy", "accumulate"],
    ] {
        let run = tailwatch(&[&args[..], &["-q"]].concat());
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("values per replicate"), "{args:?}: {}", run.stderr);
    }
    assert_eq!(
        tailwatch(&[
            "simulate",
            "zipf",
            "--categories",
            "1000",
            "--replicates",
            "2",
            "--generations",
            "2",
            "-q"
        ])
        .code,
        0
    );
}

/// Metrics stay in their documented ranges (`tailwatch metrics --json`) on degenerate corpora:
/// one token, one repeated token, two distinct tokens.
#[test]
fn metrics_stay_in_their_documented_ranges_on_tiny_corpora() {
    let catalog = tailwatch(&["metrics", "--json"]).json();
    let ranges: std::collections::HashMap<String, String> = catalog
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap().to_string(), m["range"].as_str().unwrap().to_string()))
        .collect();
    let within = |range: &str, v: f64| -> bool {
        let (low, high) = range.split_once(',').unwrap();
        let bound = |t: &str| match t.trim_matches(|c| "[]()".contains(c)) {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            t => t.parse::<f64>().unwrap_or(f64::NAN),
        };
        let (lo, hi) = (bound(low), bound(high));
        let lo_ok = if lo.is_nan() {
            true
        } else if low.starts_with('[') {
            v >= lo
        } else {
            v > lo
        };
        let hi_ok = if hi.is_nan() {
            true
        } else if high.ends_with(']') {
            v <= hi
        } else {
            v < hi
        };
        lo_ok && hi_ok
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("one.txt", "a\n"), ("same.txt", "a\na\na\n"), ("two.txt", "a b\nb a\n")] {
        let path = write(dir.path(), name, text.as_bytes());
        let run = tailwatch(&["score", &path, "--json", "-q"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        for (id, value) in run.json()["metrics"].as_object().unwrap() {
            let Some(v) = value.as_f64() else { continue };
            let range = &ranges[id];
            assert!(within(range, v), "{name}: {id} = {v} outside its documented range {range}");
        }
    }
}
