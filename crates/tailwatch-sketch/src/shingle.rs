//! Word n-gram shingles of normalized text, hashed without building the n-gram strings.
use xxhash_rust::xxh3::xxh3_64;

use crate::minhash::sha1_hash32;
use crate::normalize::push_word_hashes;

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

/// 64-bit hashes of the word n-grams of `normalized`, in text order (duplicates kept): each word
/// is hashed once ([`crate::normalize::word_hash`]), and each n-gram's hash is the polynomial
/// Σ_j w_j·P^(n−1−j) (mod 2^64) of its n word hashes, rolled from one n-gram to the next (two
/// multiplies each, whatever n), then salted and passed through the murmur3 finalizer. Same
/// shingle boundaries as [`shingle_spans`]; two distinct n-grams collide with probability about
/// 2^−63 (P is odd). A non-empty text shorter than n words is one shingle.
pub fn shingle_hashes(normalized: &str, n: usize) -> Vec<u64> {
    assert!(n >= 1, "shingle size must be at least 1");
    let mut words: Vec<u64> = Vec::new();
    push_word_hashes(normalized.as_bytes(), &mut words);
    let mut out = Vec::new();
    shingles_from_words(&words, n, 0, &mut out);
    out
}

/// The base of the n-gram polynomial (odd, so multiplying by it loses no bits).
const SHINGLE_BASE: u64 = 0x9E37_79B9_7F4A_7C15;

/// The salt of n-grams of `n` words under `seed`.
fn shingle_salt(n: usize, seed: u64) -> u64 {
    (0x243F_6A88_85A3_08D3u64 ^ n as u64).wrapping_add(seed.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// [`shingle_hashes`] from the hashes of the words (as
/// [`crate::normalize::normalize_with_word_hashes`] gives them), appended to `out`.
/// `seed` salts every n-gram's hash before the finalizer: the hashes are a uniformly random
/// function of the seed and the n-gram (what
/// [`crate::minhash::OphSketcher::signature_of_mixed`] needs).
pub fn shingles_from_words(words: &[u64], n: usize, seed: u64, out: &mut Vec<u64>) {
    assert!(n >= 1, "shingle size must be at least 1");
    if words.is_empty() {
        return;
    }
    let n = n.min(words.len());
    let salt = shingle_salt(n, seed);
    // P^(n−1): the weight of the word that leaves the window
    let leaving = SHINGLE_BASE.wrapping_pow(n as u32 - 1);
    let mut h = words[..n].iter().fold(0u64, |h, &w| h.wrapping_mul(SHINGLE_BASE).wrapping_add(w));
    out.reserve(words.len() - n + 1);
    out.push(fmix64(h ^ salt));
    for (&old, &new) in words.iter().zip(&words[n..]) {
        h = h.wrapping_sub(old.wrapping_mul(leaving)).wrapping_mul(SHINGLE_BASE).wrapping_add(new);
        out.push(fmix64(h ^ salt));
    }
}

/// MurmurHash3's 64-bit finalizer.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Sort and deduplicate shingle hashes into a set.
pub fn into_set(mut hashes: Vec<u64>) -> Vec<u64> {
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
        // the word-hash mixing sees the same shingles as the byte spans
        for text in ["a bb ccc d ee", "one two", "x", "x y z x y z", "p q r s t u v"] {
            for n in 1..=6 {
                let spans = shingle_spans(text, n).len();
                let hashes = shingle_hashes(text, n);
                assert_eq!(hashes.len(), spans, "{text} {n}");
                assert_eq!(into_set(hashes).len(), shingle_set(text, n).len(), "{text} {n}");
            }
        }
        assert_ne!(shingle_hashes("a b", 2), shingle_hashes("b a", 2));
    }

    #[test]
    fn rolled_hashes_equal_each_window_hashed_on_its_own() {
        let words: Vec<u64> = (0..40u64).map(|i| i.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ (i << 7)).collect();
        for n in [1, 2, 3, 5, 8, 40, 60] {
            let mut rolled = vec![99];
            shingles_from_words(&words, n, 7, &mut rolled);
            let m = n.min(words.len());
            let direct: Vec<u64> = words
                .windows(m)
                .map(|window| {
                    let h = window.iter().fold(0u64, |h, &w| h.wrapping_mul(SHINGLE_BASE).wrapping_add(w));
                    fmix64(h ^ shingle_salt(m, 7))
                })
                .collect();
            assert_eq!(rolled[0], 99, "appends");
            assert_eq!(&rolled[1..], &direct[..], "n = {n}");
        }
        // the seed changes every hash
        let (mut a, mut b) = (Vec::new(), Vec::new());
        shingles_from_words(&words, 5, 1, &mut a);
        shingles_from_words(&words, 5, 2, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| x != y));
    }
}
