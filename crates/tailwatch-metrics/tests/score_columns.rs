//! Score columns: merges in any split, order and grouping equal one pass to the byte; the mean
//! is the exact mean rounded once; quantiles are within 1/257 of the lower order statistic.
use proptest::prelude::*;
use tailwatch_metrics::numeric::fsum;
use tailwatch_metrics::score_columns::{
    ALPHA, MAX_BUCKETS, ScoreColumn, ScoreColumnError, metric_ids, sanitize_field,
};

/// The relative error the buckets give (`(b−a)/(b+a)` for the widest one), with room for the
/// one rounding of the representative.
const BUCKET_ERROR: f64 = 1.0 / 257.0 * (1.0 + 1e-12);

fn column(values: &[f64]) -> ScoreColumn {
    let mut c = ScoreColumn::new();
    for &v in values {
        c.add(v);
    }
    c
}

fn json(c: &ScoreColumn) -> String {
    serde_json::to_string(c).unwrap()
}

fn postcard(c: &ScoreColumn) -> Vec<u8> {
    postcard::to_allocvec(c).unwrap()
}

/// `2^e` exactly, for `e` in `[-1074, 1023]`.
fn pow2(e: i32) -> f64 {
    if e >= -1022 { f64::from_bits(((e + 1023) as u64) << 52) } else { f64::from_bits(1u64 << (e + 1074)) }
}

/// Any finite value, weighted towards the ones scores take.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-5i32..=5).prop_map(f64::from),
        Just(-0.0),
        Just(1.0),
        -1.0e3..1.0e3f64,
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
    ]
}

/// Values, a shard for each, and an order of the shards.
fn split() -> impl Strategy<Value = (Vec<f64>, Vec<usize>, Vec<u32>)> {
    prop::collection::vec(value(), 0..150).prop_flat_map(|values| {
        let n = values.len();
        (Just(values), prop::collection::vec(0usize..6, n), prop::collection::vec(any::<u32>(), 6))
    })
}

fn shards(values: &[f64], shard_of: &[usize], k: usize) -> Vec<ScoreColumn> {
    let mut out = vec![ScoreColumn::new(); k];
    for (&v, &s) in values.iter().zip(shard_of) {
        out[s % k].add(v);
    }
    out
}

/// The shards merged one after another, in the order `keys` sorts them.
fn merged_in_order(shards: &[ScoreColumn], keys: &[u32]) -> ScoreColumn {
    let mut order: Vec<usize> = (0..shards.len()).collect();
    order.sort_by_key(|&i| (keys[i % keys.len()], i));
    let mut out = ScoreColumn::new();
    for i in order {
        out.merge(&shards[i]).unwrap();
    }
    out
}

/// The shards merged as a balanced tree, each pair into the right one.
fn merged_as_tree(shards: &[ScoreColumn]) -> ScoreColumn {
    let mut level = shards.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => {
                    let mut b = b.clone();
                    b.merge(a).unwrap();
                    b
                }
                [a] => a.clone(),
                _ => unreachable!(),
            })
            .collect();
    }
    level.pop().unwrap_or_default()
}

fn assert_same(a: &ScoreColumn, b: &ScoreColumn) -> Result<(), TestCaseError> {
    prop_assert_eq!(a, b);
    prop_assert_eq!(json(a), json(b));
    prop_assert_eq!(postcard(a), postcard(b));
    Ok(())
}

/// The lower order statistic `x₍⌊q(n−1)⌋₎` of sorted values.
fn lower_order_statistic(sorted: &[f64], q: f64) -> f64 {
    let last = sorted.len() - 1;
    sorted[((q * last as f64).floor() as usize).min(last)]
}

fn assert_near(estimate: f64, exact: f64, what: &str) -> Result<(), TestCaseError> {
    if exact.abs() >= f64::MIN_POSITIVE {
        prop_assert!(
            (estimate - exact).abs() <= exact.abs() * BUCKET_ERROR,
            "{}: {:e} is not within 1/257 of {:e}",
            what,
            estimate,
            exact
        );
    } else {
        prop_assert!((estimate - exact).abs() < f64::MIN_POSITIVE, "{}: {:e} vs {:e}", what, estimate, exact);
    }
    Ok(())
}

