//! Answers grouped by prompt: `--group-field`, `--group-by record`, `--per-group`, merges of
//! shards that split groups, and bad input; on synthetic groups and on fast-detect-gpt.
use std::path::Path;

use serde_json::json;

use crate::{shared_data, tailwatch, write};

const MODELS: [&str; 5] = ["gpt2-xl", "opt-2.7b", "gpt-neo-2.7B", "gpt-j-6B", "gpt-neox-20b"];

/// fast-detect-gpt's xsum continuations as records `{prompt, model, text}`: the prompt is the
/// words a continuation shares with its human original (what the model was given), keyed by
/// the original's first 12 words, kept only for the prompts all five models continued.
fn xsum_answers() -> Vec<(String, String, String)> {
    let mut by_prompt: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for model in MODELS {
        let path = shared_data(&format!("fast-detect-gpt/exp_main/xsum_{model}.raw_data.json"));
        let data: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let originals = data["original"].as_array().unwrap();
        let sampled = data["sampled"].as_array().unwrap();
        for (original, sampled) in originals.iter().zip(sampled) {
            let (original, sampled) = (original.as_str().unwrap(), sampled.as_str().unwrap());
            let key = original.split_whitespace().take(12).collect::<Vec<_>>().join(" ");
            // the shared prefix, cut back to a word boundary
            let shared = original.bytes().zip(sampled.bytes()).take_while(|(a, b)| a == b).count();
            let cut = sampled[..shared].rfind(char::is_whitespace).unwrap_or(0);
            by_prompt.entry(key).or_default().push((model.to_string(), sampled[cut..].trim().to_string()));
        }
    }
    by_prompt
        .into_iter()
        .filter(|(_, answers)| answers.len() == MODELS.len())
        .flat_map(|(key, answers)| answers.into_iter().map(move |(m, t)| (key.clone(), m, t)))
        .collect()
}

