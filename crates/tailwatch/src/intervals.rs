//! Confidence intervals of one corpus's metrics: a delete-a-group jackknife over seeded groups.
//!
//! The documents are shuffled (seeded) and dealt into k groups of near-equal size (k = 20,
//! fewer below 40 documents so that a group holds two; no interval below 4 documents). Each
//! group is profiled once; the k profiles of "every group but one" are merged from them (exact:
//! merged profiles equal profiles of the same documents). With θ̂ the metric of all documents
//! and θ₍ᵢ₎ the metric without group i, the variance is the jackknife's
//! v = (k − 1) / k · Σᵢ (θ₍ᵢ₎ − θ̄)², θ̄ the mean of the θ₍ᵢ₎, and the interval
//! θ̂ ± t · √v with t the Student-t quantile at k − 1 degrees of freedom (Kott's delete-a-group
//! jackknife), cut to the metric's range.
//!
//! Why not a bootstrap over documents: a resample drawn with replacement repeats documents, so
//! it has duplicates, repeated n-grams and self-BLEU matches that the corpus does not have;
//! duplicate_rate, distinct-n and self-BLEU of resamples are shifted away from the corpus's own
//! value and their spread says nothing about it. Leaving groups out never repeats a document.
//! The jackknife's variance is never too small on average (Efron and Stein 1981) and is exact
//! for means of per-document values: mean_doc_tokens intervals hold their nominal level. For metrics that count first occurrences (distinct-n, duplicate_rate, coverage) it
//! is too large, so their intervals are conservative: 95 % intervals covered 96 % to 99.5 % in
//! tests/intervals.rs. For a maximum such as top_output_share the interval is rough.
//!
//! Deterministic for a seed and independent of the thread count: the deal is seeded and the
//! merges are exact. Cost: one profile of the corpus (in groups), about log₂ k merges of the
//! whole, and the metrics of k + 1 profiles (k + 1 times the cost of scoring, self-BLEU first).
use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use statrs::distribution::{ContinuousCDF, StudentsT};
use tailwatch_metrics::Profile;
use tailwatch_metrics::catalog::metric_info;

use crate::matching::{Values, generator};
use crate::scoring::Scorer;
use crate::{Engine, Error, Result};

/// Groups of the jackknife (at 40 documents or more).
pub const JACKKNIFE_GROUPS: usize = 20;

/// Groups for `n` documents: [`JACKKNIFE_GROUPS`], fewer so that a group holds two documents;
/// below 2 groups (fewer than 4 documents) there is no interval.
pub fn jackknife_groups(n: usize) -> usize {
    (n / 2).min(JACKKNIFE_GROUPS)
}

/// A corpus's metrics and an interval for each metric that has one.
#[derive(Debug, Clone)]
pub struct Intervals {
    /// The profile of all documents.
    pub profile: Profile,
    /// The metrics of all documents.
    pub values: Values,
    /// Per metric id: `[low, high]` at `confidence`.
    pub intervals: BTreeMap<String, [f64; 2]>,
    /// The confidence of the intervals.
    pub confidence: f64,
    /// The groups left out in turn.
    pub groups: usize,
}

impl Engine {
    /// The metrics of `docs` and their jackknife intervals at `confidence` (in (0, 1)), dealt
    /// into groups with `seed`.
    pub fn metric_intervals(
        &self,
        scorer: &Scorer,
        docs: &[&str],
        confidence: f64,
        seed: u64,
    ) -> Result<Intervals> {
        self.metric_intervals_of_records(scorer, docs, &vec![1; docs.len()], confidence, seed)
    }

