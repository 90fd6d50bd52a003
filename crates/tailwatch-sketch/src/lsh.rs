//! LSH banding: choosing bands × rows for a target recall, the S-curve, and candidate pairs.
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Bands b and rows r: a pair of Jaccard s becomes a candidate with probability
/// P(s) = 1 − (1 − s^r)^b.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Banding {
    /// Bands b.
    pub bands: usize,
    /// Rows per band r.
    pub rows: usize,
}

impl Banding {
    /// P(candidate | Jaccard s) = 1 − (1 − s^r)^b.
    pub fn probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// ∫_0^t P(s) ds: the expected candidate mass below the threshold (false candidates).
    fn false_area(&self, threshold: f64) -> f64 {
        let steps = 400;
        let h = threshold / steps as f64;
        (0..steps).map(|i| self.probability((i as f64 + 0.5) * h) * h).sum()
    }

    /// The banding for `num_perm` signature slots, `threshold` and a target candidate recall
    /// at the threshold: among all b × r ≤ num_perm with P(threshold) ≥ `recall`, the one with
    /// the least false-candidate area below the threshold (the steepest S-curve that still
    /// meets the recall). When no banding reaches the recall, the one with the highest
    /// P(threshold). Unlike datasketch's equal-weight area optimiser (which picks 9 × 13 for
    /// 0.8 and misses ~15 % of the pairs at 0.8), this makes recall the constraint.
    pub fn for_recall(num_perm: usize, threshold: f64, recall: f64) -> Self {
        let mut best: Option<(bool, f64, Banding)> = None;
        for rows in 1..=num_perm {
            let bands = num_perm / rows;
            let b = Banding { bands, rows };
            let p = b.probability(threshold);
            let meets = p >= recall;
            let score = if meets { -b.false_area(threshold) } else { p };
            let better = match &best {
                None => true,
                Some((best_meets, best_score, _)) => {
                    (meets && !best_meets) || (meets == *best_meets && score > *best_score)
                }
            };
            if better {
                best = Some((meets, score, b));
            }
        }
        best.expect("num_perm ≥ 1").2
    }

    /// The S-curve at s = 0.05, 0.10, ..., 1.00.
    pub fn s_curve(&self) -> Vec<(f64, f64)> {
        (1..=20).map(|i| i as f64 * 0.05).map(|s| (s, self.probability(s))).collect()
    }
}

/// Band keys of one signature: band i hashes its r slots (little-endian bytes) with seed i.
pub fn band_keys(signature: &[u32], banding: Banding, out: &mut Vec<u64>) {
    out.clear();
    // a band's bytes on the stack (no allocation per document) unless its rows are many
    let (mut stack, mut heap) = ([0u8; 256], Vec::new());
    let bytes: &mut [u8] = match stack.get_mut(..banding.rows * 4) {
        Some(bytes) => bytes,
        None => {
            heap.resize(banding.rows * 4, 0);
            &mut heap
        }
    };
    for (band, rows) in signature.chunks_exact(banding.rows).take(banding.bands).enumerate() {
        for (slot, v) in bytes.chunks_exact_mut(4).zip(rows) {
            slot.copy_from_slice(&v.to_le_bytes());
        }
        out.push(xxh3_64_with_seed(bytes, band as u64));
    }
}

/// Buckets larger than this are linked to their first member instead of pairwise (a bucket of
/// m documents would otherwise give m(m − 1)/2 pairs).
pub const MAX_PAIRWISE_BUCKET: usize = 64;