fn jsonl(records: &[(String, String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (prompt, model, text) in records {
        serde_json::to_writer(&mut out, &json!({"prompt": prompt, "model": model, "text": text})).unwrap();
        out.push(b'\n');
    }
    out
}

fn per_group(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Planting one model's answer as all five answers of 30 prompts is found by
/// `collapsed_group_share` and fills the top of `--per-group`; shards that split every group
/// merge to the one-pass profile.
#[test]
fn planted_identical_answers_in_30_xsum_prompts_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = xsum_answers();
    let prompts: Vec<String> = {
        let mut p: Vec<String> = records.iter().map(|r| r.0.clone()).collect();
        p.dedup();
        p
    };
    assert!(prompts.len() >= 480, "{} prompts continued by all five models", prompts.len());
    let natural = write(dir.path(), "natural.jsonl", &jsonl(&records));
    // every 16th prompt (30 of them) answers five times the same
    let planted: Vec<&String> = prompts.iter().step_by(16).take(30).collect();
    assert_eq!(planted.len(), 30);
    let mut first = std::collections::HashMap::new();
    for (prompt, _, text) in &mut records {
        if planted.contains(&&*prompt) {
            let answer = first.entry(prompt.clone()).or_insert_with(|| text.clone());
            *text = answer.clone();
        }
    }
    let collapsed = write(dir.path(), "planted.jsonl", &jsonl(&records));
    let score = |input: &str, extra: &[&str]| {
        let mut args = vec!["score", input, "--group-field", "prompt", "--json", "-q"];
        args.extend_from_slice(extra);
        let run = tailwatch(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run
    };
    let before = score(&natural, &[]);
    let rows_path = dir.path().join("groups.jsonl");
    let after = score(&collapsed, &["--per-group", rows_path.to_str().unwrap()]);
    let groups = prompts.len() as f64;
    let (b, a) = (before.metric("collapsed_group_share"), after.metric("collapsed_group_share"));
    // the planted groups add 30 collapsed groups, less those already collapsed
    assert!(b < 0.05, "natural share of collapsed prompts {b}");
    assert!(a >= b + 29.0 / groups, "collapsed_group_share {b} -> {a}");
    assert!(after.metric("distinct_at_k") < before.metric("distinct_at_k"));
    assert_eq!(after.json()["groups"]["groups"], prompts.len());
    assert_eq!(after.json()["groups"]["mean_answers"], 5.0);
    // the worst 30 rows are the planted prompts
    let rows = per_group(&rows_path);
    assert_eq!(rows.len(), prompts.len());
    let top: std::collections::BTreeSet<&str> =
        rows[..30].iter().map(|r| r["group"].as_str().unwrap()).collect();
    let want: std::collections::BTreeSet<&str> = planted.iter().map(|p| p.as_str()).collect();
    assert_eq!(top, want);
    assert!(
        rows[..30].iter().all(|r| r["distinct_at_k"] == 1 && r["collapsed"] == true && r["self_bleu"] == 1.0)
    );
    assert!(rows[30]["self_bleu"].as_f64().unwrap() < 1.0);

    // three shards, records dealt round-robin: every group is split across them
    let planted_text = std::fs::read_to_string(&collapsed).unwrap();
    let lines: Vec<&str> = planted_text.lines().collect();
    let mut shards = Vec::new();
    for s in 0..3 {
        let body: String = lines.iter().skip(s).step_by(3).map(|l| format!("{l}\n")).collect();
        let input = write(dir.path(), &format!("shard{s}.jsonl"), body.as_bytes());
        let out = dir.path().join(format!("shard{s}.twp"));
        let run =
            tailwatch(&["profile", &input, "--group-field", "prompt", "-o", out.to_str().unwrap(), "-q"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        shards.push(out.to_str().unwrap().to_string());
    }
    let merged = dir.path().join("merged.twp");
    let whole = dir.path().join("whole.twp");
    let run = tailwatch(&["merge", &shards[2], &shards[0], &shards[1], "-o", merged.to_str().unwrap(), "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run =
        tailwatch(&["profile", &collapsed, "--group-field", "prompt", "-o", whole.to_str().unwrap(), "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::read(&merged).unwrap() == std::fs::read(&whole).unwrap(),
        "merged shards differ from one pass"
    );
    let from_shards = tailwatch(&["score", merged.to_str().unwrap(), "--json", "-q"]);
    assert_eq!(from_shards.code, 0, "{}", from_shards.stderr);
    for id in tailwatch_metrics::grouped::GROUP_IDS {
        // (utility_at_k and distinct_among_passing need a score field)
        if !after.json()["metrics"][id].is_null() {
            assert_eq!(from_shards.metric(id), after.metric(id), "{id}");
        }
    }
}

/// Records of k answers in an array field (`--group-by record`) and records sharing a field
/// give the same groups and metrics; `--equivalence` changes the classes.
#[test]
fn record_groups_equal_field_groups() {
    let dir = tempfile::tempdir().unwrap();
    let groups: Vec<(String, Vec<String>)> = (0..40)
        .map(|p| {
            let answers = (0..6)
                .map(|k| {
                    if p % 4 == 0 {
                        format!("the same answer to prompt {p}")
                    } else {
                        // no word in common with the group's other answers but the prompt's
                        format!("alpha{k} beta{k} gamma{k} p{p}")
                    }
                })
                .collect();
            (format!("p{p}"), answers)
        })
        .collect();
    let mut by_record = String::new();
    let mut by_field = String::new();
    for (key, answers) in &groups {
        by_record.push_str(&format!("{}\n", json!({"prompt": key, "generations": answers})));
        for a in answers {
            by_field.push_str(&format!("{}\n", json!({"prompt": key, "text": a})));
        }
    }
    let record = write(dir.path(), "record.jsonl", by_record.as_bytes());
    let field = write(dir.path(), "field.jsonl", by_field.as_bytes());
    let a = tailwatch(&["score", &record, "--field", "generations", "--group-by", "record", "--json", "-q"]);
    let b = tailwatch(&["score", &field, "--group-field", "prompt", "--json", "-q"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert_eq!(a.metric("collapsed_group_share"), 0.25);
    for id in
        ["distinct_at_k", "collapsed_group_share", "class_entropy", "group_self_bleu", "group_distinct_2"]
    {
        assert_eq!(a.metric(id), b.metric(id), "{id}");
    }
    assert_eq!(a.json()["groups"]["by"], "record");
    // the HTML report lists the most collapsed prompts, escaped
    let html_path = dir.path().join("report.html");
    let run =
        tailwatch(&["score", &field, "--group-field", "prompt", "--html", html_path.to_str().unwrap(), "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(
        html.contains("Most collapsed prompts") && html.contains("<td>p0</td><td>6</td><td>1</td>"),
        "{html}"
    );
    assert!(html.contains("Within prompts") && html.contains("collapsed_group_share"));
    assert_eq!(b.json()["groups"]["by"], "field `prompt`");
    // `exact` splits what `unigram` joins: 0.25 of groups stay collapsed, the others have 6 classes
    let exact =
        tailwatch(&["score", &field, "--group-field", "prompt", "--equivalence", "exact", "--json", "-q"]);
    assert_eq!(exact.metric("distinct_at_k"), 0.25 * 1.0 + 0.75 * 6.0);
    let loose = tailwatch(&[
        "score",
        &field,
        "--group-field",
        "prompt",
        "--equivalence",
        "jaccard:0.0",
        "--json",
        "-q",
    ]);
    assert_eq!(loose.metric("collapsed_group_share"), 1.0);
}

/// Bad input: a missing group field names file and line; a group of one answer is counted,
/// not scored; empty answers and a bad rule are clear errors or values, never a panic.
#[test]
fn grouping_refuses_or_counts_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    // 300 prompts of 4 answers of 2 KB: 2.4 MB of text the group sample would hold
    let mut big = String::new();
    for p in 0..300 {
        for a in 0..4 {
            let text = format!("answer {a} to prompt {p} ").repeat(90);
            big.push_str(&format!("{{\"prompt\":{p},\"text\":\"{text}\"}}\n"));
        }
    }
    let big = write(dir.path(), "big.jsonl", big.as_bytes());
    for threads in ["1", "2"] {
        let run = tailwatch(&[
            "score",
            &big,
            "--group-field",
            "prompt",
            "--max-memory",
            "1MiB",
            "--threads",
            threads,
            "-q",
        ]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("past the memory budget"), "{}", run.stderr);
        assert!(run.stderr.contains("hint: keep fewer groups with --group-sample"), "{}", run.stderr);
    }
    // 100 groups fit: two threads' samples together pass the budget, and pooling them gives
    // the rows of one thread with all the memory it wants
    let rows = |memory: &str, threads: &str| {
        let out = dir.path().join(format!("rows-{memory}-{threads}.jsonl"));
        let run = tailwatch(&[
            "score",
            &big,
            "--group-field",
            "prompt",
            "--group-sample",
            "100",
            "--max-memory",
            memory,
            "--threads",
            threads,
            "--per-group",
            out.to_str().unwrap(),
            "--json",
            "-q",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.json()["groups"]["groups"], 100);
        std::fs::read_to_string(out).unwrap()
    };
    let whole = rows("4GiB", "1");
    assert_eq!(rows("1MiB", "2"), whole);
    assert_eq!(rows("1MiB", "1"), whole);
    let missing =
        write(dir.path(), "missing.jsonl", b"{\"prompt\":\"a\",\"text\":\"x y\"}\n{\"text\":\"y z\"}\n");
    let run = tailwatch(&["score", &missing, "--group-field", "prompt", "-q"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("missing.jsonl: line 2: no group field `prompt`"), "{}", run.stderr);
    let null = write(dir.path(), "null.jsonl", b"{\"prompt\":null,\"text\":\"x y\"}\n");
    let run = tailwatch(&[
        "profile",
        &null,
        "--group-field",
        "prompt",
        "-o",
        dir.path().join("n.twp").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("line 1: no group field `prompt`"), "{}", run.stderr);
    // one group of one answer, one of two empty answers, one ordinary
    let odd = write(
        dir.path(),
        "odd.jsonl",
        b"{\"p\":1,\"text\":\"alone here\"}\n{\"p\":2,\"text\":\"\"}\n{\"p\":2,\"text\":\"\"}\n{\"p\":3,\"text\":\"a b c\"}\n{\"p\":3,\"text\":\"d e f\"}\n",
    );
    let run = tailwatch(&["score", &odd, "--group-field", "p", "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["groups"]["groups"], 3);
    assert_eq!(report["groups"]["single_answer_groups"], 1);
    // `a b c` and `d e f` share no word; under `unigram` (NoveltyBench's ROUGE-1) two empty
    // answers are two classes, under `exact` one
    assert_eq!(run.metric("collapsed_group_share"), 0.0);
    assert_eq!(run.metric("distinct_at_k"), 2.0);
    let exact = tailwatch(&["score", &odd, "--group-field", "p", "--equivalence", "exact", "--json", "-q"]);
    assert_eq!(exact.metric("collapsed_group_share"), 0.5);
    let only_one = write(dir.path(), "one.jsonl", b"{\"p\":1,\"text\":\"alone\"}\n");
    let run = tailwatch(&["score", &only_one, "--group-field", "p", "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.json()["metrics"]["distinct_at_k"].is_null());
    let run = tailwatch(&["score", &odd, "--group-field", "p", "--equivalence", "rouge", "-q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--equivalence must be"), "{}", run.stderr);
    let run = tailwatch(&["score", &odd, "--group-field", "p", "--group-sample", "0", "-q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--group-sample must be"), "{}", run.stderr);
    let run = tailwatch(&["score", &odd, "--group-field", "p", "--ci", "0.9", "-q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not computed for answers in groups"), "{}", run.stderr);
    let run = tailwatch(&["score", &odd, "--per-group", dir.path().join("g.jsonl").to_str().unwrap(), "-q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--per-group needs groups"), "{}", run.stderr);
    // a grouped profile does not merge with an ungrouped one of documents
    let (g, u) = (dir.path().join("g.twp"), dir.path().join("u.twp"));
    assert_eq!(tailwatch(&["profile", &odd, "--group-field", "p", "-o", g.to_str().unwrap(), "-q"]).code, 0);
    assert_eq!(tailwatch(&["profile", &odd, "-o", u.to_str().unwrap(), "-q"]).code, 0);
    let run = tailwatch(&[
        "merge",
        g.to_str().unwrap(),
        u.to_str().unwrap(),
        "-o",
        dir.path().join("m.twp").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("grouped by field `p` vs not grouped"), "{}", run.stderr);
}

/// `compare` with grouped answers: two halves of fast-detect-gpt's prompts do not breach the
/// built-in rule on `collapsed_group_share` (the null), the planted half does (power), with a
/// permutation p-value over groups.
#[test]
fn compare_breaches_on_collapsed_prompts_only_when_they_are_planted() {
    let dir = tempfile::tempdir().unwrap();
    let records = xsum_answers();
    let mut prompts: Vec<&String> = records.iter().map(|r| &r.0).collect();
    prompts.dedup();
    // halves by prompt, alternating
    let half = |parity: usize| -> Vec<(String, String, String)> {
        let chosen: std::collections::HashSet<&String> =
            prompts.iter().enumerate().filter(|(i, _)| i % 2 == parity).map(|(_, p)| *p).collect();
        records.iter().filter(|r| chosen.contains(&r.0)).cloned().collect()
    };
    let (a, b) = (half(0), half(1));
    let mut planted = b.clone();
    let mut first: std::collections::HashMap<String, String> = Default::default();
    let mut count = 0;
    for (prompt, _, text) in &mut planted {
        if !first.contains_key(prompt) && count < 30 {
            first.insert(prompt.clone(), text.clone());
            count += 1;
        }
        if let Some(answer) = first.get(prompt) {
            *text = answer.clone();
        }
    }
    let a = write(dir.path(), "a.jsonl", &jsonl(&a));
    let b = write(dir.path(), "b.jsonl", &jsonl(&b));
    let planted = write(dir.path(), "planted.jsonl", &jsonl(&planted));
    let check = |baseline: &str, candidate: &str| {
        let run = tailwatch(&["compare", baseline, candidate, "--group-field", "prompt", "--json", "-q"]);
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
        let json = run.json();
        let checks = json["checks"].as_array().unwrap().clone();
        checks.into_iter().find(|c| c["metric"] == "collapsed_group_share").expect("the built-in group rule")
    };
    let null = check(&a, &b);
    assert_eq!(null["status"], "ok", "{null}");
    let power = check(&a, &planted);
    assert_eq!(power["status"], "breach", "{power}");
    assert!(power["p_value"].as_f64().unwrap() <= 0.01, "{power}");
    // ungrouped sides do not show the rule at all
    let run = tailwatch(&["compare", &a, &b, "--json", "-q"]);
    assert!(!run.stdout.contains("collapsed_group_share"), "{}", run.stdout);
}

/// Score columns: statistics of a per-record field, exact across shards; with groups,
/// NoveltyBench's utility and the classes among passing answers; bad values named by line.
#[test]
fn score_fields_give_statistics_utility_and_passing_classes() {
    let dir = tempfile::tempdir().unwrap();
    // prompt p: answers `same` three times, then two distinct ones; reward = answer index,
    // pass = 1 for the distinct answers only
    let mut body = String::new();
    for p in 0..20 {
        for (i, text) in [
            "the same answer",
            "the same answer",
            "the same answer",
            "alpha beta gamma",
            "delta epsilon zeta",
        ]
        .iter()
        .enumerate()
        {
            let line =
                json!({"prompt": p, "text": format!("{text} {p}"), "reward": i, "pass": u8::from(i >= 3)});
            body.push_str(&format!("{line}\n"));
        }
    }
    let input = write(dir.path(), "scored.jsonl", body.as_bytes());
    // the first score field (reward) scores the answers; rewards 3 and 4 pass
    let args = [
        "--group-field",
        "prompt",
        "--score-field",
        "reward,pass",
        "--equivalence",
        "exact",
        "--pass-threshold",
        "3",
    ];
    let run = tailwatch(&[&["score", input.as_str(), "--json", "-q"][..], &args].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.metric("score_reward_mean"), 2.0);
    assert_eq!(run.metric("score_reward_min"), 0.0);
    assert_eq!(run.metric("score_reward_max"), 4.0);
    assert_eq!(run.metric("score_pass_rate"), 0.4);
    assert!(run.json()["metrics"].get("score_reward_rate").is_none(), "reward is not a 0/1 field");
    // answers in content order: the classes' first answers and their rewards decide the utility
    let rows_path = dir.path().join("rows.jsonl");
    let with_rows = tailwatch(
        &[&["score", input.as_str(), "--json", "-q", "--per-group", rows_path.to_str().unwrap()][..], &args]
            .concat(),
    );
    assert_eq!(with_rows.code, 0, "{}", with_rows.stderr);
    let rows = per_group(&rows_path);
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|r| r["distinct_at_k"] == 3 && r["passing_classes"] == 2));
    let utility: f64 = rows.iter().map(|r| r["utility"].as_f64().unwrap()).sum::<f64>() / 20.0;
    assert!((run.metric("utility_at_k") - utility).abs() < 1e-12);
    assert_eq!(run.metric("distinct_among_passing"), 2.0);
    // the utility of one group by NoveltyBench's formula: class firsts earn their reward
    let row = &rows[0];
    let classes: Vec<u64> = row["classes"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
    assert_eq!(classes.iter().max(), Some(&2));
    // two shards, every group split: the merged profile is the one-pass profile
    let lines: Vec<&str> = body.lines().collect();
    let mut shards = Vec::new();
    for s in 0..2 {
        let part: String = lines.iter().skip(s).step_by(2).map(|l| format!("{l}\n")).collect();
        let path = write(dir.path(), &format!("part{s}.jsonl"), part.as_bytes());
        let out = dir.path().join(format!("part{s}.twp")).to_str().unwrap().to_string();
        let run =
            tailwatch(&[&["profile", path.as_str(), "-o", out.as_str(), "-q"][..], &args[..4]].concat());
        assert_eq!(run.code, 0, "{}", run.stderr);
        shards.push(out);
    }
    let (merged, whole) = (dir.path().join("m.twp"), dir.path().join("w.twp"));
    assert_eq!(tailwatch(&["merge", &shards[1], &shards[0], "-o", merged.to_str().unwrap(), "-q"]).code, 0);
    let run = tailwatch(
        &[&["profile", input.as_str(), "-o", whole.to_str().unwrap(), "-q"][..], &args[..4]].concat(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::read(&merged).unwrap() == std::fs::read(&whole).unwrap());
    // a rule on a score column names its direction
    let rules = write(
        dir.path(),
        "rules.toml",
        b"[[rule]]\nmetric = \"score_reward_mean\"\ndirection = \"decrease\"\nrelative = 0.1\n",
    );
    let lower: String = body.replace("\"reward\":4", "\"reward\":0").replace("\"reward\":3", "\"reward\":0");
    let candidate = write(dir.path(), "lower.jsonl", lower.as_bytes());
    let run = tailwatch(&[
        "compare",
        &input,
        &candidate,
        "--rules",
        &rules,
        "--score-field",
        "reward",
        "--json",
        "-q",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["checks"][0]["status"], "breach");

    // bad values name file, line and field
    let bad = |name: &str, body: &str, extra: &[&str]| {
        let path = write(dir.path(), name, body.as_bytes());
        let run = tailwatch(&[&["score", path.as_str(), "--score-field", "r", "-q"][..], extra].concat());
        assert_eq!(run.code, 2, "{}", run.stderr);
        run.stderr
    };
    assert!(
        bad("word.jsonl", "{\"text\":\"a\",\"r\":\"high\"}\n", &[])
            .contains("word.jsonl: line 1: score field `r`: `high` is not a number")
    );
    assert!(
        bad("nan.jsonl", "{\"text\":\"a\",\"r\":1}\n{\"text\":\"b\",\"r\":\"NaN\"}\n", &[])
            .contains("line 2: score field `r`: `NaN` is not a finite number")
    );
    assert!(
        bad("inf.csv", "text,r\na,inf\n", &[])
            .contains("record 1: score field `r`: `inf` is not a finite number")
    );
    assert!(
        bad("short.jsonl", "{\"g\":[\"a\",\"b\"],\"r\":[1]}\n", &["--field", "g", "--group-by", "record"])
            .contains("1 value(s) for 2 answers")
    );
    assert!(bad("obj.jsonl", "{\"text\":\"a\",\"r\":{\"x\":1}}\n", &[]).contains("score field `r`"));
    let run = tailwatch(&["score", &input, "--score-field", "a.b,a_b", "-q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("both name metrics `score_a_b_*`"), "{}", run.stderr);
    // a missing or null value is counted, not an error
    let some = write(
        dir.path(),
        "some.jsonl",
        b"{\"text\":\"a\"}\n{\"text\":\"b\",\"r\":null}\n{\"text\":\"c\",\"r\":3}\n",
    );
    let run = tailwatch(&["score", &some, "--score-field", "r", "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.metric("score_r_mean"), 3.0);
    assert!(run.stdout.contains("2 of 3 documents have no value"), "{}", run.stdout);
}

/// `--homogeneity`: of fast-detect-gpt's prompts, two models share no answer (continuations of
/// news differ); making one model copy the other on 60 prompts makes exactly those homogeneous.
#[test]
fn homogeneity_counts_the_prompts_models_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let records = xsum_answers();
    let model = |name: &str| -> Vec<(String, String, String)> {
        records.iter().filter(|r| r.1 == name).cloned().collect()
    };
    let (a, mut b) = (model("gpt2-xl"), model("opt-2.7b"));
    for (i, r) in b.iter_mut().enumerate().take(60) {
        r.2 = a[i].2.clone();
    }
    let (a, b) = (write(dir.path(), "a.jsonl", &jsonl(&a)), write(dir.path(), "b.jsonl", &jsonl(&b)));
    let run = tailwatch(&["score", &a, &b, "--group-field", "prompt", "--homogeneity", "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let h = &run.json()["homogeneity"];
    assert_eq!(
        (h["shared_prompts"].as_u64(), h["homogeneous_prompts"].as_u64()),
        (Some(486), Some(60)),
        "{h}"
    );
    assert_eq!(run.json()["reports"].as_array().unwrap().len(), 2);
    let one = tailwatch(&["score", &a, "--group-field", "prompt", "--homogeneity", "-q"]);
    assert_eq!(one.code, 2);
    assert!(one.stderr.contains("two inputs or more"), "{}", one.stderr);
    let ungrouped = tailwatch(&["score", &a, &b, "--homogeneity", "-q"]);
    assert_eq!(ungrouped.code, 2);
    assert!(ungrouped.stderr.contains("every input's answers grouped"), "{}", ungrouped.stderr);
}

/// `--order-field`: flat records (one answer each, a generation index), in any line order and
/// split across shards, partition as the record layout does; the greedy partition depends on
/// order, and these answers make it show (b is like a and c, a is not like c).
#[test]
fn an_order_field_partitions_in_generation_order() {
    let dir = tempfile::tempdir().unwrap();
    let answers = ["x y z w", "x y z v", "q y z v", "x y z w"];
    let mut by_record = String::new();
    let mut flat: Vec<String> = Vec::new();
    for p in 0..30 {
        // prompts with the answers rotated, so generation order matters differently per prompt
        let rotated: Vec<&str> = (0..4).map(|i| answers[(i + p) % 4]).collect();
        by_record.push_str(&format!("{}\n", json!({"prompt": p, "generations": rotated})));
        for (g, text) in rotated.iter().enumerate() {
            flat.push(format!("{}\n", json!({"prompt": p, "generation": g, "text": text})));
        }
    }
    flat.reverse(); // the file's order is not the generation order
    let record = write(dir.path(), "record.jsonl", by_record.as_bytes());
    let (first, second) = flat.split_at(flat.len() / 3);
    let a = write(dir.path(), "a.jsonl", first.concat().as_bytes());
    let b = write(dir.path(), "b.jsonl", second.concat().as_bytes());
    let rows = |args: &[&str], name: &str| -> Vec<(String, u64)> {
        let out = dir.path().join(name);
        let mut full = vec![
            "score",
            "--equivalence",
            "unigram:0.5",
            "--combine",
            "--json",
            "-q",
            "--per-group",
            out.to_str().unwrap(),
        ];
        full.extend_from_slice(args);
        let run = tailwatch(&full);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut rows: Vec<(String, u64)> = per_group(&out)
            .iter()
            .map(|r| {
                let group = r["group"].as_str().unwrap();
                // record groups are named `file:line`; line n holds prompt n - 1
                let key = match group.rsplit_once(':') {
                    Some((_, line)) => (line.parse::<u64>().unwrap() - 1).to_string(),
                    None => group.to_string(),
                };
                (key, r["distinct_at_k"].as_u64().unwrap())
            })
            .collect();
        rows.sort();
        rows
    };
    let want = rows(&[&record, "--field", "generations", "--group-by", "record"], "r.jsonl");
    let got = rows(&[&a, &b, "--group-field", "prompt", "--order-field", "generation"], "f.jsonl");
    assert_eq!(got, want);
    assert!(want.iter().any(|(_, k)| *k == 1) && want.iter().any(|(_, k)| *k == 2), "{want:?}");
    // without the order field the content order decides, and differs somewhere
    let hashed = rows(&[&a, &b, "--group-field", "prompt"], "h.jsonl");
    assert_ne!(hashed, want);
    // a bad or missing order value names file, line and field
    let bad = write(dir.path(), "bad.jsonl", b"{\"prompt\":1,\"generation\":\"first\",\"text\":\"a\"}\n");
    let run = tailwatch(&["score", &bad, "--group-field", "prompt", "--order-field", "generation", "-q"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("bad.jsonl: line 1: order field `generation`: `first` is not a whole number"),
        "{}",
        run.stderr
    );
    let run = tailwatch(&["score", &bad, "--order-field", "generation", "-q"]);
    assert_eq!(run.code, 2, "--order-field needs --group-field");
}

/// A rule on a score column's mean is tested (Welch's t from the columns' moments): a reward
/// lower by about one standard error passes the rule's threshold but is not significant, a
/// reward lower by ten is a breach; quantiles stay on their thresholds alone, with a note.
#[test]
fn score_column_means_are_tested_not_only_thresholded() {
    let dir = tempfile::tempdir().unwrap();
    // 500 answers, rewards spread evenly over [0.5, 0.9) in a scrambled order (sd 0.115)
    let side = |shift: f64| -> String {
        (0..500u64)
            .map(|i| {
                let u = ((i * 7919) % 500) as f64 / 500.0;
                let line = json!({"text": format!("answer number {i} says {}", i * 31 % 97), "reward": 0.5 + 0.4 * u + shift});
                format!("{line}\n")
            })
            .collect()
    };
    let base = write(dir.path(), "base.jsonl", side(0.0).as_bytes());
    let rules = write(
        dir.path(),
        "rules.toml",
        b"[[rule]]\nmetric = \"score_reward_mean\"\ndirection = \"decrease\"\nrelative = 0.005\n\n[[rule]]\nmetric = \"score_reward_p50\"\ndirection = \"decrease\"\nrelative = 0.005\n",
    );
    let compare = |shift: f64, name: &str| {
        let candidate = write(dir.path(), name, side(shift).as_bytes());
        let run = tailwatch(&[
            "compare",
            &base,
            &candidate,
            "--rules",
            &rules,
            "--score-field",
            "reward",
            "--json",
            "-q",
        ]);
        assert!(run.code <= 1, "{}", run.stderr);
        run.json()
    };
    let check = |report: &serde_json::Value, id: &str| {
        report["checks"].as_array().unwrap().iter().find(|c| c["metric"] == id).unwrap().clone()
    };
    // about one standard error (0.0073) lower: past 0.5 %, not significant
    let near = compare(-0.0075, "near.jsonl");
    let mean = check(&near, "score_reward_mean");
    assert_eq!(mean["status"], "not significant", "{near}");
    let p = mean["p_value"].as_f64().unwrap();
    assert!(p > 0.1 && p < 0.2, "one-sided p of t = 1.03: {p}");
    let interval = mean["interval"].as_array().unwrap();
    assert!(interval[0].as_f64().unwrap() < -0.0075 && interval[1].as_f64().unwrap() > 0.0, "{mean}");
    // the median has no test: past its threshold, a breach, and a note says so
    assert_eq!(check(&near, "score_reward_p50")["status"], "breach");
    let notes = near["notes"].to_string();
    assert!(notes.contains("score_reward_p50 compared on the sides' whole values"), "{notes}");
    assert!(!notes.contains("score_reward_mean compared"), "{notes}");
    // ten standard errors lower: a breach, p far below alpha
    let far = compare(-0.075, "far.jsonl");
    let mean = check(&far, "score_reward_mean");
    assert_eq!(mean["status"], "breach", "{far}");
    assert!(mean["p_value"].as_f64().unwrap() < 1e-6, "{mean}");
    // the same rewards: ok
    assert_eq!(check(&compare(0.0, "same.jsonl"), "score_reward_mean")["status"], "ok");
}
