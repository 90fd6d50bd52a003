//! Self-BLEU in near-linear time, equal to nltk's leave-one-out `sentence_bleu` with method1.
//!
//! Formula (nltk): for hypothesis i and references = every other document, BLEU-n =
//! BP · exp(Σ_{k≤n} (1/n) · ln p_k), where p_k = Σ_g min(c_i(g), max_{j≠i} c_j(g)) / max(1, #k-grams
//! of i), a zero numerator is smoothed to 0.1/denominator (method1), BP = exp(1 − r/h) when the
//! hypothesis length h does not exceed the closest reference length r (ties to the shorter), and
//! a hypothesis with no matching unigram scores 0. Self-BLEU is the mean over hypotheses.
//! Range: `[0, 1]`. Collapse: higher. Source: Zhu et al. 2018 (Texygen); nltk `bleu_score`.
//!
//! Cost: O(total n-grams + N log N). As in fast-bleu, the leave-one-out maximum count of an
//! n-gram is its maximum over all documents unless document i is its only holder, in which case
//! it is the second maximum; the closest reference length comes from a sorted length array.
use crate::ngram_table::{extend_key, radix_sort};
use crate::numeric::fsum;
use rayon::prelude::*;

/// Highest BLEU order computed.
pub const MAX_BLEU_ORDER: usize = 5;

/// nltk's `SmoothingFunction().method1` epsilon.
const EPSILON: f64 = 0.1;

#[derive(Clone, Copy, Default)]
struct MaxStat {
    max: u32,
    holders: u32,
    second: u32,
}

/// Per-hypothesis clipped counts, the building blocks of BLEU-1..5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BleuCounts {
    /// Clipped matches per order 1..=5.
    pub numerators: [u64; MAX_BLEU_ORDER],
    /// `max(1, hypothesis k-grams)` per order.
    pub denominators: [u64; MAX_BLEU_ORDER],
    /// Hypothesis length in tokens.
    pub hyp_len: u64,
    /// Closest reference length (nltk's rule).
    pub ref_len: u64,
}

impl BleuCounts {
    /// nltk `sentence_bleu` with uniform weights `1/n` over orders 1..=n and method1 smoothing.
    pub fn bleu(&self, n: usize) -> f64 {
        assert!((1..=MAX_BLEU_ORDER).contains(&n), "BLEU order {n} out of range");
        if self.numerators[0] == 0 {
            return 0.0;
        }
        let weight = 1.0 / n as f64;
        let logs = (0..n).map(|k| {
            let p = if self.numerators[k] == 0 {
                EPSILON / self.denominators[k] as f64
            } else {
                self.numerators[k] as f64 / self.denominators[k] as f64
            };
            weight * p.ln()
        });
        let bp = if self.hyp_len > self.ref_len {
            1.0
        } else if self.hyp_len == 0 {
            0.0
        } else {
            (1.0 - self.ref_len as f64 / self.hyp_len as f64).exp()
        };
        bp * fsum(logs).exp()
    }
}

fn order_keys(doc: &[u64], order: usize, out: &mut Vec<u64>) {
    out.clear();
    if doc.len() < order {
        return;
    }
    for start in 0..=doc.len() - order {
        let mut key = doc[start];
        for &h in &doc[start + 1..start + order] {
            key = extend_key(key, h);
        }
        out.push(key);
    }
}

/// Every n-gram occurrence of one order as a (key, document) pair, in document order.
struct Occurrences(Vec<(u64, u32)>);

impl Occurrences {
    /// Order 1: the token hashes.
    fn unigrams(docs: &[Vec<u64>]) -> Self {
        let mut pairs = Vec::with_capacity(docs.iter().map(Vec::len).sum());
        for (d, doc) in docs.iter().enumerate() {
            pairs.extend(doc.iter().map(|&key| (key, d as u32)));
        }
        Self(pairs)
    }

    /// Order k + 1 from order k (`self`): each key extended by the token that follows its
    /// n-gram (one hash per key, the same keys as [`order_keys`]).
    fn extend(&self, docs: &[Vec<u64>], order: usize) -> Self {
        let mut pairs = Vec::with_capacity(self.0.len().saturating_sub(docs.len()));
        let mut start = 0;
        for (d, doc) in docs.iter().enumerate() {
            // this document's (order - 1)-grams
            let previous = doc.len().saturating_sub(order - 2);
            let prev = &self.0[start..start + previous];
            start += previous;
            if doc.len() >= order {
                pairs.extend(
                    (0..=doc.len() - order).map(|s| (extend_key(prev[s].0, doc[s + order - 1]), d as u32)),
                );
            }
        }
        Self(pairs)
    }
}

