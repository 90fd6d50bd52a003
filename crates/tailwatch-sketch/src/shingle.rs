//! Word n-gram shingles of normalized text, hashed without building the n-gram strings.
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64;

use crate::minhash::sha1_hash32;

/// How shingles are hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShingleHash {
    /// xxh3-64 of the shingle's UTF-8 bytes (OPH and classic signatures).
    Xxh3,
    /// datasketch's `sha1_hash32` of the shingle's UTF-8 bytes (`--compat datasketch`).
    Sha1,
}

/// The byte ranges of the word n-grams of a normalized text (words separated by single
/// spaces, so a range is exactly the n words joined by spaces). A non-empty text with fewer
/// than `n` words is one shingle: the whole text. An empty text has none.
pub fn shingle_spans(normalized: &str, n: usize) -> Vec<(usize, usize)> {
    assert!(n >= 1, "shingle size must be at least 1");
    if normalized.is_empty() {
        return Vec::new();
    }
    let mut starts = Vec::with_capacity(normalized.len() / 5 + 1);
    starts.push(0);
    starts.extend(memchr::memchr_iter(b' ', normalized.as_bytes()).map(|i| i + 1));
    let words = starts.len();
    if words < n {
        return vec![(0, normalized.len())];
    }
    (0..=words - n)
        .map(|i| {
            let end = if i + n < words { starts[i + n] - 1 } else { normalized.len() };
            (starts[i], end)
        })
        .collect()
}

/// The distinct 64-bit hashes of the shingles of `normalized`, sorted (a set).
pub fn shingle_set(normalized: &str, n: usize) -> Vec<u64> {
    let mut hashes: Vec<u64> = shingle_spans(normalized, n)
        .into_iter()
        .map(|(a, b)| xxh3_64(&normalized.as_bytes()[a..b]))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// The distinct 32-bit `sha1_hash32` values of the shingles (datasketch's hashing), sorted.
pub fn shingle_set_sha1(normalized: &str, n: usize) -> Vec<u32> {
    let mut hashes: Vec<u32> = shingle_spans(normalized, n)
        .into_iter()
        .map(|(a, b)| sha1_hash32(&normalized.as_bytes()[a..b]))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// Exact Jaccard similarity of two sorted, duplicate-free sets (1 when both are empty).
pub fn jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f64 / (a.len() + b.len() - shared) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_joined_word_ngrams() {
        let text = "a bb ccc d ee";
        let grams: Vec<&str> = shingle_spans(text, 3).iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(grams, ["a bb ccc", "bb ccc d", "ccc d ee"]);
        assert_eq!(shingle_spans("one two", 5), vec![(0, 7)]);
        assert!(shingle_spans("", 5).is_empty());
        let one: Vec<&str> = shingle_spans(text, 1).iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(one, ["a", "bb", "ccc", "d", "ee"]);
    }

    #[test]
    fn jaccard_of_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard::<u64>(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[2]), 0.0);
        assert_eq!(shingle_set("x y z x y z", 3).len(), 3);
    }
}
