//! `compare`: exit 1 on a breached rule, 0 otherwise; inputs, profiles and saved reports as sides.
use crate::{tailwatch, write};

#[test]
fn collapse_is_flagged_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let diverse: String = (0..200)
        .map(|i| {
            format!("doc {i} talks about topic {} with word{} and word{}\n", i % 13, i * 7 % 101, i * 3 % 97)
        })
        .collect();
    let collapsed: String =
        (0..200).map(|i| format!("doc talks about topic {} with word and word\n", i % 2)).collect();
    let base = write(d, "base.txt", diverse.as_bytes());
    let cand = write(d, "cand.txt", collapsed.as_bytes());
    let run = tailwatch(&["compare", &base, &cand, "--json", "-q"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let j = run.json();
    assert_eq!(j["verdict"], "collapse");
    let d2 = j["checks"].as_array().unwrap().iter().find(|c| c["metric"] == "distinct_2").unwrap();
    assert_eq!(d2["breached"], true);
    for key in ["metric", "baseline", "candidate", "change", "threshold", "breached"] {
        assert!(d2.get(key).is_some(), "check lacks {key}");
    }
    let same = tailwatch(&["compare", &base, &base, "-q"]);
    assert_eq!(same.code, 0, "{}", same.stdout);
    assert!(same.stdout.contains("verdict: ok"));

    // saved reports and profiles work as sides
    let report = tailwatch(&["score", &base, "--json", "-q"]);
    let saved = write(d, "base.json", report.stdout.as_bytes());
    let prof = d.join("cand.twp");
    assert_eq!(tailwatch(&["profile", &cand, "-o", prof.to_str().unwrap(), "-q"]).code, 0);
    let run = tailwatch(&["compare", &saved, prof.to_str().unwrap(), "--json", "-q"]);
    assert_eq!(run.code, 1, "{}", run.stderr);

    // fail closed: a candidate report that lacks a rule's metric, holds a value no metric can
    // take, or no documents is refused (exit 2, naming it), never passed
    let json: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    let edited = |name: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let mut value = json.clone();
        change(&mut value);
        write(d, name, value.to_string().as_bytes())
    };
    let cases: Vec<(String, &str)> = vec![
        (edited("empty.json", &|v| v["metrics"] = serde_json::json!({})), "has no `distinct_2`"),
        (edited("big.json", &|v| v["metrics"]["duplicate_rate"] = 52.into()), "`duplicate_rate` is 52"),
        (edited("neg.json", &|v| v["metrics"]["distinct_2"] = (-0.5).into()), "`distinct_2` is -0.5"),
        (edited("none.json", &|v| v["n_docs"] = 0.into()), "holds no documents"),
    ];
    for (bad, needle) in &cases {
        let run = tailwatch(&["compare", &saved, bad, "-q"]);
        assert_eq!(run.code, 2, "{bad}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(needle) && run.stderr.contains("not a report compare can trust"),
            "{}",
            run.stderr
        );
    }

    // a custom rule that cannot breach
    let rules =
        write(d, "r.toml", b"[[rule]]\nmetric = \"distinct_2\"\nrelative = 0.99\nreason = \"loose\"\n");
    let loose = tailwatch(&["compare", &base, &cand, "--rules", &rules, "-q"]);
    assert_eq!(loose.code, 0, "{}{}", loose.stdout, loose.stderr);
    let printed = tailwatch(&["compare", "--print-rules"]);
    assert_eq!(printed.code, 0);
    assert!(printed.stdout.contains("metric = \"distinct_2\""));
}

