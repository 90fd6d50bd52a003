//! Collapse within a group (k answers to one prompt): NoveltyBench's equivalence classes,
//! `distinct_at_k`, `class_entropy` and `utility_at_k`.
//!
//! * **Partition** (NoveltyBench `src/partition.py`, `partition_responses`): answers are taken
//!   in order; an answer not yet in a class opens a new one, and every later unassigned answer
//!   equivalent to that class's *first* member joins it. Class ids count from 0 in order of
//!   their first member. O(k²) equivalence checks per group in the worst case.
//! * **`distinct_at_k`** = the number of classes, in [1, k] (NoveltyBench's `mean_distinct` is
//!   its mean over groups). Collapse: down (1 = every answer the same).
//! * **`class_entropy`** = −Σ p_c ln p_c over the classes' shares of the answers, in
//!   [0, ln k] (discrete semantic entropy: `cluster_assignment_entropy` of
//!   jlko/semantic_uncertainty). Collapse: down.
//! * **`utility_at_k`** = Σ_i w_i s_i / Σ_i w_i with w_i = patienceⁱ, where s_i is answer i's
//!   score when it is the first member of its class and 0 otherwise (NoveltyBench
//!   `src/score.py`, patience 0.8 by default). Range: that of the scores. Collapse: down.
//!
//! The `unigram` rule is NoveltyBench's: ROUGE-1 F-measure above 0.458 with the
//! `rouge-score` package's default tokenizer (lowercase, every run of characters other than
//! ASCII letters and digits is a separator, no stemming). Goldens: `oracles/noveltybench_goldens.py`.
//! As there, an answer without a word (empty, or punctuation alone) has F = 0 with every answer,
//! so k empty answers are k classes under `unigram`; `exact` and `jaccard` make them one.
//! `exact` compares trimmed, lowercased text; `jaccard:<t>` the Jaccard similarity of the
//! dedup shingle sets (what `tailwatch dedup` verifies candidates with) at or above `t`.

/// When two answers of a group are the same answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Equivalence {
    /// Identical after trimming and lowercasing, with runs of whitespace as one space.
    Exact,
    /// ROUGE-1 F-measure above this threshold (NoveltyBench's `unigram`: 0.458).
    Unigram(f64),
    /// Jaccard similarity of the dedup shingle sets (normalized text, 5-word shingles, as
    /// `tailwatch dedup` compares records) at or above this threshold.
    Jaccard(f64),
}

use tailwatch_sketch::normalize::{NormalizeOptions, normalize};
use tailwatch_sketch::shingle::{into_set, jaccard, shingle_hashes};

/// Words per shingle of the `jaccard` rule: `tailwatch dedup`'s default.
const DEDUP_SHINGLE_WORDS: usize = 5;

/// NoveltyBench's `unigram` threshold.
pub const UNIGRAM_THRESHOLD: f64 = 0.458;

/// NoveltyBench's patience: the weight of the i-th answer is patienceⁱ.
pub const DEFAULT_PATIENCE: f64 = 0.8;

impl Equivalence {
    /// A rule by name: `exact`, `unigram` (threshold 0.458), `unigram:<t>` or `jaccard:<t>`
    /// (`t` in [0, 1]); `None` for any other name.
    pub fn parse(name: &str) -> Option<Self> {
        let threshold = |t: &str| t.parse::<f64>().ok().filter(|t| (0.0..=1.0).contains(t));
        match name.split_once(':') {
            None if name == "exact" => Some(Equivalence::Exact),
            None if name == "unigram" => Some(Equivalence::Unigram(UNIGRAM_THRESHOLD)),
            Some(("unigram", t)) => threshold(t).map(Equivalence::Unigram),
            Some(("jaccard", t)) => threshold(t).map(Equivalence::Jaccard),
            _ => None,
        }
    }
}

