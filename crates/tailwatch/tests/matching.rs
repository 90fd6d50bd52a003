//! Matched-size comparisons with block permutation p-values: no false alarms on splits of one
//! corpus (equal and unequal sizes), detection of a planted collapse, and results that depend
//! only on the seed.
use tailwatch::matching::{Matched, Resampling};
use tailwatch::{Engine, ProfileSettings, ScoreOptions, Scorer, tokenizer_by_name};
use tailwatch_metrics::compare::{CheckStatus, Comparison, Rule, compare_with_evidence, default_rules};

/// Human news sentences (texygen's EMNLP test set), from ../shared/data.
fn human_sentences() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/texygen/ref_test_emnlp.txt");
    let text = std::fs::read_to_string(path).expect("../shared/data/texygen/ref_test_emnlp.txt");
    text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()
}

fn scorer(rules: &[Rule]) -> Scorer {
    let settings = ProfileSettings::new(tokenizer_by_name("words", false).unwrap());
    let metrics = tailwatch::comparing::rule_metrics(rules);
    Scorer::new(settings, ScoreOptions { metrics, ..ScoreOptions::default() }).unwrap()
}

fn compared(
    engine: &Engine,
    baseline: &[&str],
    candidate: &[&str],
    resampling: &Resampling,
) -> (Matched, Comparison) {
    let rules = default_rules();
    let matched = engine.matched_evidence(&scorer(&rules), baseline, candidate, &rules, resampling).unwrap();
    let comparison = compare_with_evidence(&matched.baseline, &matched.candidate, &matched.evidence, &rules);
    (matched, comparison)
}

/// A seeded shuffle of 0..n (xorshift; the test needs no statistical quality).
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

#[test]
fn splits_of_one_corpus_do_not_breach() {
    let docs = human_sentences();
    let engine = Engine::new(Some(2)).unwrap();
    let resampling = Resampling { permutations: 199, ..Resampling::default() };
    let (mut breaching, mut past_threshold) = (0, 0);
    let (mut excluded, mut intervals) = (0, 0);
    let splits = 60;
    // random splits, sizes 1:1 to 1:5 (the smaller side 60-180 documents)
    for split in 0..splits as u64 {
        let order = shuffled(docs.len(), split + 1);
        let small = 60 + (split as usize % 7) * 20;
        let large = small * (1 + split as usize % 5);
        let baseline: Vec<&str> = order[..small].iter().map(|&i| docs[i].as_str()).collect();
        let candidate: Vec<&str> = order[small..small + large].iter().map(|&i| docs[i].as_str()).collect();
        let (matched, comparison) =
            compared(&engine, &baseline, &candidate, &Resampling { seed: split, ..resampling });
        assert_eq!(matched.docs, small);
        breaching += usize::from(comparison.verdict.as_str() == "collapse");
        for check in
            comparison.checks.iter().filter(|c| c.metric == "distinct_2" || c.metric == "self_bleu_4")
        {
            let [low, high] = check.interval.expect("an interval");
            excluded += usize::from(!(low <= 0.0 && 0.0 <= high));
            intervals += 1;
        }
        // the thresholds alone (the old verdict) would have said collapse this often
        past_threshold += usize::from(
            comparison
                .checks
                .iter()
                .any(|c| matches!(c.status, CheckStatus::Breach | CheckStatus::NotSignificant)),
        );
    }
    // on a true null BH keeps the chance that a comparison has any breach at alpha (0.05):
    // about 3 of 60, standard error 1.7; more than 8 (3 SE above) fails
    assert!(
        breaching <= 8,
        "{breaching} of {splits} null splits say collapse ({past_threshold} past a threshold)"
    );
    // a 95 % interval of a change between two samples of one corpus holds 0 in 95 % of splits:
    // of 120 (distinct_2 and self_bleu_4), about 6 exclude it, standard error 2.4; more than 13
    // fails (the jackknife is conservative, so fewer is expected)
    assert!(excluded <= 13, "{excluded} of {intervals} intervals exclude 0 on splits of one corpus");
}