const QS: [f64; 11] = [0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_split_merged_in_any_order_or_tree_is_one_pass(
        (values, shard_of, keys) in split(),
        k in 1usize..7,
    ) {
        let one_pass = column(&values);
        prop_assert_eq!(one_pass.check_consistent(), Ok(()));
        let parts = shards(&values, &shard_of, k);
        for part in &parts {
            prop_assert_eq!(part.check_consistent(), Ok(()));
        }
        assert_same(&merged_in_order(&parts, &keys), &one_pass)?;
        assert_same(&merged_as_tree(&parts), &one_pass)?;
        let reversed: Vec<f64> = values.iter().rev().copied().collect();
        assert_same(&column(&reversed), &one_pass)?;
        // Decoding gives the same column and the same bytes again.
        let bytes = postcard(&one_pass);
        let decoded: ScoreColumn = postcard::from_bytes(&bytes).unwrap();
        prop_assert_eq!(decoded.check_consistent(), Ok(()));
        prop_assert_eq!(postcard(&decoded), bytes);
        let from_json: ScoreColumn = serde_json::from_str(&json(&one_pass)).unwrap();
        assert_same(&from_json, &one_pass)?;
        prop_assert_eq!(one_pass.count(), values.len() as u64);
    }

    /// Scaled small integers: their sum is exact in `f64`, so one IEEE division is the exact
    /// mean rounded once, and scaling by a power of two keeps it so while the result is normal.
    #[test]
    fn the_mean_is_the_exact_mean_rounded_once(
        ints in prop::collection::vec(-(1i64 << 20)..(1i64 << 20), 1..300),
        e in -1060i32..960,
        keys in prop::collection::vec(any::<u32>(), 6),
    ) {
        let scale = pow2(e);
        let values: Vec<f64> = ints.iter().map(|&k| k as f64 * scale).collect();
        let total: i64 = ints.iter().sum();
        let want = total as f64 / values.len() as f64 * scale;
        prop_assume!(want == 0.0 || want.abs() >= f64::MIN_POSITIVE);
        let c = column(&values);
        prop_assert_eq!(c.mean().unwrap().to_bits(), want.to_bits(), "{:e} vs {:e}", c.mean().unwrap(), want);
        prop_assert_eq!(c.sum(), total as f64 * scale);
        let shard_of: Vec<usize> = (0..values.len()).map(|i| i * 7 % 5).collect();
        let merged = merged_in_order(&shards(&values, &shard_of, 5), &keys);
        prop_assert_eq!(merged.mean().unwrap().to_bits(), want.to_bits());
    }

    /// Against Shewchuk's correctly rounded sum, over every magnitude; with `n` a power of two
    /// the mean is that sum scaled, exactly, while it stays normal.
    #[test]
    fn the_sum_is_fsum_and_power_of_two_means_scale_it(
        values in prop::collection::vec(value().prop_filter("no overflow", |x| x.abs() < 1e300), 1..200),
        j in 0u32..7,
    ) {
        let c = column(&values);
        let want = fsum(values.iter().copied());
        // `fsum` keeps the sign of a zero sum; the exact one is `+0.0`.
        let same = c.sum() == want && (want == 0.0 || c.sum().to_bits() == want.to_bits());
        prop_assert!(same, "{:e} vs {:e}", c.sum(), want);
        let n = 1usize << j;
        let head = &values[..values.len().min(n)];
        let mut padded = head.to_vec();
        padded.resize(n, 0.0);
        let mean = column(&padded).mean().unwrap();
        let want = fsum(padded.iter().copied()) / n as f64;
        prop_assume!(want.abs() >= f64::MIN_POSITIVE);
        prop_assert_eq!(mean.to_bits(), want.to_bits());
    }

    #[test]
    fn quantiles_are_within_1_257_of_the_lower_order_statistic(
        values in prop::collection::vec(value(), 1..300),
        q in 0.0..=1.0f64,
    ) {
        let c = column(&values);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        prop_assert_eq!(c.quantile(0.0).unwrap().to_bits(), sorted[0].to_bits());
        prop_assert_eq!(c.quantile(1.0).unwrap().to_bits(), sorted[sorted.len() - 1].to_bits());
        prop_assert_eq!(c.min(), Some(sorted[0]));
        prop_assert_eq!(c.max(), Some(sorted[sorted.len() - 1]));
        for q in QS.into_iter().chain([q]) {
            let estimate = c.quantile(q).unwrap();
            let exact = lower_order_statistic(&sorted, q);
            assert_near(estimate, exact, &format!("q = {q}"))?;
            prop_assert!(sorted[0] <= estimate && estimate <= sorted[sorted.len() - 1]);
        }
    }

    #[test]
    fn binary_columns_have_an_exact_rate(
        bits in prop::collection::vec(any::<bool>(), 1..500),
        negative_zero in any::<bool>(),
    ) {
        let zero = if negative_zero { -0.0 } else { 0.0 };
        let values: Vec<f64> = bits.iter().map(|&b| if b { 1.0 } else { zero }).collect();
        let ones = bits.iter().filter(|&&b| b).count();
        let c = column(&values);
        prop_assert!(c.is_binary());
        prop_assert_eq!(c.rate(), Some(ones as f64 / bits.len() as f64));
        prop_assert_eq!(c.rate(), c.mean());
        let ids: Vec<String> = c.metrics("pass").unwrap().into_iter().map(|(id, _)| id).collect();
        prop_assert!(ids.contains(&"score_pass_rate".to_string()));
        let shard_of: Vec<usize> = (0..values.len()).map(|i| i % 3).collect();
        prop_assert_eq!(merged_as_tree(&shards(&values, &shard_of, 3)).rate(), c.rate());
        let mut graded = c.clone();
        graded.add(0.5);
        prop_assert!(!graded.is_binary());
        prop_assert_eq!(graded.rate(), None);
        prop_assert!(graded.metrics("pass").unwrap().iter().all(|(id, _)| id != "score_pass_rate"));
    }
}
proptest! {
    // Each case adds over 8,000 values: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Past the cap, merges still equal one pass to the byte, and quantiles above the folded
    /// buckets keep their accuracy.
    #[test]
    fn merges_at_the_bucket_cap_are_exact(
        positive in prop::sample::subsequence((0u64..9_000).collect::<Vec<_>>(), 4_100..6_000),
        negative in prop::sample::subsequence((0u64..9_000).collect::<Vec<_>>(), 4_100..6_000),
        repeats in prop::collection::vec(0usize..4_100, 0..500),
        shard_of in prop::collection::vec(0usize..5, 12_500),
        order in prop::collection::vec(any::<u32>(), 5),
    ) {
        // Distinct buckets from the octave 2^-40 up, more than the cap on each side, anywhere
        // in their buckets, and some values again.
        let base = pow2(-40).to_bits();
        let at = |k: u64, i: usize| f64::from_bits(base + (k << 45) + (i as u64 % 1000) * 7);
        let mut values: Vec<f64> = positive.iter().enumerate().map(|(i, &k)| at(k, i)).collect();
        values.extend(negative.iter().enumerate().map(|(i, &k)| -at(k, i)));
        let again: Vec<f64> = repeats.iter().map(|&i| values[i] * 1.001).collect();
        values.extend(again);
        let one_pass = column(&values);
        prop_assert_eq!(one_pass.buckets(), 2 * MAX_BUCKETS);
        prop_assert_eq!(one_pass.check_consistent(), Ok(()));
        let reversed: Vec<f64> = values.iter().rev().copied().collect();
        assert_same(&column(&reversed), &one_pass)?;
        let parts = shards(&values, &shard_of, 5);
        assert_same(&merged_in_order(&parts, &order), &one_pass)?;
        assert_same(&merged_as_tree(&parts), &one_pass)?;
        // The positive store folds below its 4096th highest key: ranks above it are accurate.
        let mut positive_keys: Vec<u64> =
            values.iter().filter(|&&x| x > 0.0).map(|x| x.to_bits() >> 45).collect();
        positive_keys.sort_unstable();
        positive_keys.dedup();
        let fold_at = positive_keys[positive_keys.len() - MAX_BUCKETS];
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let mut checked = 0;
        for q in QS {
            let exact = lower_order_statistic(&sorted, q);
            if exact > 0.0 && exact.to_bits() >> 45 > fold_at {
                assert_near(one_pass.quantile(q).unwrap(), exact, &format!("q = {q}"))?;
                checked += 1;
            }
        }
        prop_assert!(checked >= 3);
    }
}