/// Leave-one-out clipped matches of each hypothesis for one order. Sorted, a key's
/// occurrences are contiguous and, within them, each document's run, so one pass finds the
/// key's maximum count, its number of holders and the second maximum, and clips each
/// document's run against them. No hash table: one radix sort of 16-byte pairs (through
/// `scratch`), which touches a fraction of the memory a table per order did.
fn clipped_matches(
    occurrences: Occurrences,
    n_docs: usize,
    hyps: &[usize],
    scratch: &mut Vec<(u64, u32)>,
) -> Vec<u64> {
    let mut occurrences = occurrences.0;
    // stable by key: occurrences are in document order, so each key's stay in document order
    radix_sort(&mut occurrences, scratch, 56, |e| e.0, |small| small.sort_by_key(|e| e.0));
    let mut sums = vec![0u64; n_docs];
    let mut runs: Vec<(u32, u32)> = Vec::new();
    let mut i = 0;
    while i < occurrences.len() {
        let key = occurrences[i].0;
        runs.clear();
        let mut j = i;
        while j < occurrences.len() && occurrences[j].0 == key {
            let doc = occurrences[j].1;
            let mut k = j + 1;
            while k < occurrences.len() && occurrences[k] == (key, doc) {
                k += 1;
            }
            runs.push((doc, (k - j) as u32));
            j = k;
        }
        let mut s = MaxStat::default();
        for &(_, count) in &runs {
            if count > s.max {
                s.second = s.max;
                s.max = count;
                s.holders = 1;
            } else if count == s.max {
                s.holders += 1;
            } else if count > s.second {
                s.second = count;
            }
        }
        for &(doc, count) in &runs {
            let reference = if count == s.max && s.holders == 1 { s.second } else { s.max };
            sums[doc as usize] += u64::from(count.min(reference));
        }
        i = j;
    }
    hyps.iter().map(|&h| sums[h]).collect()
}

/// Clipped counts of each hypothesis `hyps[i]` (an index into `docs`) against every other
/// document of `docs`, for BLEU orders 1..=5. Documents are token-hash sequences. Returns
/// `None` for fewer than 2 docs.
pub fn bleu_counts(docs: &[Vec<u64>], hyps: &[usize]) -> Option<Vec<BleuCounts>> {
    bleu_counts_up_to(docs, hyps, MAX_BLEU_ORDER)
}

/// [`bleu_counts`] for orders 1..=`max_order` only (higher orders keep numerator 0 and
/// denominator 1, so only `bleu(n)` with `n <= max_order` is meaningful). The orders are
/// counted in parallel; the result does not depend on the thread count.
pub fn bleu_counts_up_to(docs: &[Vec<u64>], hyps: &[usize], max_order: usize) -> Option<Vec<BleuCounts>> {
    assert!((1..=MAX_BLEU_ORDER).contains(&max_order), "BLEU order {max_order} out of range");
    if docs.len() < 2 {
        return None;
    }
    let mut orders = vec![Occurrences::unigrams(docs)];
    for order in 2..=max_order {
        let next = orders[order - 2].extend(docs, order);
        orders.push(next);
    }
    // two orders or more per task, so that each thread sorts through one scratch buffer
    let matches: Vec<Vec<u64>> = orders
        .into_par_iter()
        .with_min_len(2)
        .map_init(Vec::new, |scratch, occurrences| clipped_matches(occurrences, docs.len(), hyps, scratch))
        .collect();
    // Distinct lengths with multiplicities, sorted, for the closest-reference-length search.
    let mut lengths: Vec<u64> = docs.iter().map(|d| d.len() as u64).collect();
    lengths.sort_unstable();
    let mut distinct: Vec<(u64, u64)> = Vec::new();
    for l in lengths {
        match distinct.last_mut() {
            Some((v, c)) if *v == l => *c += 1,
            _ => distinct.push((l, 1)),
        }
    }
    let closest = |h: u64| -> u64 {
        let available = |i: usize| distinct[i].0 != h || distinct[i].1 >= 2;
        let upto = distinct.partition_point(|(v, _)| *v <= h);
        let below = (0..upto).rev().find(|&i| available(i));
        let from = distinct.partition_point(|(v, _)| *v < h);
        let above = (from..distinct.len()).find(|&i| available(i));
        match (below.map(|i| distinct[i].0), above.map(|i| distinct[i].0)) {
            (Some(lo), Some(hi)) => {
                if (hi - h) < (h - lo) {
                    hi
                } else {
                    lo
                }
            }
            (Some(lo), None) => lo,
            (None, Some(hi)) => hi,
            (None, None) => unreachable!("at least two documents"),
        }
    };
    let out = hyps
        .iter()
        .enumerate()
        .map(|(h, &i)| {
            let len = docs[i].len() as u64;
            let mut counts = BleuCounts {
                numerators: [0; MAX_BLEU_ORDER],
                denominators: [1; MAX_BLEU_ORDER],
                hyp_len: len,
                ref_len: closest(len),
            };
            for (order, matched) in matches.iter().enumerate() {
                counts.numerators[order] = matched[h];
                counts.denominators[order] = (docs[i].len().saturating_sub(order) as u64).max(1);
            }
            counts
        })
        .collect();
    Some(out)
}

