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

    // a custom rule that cannot breach
    let rules =
        write(d, "r.toml", b"[[rule]]\nmetric = \"distinct_2\"\nrelative = 0.99\nreason = \"loose\"\n");
    let loose = tailwatch(&["compare", &base, &cand, "--rules", &rules, "-q"]);
    assert_eq!(loose.code, 0, "{}{}", loose.stdout, loose.stderr);
    let printed = tailwatch(&["compare", "--print-rules"]);
    assert_eq!(printed.code, 0);
    assert!(printed.stdout.contains("metric = \"distinct_2\""));
}
