//! Acceptance on real third-party data from ../shared/data.
use crate::{shared_data, tailwatch};

const GENERATORS: [&str; 6] = ["seq", "maligan", "rank", "leakgan", "textgan", "mle"];

/// Texygen: self-BLEU-4 at a fixed sample size ranks the six generators like the published
/// table (at most one adjacent swap), and distinct_4 marks TextGAN as the most collapsed.
#[test]
fn texygen_generators_rank_like_the_published_table() {
    // Published S-BLEU4 (Texygen README): seq .670, maligan .606, rank .762, leakgan .848, textgan .804, mle .583
    let published = [0.670, 0.606, 0.762, 0.848, 0.804, 0.583];
    let mut ours = Vec::new();
    let mut distinct4 = Vec::new();
    for g in GENERATORS {
        let path = shared_data(&format!("texygen/gen_{g}.txt"));
        let run = tailwatch(&[
            "score",
            path.to_str().unwrap(),
            "--tokenizer",
            "whitespace",
            "--sample",
            "500",
            "--json",
            "-q",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        ours.push(run.metric("self_bleu_4"));
        distinct4.push(run.metric("distinct_4"));
    }
    let rank = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[b].total_cmp(&v[a]));
        idx
    };
    let (want, got) = (rank(&published), rank(&ours));
    let discordant: usize = (0..6)
        .flat_map(|i| (i + 1..6).map(move |j| (i, j)))
        .filter(|&(i, j)| (published[i] - published[j]).signum() != (ours[i] - ours[j]).signum())
        .count();
    assert!(
        discordant <= 1,
        "published order {want:?}, ours {got:?} (values {ours:?}): {discordant} discordant pairs"
    );
    let most_collapsed = distinct4.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    assert_eq!(GENERATORS[most_collapsed], "textgan", "distinct_4 = {distinct4:?}");
}

/// fast-detect-gpt: with human text as baseline and machine text as candidate, `compare` flags
/// lower distinct_2 in every xsum file.
#[test]
fn machine_text_has_lower_distinct_2_in_every_xsum_file() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("strict.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nmetric = \"distinct_2\"\nrelative = 0.02\nreason = \"any clear drop\"\n",
    )
    .unwrap();
    for model in ["gpt2-xl", "opt-2.7b", "gpt-neo-2.7B", "gpt-j-6B", "gpt-neox-20b"] {
        let path = shared_data(&format!("fast-detect-gpt/exp_main/xsum_{model}.raw_data.json"));
        let p = path.to_str().unwrap();
        let run = tailwatch(&[
            "compare",
            p,
            p,
            "--baseline-field",
            "original",
            "--candidate-field",
            "sampled",
            "--rules",
            rules.to_str().unwrap(),
            "--json",
            "-q",
        ]);
        assert_eq!(run.code, 1, "{model}: {}\n{}", run.stdout, run.stderr);
        let check = &run.json()["checks"][0];
        assert_eq!(check["metric"], "distinct_2");
        assert_eq!(check["breached"], true, "{model}: {check}");
        assert!(check["candidate"].as_f64() < check["baseline"].as_f64());
        // the default rules report the drop as a move in the collapse direction
        let default = tailwatch(&[
            "compare",
            p,
            p,
            "--baseline-field",
            "original",
            "--candidate-field",
            "sampled",
            "--json",
            "-q",
        ]);
        let d2 = default.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["metric"] == "distinct_2")
            .cloned()
            .unwrap();
        assert_eq!(d2["worse"], true, "{model}: {d2}");
    }
}