/// The tokens `rouge-score`'s default tokenizer makes of `text`: lowercased, split at every run
/// of characters other than ASCII letters and digits (so letters outside ASCII separate words
/// and are dropped, as there).
pub fn rouge_tokens(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase();
    lowered
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// ROUGE-1 F-measure of two token lists (`rouge-score`'s `rouge1` `fmeasure`: clipped unigram
/// overlap, precision against `b`, recall against `a`; 0 when either is empty). Symmetric.
pub fn rouge1_f(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut counts: std::collections::HashMap<&str, (u32, u32)> = std::collections::HashMap::new();
    for t in a {
        counts.entry(t.as_str()).or_default().0 += 1;
    }
    for t in b {
        counts.entry(t.as_str()).or_default().1 += 1;
    }
    let overlap: u32 = counts.values().map(|&(x, y)| x.min(y)).sum();
    let precision = f64::from(overlap) / b.len() as f64;
    let recall = f64::from(overlap) / a.len() as f64;
    if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 }
}

/// How an answer is compared under the `exact` and `jaccard` rules, computed once per answer.
enum Prepared {
    Text(String),
    Shingles(Vec<u64>),
}

/// Calls `f` with the hash ([`token_hash`]) of each of `answer`'s rouge-score tokens, in order.
fn rouge_token_hashes(answer: &str, mut f: impl FnMut(u64)) {
    use tailwatch_core::ascii::{alphanumeric, other_than_alphanumeric, run_end};
    if answer.is_ascii() {
        // rouge_tokens' split on the bytes; a token's letters lowercase by setting bit 0x20
        // (digits have it already), inside the hash: no string is made
        let bytes = answer.as_bytes();
        let n = bytes.len();
        let mut i = 0;
        while i < n {
            // eight bytes at a time
            i = run_end(bytes, i, other_than_alphanumeric);
            let start = i;
            i = run_end(bytes, i, alphanumeric);
            if i > start {
                f(token_hash(bytes, start, i));
            }
        }
    } else {
        // Unicode lowercasing can make ASCII letters of other characters (U+212A KELVIN SIGN
        // is `k`): lowercase the whole text first, as rouge-score does
        let lowered = answer.to_lowercase();
        let bytes = lowered.as_bytes();
        let mut start = 0;
        for token in lowered.split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit())) {
            if !token.is_empty() {
                f(token_hash(bytes, start, start + token.len()));
            }
            start += token.len() + 1; // the separator, ASCII or not, is skipped below
            while start < bytes.len() && !lowered.is_char_boundary(start) {
                start += 1;
            }
        }
    }
}

/// A group's answers as rouge-score token counts, for ROUGE-1 of any two of them: each
/// distinct token of the group (by hash) has an id from 0, and each answer lists the ids of
/// its tokens with their counts. Comparing an answer with a class's first member then costs
/// one lookup a distinct token, in the first member's counts spread over the ids
/// ([`TokenCounts::overlap`]): no map per pair, no sorting.
struct TokenCounts {
    /// (token id, count) of each distinct token of every answer, answer after answer.
    entries: Vec<(u32, u32)>,
    /// Per answer: its range of `entries`, and its number of tokens.
    answers: Vec<(std::ops::Range<usize>, usize)>,
    /// The number of distinct tokens in the group.
    vocabulary: usize,
}

impl TokenCounts {
    fn of(answers: &[&str]) -> Self {
        // about six bytes a token, a third of them distinct within a group
        let bytes: usize = answers.iter().map(|a| a.len()).sum();
        let mut ids = TokenIds::with_capacity(bytes / 16);
        let mut counts: Vec<u32> = Vec::with_capacity(bytes / 16); // by id, zero between answers
        let mut entries: Vec<(u32, u32)> = Vec::with_capacity(bytes / 8);
        let mut spans = Vec::with_capacity(answers.len());
        for answer in answers {
            let (start, mut len) = (entries.len(), 0usize);
            rouge_token_hashes(answer, |hash| {
                let id = ids.id(hash);
                if id as usize == counts.len() {
                    counts.push(0);
                }
                let count = &mut counts[id as usize];
                if *count == 0 {
                    entries.push((id, 0));
                }
                *count += 1;
                len += 1;
            });
            for (id, count) in &mut entries[start..] {
                *count = std::mem::take(&mut counts[*id as usize]);
            }
            spans.push((start..entries.len(), len));
        }
        Self { entries, answers: spans, vocabulary: ids.len() }
    }

