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