#[test]
fn non_finite_and_missing_values_are_counted_apart() {
    let mut c = column(&[2.0, f64::NAN, 4.0, f64::INFINITY, f64::NEG_INFINITY]);
    c.add_non_finite();
    c.add_missing();
    c.add_missing();
    assert_eq!((c.count(), c.non_finite(), c.missing()), (2, 4, 2));
    assert_eq!(c.mean(), Some(3.0));
    assert_eq!((c.min(), c.max()), (Some(2.0), Some(4.0)));
    assert_eq!(c.check_consistent(), Ok(()));
    let mut other = ScoreColumn::new();
    other.add_missing();
    other.add(f64::NAN);
    c.merge(&other).unwrap();
    assert_eq!((c.count(), c.non_finite(), c.missing()), (2, 5, 3));
    let roundtrip: ScoreColumn = serde_json::from_str(&json(&c)).unwrap();
    assert_eq!(roundtrip, c);
}

#[test]
fn an_empty_column_has_no_statistics() {
    let mut c = ScoreColumn::new();
    c.add_missing();
    assert_eq!((c.mean(), c.quantile(0.5), c.min(), c.max(), c.rate()), (None, None, None, None, None));
    assert!(!c.is_binary());
    assert_eq!(c.sum(), 0.0);
    assert_eq!(c.metrics("reward").unwrap(), vec![]);
    assert_eq!(c.check_consistent(), Ok(()));
}

