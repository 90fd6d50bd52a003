//! Behaviour frozen as snapshots: the JSON and human output of every command on the fixed inputs
//! of [`crate::fixtures`], the files commands write, and the exact `.twp` bytes of profiles.
//!
//! Each command runs in the fixtures' folder with relative paths, so no temporary path reaches a
//! snapshot; only wall-clock times are filtered out. Update with `cargo insta test --review` (or
//! `INSTA_UPDATE=always cargo test`) and read every changed line: a change here is a change users
//! see. CI rejects snapshot files no test refers to.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Run;
use crate::fixtures;

/// The fixtures folder, written once per test.
struct Fixtures {
    dir: tempfile::TempDir,
}

impl Fixtures {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        fixtures::write_all(dir.path());
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Run the binary in the fixtures' folder.
    fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tailwatch"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("TAILWATCH_NO_PROGRESS", "1")
            .env_remove("TAILWATCH_TOKEN")
            .env_remove("TAILWATCH_SERVER")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("spawn tailwatch");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A file the commands wrote, as text.
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }
}

/// A run as one text: the command, its exit code, stdout and stderr.
fn shown(args: &[&str], run: &Run) -> String {
    format!(
        "$ tailwatch {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        run.code,
        run.stdout,
        run.stderr
    )
}

/// Filters for values that change from run to run: wall-clock times only.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    for (pattern, replacement) in [
        (r#""elapsed_s": [0-9.e+-]+"#, r#""elapsed_s": "[seconds]""#),
        (
            r#""(hashing|normalize_cpu|signature_cpu|candidates|verify|cluster)": [0-9.e+-]+"#,
            r#""$1": "[seconds]""#,
        ),
        (r"(hashing|candidates|verify|cluster) [0-9]+\.[0-9]+ s", "$1 [seconds] s"),
        (r"replicate\(s\), [0-9]+\.[0-9] s", "replicate(s), [seconds] s"),
        (r"json · [0-9]+\.[0-9] s", "json · [seconds] s"),
        (r"seed ([0-9]+) · [0-9]+\.[0-9] s", "seed $1 · [seconds] s"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings
}

/// Snapshot each command's run under `name`.
fn snapshot_runs(fixtures: &Fixtures, name: &str, commands: &[&[&str]]) {
    let text: Vec<String> = commands.iter().map(|args| shown(args, &fixtures.run(args))).collect();
    settings().bind(|| insta::assert_snapshot!(name, text.join("\n")));
}

/// Snapshot a file the commands wrote.
fn snapshot_file(fixtures: &Fixtures, name: &str, file: &str) {
    let text = fixtures.read(file);
    settings().bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn score() {
    let f = Fixtures::new();
    snapshot_runs(
        &f,
        "score",
        &[
            &["score", "healthy.jsonl", "collapsed.jsonl"],
            &["score", "healthy.jsonl", "--json"],
            &[
                "score",
                "collapsed.txt",
                "--json",
                "--sample",
                "all",
                "--tokenizer",
                "whitespace",
                "--lowercase",
            ],
            &[
                "score",
                "healthy.jsonl",
                "healthy2.txt",
                "--combine",
                "--json",
                "--seed",
                "3",
                "--sample",
                "50",
            ],
            &["score", "collapsed.jsonl", "--reference", "human.txt", "--json"],
            &[
                "score",
                "collapsed.jsonl",
                "--reference",
                "human.txt",
                "--tail-mass",
                "0.2",
                "--smoothing",
                "0.01",
            ],
            &["score", "healthy.jsonl", "--reference", "freq.tsv", "--json"],
            &["score", "healthy.jsonl", "--max-memory", "1KiB", "--json"],
            &["score", "items.txt", "--tokenizer", "items", "--k", "5", "--json"],
            &["score", "items.txt", "--tokenizer", "items", "--catalog", "catalog.txt"],
            &["score", "collapsed.jsonl", "--field", "prompt", "--json"],
        ],
    );
}

/// The memory budget for exact n-gram tables, on an input of several read batches, with one and
/// two threads: one budget for the run, so the thread count changes nothing, byte for byte.
/// (The exact tables of `large.txt` take between 6 and 7 MiB.)
#[test]
fn score_memory_budget_and_threads() {
    let f = Fixtures::new();
    fixtures::write_large(f.dir.path());
    let budgets: [&[&str]; 5] = [
        &[],
        &["--max-memory", "20MiB"],
        &["--max-memory", "7MiB"],
        &["--max-memory", "6MiB"],
        &["--max-memory", "4MiB"],
    ];
    let command = |threads: &'static str, budget: &[&'static str]| {
        let mut args = vec!["score", "large.txt", "--json", "--threads", threads];
        args.extend_from_slice(budget);
        args
    };
    for budget in budgets {
        let (one, two) = (f.run(&command("1", budget)), f.run(&command("2", budget)));
        assert_eq!(one.code, 0, "{}", one.stderr);
        assert!(one.stdout == two.stdout, "--threads 1 and 2 differ with {budget:?}");
    }
    let commands: Vec<Vec<&str>> =
        ["1", "2"].into_iter().flat_map(|threads| budgets.map(|budget| command(threads, budget))).collect();
    let refs: Vec<&[&str]> = commands.iter().map(Vec::as_slice).collect();
    snapshot_runs(&f, "score_memory_budget_and_threads", &refs);
}

#[test]
fn score_compat() {
    let f = Fixtures::new();
    let modes = ["diversity", "nltk", "degen", "texygen", "simctg", "lexical-diversity"];
    let commands: Vec<Vec<&str>> = modes
        .iter()
        .map(|mode| vec!["score", "collapsed.txt", "--compat", mode, "--tokenizer", "python-split", "--json"])
        .collect();
    let refs: Vec<&[&str]> = commands.iter().map(Vec::as_slice).collect();
    snapshot_runs(&f, "score_compat", &refs);
}

#[test]
fn score_html() {
    let f = Fixtures::new();
    let run = f.run(&["score", "healthy.jsonl", "collapsed.jsonl", "--html", "report.html"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot_file(&f, "score_html", "report.html");
}

#[test]
fn compare() {
    let f = Fixtures::new();
    let saved = f.run(&["score", "healthy.jsonl", "--json"]);
    std::fs::write(f.path("healthy.score.json"), &saved.stdout).expect("write");
    std::fs::write(
        f.path("rules.toml"),
        "[[rule]]\nmetric = \"distinct_1\"\nrelative = 0.5\nreason = \"lenient\"\n\n[[rule]]\nmetric = \"mean_doc_tokens\"\ndirection = \"decrease\"\nabsolute = 1.0\n",
    )
    .expect("write");
    snapshot_runs(
        &f,
        "compare",
        &[
            &["compare", "--print-rules"],
            &["compare", "healthy.jsonl", "healthy2.txt"],
            &["compare", "healthy.jsonl", "collapsed.jsonl"],
            &["compare", "healthy.jsonl", "collapsed.jsonl", "--json"],
            &["compare", "healthy.jsonl", "collapsed.jsonl", "--reference", "human.txt", "--json"],
            &["compare", "healthy.score.json", "collapsed.txt", "--rules", "rules.toml"],
            &["compare", "healthy.jsonl", "collapsed.jsonl", "--candidate-field", "prompt", "--json"],
        ],
    );
}

/// Profiles made by the current build must equal, byte for byte, the committed ones (which also
/// keeps them readable: see `profiles_of_every_format_still_read`). `TAILWATCH_UPDATE_PROFILES=1`
/// rewrites the committed files of the current format (only when the format changes on purpose).
#[test]
fn profile_and_merge() {
    let f = Fixtures::new();
    snapshot_runs(
        &f,
        "profile_and_merge",
        &[
            &["profile", "healthy.jsonl", "-o", "healthy.twp"],
            &["profile", "healthy2.txt", "-o", "healthy2.twp"],
            &["profile", "healthy.jsonl", "healthy2.txt", "-o", "both.twp"],
            &["profile", "healthy.jsonl", "healthy2.txt", "--keep-text", "-o", "both-text.twp"],
            &["merge", "healthy2.twp", "healthy.twp", "-o", "merged.twp"],
            &["profile", "items.txt", "--tokenizer", "items", "--k", "5", "-o", "items.twp"],
            &["profile", "collapsed.txt", "--max-memory", "1KiB", "--sample", "20", "-o", "sketched.twp"],
            &["score", "merged.twp", "--json"],
            &["score", "sketched.twp"],
        ],
    );
    // (sketched profiles changed on purpose with the run-wide memory budget: their sketches
    // keep no update order now; the committed one of before still reads, see below)
    for name in ["healthy", "healthy2", "both", "both-text", "items"] {
        let made = std::fs::read(f.path(&format!("{name}.twp"))).expect("profile written");
        if std::env::var_os("TAILWATCH_UPDATE_PROFILES").is_some() {
            let dir = profiles_dir(PROFILE_FORMAT_NOW);
            std::fs::create_dir_all(&dir).expect("profiles folder");
            std::fs::write(dir.join(format!("{name}.twp")), &made).expect("write profile");
        }
        let committed = committed_profile(PROFILE_FORMAT_NOW, name);
        assert!(
            made == committed,
            "{name}.twp differs from tests/fixtures/profiles/v{PROFILE_FORMAT_NOW}/{name}.twp"
        );
    }
    assert_eq!(std::fs::read(f.path("merged.twp")).unwrap(), std::fs::read(f.path("both.twp")).unwrap());
}

/// The `.twp` format version today's build writes.
const PROFILE_FORMAT_NOW: u32 = 4;

fn profiles_dir(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/profiles/v{version}"))
}

fn committed_profile(version: u32, name: &str) -> Vec<u8> {
    let path = profiles_dir(version).join(format!("{name}.twp"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Profiles written by earlier builds, committed: format 1 (made at 3ae8b8d, before format 2
/// kept the 2- and 3-gram tables as keys only) and format 2 (made before the engine moved out of
/// the binary; both kept the sample as text, format 3 keeps it as tokens). Each still reads,
/// scores as a profile of the same inputs made today does (today's keep no text, so no
/// compression ratio), and merges with today's profiles.
#[test]
fn profiles_of_every_format_still_read() {
    let f = Fixtures::new();
    let names = ["healthy", "healthy2", "both", "items", "sketched"];
    let mut commands = Vec::new();
    for version in [1, 2] {
        for name in names {
            let copy = format!("v{version}-{name}.twp");
            std::fs::write(f.path(&copy), committed_profile(version, name)).expect("copy profile");
            let mut args = vec!["score".to_string(), copy, "--json".to_string()];
            if name == "items" {
                args.extend(["--tokenizer".to_string(), "items".to_string()]);
            }
            commands.push(args);
        }
    }
    let runs: Vec<Run> =
        commands.iter().map(|args| f.run(&args.iter().map(String::as_str).collect::<Vec<_>>())).collect();
    for (i, name) in names.iter().enumerate() {
        let (v1, v2) = (runs[i].json(), runs[i + names.len()].json());
        assert_eq!(v1["metrics"], v2["metrics"], "{name}: format 1 and 2 score alike");
        assert_eq!(v1["approximate"], v2["approximate"], "{name}");
        if *name != "sketched" {
            std::fs::write(f.path("now.twp"), committed_profile(PROFILE_FORMAT_NOW, name)).unwrap();
            let mut args = vec!["score", "now.twp", "--json"];
            if *name == "items" {
                args.extend(["--tokenizer", "items"]);
            }
            let mut now = f.run(&args).json()["metrics"].clone();
            let mut then = v2["metrics"].clone();
            for metrics in [&mut now, &mut then] {
                let metrics = metrics.as_object_mut().unwrap();
                metrics.remove("compression_ratio");
                // (counted since format 4: null in older profiles)
                metrics.remove("refusal_rate");
                metrics.remove("disclaimer_rate");
            }
            assert_eq!(now, then, "{name}: formats 2 and {PROFILE_FORMAT_NOW} score alike");
        }
    }
    // a format-1 profile merges with a format-2 one into what profiling both inputs gave
    // before refusals were counted (keeping text, as both did): format 3, no phrase counts
    let merged = f.run(&["merge", "v1-healthy.twp", "v2-healthy2.twp", "-o", "merged.twp"]);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    assert!(std::fs::read(f.path("merged.twp")).unwrap() == committed_profile(3, "both-text"));
    // and with today's, which keep no text, into a profile of neither's text
    std::fs::write(f.path("now-healthy.twp"), committed_profile(PROFILE_FORMAT_NOW, "healthy")).unwrap();
    let merged =
        f.run(&["merge", "v1-healthy.twp", "v2-healthy2.twp", "now-healthy.twp", "-o", "merged.twp"]);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    assert!(merged.stderr.contains("no document text"), "{}", merged.stderr);
    let text: Vec<String> = commands
        .iter()
        .zip(&runs)
        .map(|(args, run)| shown(&args.iter().map(String::as_str).collect::<Vec<_>>(), run))
        .collect();
    settings().bind(|| insta::assert_snapshot!("profiles_of_every_format", text.join("\n")));
}

#[test]
fn metrics() {
    let f = Fixtures::new();
    snapshot_runs(&f, "metrics", &[&["metrics"], &["metrics", "--json"]]);
}

#[test]
fn simulate() {
    let f = Fixtures::new();
    snapshot_runs(
        &f,
        "simulate",
        &[
            &[
                "simulate",
                "gaussian",
                "--generations",
                "5",
                "--replicates",
                "50",
                "--strategy",
                "replace,accumulate",
            ],
            &[
                "simulate",
                "gaussian",
                "--generations",
                "3",
                "--replicates",
                "20",
                "--estimator",
                "unbiased",
                "--json",
            ],
            &["simulate", "mvgaussian", "--generations", "3", "--replicates", "20", "--dim", "3", "--json"],
            &["simulate", "gmm", "--generations", "2", "--replicates", "2", "--samples", "200", "--json"],
            &[
                "simulate",
                "categorical",
                "--generations",
                "4",
                "--replicates",
                "20",
                "--categories",
                "30",
                "--json",
            ],
            &[
                "simulate",
                "poisson",
                "--generations",
                "4",
                "--replicates",
                "20",
                "--strategy",
                "fresh:0.2",
                "--json",
            ],
            &["simulate", "zipf", "--generations", "3", "--replicates", "5", "--samples", "2000", "--json"],
            &[
                "simulate",
                "mean",
                "--generations",
                "4",
                "--replicates",
                "20",
                "--strategy",
                "weighted:0.5",
                "--json",
            ],
            &["simulate", "regression", "--generations", "3", "--replicates", "20", "--dim", "2", "--json"],
            &[
                "simulate",
                "ngram",
                "--corpus",
                "human.txt",
                "--generations",
                "2",
                "--strategy",
                "replace,accumulate-subsample",
                "--dedup",
                "--tail-preserve",
            ],
            &["simulate", "ngram", "--corpus", "human.txt", "--generations", "2", "--order", "2", "--json"],
        ],
    );
}

#[test]
fn simulate_html() {
    let f = Fixtures::new();
    let run = f.run(&["simulate", "zipf", "--generations", "3", "--replicates", "5", "--html", "sim.html"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot_file(&f, "simulate_html", "sim.html");
}

#[test]
fn demo() {
    let f = Fixtures::new();
    snapshot_runs(&f, "demo", &[&["demo", "--output", "demo"], &["demo", "--output", "demo-json", "--json"]]);
    for file in ["gaussian.json", "zipf.json", "ngram.json", "report.html"] {
        snapshot_file(&f, &format!("demo_{file}"), &format!("demo/{file}"));
    }
    assert_eq!(f.read("demo/corpus.txt"), f.read("demo-json/corpus.txt"));
    assert_eq!(f.read("demo/corpus.txt").lines().count(), 12_000);
}

#[test]
fn dedup() {
    let f = Fixtures::new();
    snapshot_runs(
        &f,
        "dedup",
        &[
            &[
                "dedup",
                "dups.jsonl",
                "-o",
                "kept.jsonl",
                "--clusters",
                "clusters.jsonl",
                "--pairs",
                "pairs.jsonl",
            ],
            &["dedup", "dups.jsonl", "--keep", "prefer:origin=human", "--json", "-o", "kept-human.jsonl"],
            &["dedup", "dups.txt", "--exact-only", "--json"],
            &["dedup", "dups.txt", "--exact-pairs", "--threshold", "0.7"],
            &["dedup", "dups.txt", "--compat", "datasketch", "--json", "--keep", "longest"],
            &["dedup", "dups.txt", "--mode", "fss", "--bands", "16", "--rows", "8", "--no-verify"],
            &["dedup", "dups.jsonl", "dups.txt", "-o", "kept-dir", "--json"],
        ],
    );
    for file in [
        "kept.jsonl",
        "clusters.jsonl",
        "pairs.jsonl",
        "kept-human.jsonl",
        "kept-dir/dups.jsonl",
        "kept-dir/dups.txt",
    ] {
        snapshot_file(&f, &format!("dedup_{}", file.replace('/', "_")), file);
    }
}

#[test]
fn ledger_and_mix() {
    let f = Fixtures::new();
    let ingest: &[&str] = &[
        "ledger",
        "ingest",
        "records.jsonl",
        "--db",
        "l.db",
        "--field-map",
        "origin=origin,generator=model,generation=gen,source=source",
        "--key-field",
        "id",
        "--parent-field",
        "parent",
        "--license",
        "cc-by",
    ];
    snapshot_runs(
        &f,
        "ledger",
        &[
            &["ledger", "init", "--db", "l.db"],
            &["ledger", "init", "--db", "l.db"],
            ingest,
            &[
                "ledger",
                "ingest",
                "human.txt",
                "--db",
                "l.db",
                "--origin",
                "human",
                "--source",
                "plays",
                "--json",
            ],
            ingest,
            &["ledger", "stats", "--db", "l.db"],
            &["ledger", "stats", "--db", "l.db", "--json"],
            &["ledger", "lineage", "h3", "--db", "l.db"],
            &["ledger", "lineage", "s3", "--db", "l.db", "--json"],
            &["ledger", "export", "--db", "l.db", "-o", "export.jsonl"],
            &[
                "ledger",
                "review",
                "sample",
                "--db",
                "l.db",
                "--size",
                "6",
                "--seed",
                "2",
                "-o",
                "review.jsonl",
            ],
        ],
    );
    snapshot_file(&f, "ledger_export_jsonl", "export.jsonl");
    snapshot_file(&f, "ledger_export_manifest", "export.croissant.json");
    snapshot_file(&f, "ledger_review_sample", "review.jsonl");
    // judge the sample: accept every other record, leave one undecided
    let verdicts: String = f
        .read("review.jsonl")
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut v: serde_json::Value = serde_json::from_str(line).expect("json");
            v["verdict"] = match i % 3 {
                0 => "accept".into(),
                1 => "reject".into(),
                _ => serde_json::Value::Null,
            };
            v["reviewer"] = "ana".into();
            format!("{v}\n")
        })
        .collect();
    std::fs::write(f.path("verdicts.jsonl"), verdicts).expect("write");
    snapshot_runs(
        &f,
        "ledger_review",
        &[
            &["ledger", "review", "record", "verdicts.jsonl", "--db", "l.db"],
            &["ledger", "review", "report", "--db", "l.db"],
            &["ledger", "review", "report", "--db", "l.db", "--json"],
        ],
    );
    snapshot_runs(
        &f,
        "mix",
        &[
            &["mix", "--db", "l.db", "-o", "mix.jsonl", "--max-synthetic", "0.2"],
            &[
                "mix",
                "--db",
                "l.db",
                "-o",
                "mix2.jsonl",
                "--name",
                "second",
                "--unit",
                "tokens",
                "--max-synthetic",
                "0.3",
                "--min-human",
                "50%",
                "--dedup",
                "--tail-preserve",
                "--accumulate",
                "--generator",
                "gen-a",
                "--json",
            ],
            &["mix", "--db", "l.db", "-o", "mix3.jsonl", "--size", "500", "--max-synthetic", "0.1"],
        ],
    );
    snapshot_file(&f, "mix_jsonl", "mix.jsonl");
    snapshot_file(&f, "mix_manifest", "mix.manifest.json");
    snapshot_file(&f, "mix2_jsonl", "mix2.jsonl");
}

#[test]
fn detect() {
    let f = Fixtures::new();
    // a word-level tokenizer over the fixture vocabulary, and watermarked documents
    let vocab: serde_json::Map<String, serde_json::Value> =
        (0..1000).map(|i| (format!("w{i}"), serde_json::json!(i))).collect();
    let tokenizer = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
        "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "w0"}
    });
    std::fs::write(f.path("tokenizer.json"), tokenizer.to_string()).expect("write");
    let config = tailwatch_detect::WatermarkConfig { key: 42, ..Default::default() };
    let text = |delta: f64, seed: u64| {
        tailwatch_detect::generate_toy(&config, delta, 1000, 120, seed)
            .expect("toy")
            .iter()
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    std::fs::write(f.path("marked.txt"), format!("{}\n{}\n{}\n", text(2.0, 1), text(0.0, 2), text(2.0, 3)))
        .expect("write");
    snapshot_runs(
        &f,
        "detect",
        &[
            &["detect", "train", "--labelled", "labelled.jsonl", "-o", "det.json", "--json"],
            &[
                "detect",
                "train",
                "--human",
                "detect_human.txt",
                "--machine",
                "detect_machine.txt",
                "--reference",
                "human.txt",
                "--kind",
                "stumps",
                "-o",
                "det-stumps.json",
            ],
            &["detect", "eval", "--labelled", "labelled.jsonl", "--detector", "det.json"],
            &[
                "detect",
                "eval",
                "--human",
                "detect_human.txt",
                "--machine",
                "detect_machine.txt",
                "--detector",
                "det-stumps.json",
                "--json",
            ],
            &["detect", "score", "labelled.jsonl", "--detector", "det.json", "-o", "scored.jsonl"],
            &["detect", "score", "detect_machine.txt", "--detector", "det-stumps.json", "--score-field", "p"],
            &["detect", "watermark", "marked.txt", "--tokenizer", "tokenizer.json", "--key", "42"],
            &["detect", "watermark", "marked.txt", "--tokenizer", "tokenizer.json", "--key", "42", "--json"],
        ],
    );
    snapshot_file(&f, "detect_model", "det.json");
    snapshot_file(&f, "detect_model_stumps", "det-stumps.json");
    snapshot_file(&f, "detect_scored", "scored.jsonl");
}

#[test]
fn push() {
    let f = Fixtures::new();
    let served = crate::watch::serve(&f.path("watch.db"), &[]);
    let token = [("TAILWATCH_TOKEN", crate::watch::TOKEN), ("TAILWATCH_SERVER", served.url.as_str())];
    let commands: &[&[&str]] = &[
        &["push", "healthy.jsonl", "--model", "chat", "--model-version", "v1", "--window", "w1"],
        &["push", "healthy.jsonl", "--model", "chat", "--model-version", "v1", "--window", "w1"],
        &[
            "push",
            "healthy2.txt",
            "--model",
            "chat",
            "--model-version",
            "v1",
            "--window",
            "w2",
            "--cohort",
            "eu",
            "--json",
        ],
        &[
            "push",
            "collapsed.jsonl",
            "--model",
            "chat",
            "--model-version",
            "v2",
            "--window",
            "w2",
            "--fail-on-alert",
        ],
    ];
    let rule = serde_json::json!({"model": "*", "metric": "distinct_2", "kind": "fixed", "threshold": 0.6});
    let created = crate::watch::http("POST", &format!("{}/api/v1/rules", served.url), &rule.to_string());
    assert_eq!(created["metric"], "distinct_2", "{created}");
    let text: Vec<String> = commands.iter().map(|args| shown(args, &f.run_env(args, &token))).collect();
    settings().bind(|| insta::assert_snapshot!("push", text.join("\n")));
}
