//! Exact all-pairs Jaccard join with prefix and length filtering (Bayardo et al. 2007).
use std::collections::HashMap;

use rayon::prelude::*;

use crate::shingle::jaccard;

/// Every pair (i, j, J) with i < j and exact Jaccard J ≥ `threshold` among `sets` (each sorted
/// and distinct), sorted by (i, j). Elements are re-ordered by increasing global frequency;
/// each set indexes only its prefix of |x| − ⌈t·|x|⌉ + 1 rarest elements (two sets with
/// J ≥ t must share one of them), and only sets of size ≥ t·|x| are compared. Candidates are
/// verified exactly. Empty sets pair with each other at J = 1. Worst case quadratic; fast on
/// real corpora, where rare shingles make prefixes selective.
pub fn all_pairs(sets: &[Vec<u64>], threshold: f64) -> Vec<(u32, u32, f64)> {
    assert!(threshold > 0.0 && threshold <= 1.0, "threshold in (0, 1]");
    let mut frequency: HashMap<u64, u32> = HashMap::new();
    for set in sets {
        for &x in set {
            *frequency.entry(x).or_default() += 1;
        }
    }
    // rank elements: rare first (ties by value, for determinism)
    let mut order: Vec<(u32, u64)> = frequency.iter().map(|(&x, &f)| (f, x)).collect();
    order.sort_unstable();
    let rank: HashMap<u64, u32> = order.iter().enumerate().map(|(r, &(_, x))| (x, r as u32)).collect();
    let ranked: Vec<Vec<u32>> = sets
        .iter()
        .map(|s| {
            let mut r: Vec<u32> = s.iter().map(|x| rank[x]).collect();
            r.sort_unstable();
            r
        })
        .collect();
    let prefix = |len: usize| -> usize {
        if len == 0 { 0 } else { len - (threshold * len as f64).ceil() as usize + 1 }
    };
    let mut index: HashMap<u32, Vec<u32>> = HashMap::new();
    for (d, set) in ranked.iter().enumerate() {
        for &e in &set[..prefix(set.len()).min(set.len())] {
            index.entry(e).or_default().push(d as u32);
        }
    }
    let ranked = &ranked;
    let index = &index;
    let empties: Vec<u32> = (0..sets.len() as u32).filter(|&d| sets[d as usize].is_empty()).collect();
    let mut pairs: Vec<(u32, u32, f64)> = (0..sets.len())
        .into_par_iter()
        .flat_map_iter(|d| {
            let set = &ranked[d];
            let mut candidates: Vec<u32> = set[..prefix(set.len()).min(set.len())]
                .iter()
                .flat_map(|e| index[e].iter().copied())
                .filter(|&other| (other as usize) > d)
                .filter(|&other| {
                    let (a, b) = (set.len() as f64, ranked[other as usize].len() as f64);
                    a.min(b) >= threshold * a.max(b)
                })
                .collect();
            candidates.sort_unstable();
            candidates.dedup();
            candidates
                .into_iter()
                .filter_map(move |other| {
                    let j = jaccard(&ranked[d], &ranked[other as usize]);
                    (j >= threshold).then_some((d as u32, other, j))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for (a, &x) in empties.iter().enumerate() {
        pairs.extend(empties[a + 1..].iter().map(|&y| (x, y, 1.0)));
    }
    pairs.sort_unstable_by_key(|p| (p.0, p.1));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn equals_brute_force(sets in proptest::collection::vec(proptest::collection::btree_set(0u64..30, 0..12), 0..25),
                              t in 0.2f64..1.0) {
            let sets: Vec<Vec<u64>> = sets.into_iter().map(|s| s.into_iter().collect()).collect();
            let mut want = Vec::new();
            for i in 0..sets.len() {
                for j in i + 1..sets.len() {
                    let jv = jaccard(&sets[i], &sets[j]);
                    if jv >= t {
                        want.push((i as u32, j as u32, jv));
                    }
                }
            }
            prop_assert_eq!(all_pairs(&sets, t), want);
        }
    }
}