#[test]
fn quantiles_outside_0_1_are_none() {
    let c = column(&[1.0, 2.0, 3.0]);
    for q in [-0.1, 1.1, f64::NAN, f64::INFINITY] {
        assert_eq!(c.quantile(q), None, "{q}");
    }
    // The median 2 is in the bucket [2, 2 + 1/64), estimated above it.
    let median = c.quantile(0.5).unwrap();
    assert!(median > 2.0 && (median - 2.0) / 2.0 <= BUCKET_ERROR, "{median}");
}

#[test]
fn exact_sums_do_not_depend_on_order_where_f64_sums_do() {
    let a = [1e16, 1.0, -1e16];
    let b = [1e16, -1e16, 1.0];
    assert_ne!(a.iter().sum::<f64>(), b.iter().sum::<f64>());
    assert_eq!(column(&a).mean(), Some(1.0 / 3.0));
    assert_eq!(postcard(&column(&a)), postcard(&column(&b)));
    // A running f64 sum overflows here; the exact one does not.
    let c = column(&[1e308, 1e308, -1e308, -1e308, 1.0]);
    assert_eq!(c.mean(), Some(1.0 / 5.0));
    assert_eq!(column(&[f64::MAX; 7]).mean(), Some(f64::MAX));
}

#[test]
fn metric_ids_come_from_the_sanitized_field() {
    assert_eq!(
        metric_ids("reward").unwrap(),
        ["mean", "p10", "p50", "p90", "min", "max", "rate"].map(|s| format!("score_reward_{s}"))
    );
    let c = column(&[0.25, 0.5, 0.75]);
    let ids: Vec<String> = c.metrics("judge.overall").unwrap().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["mean", "p10", "p50", "p90", "min", "max"].map(|s| format!("score_judge_overall_{s}")));
    let values = c.metrics("x").unwrap();
    assert_eq!(values[0].1, 0.5);
    assert_eq!(values[4].1, 0.25);
    assert_eq!(values[5].1, 0.75);
    assert_eq!(c.metrics("   "), Err(ScoreColumnError::EmptyFieldName { field: "   ".into() }));
}