/// Self-BLEU-n per document (every document against all others). `None` for fewer than 2 docs.
pub fn self_bleu_per_doc(docs: &[Vec<u64>], n: usize) -> Option<Vec<f64>> {
    let hyps: Vec<usize> = (0..docs.len()).collect();
    bleu_counts_up_to(docs, &hyps, n).map(|c| c.iter().map(|b| b.bleu(n)).collect())
}

/// The mean of per-document scores.
pub fn mean(scores: &[f64]) -> Option<f64> {
    (!scores.is_empty()).then(|| fsum(scores.iter().copied()) / scores.len() as f64)
}

/// Reference implementation, quadratic like nltk: used by tests to check the fast path.
pub fn naive_counts(docs: &[Vec<u64>], i: usize) -> BleuCounts {
    use std::collections::HashMap;
    let count = |d: &[u64], order: usize| {
        let mut keys = Vec::new();
        order_keys(d, order, &mut keys);
        let mut m: HashMap<u64, u32> = HashMap::new();
        for k in keys {
            *m.entry(k).or_default() += 1;
        }
        m
    };
    let hyp = &docs[i];
    let mut c = BleuCounts {
        numerators: [0; MAX_BLEU_ORDER],
        denominators: [1; MAX_BLEU_ORDER],
        hyp_len: hyp.len() as u64,
        ref_len: 0,
    };
    for order in 1..=MAX_BLEU_ORDER {
        let h = count(hyp, order);
        let mut max_ref: HashMap<u64, u32> = HashMap::new();
        for (j, d) in docs.iter().enumerate() {
            if j != i {
                for (k, v) in count(d, order) {
                    let e = max_ref.entry(k).or_default();
                    *e = (*e).max(v);
                }
            }
        }
        c.numerators[order - 1] =
            h.iter().map(|(k, v)| u64::from((*v).min(max_ref.get(k).copied().unwrap_or(0)))).sum();
        c.denominators[order - 1] = (h.values().map(|v| u64::from(*v)).sum::<u64>()).max(1);
    }
    let h = hyp.len() as i64;
    c.ref_len = docs
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, d)| d.len() as i64)
        .min_by_key(|r| ((r - h).abs(), *r))
        .unwrap() as u64;
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fast_equals_naive(docs in proptest::collection::vec(proptest::collection::vec(0u64..6, 0..9), 2..12)) {
            let hyps: Vec<usize> = (0..docs.len()).collect();
            let fast = bleu_counts(&docs, &hyps).unwrap();
            for max_order in 1..MAX_BLEU_ORDER {
                let partial = bleu_counts_up_to(&docs, &hyps, max_order).unwrap();
                for (p, f) in partial.iter().zip(&fast) {
                    prop_assert_eq!(&p.numerators[..max_order], &f.numerators[..max_order]);
                    prop_assert_eq!(&p.denominators[..max_order], &f.denominators[..max_order]);
                    prop_assert_eq!((p.hyp_len, p.ref_len), (f.hyp_len, f.ref_len));
                }
            }
            for (i, counts) in fast.iter().enumerate() {
                prop_assert_eq!(*counts, naive_counts(&docs, i));
                for n in 2..=5 {
                    let b = counts.bleu(n);
                    prop_assert!((0.0..=1.0).contains(&b), "bleu {} out of range", b);
                }
            }
        }
    }

    #[test]
    fn identical_docs_score_one() {
        let docs = vec![vec![1, 2, 3, 4, 5], vec![1, 2, 3, 4, 5], vec![9, 9]];
        let s = self_bleu_per_doc(&docs, 4).unwrap();
        assert!((s[0] - 1.0).abs() < 1e-15 && (s[1] - 1.0).abs() < 1e-15);
        assert_eq!(s[2], 0.0);
    }
}