/// With the wordfreq reference, Shakespeare is closer to general English than TextGAN output.
#[test]
fn shakespeare_is_closer_to_english_than_textgan() {
    let reference = shared_data("wordfreq-en/small_en.tsv");
    let js = |rel: &str| {
        let path = shared_data(rel);
        let run = tailwatch(&[
            "score",
            path.to_str().unwrap(),
            "--lowercase",
            "--reference",
            reference.to_str().unwrap(),
            "--json",
            "-q",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let j = run.json();
        assert_eq!(j["reference"]["kind"], "frequencies");
        (run.metric("js_to_reference"), run.metric("tail_coverage"))
    };
    let (shakespeare, shakespeare_tail) = js("tiny-shakespeare/input.txt");
    let (textgan, textgan_tail) = js("texygen/gen_textgan.txt");
    assert!(shakespeare < textgan, "js: shakespeare {shakespeare} vs textgan {textgan}");
    assert!(
        shakespeare_tail > textgan_tail,
        "tail_coverage: shakespeare {shakespeare_tail} vs textgan {textgan_tail}"
    );
}

/// `score --ci`: each metric's interval holds its value, the JSON says how it was made, the
/// thread count changes nothing, the seed changes the groups, and what cannot have intervals
/// (a profile, a level outside (0, 1)) exits 2 naming the flag.
#[test]
fn score_ci_gives_every_metric_an_interval() {
    let path = shared_data("texygen/ref_test_emnlp.txt");
    let path = path.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["score", path, "--ci", "0.9", "--json", "-q"];
        args.extend(extra);
        let run = tailwatch(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json()
    };
    let one = run(&["--threads", "1"]);
    let intervals = &one["intervals"];
    assert_eq!(intervals["method"], "jackknife");
    assert_eq!(intervals["groups"], 20);
    assert_eq!(intervals["confidence"], 0.9);
    assert_eq!(intervals["dealt"], "documents");
    let metrics = one["metrics"].as_object().unwrap();
    let values = intervals["values"].as_object().unwrap();
    // every defined metric has one (duplicate_rate and top_output_share too: an interval of 0 width)
    let defined = metrics.values().filter(|v| !v.is_null()).count();
    assert_eq!(values.len(), defined, "{values:?}");
    for (id, bounds) in values {
        let (low, high) = (bounds[0].as_f64().unwrap(), bounds[1].as_f64().unwrap());
        let value = metrics[id].as_f64().unwrap();
        assert!(low <= value && value <= high, "{id}: {value} outside [{low}, {high}]");
    }
    // the distinct_2 of 10,000 sentences is known to about 1 %: the interval is narrow, not empty
    let [low, high] = [0, 1].map(|i| values["distinct_2"][i].as_f64().unwrap());
    assert!(high > low && (high - low) / metrics["distinct_2"].as_f64().unwrap() < 0.05);
    // the values are those of a plain score
    let plain = tailwatch(&["score", path, "--json", "-q"]).json();
    assert_eq!(plain["metrics"], one["metrics"]);
    assert!(plain.get("intervals").is_none());
    assert_eq!(run(&["--threads", "2"]), one);
    assert_ne!(run(&["--seed", "3"])["intervals"]["values"], one["intervals"]["values"]);

    let dir = tempfile::tempdir().unwrap();
    let twp = dir.path().join("emnlp.twp");
    assert_eq!(tailwatch(&["profile", path, "-o", twp.to_str().unwrap(), "-q"]).code, 0);
    let refused = tailwatch(&["score", twp.to_str().unwrap(), "--ci", "0.95"]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("need the documents") && refused.stderr.contains("--ci"),
        "{}",
        refused.stderr
    );
    // records of four sentences each (an array field) are dealt whole: the values are the
    // same documents', the intervals are of 20 groups of records
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().take(2000).collect();
    let jsonl: String =
        lines.chunks(4).map(|c| serde_json::json!({ "samples": c }).to_string() + "\n").collect();
    let grouped = crate::write(dir.path(), "grouped.jsonl", jsonl.as_bytes());
    let flat = crate::write(dir.path(), "flat.txt", (lines.join("\n") + "\n").as_bytes());
    let by_record =
        tailwatch(&["score", &grouped, "--field", "samples", "--ci", "0.9", "--json", "-q"]).json();
    let by_document = tailwatch(&["score", &flat, "--ci", "0.9", "--json", "-q"]).json();
    assert_eq!(by_record["intervals"]["dealt"], "records");
    assert_eq!(by_record["intervals"]["groups"], 20);
    assert_eq!(by_record["metrics"], by_document["metrics"]);
    let table = tailwatch(&["score", &grouped, "--field", "samples", "--ci", "0.9"]);
    assert!(table.stdout.contains("jackknife over 20 groups of records"), "{}", table.stdout);
    for level in ["1", "0", "1.5", "nan"] {
        let bad = tailwatch(&["score", path, "--ci", level]);
        assert_eq!(bad.code, 2, "--ci {level}");
        assert!(bad.stderr.contains("--ci must be in (0, 1)"), "{}", bad.stderr);
    }
}

/// `compare` says why: TextGAN's captions grow templates, repeat outputs and lose the human
/// captions' words; two halves of the human captions list no grown n-gram and no lost word.
#[test]
fn compare_explains_a_collapse_and_not_chance() {
    let dir = tempfile::tempdir().unwrap();
    let coco = std::fs::read_to_string(shared_data("texygen/ref_test_coco.txt")).unwrap();
    let lines: Vec<&str> = coco.lines().collect();
    let first = crate::write(dir.path(), "first.txt", lines[..5000].join("\n").as_bytes());
    let second = crate::write(dir.path(), "second.txt", lines[5000..].join("\n").as_bytes());
    let textgan = shared_data("texygen/gen_textgan.txt");
    let why = |baseline: &str, candidate: &str| {
        let run = tailwatch(&["compare", baseline, candidate, "--tokenizer", "whitespace", "--json", "-q"]);
        assert!(run.code <= 1, "{}", run.stderr);
        run.json()["explanation"].clone()
    };
    let collapsed = why(&first, textgan.to_str().unwrap());
    let grown: Vec<&str> =
        collapsed["grown_ngrams"].as_array().unwrap().iter().map(|g| g["ngram"].as_str().unwrap()).collect();
    assert!(grown.contains(&"a motorcycle ."), "{grown:?}");
    let top = &collapsed["repeated_outputs"][0];
    assert_eq!((top["text"].as_str(), top["candidate_count"].as_u64()), (Some("a motorcycle ."), Some(2768)));
    assert!(collapsed["lost_words"].as_array().unwrap().iter().any(|w| w["word"] == "standing"));
    assert!(collapsed["near_duplicates"][0]["jaccard"].as_f64().unwrap() >= 0.5);
    let null = why(&first, &second);
    assert_eq!(null["grown_ngrams"], serde_json::json!([]), "{null}");
    assert_eq!(null["lost_words"], serde_json::json!([]), "{null}");
}

/// `score --per-doc`: one JSON line per document, so the worst can be sorted out; it never
/// overwrites an input.
#[test]
fn score_per_doc_writes_one_row_per_document() {
    let dir = tempfile::tempdir().unwrap();
    let textgan = shared_data("texygen/gen_textgan.txt");
    let rows = dir.path().join("rows.jsonl");
    let run = tailwatch(&["score", textgan.to_str().unwrap(), "--per-doc", rows.to_str().unwrap(), "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("wrote 9980 document rows"), "{}", run.stderr);
    let rows: Vec<serde_json::Value> =
        std::fs::read_to_string(&rows).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 9980);
    assert_eq!(rows[0]["doc"], 1);
    assert_eq!(rows[9979]["doc"], 9980);
    // the most copied document is the one compare lists first
    let most = rows.iter().max_by_key(|r| r["copies"].as_u64().unwrap()).unwrap();
    assert_eq!(most["copies"], 2768);
    for row in &rows {
        let tokens = row["tokens"].as_u64().unwrap();
        assert!(tokens == 0 || (0.0..=1.0).contains(&row["distinct_1"].as_f64().unwrap()), "{row}");
        assert!((0.0..=1.0).contains(&row["self_bleu_4"].as_f64().unwrap()), "{row}");
    }
    // an input is never overwritten
    let input = crate::write(dir.path(), "in.txt", b"one two three\nfour five six\n");
    let refused = tailwatch(&["score", &input, "--per-doc", &input]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("is also an input of this run"), "{}", refused.stderr);
    assert_eq!(std::fs::read(&input).unwrap(), b"one two three\nfour five six\n");
}
