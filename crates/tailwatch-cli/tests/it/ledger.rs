//! `ledger` and `mix` end to end: a killed ingest, bad input that changes nothing, caps.
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{tailwatch, write};

fn count(db: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row("SELECT count(*) FROM records", [], |r| r.get(0)).unwrap_or(0)
}

#[test]
fn a_killed_ingest_leaves_a_consistent_ledger_and_a_rerun_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let n = 200_000;
    let mut text = String::with_capacity(n * 60);
    for i in 0..n {
        text.push_str(&format!("{{\"text\": \"record number {i} with some words\", \"id\": \"r{i}\"}}\n"));
    }
    let input = write(dir.path(), "big.jsonl", text.as_bytes());
    assert_eq!(tailwatch(&["ledger", "init", "--db", db.to_str().unwrap()]).code, 0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tailwatch"))
        .args([
            "ledger",
            "ingest",
            &input,
            "--db",
            db.to_str().unwrap(),
            "--origin",
            "human",
            "--key-field",
            "id",
            "--batch-size",
            "500",
            "-q",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // wait until some batches are committed, then kill -9 in the middle of the ingest
    let start = Instant::now();
    loop {
        let c = count(&db);
        if c > 0 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "ingest never committed a batch");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("ingest finished before it could be killed ({status})");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = count(&db);
    assert!(partial > 0 && partial < n as i64, "killed mid-ingest: {partial} records");
    assert_eq!(partial % 500, 0, "only whole batches are committed");
    let stats = tailwatch(&["ledger", "stats", "--db", db.to_str().unwrap(), "--json", "-q"]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    assert_eq!(stats.json()["records"], partial);
    // the rerun adds exactly the rest
    let rerun = tailwatch(&[
        "ledger",
        "ingest",
        &input,
        "--db",
        db.to_str().unwrap(),
        "--origin",
        "human",
        "--key-field",
        "id",
        "--json",
        "-q",
    ]);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    let j = rerun.json();
    assert_eq!(j["added"].as_i64().unwrap() + j["already_present"].as_i64().unwrap(), n as i64);
    assert_eq!(j["already_present"], partial);
    assert_eq!(count(&db), n as i64);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn bad_ledger_input_exits_2_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let dbs = db.to_str().unwrap();
    assert_eq!(tailwatch(&["ledger", "init", "--db", dbs]).code, 0);
    let good = write(dir.path(), "good.jsonl", b"{\"text\": \"one\"}\n");
    assert_eq!(tailwatch(&["ledger", "ingest", &good, "--db", dbs, "--origin", "human", "-q"]).code, 0);
    let origin = write(
        dir.path(),
        "origin.jsonl",
        b"{\"text\": \"a\", \"o\": \"human\"}\n{\"text\": \"b\", \"o\": \"robot\"}\n",
    );
    let generation =
        write(dir.path(), "gen.jsonl", b"{\"text\": \"a\", \"g\": 1}\n{\"text\": \"b\", \"g\": -2}\n");
    let parent = write(dir.path(), "parent.jsonl", b"{\"text\": \"a\", \"p\": \"nobody\"}\n");
    let broken = write(dir.path(), "broken.jsonl", b"{\"text\": \"a\"}\n{oops\n");
    let not_db = write(dir.path(), "not.db", b"this is not a database");
    let never = dir.path().join("never.jsonl").to_str().unwrap().to_string();
    let verdict_bad =
        write(dir.path(), "v1.jsonl", b"{\"id\": \"0123456789abcdef\", \"verdict\": \"maybe\"}\n");
    let verdict_utf8 = write(dir.path(), "v2.jsonl", b"{\"id\": \"x\", \"verdict\": null}\n\xff\xfe\n");
    let verdict_no_id = write(dir.path(), "v3.jsonl", b"{\"verdict\": \"accept\"}\n");
    let before = std::fs::read(&db).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["ledger", "ingest", &origin, "--db", dbs, "--field-map", "origin=o"],
            "origin.jsonl: line 2: field `o`: origin must be human, synthetic or unknown, found `robot`",
        ),
        (
            vec!["ledger", "ingest", &good, "--db", dbs, "--origin", "robot"],
            "origin must be human, synthetic or unknown",
        ),
        (
            vec![
                "ledger",
                "ingest",
                &generation,
                "--db",
                dbs,
                "--origin",
                "synthetic",
                "--field-map",
                "generation=g",
            ],
            "gen.jsonl: line 2: field `g` must be a non-negative integer, found `-2`",
        ),
        (
            vec!["ledger", "ingest", &good, "--db", dbs, "--origin", "synthetic", "--generation", "x"],
            "--generation must be a non-negative integer",
        ),
        (
            vec!["ledger", "ingest", &parent, "--db", dbs, "--origin", "synthetic", "--parent-field", "p"],
            "parent.jsonl: line 1: parent `nobody`",
        ),
        (vec!["ledger", "ingest", &broken, "--db", dbs, "--origin", "human"], "broken.jsonl: line 2"),
        (vec!["ledger", "ingest", &good, "--db", dbs], "--origin is required"),
        (vec!["ledger", "stats", "--db", &not_db], "is not a tailwatch ledger"),
        (vec!["ledger", "ingest", &good, "--db", &not_db, "--origin", "human"], "is not a tailwatch ledger"),
        (
            vec!["ledger", "stats", "--db", "/nonexistent/l.db"],
            "the ledger `/nonexistent/l.db` does not exist\nhint: create it with `tailwatch ledger init --db /nonexistent/l.db`",
        ),
        (vec!["ledger", "lineage", "zzzz", "--db", dbs], "no record has the key `zzzz`"),
        (
            vec!["ledger", "review", "record", &verdict_bad, "--db", dbs],
            "v1.jsonl: line 1: field `verdict` must be accept or reject, found `maybe`",
        ),
        (vec!["ledger", "review", "record", &verdict_utf8, "--db", dbs], "v2.jsonl: line 2: invalid UTF-8"),
        (
            vec!["ledger", "review", "record", &verdict_no_id, "--db", dbs],
            "v3.jsonl: line 1: missing string field `id`",
        ),
        (
            vec!["mix", "--db", dbs, "-o", &never, "--max-synthetic", "NaN"],
            "max_synthetic must be a share in [0, 1], found NaN\nhint: set it with --max-synthetic",
        ),
        (
            vec!["ledger", "ingest", &good, "--db", dbs, "--origin", "human", "--field-map", "colour=c"],
            "unknown provenance field `colour`",
        ),
    ];
    for (args, needle) in cases {
        let run = tailwatch(&args);
        assert_eq!(run.code, 2, "{args:?}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: stderr lacks `{needle}`: {}", run.stderr);
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "bad input must not change the ledger");
    assert_eq!(std::fs::read_to_string(&not_db).unwrap(), "this is not a database");
    // a ledger from a newer tailwatch
    let newer = dir.path().join("newer.db");
    assert_eq!(tailwatch(&["ledger", "init", "--db", newer.to_str().unwrap()]).code, 0);
    rusqlite::Connection::open(&newer).unwrap().pragma_update(None, "user_version", 7).unwrap();
    let bytes = std::fs::read(&newer).unwrap();
    let run = tailwatch(&["ledger", "ingest", &good, "--db", newer.to_str().unwrap(), "--origin", "human"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("schema version 7"), "{}", run.stderr);
    assert_eq!(std::fs::read(&newer).unwrap(), bytes);
}

#[test]
fn mix_export_and_review_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let dbs = db.to_str().unwrap();
    tailwatch(&["ledger", "init", "--db", dbs]);
    let human: String = (0..20)
        .map(|i| format!("{{\"text\": \"human sentence {i} about cats and dogs\", \"id\": \"h{i}\"}}\n"))
        .collect();
    let synth: String = (0..20)
        .map(|i| {
            format!(
                "{{\"text\": \"model sentence {i}\", \"parent\": \"h{i}\", \"m\": \"{}\"}}\n",
                if i % 2 == 0 { "a" } else { "b" }
            )
        })
        .collect();
    let h = write(dir.path(), "h.jsonl", human.as_bytes());
    let s = write(dir.path(), "s.jsonl", synth.as_bytes());
    assert_eq!(
        tailwatch(&["ledger", "ingest", &h, "--db", dbs, "--origin", "human", "--key-field", "id", "-q"])
            .code,
        0
    );
    let run = tailwatch(&[
        "ledger",
        "ingest",
        &s,
        "--db",
        dbs,
        "--origin",
        "synthetic",
        "--parent-field",
        "parent",
        "--field-map",
        "generator=m",
        "--json",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["parent_edges"], 20);
    // caps met
    let mix = dir.path().join("mix.jsonl");
    let run = tailwatch(&[
        "mix",
        "--db",
        dbs,
        "-o",
        mix.to_str().unwrap(),
        "--max-synthetic",
        "0.25",
        "--json",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let manifest = run.json();
    assert_eq!(manifest["records"], 26);
    assert_eq!(manifest["by_origin"]["synthetic"]["records"], 6);
    let written: Vec<serde_json::Value> =
        std::fs::read_to_string(&mix).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(written.len(), 26);
    assert_eq!(written.iter().filter(|r| r["origin"] == "synthetic").count(), 6);
    // caps that cannot be met: exit 1, nothing written
    let nope = dir.path().join("nope.jsonl");
    let run = tailwatch(&[
        "mix",
        "--db",
        dbs,
        "-o",
        nope.to_str().unwrap(),
        "--size",
        "40",
        "--max-synthetic",
        "0.2",
        "-q",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot reach the size 40 records"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: lower --size, or raise --max-synthetic"), "{}", run.stderr);
    assert!(!nope.exists());
    let run = tailwatch(&["mix", "--db", dbs, "-o", nope.to_str().unwrap(), "--min-human", "25", "-q"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("at least 25 human"), "{}", run.stderr);
    // export with a manifest
    let export = dir.path().join("export.jsonl");
    assert_eq!(tailwatch(&["ledger", "export", "--db", dbs, "-o", export.to_str().unwrap(), "-q"]).code, 0);
    assert_eq!(std::fs::read_to_string(&export).unwrap().lines().count(), 40);
    let croissant: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("export.croissant.json")).unwrap()).unwrap();
    assert_eq!(croissant["@type"], "sc:Dataset");
    assert_eq!(croissant["tailwatch:provenance"]["records"], 40);
    // review: sample, verdicts, report
    let sample = dir.path().join("sample.jsonl");
    let run = tailwatch(&[
        "ledger",
        "review",
        "sample",
        "--db",
        dbs,
        "--n",
        "8",
        "--seed",
        "3",
        "-o",
        sample.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verdicts: String = std::fs::read_to_string(&sample)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["verdict"] = if v["generator"] == "a" { "accept" } else { "reject" }.into();
            v["reviewer"] = "ann".into();
            format!("{v}\n")
        })
        .collect();
    let verdict_file = write(dir.path(), "verdicts.jsonl", verdicts.as_bytes());
    assert_eq!(tailwatch(&["ledger", "review", "record", &verdict_file, "--db", dbs]).code, 0);
    let report = tailwatch(&["ledger", "review", "report", "--db", dbs, "--json"]);
    let rows = report.json();
    for row in rows.as_array().unwrap() {
        assert_eq!(row["rate"].as_f64().unwrap(), if row["generator"] == "a" { 1.0 } else { 0.0 });
    }
    let bad = write(dir.path(), "bad_verdicts.jsonl", b"{\"id\": \"zzzzzzzzzz\", \"verdict\": \"maybe\"}\n");
    let run = tailwatch(&["ledger", "review", "record", &bad, "--db", dbs]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("bad_verdicts.jsonl: line 1: field `verdict` must be accept or reject"),
        "{}",
        run.stderr
    );
}

/// Outputs never replace the ledger or one another: `mix --db L -o L` replaced the ledger with
/// JSONL, exit 0; so did `ledger export` and `ledger review sample`, and `--manifest`.
#[test]
fn outputs_never_replace_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let dbs = db.to_str().unwrap();
    assert_eq!(tailwatch(&["ledger", "init", "--db", dbs]).code, 0);
    let good = write(dir.path(), "good.jsonl", b"{\"text\": \"one two\"}\n{\"text\": \"three four\"}\n");
    assert_eq!(tailwatch(&["ledger", "ingest", &good, "--db", dbs, "--origin", "human", "-q"]).code, 0);
    let before = std::fs::read(&db).unwrap();
    let out = dir.path().join("out.jsonl");
    let outs = out.to_str().unwrap();
    for args in [
        vec!["mix", "--db", dbs, "-o", dbs],
        vec!["mix", "--db", dbs, "-o", outs, "--manifest", dbs],
        vec!["mix", "--db", dbs, "-o", outs, "--manifest", outs],
        vec!["ledger", "export", "--db", dbs, "-o", dbs],
        vec!["ledger", "export", "--db", dbs, "-o", outs, "--manifest", dbs],
        vec!["ledger", "review", "sample", "--db", dbs, "-o", dbs],
    ] {
        let run = tailwatch(&args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        let refused =
            run.stderr.contains("is also an input of this run") || run.stderr.contains("are the same file");
        assert!(refused, "{args:?}: {}", run.stderr);
        assert_eq!(std::fs::read(&db).unwrap(), before, "{args:?} changed the ledger");
    }
}
