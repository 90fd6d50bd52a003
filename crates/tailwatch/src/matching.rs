//! Matched-size evidence for a comparison: both sides' metrics at the same number of
//! documents, a permutation p-value and an interval for each change.
//!
//! Why: self-BLEU, distinct-n and coverage depend on how many documents they are computed
//! over, so a candidate of 1,300 documents compared with a baseline of 260 moves even when both
//! come from one model. Here both sides are computed at m = the smaller side's size (the larger
//! side by a seeded subsample of m documents).
//!
//! The p-value (one-sided, in the collapse direction): the two sides' documents are pooled and,
//! `permutations` times, split at random into two groups of m documents; p = (1 + number of
//! splits whose change is at least as far in the collapse direction as the observed one) / (1 +
//! splits with a defined change). Under the null hypothesis (both sides' documents come from
//! one distribution) every split is as likely as the observed one, so p is exact for any metric
//! and any size. The interval is the shift interval: the observed change minus the upper and
//! lower quantiles of the null changes (the spread of a change between two samples of m
//! documents of the pooled corpus).
//!
//! Only checks whose observed change passes their rule's threshold get splits (the others
//! cannot breach, whatever their p-value), so a comparison that is within its rules costs two
//! profiles; the Benjamini-Hochberg adjustment still counts every check with values on both
//! sides (an untested one as p = 1), which keeps it conservative.
//!
//! Deterministic for a seed; each split has its own seeded generator, so the result does not
//! depend on the thread count. Cost: 2 + permutations × 2 profiles of m documents, computing
//! only the tested checks' metrics.
use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use tailwatch_metrics::MetricSelection;
use tailwatch_metrics::catalog::{Direction, metric_info};
use tailwatch_metrics::compare::{Evidence, Rule};

use crate::scoring::{ScoreOptions, Scorer};
use crate::{Engine, Result};

/// How the evidence is computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resampling {
    /// Seed of the subsample and of the splits.
    pub seed: u64,
    /// Random splits of the pooled documents (0: no p-values or intervals).
    pub permutations: usize,
    /// Confidence of the intervals.
    pub confidence: f64,
}

impl Default for Resampling {
    fn default() -> Self {
        Self { seed: 0, permutations: 1000, confidence: 0.95 }
    }
}

/// The metrics of both sides at matched size and the evidence for each rule's metric.
#[derive(Debug, Clone)]
pub struct Matched {
    /// Documents per side.
    pub docs: usize,
    /// The baseline's metrics at `docs` documents.
    pub baseline: BTreeMap<String, Option<f64>>,
    /// The candidate's metrics at `docs` documents.
    pub candidate: BTreeMap<String, Option<f64>>,
    /// Per metric id of the rules.
    pub evidence: BTreeMap<String, Evidence>,
}

