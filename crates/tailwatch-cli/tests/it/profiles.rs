//! Profiles: merge equals profiling the union; thread count and document order change nothing.
use crate::{tailwatch, write};

fn corpus(seed: u64, n: usize) -> String {
    let words =
        ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"];
    let mut x = seed;
    let mut out = String::new();
    for i in 0..n {
        let len = 3 + (i % 9);
        for j in 0..len {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if j > 0 {
                out.push(' ');
            }
            out.push_str(words[((x >> 33) as usize % words.len()).min((x >> 40) as usize % words.len())]);
        }
        out.push('\n');
        if i % 17 == 0 {
            out.push_str("the same line again\n");
        }
    }
    out
}

fn metrics(args: &[&str]) -> serde_json::Value {
    let run = tailwatch(args);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    run.json()["metrics"].clone()
}

#[test]
fn merge_of_profiles_equals_profile_of_union() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = write(d, "a.txt", corpus(1, 400).as_bytes());
    let b = write(d, "b.txt", corpus(2, 300).as_bytes());
    let pa = d.join("a.twp");
    let pb = d.join("b.twp");
    let pab = d.join("ab.twp");
    let merged = d.join("merged.twp");
    for (input, out) in [(&a, &pa), (&b, &pb)] {
        let run = tailwatch(&["profile", input, "-o", out.to_str().unwrap(), "-q", "--sample", "100"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let run = tailwatch(&["profile", &a, &b, "-o", pab.to_str().unwrap(), "-q", "--sample", "100"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run =
        tailwatch(&["merge", pb.to_str().unwrap(), pa.to_str().unwrap(), "-o", merged.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read(&merged).unwrap(), std::fs::read(&pab).unwrap(), "byte-identical profiles");
    let from_profile = metrics(&["score", merged.to_str().unwrap(), "--json", "-q"]);
    let mut from_text = metrics(&["score", &a, &b, "--combine", "--sample", "100", "--json", "-q"]);
    // the profiles keep no text, so no compression ratio (tests below keep it)
    from_text["compression_ratio"] = serde_json::Value::Null;
    assert_eq!(from_profile, from_text);

    let mismatch = d.join("other.twp");
    let run =
        tailwatch(&["profile", &a, "-o", mismatch.to_str().unwrap(), "-q", "--tokenizer", "whitespace"]);
    assert_eq!(run.code, 0);
    let run = tailwatch(&[
        "merge",
        pa.to_str().unwrap(),
        mismatch.to_str().unwrap(),
        "-o",
        d.join("x.twp").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("incompatible"), "{}", run.stderr);
    assert!(!d.join("x.twp").exists(), "no output written on failure");
}

#[test]
fn metrics_do_not_depend_on_threads_or_order() {
    let dir = tempfile::tempdir().unwrap();
    let text = corpus(7, 3000);
    let mut reversed: Vec<&str> = text.lines().collect();
    reversed.reverse();
    let a = write(dir.path(), "a.txt", text.as_bytes());
    let r = write(dir.path(), "r.txt", (reversed.join("\n") + "\n").as_bytes());
    let one = metrics(&["score", &a, "--json", "-q", "--threads", "1", "--sample", "300"]);
    let two = metrics(&["score", &a, "--json", "-q", "--threads", "2", "--sample", "300"]);
    let rev = metrics(&["score", &r, "--json", "-q", "--threads", "2", "--sample", "300"]);
    assert_eq!(one, two);
    assert_eq!(one, rev);
    for n in 2..=5 {
        let v = one[format!("self_bleu_{n}")].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v));
    }
}

#[test]
fn memory_budget_switches_to_sketches_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", corpus(3, 2000).as_bytes());
    let exact = tailwatch(&["score", &a, "--json", "-q"]).json();
    let run = tailwatch(&["score", &a, "--json", "-q", "--max-memory", "1KiB"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let approx = run.json();
    let listed: Vec<&str> =
        approx["approximate"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(listed.contains(&"distinct_4"), "{listed:?}");
    for n in 2..=4 {
        let id = format!("distinct_{n}");
        let (e, s) = (exact["metrics"][&id].as_f64().unwrap(), approx["metrics"][&id].as_f64().unwrap());
        assert!((e - s).abs() / e < 0.05, "{id}: exact {e} vs sketch {s}");
    }
    assert_eq!(exact["metrics"]["distinct_1"], approx["metrics"]["distinct_1"]);
    assert_eq!(exact["metrics"]["self_bleu_4"], approx["metrics"]["self_bleu_4"]);
}

#[test]
fn score_metrics_computes_only_those_and_equal_values() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "c.txt", corpus(3, 500).as_bytes());
    let full = tailwatch(&["score", &input, "--sample", "all", "--json", "-q"]).json();
    for ids in ["self_bleu_4", "self_bleu_4,distinct_2", "duplicate_rate", "mtld,entropy_1,rep_2"] {
        let run = tailwatch(&["score", &input, "--sample", "all", "--metrics", ids, "--json", "-q"]);
        assert_eq!(run.code, 0, "{ids}: {}", run.stderr);
        let part = run.json();
        let got = part["metrics"].as_object().unwrap();
        let mut asked: Vec<&str> = ids.split(',').collect();
        asked.sort_unstable();
        let mut keys: Vec<&str> = got.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, asked, "{ids}: only the metrics asked for");
        for id in &asked {
            assert_eq!(got[*id], full["metrics"][*id], "{ids}: {id} equals the full run's");
        }
        // the counts do not depend on which parts were profiled
        for field in ["n_docs", "n_tokens"] {
            assert_eq!(part[field], full[field], "{ids}: {field}");
        }
    }
    let unknown = tailwatch(&["score", &input, "--metrics", "self_bleu_9", "-q"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("unknown metric `self_bleu_9`"), "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("hint: `tailwatch metrics` lists the ids --metrics takes"),
        "{}",
        unknown.stderr
    );
}

/// A profile's decompressed body (the `.twp` header is 12 bytes, its checksum 8, then zstd).
fn profile_body(path: &std::path::Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    zstd::decode_all(&bytes[20..]).expect("a zstd body")
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Without --keep-text a profile holds none of its documents as text: every input line of more
/// than one word is searched for in the file and in its decompressed body (a line of one word is
/// a vocabulary entry, which a profile keeps). With --keep-text the sampled lines are there, so
/// the search can find what it looks for.
#[test]
fn profiles_hold_no_document_text_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shakespeare = std::fs::read_to_string(crate::shared_data("tiny-shakespeare/input.txt")).unwrap();
    // 2,000 lines: the sample of 1,000 is half of them, all 250 of a small input
    let lines: Vec<&str> =
        shakespeare.lines().filter(|l| l.split_whitespace().count() >= 2).take(2000).collect();
    let input = write(d, "lines.txt", (lines.join("\n") + "\n").as_bytes());
    let small = write(d, "small.txt", (lines[..250].join("\n") + "\n").as_bytes());
    for (source, n) in [(&input, lines.len()), (&small, 250)] {
        let plain = d.join("plain.twp");
        let kept = d.join("kept.twp");
        let run = tailwatch(&["profile", source, "-o", plain.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains("no document text"), "{}", run.stderr);
        let run = tailwatch(&["profile", source, "--keep-text", "-o", kept.to_str().unwrap(), "-q"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let (file, body) = (std::fs::read(&plain).unwrap(), profile_body(&plain));
        for line in &lines[..n] {
            assert!(!contains(&body, line.as_bytes()), "the profile's body holds `{line}`");
            assert!(!contains(&file, line.as_bytes()), "the profile holds `{line}`");
        }
        let kept_body = profile_body(&kept);
        let found = lines[..n].iter().filter(|l| contains(&kept_body, l.as_bytes())).count();
        assert!(found >= n.min(1000) * 9 / 10, "--keep-text keeps the sample's text: {found} of {n} lines");
        // what the metrics need is all there but the text: every metric but compression_ratio
        let without = metrics(&["score", plain.to_str().unwrap(), "--json", "-q"]);
        let with = metrics(&["score", kept.to_str().unwrap(), "--json", "-q"]);
        let from_text = metrics(&["score", source, "--json", "-q"]);
        assert_eq!(with, from_text);
        let mut expected = from_text.clone();
        expected["compression_ratio"] = serde_json::Value::Null;
        assert_eq!(without, expected);
        let report = tailwatch(&["score", plain.to_str().unwrap(), "--json", "-q"]).json();
        assert_eq!(report["sample"]["text_kept"], false);
        assert!(report["notes"].to_string().contains("compression_ratio needs the sample's text"));
    }
}

/// `compare` of profiles that keep no text matches sizes and tests as it does with their text:
/// every check but compression_ratio (which needs the text, so is skipped) has the same values,
/// p-value and interval as the comparison of the same profiles made with --keep-text.
#[test]
fn profiles_without_text_compare_at_matched_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shakespeare = std::fs::read_to_string(crate::shared_data("tiny-shakespeare/input.txt")).unwrap();
    let lines: Vec<&str> = shakespeare.lines().filter(|l| l.split_whitespace().count() >= 3).collect();
    let a = write(d, "a.txt", (lines[..600].join("\n") + "\n").as_bytes());
    // the candidate: 300 other lines, a third of them one repeated line
    let mut cand: Vec<&str> = lines[600..900].to_vec();
    for line in cand.iter_mut().step_by(3) {
        *line = lines[1000];
    }
    let b = write(d, "b.txt", (cand.join("\n") + "\n").as_bytes());
    let mut reports = Vec::new();
    for extra in [None, Some("--keep-text")] {
        let mut names = Vec::new();
        for (input, name) in [(&a, "a"), (&b, "b")] {
            let out = d.join(format!("{name}{}.twp", if extra.is_some() { "-text" } else { "" }));
            let mut args = vec!["profile", input.as_str(), "-o", out.to_str().unwrap(), "-q"];
            args.extend(extra);
            assert_eq!(tailwatch(&args).code, 0);
            names.push(out);
        }
        let run =
            tailwatch(&["compare", names[0].to_str().unwrap(), names[1].to_str().unwrap(), "--json", "-q"]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        reports.push(run.json());
    }
    let (plain, text) = (&reports[0], &reports[1]);
    assert_eq!(plain["verdict"], "collapse");
    let checks = |r: &serde_json::Value| r["checks"].as_array().unwrap().clone();
    for (p, t) in checks(plain).iter().zip(checks(text)) {
        if p["metric"] == "compression_ratio" {
            assert_eq!(p["status"], "skipped", "{p}");
            continue;
        }
        assert_eq!(p, &t, "the check of {} differs without text", p["metric"]);
        assert_eq!(p["docs"], 300, "matched at the candidate's size: {p}");
    }
    assert!(checks(plain).iter().any(|c| c["p_value"].is_number()));
    assert!(plain["notes"].to_string().contains("compared as tokens"), "{}", plain["notes"]);
    assert!(plain["explanation"].is_null() && text["explanation"].is_object());
}
