//! Detector evaluation metrics: exact AUROC (Mann-Whitney U) and TPR at a fixed false-positive rate.
//!
//! Labels are `true` for the positive class (machine-generated) and `false` for the negative class
//! (human); a higher score means "more likely machine".
use std::cmp::Ordering;

use crate::{DetectError, Result};

fn check(scores: &[f64], labels: &[bool], what: &'static str) -> Result<(usize, usize)> {
    if scores.len() != labels.len() {
        return Err(DetectError::LengthMismatch { what, scores: scores.len(), labels: labels.len() });
    }
    if let Some((index, &value)) = scores.iter().enumerate().find(|(_, s)| s.is_nan()) {
        return Err(DetectError::NanScore { what, index, value });
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(DetectError::MissingClass { what, positives, negatives });
    }
    Ok((positives, negatives))
}

/// Exact area under the ROC curve: the Mann-Whitney U statistic over `n+ n-`,
///
/// ```text
/// AUROC = (1 / (n+ n-)) Σ_{i positive} Σ_{j negative} ( [s_i > s_j] + ½ [s_i = s_j] )
/// ```
///
/// computed in O(n log n) from mid-ranks: `AUROC = (R+ - n+(n+ + 1)/2) / (n+ n-)` with `R+` the sum of
/// the positives' ranks (tied scores share the mean of their ranks, which counts each tied
/// positive-negative pair as ½). Infinite scores are allowed.
///
/// Errors when the lengths differ, a score is NaN, or a class is empty.
pub fn auroc(scores: &[f64], labels: &[bool]) -> Result<f64> {
    let (positives, negatives) = check(scores, labels, "auroc")?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[a].partial_cmp(&scores[b]).unwrap_or(Ordering::Equal));
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start + 1 ..= end share their mean.
        let mid_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| labels[i]).count();
        positive_rank_sum += mid_rank * tied_positives as f64;
        start = end;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Ok((positive_rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// The decision threshold for a target false-positive rate, chosen on the negatives' scores.
///
/// Rule: with the `n-` negative scores sorted in decreasing order `s_(1) ≥ s_(2) ≥ …` and
/// `k = ⌊fpr · n- + 1e-9⌋` false positives allowed, the threshold is `t = s_(k+1)` (or `-∞` when
/// `k ≥ n-`), and a text is flagged when its score is **strictly greater** than `t`. At most `k`
/// negatives exceed `t`, so the empirical FPR is `≤ fpr`; ties at `t` are never flagged (conservative),
/// and `fpr = 0` gives `t = max negative score`. (The `1e-9` absorbs rounding in `fpr · n-`, e.g.
/// `0.01 · 100`.)
///
/// Errors when `fpr` is not in `[0, 1]`, there is no negative, or a score is NaN.
pub fn threshold_at_fpr(negative_scores: &[f64], fpr: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&fpr) {
        return Err(DetectError::invalid("fpr", "in [0, 1]", fpr));
    }
    if negative_scores.is_empty() {
        return Err(DetectError::MissingClass { what: "threshold_at_fpr", positives: 0, negatives: 0 });
    }
    if let Some((index, &value)) = negative_scores.iter().enumerate().find(|(_, s)| s.is_nan()) {
        return Err(DetectError::NanScore { what: "threshold_at_fpr", index, value });
    }
    let mut sorted = negative_scores.to_vec();
    sorted.sort_unstable_by(|a, b| b.partial_cmp(a).unwrap_or(Ordering::Equal));
    let allowed = (fpr * sorted.len() as f64 + 1e-9).floor() as usize;
    Ok(sorted.get(allowed).copied().unwrap_or(f64::NEG_INFINITY))
}

/// True-positive rate at the threshold [`threshold_at_fpr`] picks on the negatives for `fpr`:
/// the share of positives whose score is strictly greater than that threshold.
///
/// Errors when the lengths differ, a score is NaN, a class is empty or `fpr` is not in `[0, 1]`.
pub fn tpr_at_fpr(scores: &[f64], labels: &[bool], fpr: f64) -> Result<f64> {
    let (positives, _) = check(scores, labels, "tpr_at_fpr")?;
    let negatives: Vec<f64> = scores.iter().zip(labels).filter(|(_, l)| !**l).map(|(s, _)| *s).collect();
    let threshold = threshold_at_fpr(&negatives, fpr)?;
    let flagged = scores.iter().zip(labels).filter(|(s, l)| **l && **s > threshold).count();
    Ok(flagged as f64 / positives as f64)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn brute_auroc(scores: &[f64], labels: &[bool]) -> f64 {
        let mut total = 0.0;
        let mut pairs = 0.0;
        for (i, &si) in scores.iter().enumerate() {
            for (j, &sj) in scores.iter().enumerate() {
                if labels[i] && !labels[j] {
                    pairs += 1.0;
                    total += if si > sj {
                        1.0
                    } else if si == sj {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        total / pairs
    }

    #[test]
    fn auroc_hand_computed() {
        // Perfect, inverted and all-tied.
        assert_eq!(auroc(&[0.9, 0.8, 0.1, 0.2], &[true, true, false, false]).unwrap(), 1.0);
        assert_eq!(auroc(&[0.1, 0.2, 0.9, 0.8], &[true, true, false, false]).unwrap(), 0.0);
        assert_eq!(auroc(&[0.5; 4], &[true, false, true, false]).unwrap(), 0.5);
        // Positives 3, 1; negatives 2, 1: pairs (3>2) 1, (3>1) 1, (1<2) 0, (1=1) ½ -> 2.5 / 4.
        assert_eq!(auroc(&[3.0, 1.0, 2.0, 1.0], &[true, true, false, false]).unwrap(), 0.625);
        // Positives 0.8, 0.4; negatives 0.6, 0.2, 0.4: 1 + 1 + 1 + 0 + 1 + 0.5 = 4.5 / 6.
        let scores = [0.8, 0.4, 0.6, 0.2, 0.4];
        let labels = [true, true, false, false, false];
        assert_eq!(auroc(&scores, &labels).unwrap(), 0.75);
        assert_eq!(auroc(&[f64::INFINITY, f64::NEG_INFINITY], &[true, false]).unwrap(), 1.0);
    }

    #[test]
    fn metric_errors() {
        assert!(matches!(auroc(&[1.0], &[true, false]), Err(DetectError::LengthMismatch { .. })));
        assert!(matches!(auroc(&[1.0, 2.0], &[true, true]), Err(DetectError::MissingClass { .. })));
        assert!(matches!(
            auroc(&[f64::NAN, 2.0], &[true, false]),
            Err(DetectError::NanScore { index: 0, .. })
        ));
        assert!(tpr_at_fpr(&[1.0, 0.0], &[true, false], 1.5).is_err());
        assert!(tpr_at_fpr(&[1.0, 0.0], &[true, false], -0.1).is_err());
        assert!(threshold_at_fpr(&[], 0.1).is_err());
    }

    #[test]
    fn threshold_rule_hand_computed() {
        // 100 negatives 0, 1, ..., 99; at 1 % one may exceed: t = 98, only 99 > 98.
        let negatives: Vec<f64> = (0..100).map(f64::from).collect();
        assert_eq!(threshold_at_fpr(&negatives, 0.01).unwrap(), 98.0);
        assert_eq!(threshold_at_fpr(&negatives, 0.05).unwrap(), 94.0);
        assert_eq!(threshold_at_fpr(&negatives, 0.0).unwrap(), 99.0);
        assert_eq!(threshold_at_fpr(&negatives, 1.0).unwrap(), f64::NEG_INFINITY);
        // 10 negatives at 1 %: floor(0.1) = 0 allowed, threshold = max.
        let ten: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(threshold_at_fpr(&ten, 0.01).unwrap(), 9.0);
        assert_eq!(threshold_at_fpr(&ten, 0.1).unwrap(), 8.0);
    }

    #[test]
    fn tpr_hand_computed() {
        // Negatives 0..=9; positives 9.5, 8.5, 8.0, 3.0.
        let mut scores: Vec<f64> = (0..10).map(f64::from).collect();
        scores.extend([9.5, 8.5, 8.0, 3.0]);
        let labels: Vec<bool> = (0..14).map(|i| i >= 10).collect();
        // fpr 0: t = 9, only 9.5 flagged.
        assert_eq!(tpr_at_fpr(&scores, &labels, 0.0).unwrap(), 0.25);
        // fpr 0.1: t = 8, 9.5 and 8.5 flagged (8.0 ties and is not).
        assert_eq!(tpr_at_fpr(&scores, &labels, 0.1).unwrap(), 0.5);
        // fpr 0.7: t = 2, all four flagged.
        assert_eq!(tpr_at_fpr(&scores, &labels, 0.7).unwrap(), 1.0);
        // Ties among negatives are never flagged: all negatives 1, positives 1 and 2.
        assert_eq!(tpr_at_fpr(&[1.0, 1.0, 1.0, 2.0], &[false, false, true, true], 0.5).unwrap(), 0.5);
    }

    proptest! {
        #[test]
        fn auroc_matches_pair_counting(
            data in prop::collection::vec((0_u8..6, any::<bool>()), 2..40)
        ) {
            let scores: Vec<f64> = data.iter().map(|(s, _)| f64::from(*s)).collect();
            let labels: Vec<bool> = data.iter().map(|(_, l)| *l).collect();
            let positives = labels.iter().filter(|&&l| l).count();
            prop_assume!(positives > 0 && positives < labels.len());
            let fast = auroc(&scores, &labels).unwrap();
            prop_assert!((fast - brute_auroc(&scores, &labels)).abs() < 1e-12);
        }

        #[test]
        fn empirical_fpr_never_exceeds_target(
            negatives in prop::collection::vec(0_u8..20, 1..60),
            fpr in 0.0_f64..=1.0,
        ) {
            let negatives: Vec<f64> = negatives.into_iter().map(f64::from).collect();
            let t = threshold_at_fpr(&negatives, fpr).unwrap();
            let false_positives = negatives.iter().filter(|&&s| s > t).count();
            prop_assert!(false_positives as f64 <= fpr * negatives.len() as f64 + 1e-9);
        }
    }
}