#[test]
fn the_same_documents_again_give_no_change_and_no_breach() {
    let docs = human_sentences();
    let engine = Engine::new(Some(2)).unwrap();
    let side: Vec<&str> = docs[..80].iter().map(String::as_str).collect();
    let (matched, comparison) =
        compared(&engine, &side, &side, &Resampling { permutations: 199, ..Resampling::default() });
    assert_eq!(comparison.verdict.as_str(), "ok");
    for check in comparison.checks.iter().filter(|c| c.status != CheckStatus::Skipped) {
        assert_eq!(check.change, Some(0.0), "{}", check.metric);
        assert_eq!(check.status, CheckStatus::Ok, "{}", check.metric);
        // every check is tested; its interval holds the change of 0
        let [lo, hi] = check.interval.unwrap();
        assert!(lo <= 0.0 && 0.0 <= hi, "{}: [{lo}, {hi}]", check.metric);
        assert!(check.p_value.unwrap() > 0.01, "{}: {:?}", check.metric, check.p_value);
    }
    assert_eq!(matched.docs, 80);
}

#[test]
fn the_side_merged_from_its_blocks_is_the_side_profiled_whole() {
    // 83 documents: 10 blocks of 8 and 3 left over, merged back into the side
    let docs = human_sentences();
    let engine = Engine::new(Some(2)).unwrap();
    let side: Vec<&str> = docs[200..283].iter().map(String::as_str).collect();
    let rules = default_rules();
    let scorer = scorer(&rules);
    let matched = engine
        .matched_evidence(
            &scorer,
            &side,
            &side,
            &rules,
            &Resampling { permutations: 9, ..Resampling::default() },
        )
        .unwrap();
    let whole =
        scorer.metrics(&engine, &scorer.profile_texts(&engine, side.iter().copied()).unwrap()).unwrap();
    assert_eq!(matched.baseline, whole.0.values);
    assert_eq!(matched.candidate, whole.0.values);
}

#[test]
fn a_planted_collapse_breaches_significantly() {
    let docs = human_sentences();
    let engine = Engine::new(Some(2)).unwrap();
    let baseline: Vec<&str> = docs[..150].iter().map(String::as_str).collect();
    // the candidate: other sentences, 40 % of them replaced by copies of three
    let candidate: Vec<&str> = (0..300)
        .map(|i| if i % 5 < 2 { docs[1000 + i % 3].as_str() } else { docs[500 + i].as_str() })
        .collect();
    let (matched, comparison) =
        compared(&engine, &baseline, &candidate, &Resampling { permutations: 99, ..Resampling::default() });
    assert_eq!(matched.docs, 150, "the candidate is subsampled to the baseline's size");
    let get = |id: &str| comparison.checks.iter().find(|c| c.metric == id).unwrap();
    for id in ["duplicate_rate", "distinct_2", "self_bleu_4"] {
        assert_eq!(get(id).status, CheckStatus::Breach, "{id}: {:?}", get(id));
        assert!(get(id).p_value.unwrap() <= 0.01, "{id}");
        let [lo, hi] = get(id).interval.unwrap();
        let change = get(id).change.unwrap();
        assert!(lo <= change && change <= hi, "{id}: {change} outside [{lo}, {hi}]");
    }
    assert_eq!(comparison.verdict.as_str(), "collapse");
}

#[test]
fn below_min_docs_is_insufficient_data_and_results_depend_only_on_the_seed() {
    let docs = human_sentences();
    let baseline: Vec<&str> = docs[..15].iter().map(String::as_str).collect();
    let candidate: Vec<&str> = (0..40).map(|i| docs[100 + i % 2].as_str()).collect();
    let resampling = Resampling { permutations: 29, seed: 7, ..Resampling::default() };
    let one = Engine::new(Some(1)).unwrap();
    let three = Engine::new(Some(3)).unwrap();
    let (a, comparison) = compared(&one, &baseline, &candidate, &resampling);
    let (b, _) = compared(&three, &baseline, &candidate, &resampling);
    assert_eq!(a.evidence, b.evidence, "the thread count changes nothing");
    assert_eq!(a.baseline, b.baseline);
    let (c, _) = compared(&one, &baseline, &candidate, &Resampling { seed: 8, ..resampling });
    assert_ne!(a.evidence, c.evidence, "another seed, other splits");
    // 15 documents per side, fewer than the default 20: a collapse this plain is not called
    for check in comparison.checks.iter().filter(|c| c.status != CheckStatus::Skipped) {
        assert_eq!(check.status, CheckStatus::InsufficientData, "{}", check.metric);
    }
    assert_eq!(comparison.verdict.as_str(), "ok");
}
