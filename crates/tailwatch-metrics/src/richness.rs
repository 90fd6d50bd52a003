//! Lexical richness of a token sequence: MTLD, HD-D and the Zipf coefficient.
use std::collections::HashSet;
use std::hash::Hash;

use crate::numeric::linregress;

/// MTLD threshold of McCarthy & Jarvis (2010).
pub const MTLD_THRESHOLD: f64 = 0.72;

/// MTLD (measure of textual lexical diversity), as LexicalRichness computes it (canonical).
///
/// Formula: walk the tokens keeping a running type-token ratio; each time it falls to
/// `threshold` or below a factor is complete and the count restarts; the leftover segment adds
/// `(1 − ttr)/(1 − threshold)`; MTLD = tokens / factors, averaged over the forward and backward
/// pass. Range: `[1, ∞)`, in tokens. Collapse: lower. Cost: O(N). Source: McCarthy & Jarvis 2010;
/// LSYS/LexicalRichness `mtld`. `None` for an empty sequence.
pub fn mtld<T: Hash + Eq>(tokens: &[T], threshold: f64) -> Option<f64> {
    if tokens.is_empty() {
        return None;
    }
    let total_types = tokens.iter().collect::<HashSet<_>>().len();
    let pass = |iter: &mut dyn Iterator<Item = &T>| {
        let mut terms = HashSet::new();
        let mut counter = 0usize;
        let mut factors = 0.0f64;
        let mut ttr = 1.0;
        for t in iter {
            counter += 1;
            terms.insert(t);
            ttr = terms.len() as f64 / counter as f64;
            if ttr <= threshold {
                counter = 0;
                terms.clear();
                factors += 1.0;
            }
        }
        if counter > 0 {
            factors += (1.0 - ttr) / (1.0 - threshold);
        }
        if factors == 0.0 {
            let whole = total_types as f64 / tokens.len() as f64;
            factors += if whole == 1.0 { 1.0 } else { (1.0 - whole) / (1.0 - threshold) };
        }
        tokens.len() as f64 / factors
    };
    let forward = pass(&mut tokens.iter());
    let backward = pass(&mut tokens.iter().rev());
    Some((forward + backward) / 2.0)
}

/// MTLD as kristopherkyle/lexical_diversity computes it (`--compat lexical-diversity`): a factor
/// ends only when the TTR is strictly below 0.72 and the segment has at least `min_len` tokens,
/// and the last token always adds a partial factor.
pub fn mtld_lexical_diversity<T: Hash + Eq>(tokens: &[T], min_len: usize) -> f64 {
    let pass = |seq: &[&T]| {
        let mut factor = 0.0f64;
        let mut lengths = 0usize;
        let mut start = 0usize;
        let mut types = HashSet::new();
        for x in 0..seq.len() {
            types.insert(seq[x]);
            let len = x + 1 - start;
            let ttr = types.len() as f64 / len as f64;
            if x + 1 == seq.len() {
                factor += (1.0 - ttr) / (1.0 - 0.72);
                lengths += len;
            } else if ttr < 0.72 && len >= min_len {
                factor += 1.0;
                lengths += len;
                start = x + 1;
                types.clear();
            }
        }
        if factor == 0.0 { 0.0 } else { lengths as f64 / factor }
    };
    let forward: Vec<&T> = tokens.iter().collect();
    let backward: Vec<&T> = tokens.iter().rev().collect();
    (pass(&forward) + pass(&backward)) / 2.0
}

/// HD-D from type frequencies: Σ over types of `(1 − P(X = 0)) / draws`, X hypergeometric
/// (N tokens, f copies of the type, `draws` drawn).
///
/// Range: `[0, 1]`. Collapse: lower. Cost: O(types · draws). Source: McCarthy & Jarvis 2007;
/// LexicalRichness `hdd` and lexical_diversity `hdd` (they agree to 1e-15). Order-free, so it is
/// computed exactly from the profile's unigram counts. `None` when N < draws.
pub fn hdd(frequencies: impl IntoIterator<Item = u64>, total: u64, draws: u64) -> Option<f64> {
    if total < draws || draws == 0 {
        return None;
    }
    let mut contributions: Vec<f64> = frequencies
        .into_iter()
        .map(|f| {
            // P(X = 0) = Π_{i<draws} (N − f − i) / (N − i)
            let mut p0 = 1.0f64;
            if total - f < draws {
                p0 = 0.0;
            } else {
                for i in 0..draws {
                    p0 *= (total - f - i) as f64 / (total - i) as f64;
                }
            }
            (1.0 - p0) / draws as f64
        })
        .collect();
    contributions.sort_by(f64::total_cmp);
    Some(crate::numeric::fsum(contributions))
}

/// Zipf coefficient: `−slope` of `log(frequency)` on `log(rank)` over the `top` most frequent
/// types (least squares), with the correlation `r`.
///
/// Range: `[0, ∞)` (ranks sort frequencies, so the slope is never positive; 0 when every type
/// is as frequent, as in `a b`), about 1 for natural text. Collapse: higher (mass piles onto
/// few types).
/// Cost: O(V log V). Source: Holtzman et al. 2019, ari-holtzman/degen `metrics/zipf.py` (top 5000).
pub fn zipf_coefficient(mut frequencies: Vec<u64>, top: usize) -> Option<(f64, f64)> {
    frequencies.sort_unstable_by(|a, b| b.cmp(a));
    frequencies.truncate(top);
    let x: Vec<f64> = (1..=frequencies.len()).map(|r| (r as f64).ln()).collect();
    let y: Vec<f64> = frequencies.iter().map(|&f| (f as f64).ln()).collect();
    // `0.0 - slope`, not `-slope`: a flat line is 0, not -0
    linregress(&x, &y).map(|(slope, r)| (0.0 - slope, -r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtld_of_all_distinct_is_length() {
        let toks: Vec<u32> = (0..8).collect();
        assert_eq!(mtld(&toks, MTLD_THRESHOLD), Some(8.0));
    }

    #[test]
    fn hdd_bounds() {
        assert_eq!(hdd([1u64; 10], 10, 42), None);
        let one_type = hdd([100u64], 100, 42).unwrap();
        assert!((one_type - 1.0 / 42.0).abs() < 1e-15);
    }
}