    /// The distinct tokens of answer `i` with their counts, and its number of tokens.
    fn answer(&self, i: usize) -> (&[(u32, u32)], usize) {
        let (range, len) = &self.answers[i];
        (&self.entries[range.clone()], *len)
    }

    /// The clipped unigram overlap of answer `b` with the answer whose counts `spread` holds
    /// by token id: Σ min(count in one, count in the other).
    fn overlap(&self, b: usize, spread: &[u32]) -> u32 {
        self.answer(b).0.iter().map(|&(id, count)| count.min(spread[id as usize])).sum()
    }
}

/// Ids from 0 for a group's token hashes, in order of first sight: a hash table with open
/// addressing and linear probing, (hash, id) side by side. Written by hand because numbering
/// tokens is most of a partition's cost, and hashbrown's entry API (sixteen control bytes
/// probed at a time) took about half again as long on these tables of a few hundred tokens.
struct TokenIds {
    /// (hash, id) per slot, [`TokenIds::EMPTY`] as the id of a free slot; a power of two long.
    slots: Vec<(u64, u32)>,
    /// 64 - log2(slots): a hash's first slot is its top bits ([`TokenIds::home`]).
    shift: u32,
    len: usize,
}

impl TokenIds {
    const EMPTY: u32 = u32::MAX;