    /// [`Engine::metric_intervals`] of documents that come in records (`record_sizes`: how
    /// many consecutive documents each record holds, e.g. the k samples of one prompt): whole
    /// records are dealt into the groups, so documents of one record, which are alike, are
    /// never split between a group and the rest.
    pub fn metric_intervals_of_records(
        &self,
        scorer: &Scorer,
        docs: &[&str],
        record_sizes: &[usize],
        confidence: f64,
        seed: u64,
    ) -> Result<Intervals> {
        if !(confidence > 0.0 && confidence < 1.0) {
            return Err(Error::invalid("confidence", "in (0, 1)", confidence));
        }
        if record_sizes.iter().sum::<usize>() != docs.len() {
            return Err(Error::invalid(
                "record_sizes",
                "summing to the number of documents",
                record_sizes.len(),
            ));
        }
        let k = jackknife_groups(record_sizes.len());
        if k < 2 {
            let profile = scorer.profile_texts(self, docs.iter().copied())?;
            let values = scorer.metrics(self, &profile)?.0.values;
            return Ok(Intervals { profile, values, intervals: BTreeMap::new(), confidence, groups: 0 });
        }
        let mut starts = Vec::with_capacity(record_sizes.len());
        let mut at = 0;
        for &size in record_sizes {
            starts.push(at..at + size);
            at += size;
        }
        let mut order: Vec<usize> = (0..record_sizes.len()).collect();
        order.shuffle(&mut generator(seed, 0));
        let n = order.len();
        let dealt: Vec<Vec<usize>> = (0..k)
            .map(|g| order[g * n / k..(g + 1) * n / k].iter().flat_map(|&r| starts[r].clone()).collect())
            .collect();
        let groups: Vec<&[usize]> = dealt.iter().map(Vec::as_slice).collect();
        let profiles = self.profile_groups(scorer, docs, &groups)?;
        let mut left_out: Vec<Option<Values>> = vec![None; k];
        self.install(|| self.leave_one_out(scorer, &profiles, None, &mut left_out))?;
        let left_out: Vec<Values> = left_out.into_iter().map(|v| v.expect("every group left out")).collect();
        let mut whole = profiles.into_iter();
        let mut all = whole.next().expect("two groups");
        for profile in whole {
            self.install(|| all.merge(profile))?;
        }
        let values = scorer.metrics(self, &all)?.0.values;
        let t = StudentsT::new(0.0, 1.0, (k - 1) as f64)
            .expect("k - 1 >= 1 degrees of freedom")
            .inverse_cdf((1.0 + confidence) / 2.0);
        let mut intervals = BTreeMap::new();
        for (id, value) in &values {
            let Some(value) = *value else { continue };
            let Some(without): Option<Vec<f64>> =
                left_out.iter().map(|v| v.get(id).copied().flatten()).collect()
            else {
                continue;
            };
            let mean = without.iter().sum::<f64>() / k as f64;
            let variance =
                (k - 1) as f64 / k as f64 * without.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
            let half = t * variance.sqrt();
            let (low, high) = metric_range(id);
            intervals.insert(id.clone(), [(value - half).max(low), (value + half).min(high)]);
        }
        Ok(Intervals { profile: all, values, intervals, confidence, groups: k })
    }

    /// The metrics of `outside` merged with every group of `groups` but one, for each group in
    /// turn, into `out` (one per group). Halving: each half is left out of the other's
    /// profiles together, so the k profiles cost about log₂ k merges of the whole.
    pub(crate) fn leave_one_out(
        &self,
        scorer: &Scorer,
        groups: &[Profile],
        outside: Option<Profile>,
        out: &mut [Option<Values>],
    ) -> Result<()> {
        if groups.len() == 1 {
            let profile = outside.expect("a group is left out of two or more");
            out[0] = Some(scorer.metrics(self, &profile)?.0.values);
            return Ok(());
        }
        let mid = groups.len() / 2;
        let (left, right) = groups.split_at(mid);
        let (out_left, out_right) = out.split_at_mut(mid);
        let with = |others: &[Profile]| -> Result<Profile> {
            let mut merged = match &outside {
                Some(profile) => profile.clone(),
                None => others[0].clone(),
            };
            let skip = usize::from(outside.is_none());
            for profile in &others[skip..] {
                merged.merge(profile.clone())?;
            }
            Ok(merged)
        };
        let (a, b) = rayon::join(
            || with(right).and_then(|p| self.leave_one_out(scorer, left, Some(p), out_left)),
            || with(left).and_then(|p| self.leave_one_out(scorer, right, Some(p), out_right)),
        );
        a.and(b)
    }
}

/// The bounds of a metric's documented range (`[0,1]`, `(0,inf)`, `[1,V]`...); a bound that
/// is not a number is open.
pub(crate) fn metric_range(id: &str) -> (f64, f64) {
    let Some(range) = metric_info(id).map(|m| m.range) else {
        return (f64::NEG_INFINITY, f64::INFINITY);
    };
    let inner = range.trim_matches(|c| matches!(c, '[' | ']' | '(' | ')'));
    let (low, high) = inner.split_once(',').unwrap_or((inner, ""));
    let low = low.trim().parse::<f64>().unwrap_or(f64::NEG_INFINITY);
    let high = high.trim().parse::<f64>().unwrap_or(f64::INFINITY);
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_from_the_catalog() {
        assert_eq!(metric_range("distinct_2"), (0.0, 1.0));
        assert_eq!(metric_range("mtld"), (1.0, f64::INFINITY));
        assert_eq!(metric_range("compression_ratio"), (0.0, f64::INFINITY));
        assert_eq!(metric_range("entropy_1"), (0.0, f64::INFINITY));
        assert_eq!(metric_range("no_such_metric"), (f64::NEG_INFINITY, f64::INFINITY));
    }

    #[test]
    fn groups_hold_two_documents() {
        assert_eq!(jackknife_groups(3), 1);
        assert_eq!(jackknife_groups(4), 2);
        assert_eq!(jackknife_groups(39), 19);
        assert_eq!(jackknife_groups(100_000), JACKKNIFE_GROUPS);
    }
}
