//! Matched-size comparisons with permutation p-values: no false alarms on splits of one
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
    let resampling = Resampling { permutations: 99, ..Resampling::default() };
    let mut breaches = 0;
    let mut past_threshold = 0;
    let mut tried = 0;
    // 12 random splits, sizes 1:1 to 1:5 (the smaller side 60-120 documents)
    for split in 0..12u64 {
        let order = shuffled(docs.len(), split + 1);
        let small = 60 + (split as usize % 4) * 20;
        let large = small * (1 + split as usize % 5);
        let baseline: Vec<&str> = order[..small].iter().map(|&i| docs[i].as_str()).collect();
        let candidate: Vec<&str> = order[small..small + large].iter().map(|&i| docs[i].as_str()).collect();
        let (matched, comparison) = compared(&engine, &baseline, &candidate, &resampling);
        assert_eq!(matched.docs, small);
        tried += 1;
        breaches += comparison.checks.iter().filter(|c| c.status == CheckStatus::Breach).count();
        // the thresholds alone (the old verdict) would have breached here this often
        past_threshold += comparison
            .checks
            .iter()
            .filter(|c| matches!(c.status, CheckStatus::Breach | CheckStatus::NotSignificant))
            .count();
    }
    // each check breaches on a true null with probability at most alpha (0.05), and BH keeps the
    // comparison's false-discovery rate at alpha; 12 splits x 5 defined checks, so about 3 false
    // breaches would already be the expected worst case: allow 3 (1 here; the thresholds alone
    // breach 4 times)
    assert!(
        breaches <= 3,
        "{breaches} breaches ({past_threshold} past their thresholds) in {tried} null splits"
    );
}

#[test]
fn the_same_documents_again_give_no_change_and_no_test() {
    let docs = human_sentences();
    let engine = Engine::new(Some(2)).unwrap();
    let side: Vec<&str> = docs[..80].iter().map(String::as_str).collect();
    let (matched, comparison) =
        compared(&engine, &side, &side, &Resampling { permutations: 49, ..Resampling::default() });
    assert_eq!(comparison.verdict.as_str(), "ok");
    for check in comparison.checks.iter().filter(|c| c.status != CheckStatus::Skipped) {
        assert_eq!(check.change, Some(0.0), "{}", check.metric);
        // no change passes a threshold, so nothing needs testing: no splits, no p-values
        assert_eq!((check.p_value, check.interval), (None, None), "{}", check.metric);
        assert_eq!(check.status, CheckStatus::Ok);
    }
    assert_eq!(matched.docs, 80);
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
