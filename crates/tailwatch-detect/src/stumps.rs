//! Gradient-boosted decision stumps with logistic loss (second-order boosting, as XGBoost).
//!
//! The model is an additive logit `F(x) = base + Σ_m f_m(x)` where each stump
//! `f_m(x) = left_m if x[feature_m] ≤ threshold_m else right_m`.
//!
//! # Fit
//!
//! Candidate thresholds of feature `j` are its training quantiles `q_{k/B}`, `k = 1..B-1`
//! (`B = max_bins`, nearest-rank on the sorted values, duplicates removed, rounded by
//! [`json_exact`](super::json_exact)). With sample weights `s_i` (class-balanced by default and
//! scaled to sum to `n`), each round computes `g_i = s_i (p_i - y_i)` and `h_i = s_i p_i (1 - p_i)`
//! at the current `p_i = σ(F(x_i))`, picks the (feature, threshold) maximising
//!
//! ```text
//! gain = G_L² / (H_L + λ) + G_R² / (H_R + λ) - G² / (H + λ)
//! ```
//!
//! (ties: lowest feature index, then lowest threshold) among splits that leave at least
//! `min_leaf_hessian` of curvature on each side, and sets the leaves to `-η G_side / (H_side + λ)`
//! (Newton step shrunk by the learning rate `η`). It stops after `rounds` stumps or when no split has a
//! positive gain. Deterministic: fixed bins, fixed scan order, no sampling.
use serde::{Deserialize, Serialize};

use crate::classifier::sigmoid;
use crate::{DetectError, Result};

/// Settings of the stump ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StumpOptions {
    /// Number of boosting rounds (stumps), `≥ 1`.
    pub rounds: usize,
    /// Shrinkage `η` of every leaf, in `(0, 1]`.
    pub learning_rate: f64,
    /// Candidate thresholds per feature: `max_bins - 1` quantiles, `max_bins ≥ 2`.
    pub max_bins: usize,
    /// L2 penalty `λ` on the leaf values (`> 0`).
    pub lambda: f64,
    /// Smallest total Hessian allowed on each side of a split (`≥ 0`).
    pub min_leaf_hessian: f64,
    /// Weight the classes equally instead of each text equally.
    pub balance_classes: bool,
}

impl Default for StumpOptions {
    /// 300 rounds, `η = 0.1`, 32 bins, `λ = 1`, minimum leaf Hessian 1, balanced classes.
    fn default() -> Self {
        Self {
            rounds: 300,
            learning_rate: 0.1,
            max_bins: 32,
            lambda: 1.0,
            min_leaf_hessian: 1.0,
            balance_classes: true,
        }
    }
}

impl StumpOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.rounds == 0 {
            return Err(DetectError::invalid("rounds", ">= 1", self.rounds));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return Err(DetectError::invalid("learning_rate", "in (0, 1]", self.learning_rate));
        }
        if self.max_bins < 2 {
            return Err(DetectError::invalid("max_bins", ">= 2", self.max_bins));
        }
        if !(self.lambda.is_finite() && self.lambda > 0.0) {
            return Err(DetectError::invalid("stump lambda", "finite and > 0", self.lambda));
        }
        if !(self.min_leaf_hessian.is_finite() && self.min_leaf_hessian >= 0.0) {
            return Err(DetectError::invalid("min_leaf_hessian", "finite and >= 0", self.min_leaf_hessian));
        }
        Ok(())
    }
}

/// One stump: `left` if `x[feature] ≤ threshold`, else `right` (logit contributions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stump {
    /// Feature index.
    pub feature: usize,
    /// Split point.
    pub threshold: f64,
    /// Contribution when `x[feature] ≤ threshold`.
    pub left: f64,
    /// Contribution otherwise.
    pub right: f64,
}

/// The ensemble's logit of a raw feature row.
pub(crate) fn stump_logit(base: f64, stumps: &[Stump], row: &[f64]) -> f64 {
    stumps.iter().fold(base, |acc, s| acc + if row[s.feature] <= s.threshold { s.left } else { s.right })
}

/// Result of [`fit_stumps`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StumpFit {
    pub base: f64,
    pub stumps: Vec<Stump>,
}