/// A seeded generator for draw `k` (0 = the subsample of the larger side).
fn generator(seed: u64, k: usize) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(seed ^ (k as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// `m` of `0..n` at random, in increasing order (all of them when `m == n`).
fn subsample(rng: &mut Pcg64Mcg, n: usize, m: usize) -> Vec<usize> {
    if m >= n {
        return (0..n).collect();
    }
    let mut picked = rand::seq::index::sample(rng, n, m).into_vec();
    picked.sort_unstable();
    picked
}

/// The collapse direction of a rule as a sign: +1 when collapse raises the metric.
fn collapse_sign(rule: &Rule) -> f64 {
    let direction = rule.direction.unwrap_or_else(|| match metric_info(&rule.metric).map(|m| m.collapse) {
        Some(Direction::Lower) => Direction::Lower,
        _ => Direction::Higher,
    });
    if direction == Direction::Lower { -1.0 } else { 1.0 }
}

/// The `q`-quantile of sorted values (linear interpolation).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (below, above) = (position.floor() as usize, position.ceil() as usize);
    let weight = position - below as f64;
    sorted[below] * (1.0 - weight) + sorted[above] * weight
}

impl Engine {
    /// Both sides at matched size, with a p-value and an interval for the metric of each rule.
    /// `scorer` computes the metrics (its selection should be the rules' metrics).
    pub fn matched_evidence(
        &self,
        scorer: &Scorer,
        baseline: &[&str],
        candidate: &[&str],
        rules: &[Rule],
        resampling: &Resampling,
    ) -> Result<Matched> {
        let m = baseline.len().min(candidate.len());
        let values = |docs: &mut dyn Iterator<Item = &str>,
                      scorer: &Scorer|
         -> Result<BTreeMap<String, Option<f64>>> {
            let profile = scorer.profile_texts(self, docs)?;
            if profile.n_docs() == 0 {
                return Ok(BTreeMap::new());
            }
            Ok(scorer.metrics(self, &profile)?.0.values)
        };
        let mut rng = generator(resampling.seed, 0);
        let pick_b = subsample(&mut rng, baseline.len(), m);
        let pick_c = subsample(&mut rng, candidate.len(), m);
        let observed_b = values(&mut pick_b.iter().map(|&i| baseline[i]), scorer)?;
        let observed_c = values(&mut pick_c.iter().map(|&i| candidate[i]), scorer)?;
        // the checks past their thresholds: the only ones a p-value can turn into a breach
        let observed = tailwatch_metrics::compare::compare(&observed_b, &observed_c, rules);
        let tested: Vec<&Rule> = rules
            .iter()
            .zip(&observed.checks)
            .filter(|(_, check)| check.breached)
            .map(|(rule, _)| rule)
            .collect();
        let split_scorer = Scorer {
            settings: scorer.settings.clone(),
            options: ScoreOptions {
                metrics: MetricSelection::Only(tested.iter().map(|r| r.metric.clone()).collect()),
                ..scorer.options.clone()
            },
        };
        let permutations = if tested.is_empty() { 0 } else { resampling.permutations };
        let change = |b: &BTreeMap<String, Option<f64>>, c: &BTreeMap<String, Option<f64>>, id: &str| match (
            b.get(id).copied().flatten(),
            c.get(id).copied().flatten(),
        ) {
            (Some(b), Some(c)) => Some(c - b),
            _ => None,
        };
        let pooled: Vec<&str> = baseline.iter().chain(candidate).copied().collect();
        let splits: Vec<Vec<Option<f64>>> = self.install(|| {
            (0..permutations)
                .into_par_iter()
                .map(|k| -> Result<Vec<Option<f64>>> {
                    let mut rng = generator(resampling.seed, k + 1);
                    let picked = subsample(&mut rng, pooled.len(), 2 * m);
                    // the picked documents, shuffled, in two groups of m
                    let mut order = picked;
                    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
                    let (first, second) = order.split_at(m);
                    let b = values(&mut first.iter().map(|&i| pooled[i]), &split_scorer)?;
                    let c = values(&mut second.iter().map(|&i| pooled[i]), &split_scorer)?;
                    Ok(tested.iter().map(|rule| change(&b, &c, &rule.metric)).collect())
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let mut evidence = BTreeMap::new();
        for rule in rules {
            let observed = change(&observed_b, &observed_c, &rule.metric);
            let Some(r) = tested.iter().position(|t| std::ptr::eq(*t, rule)) else {
                // (two rules on one metric: the tested one's evidence stays)
                evidence.entry(rule.metric.clone()).or_insert(Evidence {
                    docs: m as u64,
                    p_value: None,
                    interval: None,
                });
                continue;
            };
            let mut null: Vec<f64> = splits.iter().filter_map(|s| s[r]).collect();
            null.sort_by(f64::total_cmp);
            let (p_value, interval) = match observed {
                Some(d) if !null.is_empty() => {
                    let sign = collapse_sign(rule);
                    // a float tolerance: a split whose change equals the observed one counts
                    let as_far = null.iter().filter(|&&x| sign * x >= sign * d - 1e-12).count();
                    let p = (1 + as_far) as f64 / (1 + null.len()) as f64;
                    let tail = (1.0 - resampling.confidence) / 2.0;
                    let interval = [d - quantile(&null, 1.0 - tail), d - quantile(&null, tail)];
                    (Some(p), Some(interval))
                }
                _ => (None, None),
            };
            evidence.insert(rule.metric.clone(), Evidence { docs: m as u64, p_value, interval });
        }
        Ok(Matched { docs: m, baseline: observed_b, candidate: observed_c, evidence })
    }
}

/// Split a baseline once, seeded, into a held-out reference (half its documents, rounded down)
/// and the rest, which stands for the baseline in the comparison; both keep input order.
///
/// A corpus covers all of its own tail by construction, so a baseline that is its own reference
/// scores a perfect tail_coverage and js_to_reference of 0 that no candidate can match: split,
/// both sides are measured against documents neither contains.
pub fn hold_out<'a>(docs: &[&'a str], seed: u64) -> (Vec<&'a str>, Vec<&'a str>) {
    let mut rng = generator(seed, usize::MAX);
    let held = subsample(&mut rng, docs.len(), docs.len() / 2);
    let mut is_held = vec![false; docs.len()];
    held.iter().for_each(|&i| is_held[i] = true);
    let (mut reference, mut rest) = (Vec::with_capacity(held.len()), Vec::new());
    for (doc, held) in docs.iter().zip(is_held) {
        if held { reference.push(*doc) } else { rest.push(*doc) }
    }
    (reference, rest)
}

/// How many of `candidate`'s documents occur verbatim in `reference`.
pub fn shared_documents(reference: &[&str], candidate: &[&str]) -> usize {
    let known: std::collections::HashSet<&str> = reference.iter().copied().collect();
    candidate.iter().filter(|d| known.contains(*d)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_out_splits_in_half_disjointly_and_in_order() {
        let docs: Vec<String> = (0..11).map(|i| format!("doc {i}")).collect();
        let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let (reference, rest) = hold_out(&docs, 3);
        assert_eq!((reference.len(), rest.len()), (5, 6));
        assert_eq!(shared_documents(&reference, &rest), 0);
        let mut all: Vec<&str> = reference.iter().chain(&rest).copied().collect();
        all.sort_unstable();
        let mut want = docs.clone();
        want.sort_unstable();
        assert_eq!(all, want);
        let position = |d: &str| docs.iter().position(|x| *x == d).unwrap();
        assert!(reference.windows(2).all(|w| position(w[0]) < position(w[1])));
        assert_eq!(hold_out(&docs, 3), (reference, rest), "seeded");
        assert_eq!(shared_documents(&docs[..3], &["doc 1", "doc 9", "doc 2"]), 2);
    }
}