    fn with_capacity(capacity: usize) -> Self {
        let slots = (2 * capacity).next_power_of_two().max(16);
        Self { slots: vec![(0, Self::EMPTY); slots], shift: 64 - slots.trailing_zeros(), len: 0 }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The first slot to probe for `hash`: the top bits of its product with 2^64/φ
    /// (Fibonacci hashing), which depend on every bit of the hash.
    fn home(&self, hash: u64) -> usize {
        (hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// The id of `hash`, a new one (the number of ids so far) if it was not seen before.
    fn id(&mut self, hash: u64) -> u32 {
        let mask = self.slots.len() - 1;
        let mut slot = self.home(hash);
        loop {
            let (key, id) = self.slots[slot];
            if id == Self::EMPTY {
                break;
            }
            if key == hash {
                return id;
            }
            slot = (slot + 1) & mask;
        }
        let id = u32::try_from(self.len).expect("fewer than 2^32 distinct tokens in a group");
        self.slots[slot] = (hash, id);
        self.len += 1;
        // at most half full
        if 2 * self.len > self.slots.len() {
            let grown = vec![(0, Self::EMPTY); 2 * self.slots.len()];
            let old = std::mem::replace(&mut self.slots, grown);
            self.shift -= 1;
            let mask = self.slots.len() - 1;
            for (key, id) in old.into_iter().filter(|&(_, id)| id != Self::EMPTY) {
                let mut slot = self.home(key);
                while self.slots[slot].1 != Self::EMPTY {
                    slot = (slot + 1) & mask;
                }
                self.slots[slot] = (key, id);
            }
        }
        id
    }
}

/// rouge-score's ROUGE-1 F-measure from the clipped overlap of `a` (`a_len` tokens) and `b`
/// (`b_len` tokens), in [`rouge1_f`]'s arithmetic.
fn rouge1_f_of_overlap(overlap: u32, a_len: usize, b_len: usize) -> f64 {
    if a_len == 0 || b_len == 0 {
        return 0.0;
    }
    let precision = f64::from(overlap) / b_len as f64;
    let recall = f64::from(overlap) / a_len as f64;
    if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 }
}

/// The hash of the token `text[start..end]` of ASCII letters and digits, as its lowercase:
/// eight bytes at a time, each with bit 0x20 set (which lowercases a letter and leaves a
/// digit), mixed by multiplying, with the length; the last word zero-padded. Words are read
/// from the text in place (a copy to a buffer stalled each load on the bytes just stored).
/// Two distinct tokens of one group sharing a hash, about 2^-64 a pair, would count as one word.
fn token_hash(text: &[u8], start: usize, end: usize) -> u64 {
    const LOWER: u64 = 0x2020_2020_2020_2020;
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, word: u64| (h ^ word).wrapping_mul(K).rotate_left(31);
    let mut h = ((end - start) as u64).wrapping_mul(K);
    let mut p = start;
    while p + 8 <= end {
        h = mix(h, load_word(text, p) | LOWER);
        p += 8;
    }
    if p < end {
        let mask = (1u64 << (8 * (end - p))) - 1;
        h = mix(h, (load_word(text, p) | LOWER) & mask);
    }
    // no final avalanche: it is a bijection, so it would separate no two tokens; the table
    // that numbers them mixes the bits it indexes by ([`TokenIds::id`])
    h
}

/// The eight bytes of `text` from `p` as a little-endian word, zero past the end.
fn load_word(text: &[u8], p: usize) -> u64 {
    if let Some(word) = text.get(p..p + 8) {
        u64::from_le_bytes(word.try_into().expect("8 bytes"))
    } else if text.len() >= 8 {
        let last = u64::from_le_bytes(text[text.len() - 8..].try_into().expect("8 bytes"));
        last >> (8 * (p + 8 - text.len()))
    } else {
        text[p..].iter().enumerate().fold(0, |w, (k, &b)| w | u64::from(b) << (8 * k))
    }
}

/// An answer as the `exact` rule (normalized text) or the `jaccard` rule (shingle set) compares it.
fn prepare(answer: &str, rule: Equivalence) -> Prepared {
    match rule {
        Equivalence::Jaccard(_) => {
            let normalized = normalize(answer, NormalizeOptions::default());
            Prepared::Shingles(into_set(shingle_hashes(&normalized, DEDUP_SHINGLE_WORDS)))
        }
        // (the unigram rule counts tokens instead: [`TokenCounts`])
        Equivalence::Exact | Equivalence::Unigram(_) => {
            Prepared::Text(answer.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase())
        }
    }
}

fn equivalent(a: &Prepared, b: &Prepared, rule: Equivalence) -> bool {
    match (a, b, rule) {
        (Prepared::Text(a), Prepared::Text(b), _) => a == b,
        // two empty answers are the same answer; an empty one is like no other
        (Prepared::Shingles(a), Prepared::Shingles(b), Equivalence::Jaccard(t)) => {
            (a.is_empty() && b.is_empty()) || (!a.is_empty() && !b.is_empty() && jaccard(a, b) >= t)
        }
        _ => false,
    }
}

/// Each answer's class (0-based, in order of the classes' first members), by NoveltyBench's
/// greedy partition: an answer joins the first class whose first member it is equivalent to.
pub fn partition(answers: &[&str], rule: Equivalence) -> Vec<u32> {
    match rule {
        Equivalence::Unigram(threshold) => {
            let counts = TokenCounts::of(answers);
            // the counts of the class's first member, by token id
            let mut spread = vec![0u32; counts.vocabulary];
            greedy_partition(answers.len(), |first, members| {
                let (first_tokens, first_len) = counts.answer(first);
                for &(id, count) in first_tokens {
                    spread[id as usize] = count;
                }
                for (j, joins) in members {
                    let f = rouge1_f_of_overlap(counts.overlap(*j, &spread), first_len, counts.answer(*j).1);
                    *joins = f > threshold;
                }
                for &(id, _) in first_tokens {
                    spread[id as usize] = 0;
                }
            })
        }
        Equivalence::Exact | Equivalence::Jaccard(_) => {
            let prepared: Vec<Prepared> = answers.iter().map(|a| prepare(a, rule)).collect();
            greedy_partition(answers.len(), |first, members| {
                for (j, joins) in members {
                    *joins = equivalent(&prepared[first], &prepared[*j], rule);
                }
            })
        }
    }
}

/// NoveltyBench's greedy partition of `n` answers: `compare(first, members)` sets, for each
/// `(j, joins)` of the answers after `first` not yet in a class, whether `j` is equivalent to
/// `first`, the first member of a new class.
fn greedy_partition(n: usize, mut compare: impl FnMut(usize, &mut [(usize, bool)])) -> Vec<u32> {
    let mut class: Vec<Option<u32>> = vec![None; n];
    let mut classes = 0u32;
    let mut members = Vec::with_capacity(n);
    for first in 0..n {
        if class[first].is_some() {
            continue;
        }
        class[first] = Some(classes);
        members.clear();
        members.extend((first + 1..n).filter(|&j| class[j].is_none()).map(|j| (j, false)));
        compare(first, &mut members);
        for &(j, joins) in &members {
            if joins {
                class[j] = Some(classes);
            }
        }
        classes += 1;
    }
    class.into_iter().map(|c| c.expect("every answer has a class")).collect()
}

/// The mean Jaccard similarity of the answers' dedup shingle sets over every pair (`None` for
/// fewer than two answers; two empty sets count as identical, an empty and a non-empty one as
/// disjoint). O(k² · shingles).
pub fn mean_pairwise_jaccard(answers: &[&str]) -> Option<f64> {
    if answers.len() < 2 {
        return None;
    }
    let sets: Vec<Prepared> = answers.iter().map(|a| prepare(a, Equivalence::Jaccard(0.0))).collect();
    let mut similarities = Vec::with_capacity(answers.len() * (answers.len() - 1) / 2);
    for (i, a) in sets.iter().enumerate() {
        for b in &sets[i + 1..] {
            let (Prepared::Shingles(a), Prepared::Shingles(b)) = (a, b) else { unreachable!("shingle sets") };
            similarities.push(match (a.is_empty(), b.is_empty()) {
                (true, true) => 1.0,
                (false, false) => jaccard(a, b),
                _ => 0.0,
            });
        }
    }
    Some(crate::numeric::fsum(similarities.iter().copied()) / similarities.len() as f64)
}

/// The number of classes of a partition (0 for an empty group).
pub fn distinct_at_k(classes: &[u32]) -> usize {
    classes.iter().max().map_or(0, |&m| m as usize + 1)
}

/// −Σ p ln p over the classes' shares of the answers (0 for an empty group).
pub fn class_entropy(classes: &[u32]) -> f64 {
    let n = classes.len();
    if n == 0 {
        return 0.0;
    }
    let mut counts = vec![0usize; distinct_at_k(classes)];
    for &c in classes {
        counts[c as usize] += 1;
    }
    let terms: Vec<f64> = counts
        .iter()
        .map(|&c| {
            let p = c as f64 / n as f64;
            p * p.ln()
        })
        .collect();
    -numpy_sum(&terms)
}

/// A sum in numpy's order (`pairwise_sum` for fewer than 129 values: sequential under 8,
/// else eight running sums added as a tree, then the rest in turn), so that the utility is
/// NoveltyBench's `np.average` to the last place (its weights come from numpy's `power`,
/// which on AVX-512 machines may differ from libm's `pow` in the last bit).
fn numpy_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        return values.iter().fold(0.0, |acc, &v| acc + v);
    }
    if n > 128 {
        let half = (n / 2) - (n / 2) % 8;
        return numpy_sum(&values[..half]) + numpy_sum(&values[half..]);
    }
    let mut r = [0.0f64; 8];
    r.copy_from_slice(&values[..8]);
    let whole = n - n % 8;
    for block in values[8..whole].chunks_exact(8) {
        for (acc, &v) in r.iter_mut().zip(block) {
            *acc += v;
        }
    }
    let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for &v in &values[whole..] {
        sum += v;
    }
    sum
}