/// Candidate pairs (i < j) of documents sharing a band bucket, sorted and distinct.
/// `keys[d]` are document d's band keys (all of the same length). Each band's buckets are found
/// with a hash table of first members, in parallel over the bands; only keys seen twice get a
/// member list. Cost: O(b · n) expected, plus the pairs. A bucket with more than
/// [`MAX_PAIRWISE_BUCKET`] members contributes (first, other) pairs only; `large_buckets`
/// counts them.
pub fn candidate_pairs<K: AsRef<[u64]> + Sync>(keys: &[K]) -> (Vec<(u32, u32)>, usize) {
    use std::collections::HashMap;
    use std::collections::hash_map::Entry;

    use rayon::prelude::*;
    type Table<V> = HashMap<u64, V, foldhash::fast::FixedState>;
    let bands = keys.first().map_or(0, |k| k.as_ref().len());
    let per_band: Vec<(Vec<(u32, u32)>, usize)> = (0..bands)
        .into_par_iter()
        .map_init(
            || (Table::<u32>::default(), Table::<Vec<u32>>::default()),
            |(first, shared), band| {
                first.clear();
                shared.clear();
                first.reserve(keys.len());
                for (doc, k) in keys.iter().enumerate() {
                    let key = k.as_ref()[band];
                    match first.entry(key) {
                        Entry::Vacant(slot) => {
                            slot.insert(doc as u32);
                        }
                        Entry::Occupied(slot) => {
                            shared.entry(key).or_insert_with(|| vec![*slot.get()]).push(doc as u32);
                        }
                    }
                }
                let mut pairs = Vec::new();
                let mut large = 0;
                // members ascend within a bucket (documents are visited in order): x < y
                for bucket in shared.values() {
                    if bucket.len() > MAX_PAIRWISE_BUCKET {
                        large += 1;
                        pairs.extend(bucket[1..].iter().map(|&d| (bucket[0], d)));
                    } else {
                        for (i, &x) in bucket.iter().enumerate() {
                            pairs.extend(bucket[i + 1..].iter().map(|&y| (x, y)));
                        }
                    }
                }
                (pairs, large)
            },
        )
        .collect();
    let large = per_band.iter().map(|(_, l)| l).sum();
    let mut pairs: Vec<(u32, u32)> = per_band.into_iter().flat_map(|(p, _)| p).collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    (pairs, large)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banding_meets_the_recall_target() {
        let b = Banding::for_recall(128, 0.8, 0.99);
        assert!(b.bands * b.rows <= 128);
        assert!(b.probability(0.8) >= 0.99, "{b:?}");
        // the steepest such curve: fewer false candidates at 0.5 than a lower-row banding
        let flatter = Banding { bands: 25, rows: 5 };
        assert!(b.probability(0.5) <= flatter.probability(0.5));
        // unreachable target: the best available
        let tiny = Banding::for_recall(4, 0.9, 0.999);
        assert_eq!(tiny, Banding { bands: 4, rows: 1 });
        assert!((Banding { bands: 16, rows: 8 }.probability(0.8) - 0.947).abs() < 1e-3);
    }

    #[test]
    fn band_keys_hash_each_bands_bytes() {
        let signature: Vec<u32> = (0..200u32).map(|i| i.wrapping_mul(2_654_435_761)).collect();
        // 6 rows fit the stack buffer; 66 rows (264 bytes) do not
        for banding in [Banding { bands: 21, rows: 6 }, Banding { bands: 3, rows: 66 }] {
            let mut keys = Vec::new();
            band_keys(&signature, banding, &mut keys);
            let want: Vec<u64> = (0..banding.bands)
                .map(|band| {
                    let rows = &signature[band * banding.rows..(band + 1) * banding.rows];
                    let bytes: Vec<u8> = rows.iter().flat_map(|v| v.to_le_bytes()).collect();
                    xxh3_64_with_seed(&bytes, band as u64)
                })
                .collect();
            assert_eq!(keys, want, "{banding:?}");
        }
    }

    #[test]
    fn candidates_share_a_bucket() {
        let keys = vec![vec![1, 2], vec![1, 3], vec![4, 3], vec![5, 6]];
        let (pairs, large) = candidate_pairs(&keys);
        assert_eq!(pairs, vec![(0, 1), (1, 2)]);
        assert_eq!(large, 0);
        let many: Vec<Vec<u64>> = (0..100).map(|_| vec![7]).collect();
        let (pairs, large) = candidate_pairs(&many);
        assert_eq!((pairs.len(), large), (99, 1));
    }

    proptest::proptest! {
        #[test]
        fn candidates_are_the_pairs_sharing_a_key(keys in proptest::collection::vec(proptest::collection::vec(0u64..6, 3), 0..40)) {
            // at most 40 documents: no bucket exceeds MAX_PAIRWISE_BUCKET
            let mut want = Vec::new();
            for a in 0..keys.len() {
                for b in a + 1..keys.len() {
                    if (0..3).any(|band| keys[a][band] == keys[b][band]) {
                        want.push((a as u32, b as u32));
                    }
                }
            }
            proptest::prop_assert_eq!(candidate_pairs(&keys), (want, 0));
        }
    }
}