/// Two random halves of one human corpus: with the baseline as its own reference, the old
/// comparison always said collapse (a corpus covers its own tail, JS 0 to itself); held out,
/// it does not, and the unequal sizes are matched.
#[test]
fn the_baseline_as_reference_is_held_out_and_sizes_are_matched() {
    let text = std::fs::read_to_string(crate::shared_data("texygen/ref_test_emnlp.txt")).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    // every third line to the baseline, the rest to the candidate (1:2)
    let (mut a, mut b) = (String::new(), String::new());
    for (i, line) in lines.iter().take(1500).enumerate() {
        let side = if i % 3 == 0 { &mut a } else { &mut b };
        side.push_str(line);
        side.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", a.as_bytes());
    let b = write(dir.path(), "b.txt", b.as_bytes());
    let old = tailwatch(&["compare", &a, &b, "--reference", &a, "--permutations", "0", "--json", "-q"]);
    assert_eq!(old.code, 1, "without holding out, the baseline's own reference flatters it");
    let run = tailwatch(&["compare", &a, &b, "--reference", &a, "--json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let j = run.json();
    let notes = j["notes"].to_string();
    assert!(notes.contains("the reference is the baseline itself"), "{notes}");
    assert!(notes.contains("sizes matched"), "{notes}");
    let js = j["checks"].as_array().unwrap().iter().find(|c| c["metric"] == "js_to_reference").unwrap();
    assert_eq!(js["docs"], 250, "the baseline's other half, 250 documents, sets the size");
    assert!(js["baseline"].as_f64().unwrap() > 0.01, "the baseline is measured against held-out text");
    assert_eq!(js["breached"], false);
    assert_eq!(j["baseline"]["n_docs"], 250);
}

/// `--prompt-field`: continuations that repeat one of a few prompts look collapsed until the
/// prompt is left out of what is scored.
#[test]
fn the_prompt_is_left_out_of_what_is_scored() {
    let dir = tempfile::tempdir().unwrap();
    let news = std::fs::read_to_string(crate::shared_data("texygen/ref_test_emnlp.txt")).unwrap();
    let lines: Vec<&str> = news.lines().filter(|l| !l.trim().is_empty()).collect();
    let prompts = [
        "Write the next sentence of a news story about the economy and the markets this week:",
        "Continue this article about politics, elections and the government in a neutral tone:",
        "Here is the start of a report on sport, the teams and their results this season:",
    ];
    let record = |prompt: Option<&str>, text: &str| match prompt {
        Some(p) => serde_json::json!({"prompt": p, "text": format!("{p} {text}")}).to_string(),
        None => serde_json::json!({"text": text}).to_string(),
    };
    let baseline: Vec<String> = lines[..400].iter().map(|l| record(None, l)).collect();
    let candidate: Vec<String> =
        lines[400..800].iter().enumerate().map(|(i, l)| record(Some(prompts[i % 3]), l)).collect();
    let base = crate::write(dir.path(), "base.jsonl", baseline.join("\n").as_bytes());
    let cand = crate::write(dir.path(), "cand.jsonl", candidate.join("\n").as_bytes());
    let whole = tailwatch(&["compare", &base, &cand, "--json", "-q"]);
    assert_eq!(whole.code, 1, "the repeated prompts look like templates: {}", whole.stdout);
    let grown = &whole.json()["explanation"]["grown_ngrams"];
    assert!(!grown.as_array().unwrap().is_empty(), "{grown}");
    let stripped = tailwatch(&["compare", &base, &cand, "--prompt-field", "prompt", "--json", "-q"]);
    assert_eq!(stripped.code, 0, "{}", stripped.stdout);
    assert_eq!(stripped.json()["verdict"], "ok");
}

/// `compare --html`: one page with the verdict, the checks with intervals and p-values, each
/// side's blocks and why; names are escaped, and an input is never overwritten.
#[test]
fn compare_writes_a_report_people_would_send() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let diverse: String = (0..300)
        .map(|i| {
            format!(
                "doc {i} talks about <topic> {} with word{} and word{}\n",
                i % 13,
                i * 7 % 101,
                i * 3 % 97
            )
        })
        .collect();
    let collapsed: String = (0..300).map(|i| format!("the same <answer> {}\n", i % 2)).collect();
    let base = write(d, "base.txt", diverse.as_bytes());
    let cand = write(d, "cand.txt", collapsed.as_bytes());
    let page = d.join("report.html");
    let run = tailwatch(&["compare", &base, &cand, "--html", page.to_str().unwrap(), "-q"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<span id=verdict class=\"verdict collapse\">collapse</span>"));
    assert!(html.contains("<tr class=check data-metric=\"distinct_2\">"));
    assert!(html.contains("95 % interval") && html.contains("BREACH"));
    assert!(html.contains("<div class=card data-metric=\"self_bleu_4\">"));
    assert_eq!(
        html.matches("class=\"block baseline\"").count(),
        html.matches("class=\"block candidate\"").count()
    );
    assert!(html.contains("id=grown") && html.contains("id=repeated"));
    assert!(html.contains("&lt;answer&gt;") && !html.contains("<answer>"), "text is escaped");
    assert!(!html.contains("http://") && !html.contains("https://"), "self-contained");
    // never over an input, checked before anything is computed
    let refused = tailwatch(&["compare", &base, &cand, "--html", &cand]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("is also an input of this run"), "{}", refused.stderr);
    assert_eq!(std::fs::read_to_string(&cand).unwrap(), collapsed);
}