/// NoveltyBench's utility of a group: the patience-weighted mean of the answers' scores,
/// counting an answer's score only when it opens a new class (`None` for an empty group, or
/// when `scores` and `classes` differ in length).
pub fn utility_at_k(classes: &[u32], scores: &[f64], patience: f64) -> Option<f64> {
    if classes.is_empty() || classes.len() != scores.len() {
        return None;
    }
    let mut seen = 0u32;
    // weights patience^i as numpy's power computes them, sums in numpy's order
    let weights: Vec<f64> = (0..classes.len()).map(|i| patience.powf(i as f64)).collect();
    let weighted: Vec<f64> = classes
        .iter()
        .zip(scores)
        .zip(&weights)
        .map(|((&c, &s), &w)| {
            let earned = if c == seen {
                seen += 1;
                s
            } else {
                0.0
            };
            earned * w
        })
        .collect();
    Some(numpy_sum(&weighted) / numpy_sum(&weights))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_greedy_partition_compares_with_each_class_first_member() {
        // b is like a, c is like b but not like a: c opens its own class
        let rule = Equivalence::Unigram(0.5);
        let answers = ["x y z w", "x y z v", "q y z v", "x y z w"];
        assert_eq!(partition(&answers, rule), vec![0, 0, 1, 0]);
        assert_eq!(distinct_at_k(&[0, 0, 1, 0]), 2);
    }

    #[test]
    fn rouge_tokens_split_as_rouge_score_does() {
        assert_eq!(
            rouge_tokens("Hello, WORLD! It's 2026 — café"),
            ["hello", "world", "it", "s", "2026", "caf"]
        );
        assert!(rouge_tokens("¡¿ —").is_empty());
        assert_eq!(rouge1_f(&rouge_tokens("a a b"), &rouge_tokens("a b b")), 2.0 / 3.0);
        assert_eq!(rouge1_f(&[], &rouge_tokens("a")), 0.0);
    }

    #[test]
    fn entropy_and_utility_follow_their_formulas() {
        assert_eq!(class_entropy(&[0, 0, 0]), 0.0);
        assert!((class_entropy(&[0, 1, 0, 1]) - 2f64.ln()).abs() < 1e-15);
        // scores earned by answers 0 and 2 (first members of classes 0 and 1)
        let u = utility_at_k(&[0, 0, 1], &[5.0, 9.0, 3.0], 0.5).unwrap();
        assert!((u - (5.0 + 0.25 * 3.0) / 1.75).abs() < 1e-15);
        assert_eq!(utility_at_k(&[], &[], 0.8), None);
        assert_eq!(utility_at_k(&[0], &[1.0, 2.0], 0.8), None);
    }

    #[test]
    fn token_hashes_are_those_of_rouge_tokens_on_both_paths() {
        let hashes = |text: &str| {
            let mut out = Vec::new();
            rouge_token_hashes(text, |h| out.push(h));
            out
        };
        for text in [
            "Hello, WORLD! hello 2026",
            "Hello, WORLD! hello 2026 — café",
            "\u{212A}elvin k",
            "",
            "SuperCaliFragilistic supercalifragilistic 12345678 123456789 ABCDEFGH abcdefgh",
        ] {
            let want: Vec<u64> =
                rouge_tokens(text).iter().map(|t| token_hash(t.as_bytes(), 0, t.len())).collect();
            assert_eq!(hashes(text), want, "{text}");
        }
        // the ASCII path and the Unicode one hash a word alike
        assert_eq!(hashes("hello"), hashes("hello é")[..1].to_vec());
        assert_eq!(hashes("ABCDEFGHIJ"), hashes("abcdefghij é"));
    }

    #[test]
    fn token_ids_number_hashes_in_order_of_first_sight_through_growth() {
        let mut ids = TokenIds::with_capacity(1);
        // hashes sharing their low bits probe past each other
        let hashes: Vec<u64> = (0..1000u64).map(|i| (i % 300) << 20 | (i % 7)).collect();
        let mut first_seen: Vec<u64> = Vec::new();
        for &h in &hashes {
            let want = first_seen.iter().position(|&f| f == h).unwrap_or(first_seen.len());
            if want == first_seen.len() {
                first_seen.push(h);
            }
            assert_eq!(ids.id(h) as usize, want);
        }
        assert_eq!(ids.len(), first_seen.len());
        assert_eq!(ids.id(0), 0);
    }

    #[test]
    fn token_counts_list_each_distinct_token_once() {
        let counts = TokenCounts::of(&["a b a C", "", "c d"]);
        assert_eq!(counts.vocabulary, 4);
        assert_eq!(counts.answer(0), (&[(0, 2), (1, 1), (2, 1)][..], 4));
        assert_eq!(counts.answer(1), (&[][..], 0));
        assert_eq!(counts.answer(2), (&[(2, 1), (3, 1)][..], 2));
        let spread = [2, 1, 1, 0];
        assert_eq!(counts.overlap(2, &spread), 1);
    }

    use proptest::prelude::*;

    proptest::proptest! {
        /// The unigram partition is the greedy partition under [`rouge1_f`] of the token lists,
        /// as NoveltyBench computes it with rouge-score.
        #[test]
        fn unigram_partitions_are_those_of_rouge1_on_tokens(
            answers in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(vec!["a", "B", "c", "dd", "é", "a a", ",", "2"]), 0..8)
                    .prop_map(|words: Vec<&str>| words.join(" ")),
                0..9,
            ),
            threshold in proptest::sample::select(vec![0.0, 0.3, 0.458, 0.6, 1.0]),
        ) {
            let answers: Vec<&str> = answers.iter().map(String::as_str).collect();
            let tokens: Vec<Vec<String>> = answers.iter().map(|a| rouge_tokens(a)).collect();
            let mut want: Vec<Option<u32>> = vec![None; answers.len()];
            let mut classes = 0;
            for i in 0..answers.len() {
                if want[i].is_some() {
                    continue;
                }
                want[i] = Some(classes);
                for j in i + 1..answers.len() {
                    if want[j].is_none() && rouge1_f(&tokens[i], &tokens[j]) > threshold {
                        want[j] = Some(classes);
                    }
                }
                classes += 1;
            }
            let want: Vec<u32> = want.into_iter().map(Option::unwrap).collect();
            proptest::prop_assert_eq!(partition(&answers, Equivalence::Unigram(threshold)), want);
        }

        /// Tokens hash as their lowercase, and distinct lowercase tokens apart (a prefix, a
        /// token padded to eight bytes, another case).
        #[test]
        fn token_hashes_are_those_of_the_lowercase(a in "[a-zA-Z0-9]{1,20}", b in "[a-zA-Z0-9]{1,20}") {
            let hash = |t: &str| token_hash(t.as_bytes(), 0, t.len());
            proptest::prop_assert_eq!(hash(&a), hash(&a.to_lowercase()));
            let same = a.to_lowercase() == b.to_lowercase();
            proptest::prop_assert_eq!(hash(&a) == hash(&b), same);
            // in place, between other bytes, as alone
            let text = format!("{b} {a}-{b}");
            let start = b.len() + 1;
            proptest::prop_assert_eq!(token_hash(text.as_bytes(), start, start + a.len()), hash(&a));
        }
    }

    #[test]
    fn rules_parse_by_name() {
        assert_eq!(Equivalence::parse("exact"), Some(Equivalence::Exact));
        assert_eq!(Equivalence::parse("unigram"), Some(Equivalence::Unigram(0.458)));
        assert_eq!(Equivalence::parse("unigram:0.6"), Some(Equivalence::Unigram(0.6)));
        assert_eq!(Equivalence::parse("unigram:2"), None);
        assert_eq!(Equivalence::parse("bleu"), None);
        assert_eq!(partition(&["A  b", "a b", "a c"], Equivalence::Exact), vec![0, 0, 1]);
        assert_eq!(Equivalence::parse("jaccard:0.7"), Some(Equivalence::Jaccard(0.7)));
        assert_eq!(Equivalence::parse("jaccard"), None);
    }

    #[test]
    fn the_jaccard_rule_is_dedup_s_similarity() {
        let long = "one two three four five six seven eight nine ten eleven twelve";
        let edited = "one two three four five six seven eight nine ten eleven TWELVE!";
        let other = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";
        let rule = Equivalence::Jaccard(0.8);
        assert_eq!(partition(&[long, edited, other, "", " "], rule), vec![0, 0, 1, 2, 2]);
        let one_word_off = "one two three four five six seven EIGHT_X nine ten eleven twelve";
        assert_eq!(partition(&[long, one_word_off], rule), vec![0, 1]);
        assert_eq!(partition(&[long, one_word_off], Equivalence::Jaccard(0.2)), vec![0, 0]);
    }
}
