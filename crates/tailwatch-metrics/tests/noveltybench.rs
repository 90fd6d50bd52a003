//! `groups` against NoveltyBench's partition and utility and semantic entropy
//! (`oracles/goldens/noveltybench.json`, made by `oracles/noveltybench_goldens.py`).
use tailwatch_metrics::groups::{
    DEFAULT_PATIENCE, Equivalence, UNIGRAM_THRESHOLD, class_entropy, distinct_at_k, partition, rouge_tokens,
    rouge1_f, utility_at_k,
};

fn goldens() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../oracles/goldens/noveltybench.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("goldens")).expect("JSON")
}

#[test]
fn partitions_and_distinct_equal_noveltybench_exactly_and_utility_to_the_last_place() {
    let g = goldens();
    assert_eq!(g["threshold"].as_f64(), Some(UNIGRAM_THRESHOLD));
    assert_eq!(g["patience"].as_f64(), Some(DEFAULT_PATIENCE));
    let groups = g["groups"].as_array().expect("groups");
    assert!(groups.len() >= 300);
    let mut several = 0;
    for (i, group) in groups.iter().enumerate() {
        let answers: Vec<&str> =
            group["answers"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        let expected: Vec<u32> =
            group["partition"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap() as u32).collect();
        let classes = partition(&answers, Equivalence::Unigram(UNIGRAM_THRESHOLD));
        assert_eq!(classes, expected, "group {i}: {answers:?}");
        assert_eq!(distinct_at_k(&classes) as u64, group["distinct"].as_u64().unwrap(), "group {i}");
        several += usize::from(distinct_at_k(&classes) > 1);
        let scores: Vec<f64> =
            group["scores"].as_array().unwrap().iter().map(|s| s.as_f64().unwrap()).collect();
        // the same sums in the same order; numpy's power may be its AVX-512 one, which differs
        // from libm's pow (ours) in the last place for some exponents (0.8**2 here): 2 ulps
        let utility = utility_at_k(&classes, &scores, DEFAULT_PATIENCE).unwrap();
        let expected_utility = group["utility"].as_f64().unwrap();
        assert!(
            (utility - expected_utility).abs() <= 2.0 * f64::EPSILON * expected_utility.abs().max(1.0),
            "group {i}: utility {utility} vs {expected_utility}"
        );
        // numpy's log may differ from libm's in the last place: a few ulps
        let entropy = group["class_entropy"].as_f64().unwrap();
        assert!(
            (class_entropy(&classes) - entropy).abs() <= 4.0 * f64::EPSILON * entropy.max(1.0),
            "group {i}"
        );
        for pair in group["rouge1"].as_array().unwrap() {
            let (a, b) = (pair[0].as_u64().unwrap() as usize, pair[1].as_u64().unwrap() as usize);
            let f = rouge1_f(&rouge_tokens(answers[a]), &rouge_tokens(answers[b]));
            assert!((f - pair[2].as_f64().unwrap()).abs() < 1e-15, "group {i} pair {a},{b}: {f}");
        }
    }
    assert!(several > groups.len() / 2, "the goldens exercise groups of several classes");
}