/// Fit the ensemble of the module documentation on raw feature rows; `round` maps every stored
/// number (thresholds, leaves, base) to its serialisable value.
pub(crate) fn fit_stumps(
    rows: &[Vec<f64>],
    labels: &[bool],
    options: &StumpOptions,
    round: impl Fn(f64) -> f64,
) -> Result<StumpFit> {
    options.validate()?;
    let n = rows.len();
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = n - positives;
    if positives == 0 || negatives == 0 {
        return Err(DetectError::MissingClass { what: "training", positives, negatives });
    }
    let dimension = rows.first().map_or(0, Vec::len);
    let weights: Vec<f64> = labels
        .iter()
        .map(|&label| {
            if options.balance_classes {
                n as f64 / (2.0 * if label { positives } else { negatives } as f64)
            } else {
                1.0
            }
        })
        .collect();

    // Candidate thresholds and the bin of every sample: bin b holds edges[b-1] < x <= edges[b].
    let mut edges: Vec<Vec<f64>> = Vec::with_capacity(dimension);
    let mut bins: Vec<Vec<u16>> = Vec::with_capacity(dimension);
    for j in 0..dimension {
        let mut values: Vec<f64> = rows.iter().map(|row| row[j]).collect();
        values.sort_unstable_by(f64::total_cmp);
        let mut feature_edges: Vec<f64> =
            (1..options.max_bins).map(|k| round(values[(k * (n - 1)) / options.max_bins])).collect();
        feature_edges.dedup();
        // An edge at (or above) the maximum splits nothing off.
        feature_edges.retain(|&e| e < values[n - 1]);
        bins.push(rows.iter().map(|row| feature_edges.partition_point(|&e| e < row[j]) as u16).collect());
        edges.push(feature_edges);
    }

    let weighted_positive: f64 = labels.iter().zip(&weights).filter(|(l, _)| **l).map(|(_, w)| w).sum();
    let total_weight: f64 = weights.iter().sum();
    let prior = weighted_positive / total_weight;
    let base = round((prior / (1.0 - prior)).ln());
    let mut logits = vec![base; n];
    let mut stumps = Vec::with_capacity(options.rounds);
    let mut gradient_sums = Vec::new();
    let mut hessian_sums = Vec::new();
    for _ in 0..options.rounds {
        let (mut g, mut h) = (vec![0.0; n], vec![0.0; n]);
        for i in 0..n {
            let p = sigmoid(logits[i]);
            g[i] = weights[i] * (p - if labels[i] { 1.0 } else { 0.0 });
            h[i] = weights[i] * p * (1.0 - p);
        }
        let (g_total, h_total): (f64, f64) = (g.iter().sum(), h.iter().sum());
        let parent = g_total * g_total / (h_total + options.lambda);
        let mut best: Option<(f64, usize, usize, f64, f64)> = None;
        for j in 0..dimension {
            let bin_count = edges[j].len() + 1;
            gradient_sums.clear();
            gradient_sums.resize(bin_count, 0.0);
            hessian_sums.clear();
            hessian_sums.resize(bin_count, 0.0);
            for i in 0..n {
                gradient_sums[bins[j][i] as usize] += g[i];
                hessian_sums[bins[j][i] as usize] += h[i];
            }
            let (mut g_left, mut h_left) = (0.0, 0.0);
            for split in 0..edges[j].len() {
                g_left += gradient_sums[split];
                h_left += hessian_sums[split];
                let (g_right, h_right) = (g_total - g_left, h_total - h_left);
                if h_left < options.min_leaf_hessian || h_right < options.min_leaf_hessian {
                    continue;
                }
                let gain = g_left * g_left / (h_left + options.lambda)
                    + g_right * g_right / (h_right + options.lambda)
                    - parent;
                if gain > best.map_or(1e-12, |b| b.0) {
                    best = Some((gain, j, split, g_left, h_left));
                }
            }
        }
        let Some((_, feature, split, g_left, h_left)) = best else { break };
        let (g_right, h_right) = (g_total - g_left, h_total - h_left);
        let stump = Stump {
            feature,
            threshold: edges[feature][split],
            left: round(-options.learning_rate * g_left / (h_left + options.lambda)),
            right: round(-options.learning_rate * g_right / (h_right + options.lambda)),
        };
        for (logit, row) in logits.iter_mut().zip(rows) {
            *logit += if row[feature] <= stump.threshold { stump.left } else { stump.right };
        }
        stumps.push(stump);
    }
    Ok(StumpFit { base, stumps })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_non_monotone_rule() {
        // Machine iff the single feature is in the middle band: no linear model separates this.
        let rows: Vec<Vec<f64>> = (0..200).map(|i| vec![f64::from(i) / 200.0, f64::from(i % 7)]).collect();
        let labels: Vec<bool> = rows.iter().map(|r| (0.3..0.7).contains(&r[0])).collect();
        let fit = fit_stumps(&rows, &labels, &StumpOptions::default(), |x| x).unwrap();
        let correct = rows
            .iter()
            .zip(&labels)
            .filter(|(row, label)| (stump_logit(fit.base, &fit.stumps, row) > 0.0) == **label)
            .count();
        assert!(correct >= 196, "{correct} of 200");
        assert!(
            fit.stumps[..2].iter().all(|s| s.feature == 0),
            "the band is found first: {:?}",
            &fit.stumps[..2]
        );
    }

    #[test]
    fn stops_when_nothing_helps_and_rejects_bad_options() {
        let rows = vec![vec![1.0]; 10];
        let labels: Vec<bool> = (0..10).map(|i| i % 2 == 0).collect();
        let fit = fit_stumps(&rows, &labels, &StumpOptions::default(), |x| x).unwrap();
        assert!(fit.stumps.is_empty());
        assert_eq!(fit.base, 0.0);
        let bad = StumpOptions { learning_rate: 0.0, ..StumpOptions::default() };
        assert!(fit_stumps(&rows, &labels, &bad, |x| x).is_err());
        assert!(fit_stumps(&rows, &[true; 10], &StumpOptions::default(), |x| x).is_err());
    }
}