#[test]
fn field_names_sanitize_to_snake_case_ascii() {
    let cases: &[(&str, Option<&str>)] = &[
        ("Reward Score", Some("reward_score")),
        ("judge.overall", Some("judge_overall")),
        ("ok-1", Some("ok_1")),
        ("__x__", Some("x")),
        ("a..b", Some("a_b")),
        ("x\ty", Some("x_y")),
        ("Score2", Some("score2")),
        ("rewardScore", Some("rewardscore")),
        ("qualité", Some("qualit")),
        ("东京 score", Some("score")),
        ("naïve-é-x", Some("na_ve_x")),
        ("1st", Some("1st")),
        ("   ", None),
        ("", None),
        ("日本", None),
        ("._-", None),
    ];
    for &(field, want) in cases {
        match want {
            Some(want) => assert_eq!(sanitize_field(field).unwrap(), want, "{field:?}"),
            None => assert_eq!(
                sanitize_field(field),
                Err(ScoreColumnError::EmptyFieldName { field: field.into() }),
                "{field:?}"
            ),
        }
    }
}

/// A consistent column of `u64::MAX` zeros, as decoded bytes could hold it.
fn full_json() -> String {
    format!(
        concat!(
            r#"{{"count":{m},"missing":0,"non_finite":0,"zeros":{m},"ones":0,"#,
            r#""sum":{{"negative":false,"low":0,"limbs":[]}},"min":0.0,"max":0.0,"#,
            r#""near_zero":{m},"positive":{{}},"negative":{{}}}}"#,
        ),
        m = u64::MAX
    )
}

#[test]
fn merges_that_would_overflow_are_refused_and_change_nothing() {
    let mut full: ScoreColumn = serde_json::from_str(&full_json()).unwrap();
    assert_eq!(full.check_consistent(), Ok(()));
    let before = postcard(&full);
    assert_eq!(full.merge(&column(&[0.0])), Err(ScoreColumnError::Overflow { counter: "values" }));
    assert_eq!(postcard(&full), before);
    // Missing and non-finite counts only still overflow.
    let mut missing = ScoreColumn::new();
    missing.add_missing();
    full.merge(&missing).unwrap();
    assert_eq!(full.missing(), 1);
    let mut nan = ScoreColumn::new();
    nan.add_non_finite();
    full.merge(&nan).unwrap();
    full.merge(&ScoreColumn::new()).unwrap();
    assert_eq!(postcard(&full).len(), before.len());
}

#[test]
fn decoded_states_that_cannot_be_are_refused() {
    let good = json(&column(&[-1.5, 0.0, 1.0, 3.0]));
    let decoded: ScoreColumn = serde_json::from_str(&good).unwrap();
    assert_eq!(decoded.check_consistent(), Ok(()));
    for (from, to) in [
        (r#""count":4"#, r#""count":5"#),
        (r#""ones":1"#, r#""ones":2"#),
        (r#""min":-1.5"#, r#""min":4.0"#),
        (r#""max":3.0"#, r#""max":30.0"#),
        (r#""near_zero":1"#, r#""near_zero":0"#),
    ] {
        assert!(good.contains(from), "{good}");
        let crafted: ScoreColumn = serde_json::from_str(&good.replace(from, to)).unwrap();
        assert!(crafted.check_consistent().is_err(), "{to}");
    }
    // A non-canonical sum does not decode at all.
    let padded = good.replacen(r#""limbs":["#, r#""limbs":[0,"#, 1);
    assert!(serde_json::from_str::<ScoreColumn>(&padded).is_err());
}

#[test]
fn the_documented_accuracy_is_met() {
    const { assert!(BUCKET_ERROR < ALPHA) };
    // The worst bucket is the first of an octave: [1, 1 + 1/128).
    let c = column(&[0.0, 1.0, 1.0, 1.0 + 1.0 / 128.0 - f64::EPSILON, 9.0]);
    let p50 = c.quantile(0.5).unwrap();
    assert!((p50 - 1.0).abs() <= BUCKET_ERROR);
}
