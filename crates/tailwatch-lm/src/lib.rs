//! tailwatch-lm: an interpolated Kneser-Ney n-gram language model, sampled exactly in time
//! sub-linear in the vocabulary.
//!
//! The simulator trains one per generation on the previous generation's text (`tailwatch-sim`);
//! the detector scores texts by their log-probabilities under one trained on human text
//! (`tailwatch-detect`).
//!
//! # Model
//!
//! Interpolated Kneser-Ney (Chen & Goodman 1998) with one absolute discount per order. Every training
//! sentence is padded with `order - 1` [`BOS`] at the start and one [`EOS`] at the end before counting;
//! BOS only ever appears as context, so the prediction space is every id of `0..vocab_size` except BOS
//! (UNK and EOS included): `V = vocab_size - 1` ids.
//!
//! Level `k` (n-grams of length `k`, contexts `h` of length `k - 1`) uses the counts
//!
//! * `c_k(h w) = c(h w)`, the raw count, at the highest level `k = order`;
//! * `c_k(h w) = N1+(• h w)`, the number of distinct tokens seen immediately left of `h w`
//!   (continuation count), at every lower level (at order 1 the only level is the highest, so it
//!   uses plain unigram counts).
//!
//! With `c_k(h ·) = Σ_w c_k(h w)`, `N1+(h ·) = |{w : c_k(h w) > 0}|` and `h'` = `h` without its first
//! token:
//!
//! ```text
//! P_k(w | h) = max(c_k(h w) - D_k, 0) / c_k(h ·) + D_k · N1+(h ·) / c_k(h ·) · P_{k-1}(w | h')
//! P_k(w | h) = P_{k-1}(w | h')                                  if c_k(h ·) = 0
//! P_0(w)     = 1 / V                                            (uniform over the predictable ids)
//! ```
//!
//! so the lowest level is `P_1(w) = max(c_1(w) - D_1, 0) / c_1(·) + D_1 · N1+(·) / c_1(·) · 1/V`, and
//! `P(w | context) = P_order(w | h)` with `h` the last `order - 1` context ids (left-padded with BOS).
//! Every level is a proper distribution, hence so is the whole model, for every context (seen or not)
//! and every id (UNK and words never seen in training get at least the uniform floor).
//!
//! # Discounts
//!
//! `D_k = clamp(n1 / (n1 + 2 n2), 0.05, 0.95)`, where `n1`, `n2` are the numbers of level-`k` entries
//! whose count (raw or continuation, as above) is 1 or 2, and `0 / 0` is read as 0. With `n1, n2 > 0` the
//! ratio already lies in `(0, 1)`; the clamp matters when the count-of-counts are degenerate (`n1 = 0`
//! gives 0.05, `n2 = 0` gives 0.95). Keeping `D_k` in `[0.05, 0.95]` ensures every seen context
//! reserves mass for unseen words and every seen n-gram keeps `c - D > 0`.
//!
//! # Storage and sampling
//!
//! Contexts form a trie that grows to the left: the node of `h = (h_1 .. h_j)` is the child of the node
//! of `h' = (h_2 .. h_j)` through `h_1`, so a node's parent is exactly its back-off context. Children are
//! found through one hash map keyed by the `u64` `(parent node << 32) | token`. Each node owns a slice
//! of its level's entries `(w, c_k(h w))` sorted by `w`, stored as inclusive prefix sums of the counts.
//!
//! [`KneserNey::sample_next`] draws exactly from `P(· | context)`: starting at the longest matching
//! context, with probability `Σ_w (c_k(h w) - D_k) / c_k(h ·)` it draws `w` from the discounted counts
//! (binary search on the discounted prefix sums `Σ_{i ≤ j} c_i - (j + 1) D_k`), otherwise it backs off
//! to `h'`; below the unigram level it draws uniformly from the `V` predictable ids. Cost per token:
//! `order - 1` hash look-ups plus one binary search per visited level, independent of `V`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rand::{Rng, RngExt};

/// Id of the unknown token `<unk>`.
pub const UNK: u32 = 0;
/// Id of the sentence start `<s>`: context padding only, never predicted.
pub const BOS: u32 = 1;
/// Id of the sentence end `</s>`: predicted like any other token.
pub const EOS: u32 = 2;

const ROOT: u32 = 0;
const NO_PARENT: u32 = u32::MAX;
const MIN_DISCOUNT: f64 = 0.05;
const MAX_DISCOUNT: f64 = 0.95;

/// Token strings <-> dense ids; ids 0, 1, 2 are `<unk>`, `<s>`, `</s>`.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    ids: HashMap<String, u32>,
    tokens: Vec<String>,
}

impl Default for Vocabulary {
    fn default() -> Self {
        Self::new()
    }
}

impl Vocabulary {
    /// A vocabulary holding only `<unk>`, `<s>` and `</s>` (ids [`UNK`], [`BOS`], [`EOS`]).
    pub fn new() -> Self {
        let mut vocabulary = Self { ids: HashMap::new(), tokens: Vec::new() };
        for special in ["<unk>", "<s>", "</s>"] {
            vocabulary.intern(special);
        }
        vocabulary
    }

    /// The id of `token`, adding it with the next free id if it is new.
    pub fn intern(&mut self, token: &str) -> u32 {
        if let Some(&id) = self.ids.get(token) {
            return id;
        }
        let id = u32::try_from(self.tokens.len()).expect("vocabulary exceeds u32 ids");
        self.ids.insert(token.to_owned(), id);
        self.tokens.push(token.to_owned());
        id
    }

    /// The id of `token`, or [`UNK`] if it was never interned.
    pub fn id(&self, token: &str) -> u32 {
        self.ids.get(token).copied().unwrap_or(UNK)
    }

    /// The string of `id`; ids never handed out read as `<unk>`.
    pub fn token(&self, id: u32) -> &str {
        self.tokens.get(id as usize).unwrap_or(&self.tokens[UNK as usize])
    }

    /// Number of ids handed out, the three special tokens included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Always false: the special tokens are always present.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// Hasher for `u64` keys: the murmur3 64-bit finaliser, good in high and low bits alike.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = mix64(self.0 ^ u64::from(byte));
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = mix64(self.0 ^ key);
    }
}

fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

fn pair_key(node: u32, token: u32) -> u64 {
    (u64::from(node) << 32) | u64::from(token)
}

fn key_node(key: u64) -> u32 {
    (key >> 32) as u32
}

fn key_token(key: u64) -> u32 {
    key as u32
}

/// Interpolated Kneser-Ney n-gram model over ids `0..vocab_size` (see the module documentation).
#[derive(Debug, Clone)]
pub struct KneserNey {
    order: usize,
    vocab_size: usize,
    /// `(context node, token prepended on the left)` -> node of the longer context.
    children: KeyMap<u32>,
    /// Node -> node of its back-off context (the context without its first token); root: `NO_PARENT`.
    parents: Vec<u32>,
    /// Node -> context length (the node's level is this plus one).
    context_lengths: Vec<u32>,
    /// Node -> first index of its entries; one extra trailing element closes the last node.
    entry_starts: Vec<usize>,
    /// Predicted ids, sorted within each node.
    entry_words: Vec<u32>,
    /// Inclusive prefix sums of the level counts, restarting at each node.
    entry_cumulative_counts: Vec<u64>,
    /// `discounts[j]` is the discount of contexts of length `j` (n-gram order `j + 1`).
    discounts: Vec<f64>,
}

impl KneserNey {
    /// Train on `docs` (token-id sentences without BOS/EOS; ids < vocab_size, never BOS or EOS).
    /// `order` >= 1 (3 = trigram). The model predicts over every id in 0..vocab_size except BOS
    /// (so UNK and EOS included): prediction space size V = vocab_size - 1.
    ///
    /// # Panics
    ///
    /// If `order == 0`, `vocab_size < 3`, `vocab_size > u32::MAX`, or a document holds BOS, EOS or an
    /// id `>= vocab_size`.
    pub fn train(docs: &[Vec<u32>], vocab_size: usize, order: usize) -> Self {
        assert!(order >= 1, "n-gram order must be at least 1");
        assert!(
            (3..=u32::MAX as usize).contains(&vocab_size),
            "vocab_size must count <unk>, <s>, </s> and fit u32 ids"
        );
        let mut children: KeyMap<u32> = KeyMap::default();
        let mut parents = vec![NO_PARENT];
        let mut context_lengths = vec![0_u32];
        // counts[j]: entries of contexts of length j, keyed by (context node, word).
        let mut counts: Vec<KeyMap<u32>> = (0..order).map(|_| KeyMap::default()).collect();

        let mut padded: Vec<u32> = Vec::new();
        for doc in docs {
            assert!(
                doc.iter().all(|&id| id != BOS && id != EOS && (id as usize) < vocab_size),
                "documents must hold ids below vocab_size other than BOS and EOS"
            );
            padded.clear();
            padded.resize(order - 1, BOS);
            padded.extend_from_slice(doc);
            padded.push(EOS);
            for end in order - 1..padded.len() {
                let mut node = ROOT;
                for back in 1..order {
                    let token = padded[end - back];
                    node = *children.entry(pair_key(node, token)).or_insert_with(|| {
                        let child = u32::try_from(parents.len()).expect("context trie exceeds u32 nodes");
                        parents.push(node);
                        context_lengths.push(back as u32);
                        child
                    });
                }
                *counts[order - 1].entry(pair_key(node, padded[end])).or_insert(0) += 1;
            }
        }

        // Continuation counts: each distinct entry (h, w) at length j adds one left extension to (h', w).
        for length in (1..order).rev() {
            let (shorter, longer) = counts.split_at_mut(length);
            for &key in longer[0].keys() {
                let parent = parents[key_node(key) as usize];
                *shorter[length - 1].entry(pair_key(parent, key_token(key))).or_insert(0) += 1;
            }
        }

        let discounts = counts.iter().map(|level| discount_from_counts(level.values().copied())).collect();

        let mut entries: Vec<(u64, u32)> =
            counts.iter().flat_map(|level| level.iter().map(|(&key, &count)| (key, count))).collect();
        drop(counts);
        entries.sort_unstable_by_key(|&(key, _)| key);

        let mut entry_starts = vec![0_usize; parents.len() + 1];
        for &(key, _) in &entries {
            entry_starts[key_node(key) as usize + 1] += 1;
        }
        for node in 1..entry_starts.len() {
            entry_starts[node] += entry_starts[node - 1];
        }
        let mut entry_words = Vec::with_capacity(entries.len());
        let mut entry_cumulative_counts = Vec::with_capacity(entries.len());
        let mut previous_node = NO_PARENT;
        let mut running = 0_u64;
        for &(key, count) in &entries {
            if key_node(key) != previous_node {
                previous_node = key_node(key);
                running = 0;
            }
            running += u64::from(count);
            entry_words.push(key_token(key));
            entry_cumulative_counts.push(running);
        }
        children.shrink_to_fit();

        Self {
            order,
            vocab_size,
            children,
            parents,
            context_lengths,
            entry_starts,
            entry_words,
            entry_cumulative_counts,
            discounts,
        }
    }

    /// The n-gram order (1 = unigram, 3 = trigram).
    pub fn order(&self) -> usize {
        self.order
    }

    /// The id space `0..vocab_size` the model was trained for.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The absolute discounts `D_k`; index `k - 1` holds the discount of n-grams of length `k`.
    pub fn discounts(&self) -> &[f64] {
        &self.discounts
    }

    /// Number of predictable ids `V = vocab_size - 1` (every id but BOS).
    pub fn prediction_space(&self) -> usize {
        self.vocab_size - 1
    }

    /// P(token | context): context = the preceding ids of the sentence (only the last order-1
    /// are used; shorter contexts are left-padded with BOS).
    ///
    /// BOS has probability 0. Ids `>= vocab_size` (in `token` or `context`) are read as [`UNK`].
    pub fn prob(&self, context: &[u32], token: u32) -> f64 {
        if token == BOS {
            return 0.0;
        }
        let token = self.known_or_unk(token);
        let mut node = self.longest_context(context);
        let mut probability = 0.0;
        let mut backoff_weight = 1.0;
        loop {
            let (start, end) = self.entry_range(node);
            if start < end {
                let discount = self.discount_of(node);
                let total = self.entry_cumulative_counts[end - 1] as f64;
                let distinct = (end - start) as f64;
                if let Ok(offset) = self.entry_words[start..end].binary_search(&token) {
                    let count = self.entry_count(start, offset) as f64;
                    probability += backoff_weight * (count - discount) / total;
                }
                backoff_weight *= discount * distinct / total;
            }
            match self.parents[node as usize] {
                NO_PARENT => break,
                parent => node = parent,
            }
        }
        probability + backoff_weight / self.prediction_space() as f64
    }

    /// Sum of natural-log probabilities of the doc's tokens and of the final EOS, and the number
    /// of predictions (doc.len() + 1).
    pub fn doc_log_prob(&self, doc: &[u32]) -> (f64, usize) {
        let tokens_then_eos = doc.iter().copied().chain(std::iter::once(EOS));
        let log_prob = tokens_then_eos.enumerate().map(|(i, token)| self.prob(&doc[..i], token).ln()).sum();
        (log_prob, doc.len() + 1)
    }

    /// exp(-(sum of ln p) / (predictions)) over all docs; NaN when `docs` is empty (no predictions).
    pub fn perplexity(&self, docs: &[Vec<u32>]) -> f64 {
        let (log_prob, predictions) = docs
            .iter()
            .map(|doc| self.doc_log_prob(doc))
            .fold((0.0, 0_usize), |(sum, count), (log_prob, n)| (sum + log_prob, count + n));
        (-log_prob / predictions as f64).exp()
    }

    /// Draw the next id exactly from prob(context, ·): never BOS.
    pub fn sample_next<R: Rng + ?Sized>(&self, context: &[u32], rng: &mut R) -> u32 {
        let mut node = self.longest_context(context);
        loop {
            let (start, end) = self.entry_range(node);
            if start < end {
                let discount = self.discount_of(node);
                let total = self.entry_cumulative_counts[end - 1] as f64;
                let discounted_mass = total - discount * (end - start) as f64;
                let draw = rng.random::<f64>() * total;
                if draw < discounted_mass {
                    return self.entry_words[start + self.discounted_search(start, end, discount, draw)];
                }
            }
            match self.parents[node as usize] {
                NO_PARENT => break,
                parent => node = parent,
            }
        }
        // Uniform over the predictable ids: 0 (UNK), then 2..vocab_size (skipping BOS).
        match rng.random_range(0..self.prediction_space() as u32) {
            UNK => UNK,
            index => index + 1,
        }
    }

    /// A sentence: sample_next from a BOS-padded context until EOS or `max_len` tokens
    /// (EOS not included in the result).
    pub fn sample_doc<R: Rng + ?Sized>(&self, rng: &mut R, max_len: usize) -> Vec<u32> {
        let padding = self.order - 1;
        let mut history = Vec::with_capacity(padding + max_len.min(1024));
        history.resize(padding, BOS);
        while history.len() - padding < max_len {
            let next = self.sample_next(&history, rng);
            if next == EOS {
                break;
            }
            history.push(next);
        }
        history.split_off(padding)
    }

    fn known_or_unk(&self, id: u32) -> u32 {
        if (id as usize) < self.vocab_size { id } else { UNK }
    }

    /// Node of the longest suffix of the BOS-padded context (at most `order - 1` ids) seen in training.
    fn longest_context(&self, context: &[u32]) -> u32 {
        let mut node = ROOT;
        for back in 1..self.order {
            let token = match context.len().checked_sub(back) {
                Some(position) => self.known_or_unk(context[position]),
                None => BOS,
            };
            match self.children.get(&pair_key(node, token)) {
                Some(&child) => node = child,
                None => break,
            }
        }
        node
    }

    fn entry_range(&self, node: u32) -> (usize, usize) {
        (self.entry_starts[node as usize], self.entry_starts[node as usize + 1])
    }

    fn discount_of(&self, node: u32) -> f64 {
        self.discounts[self.context_lengths[node as usize] as usize]
    }

    fn entry_count(&self, start: usize, offset: usize) -> u64 {
        let before = if offset == 0 { 0 } else { self.entry_cumulative_counts[start + offset - 1] };
        self.entry_cumulative_counts[start + offset] - before
    }

    /// Smallest offset `j` in the node's entries with `Σ_{i ≤ j} (c_i - D) > draw`, where
    /// `0 <= draw < Σ_i (c_i - D)`.
    fn discounted_search(&self, start: usize, end: usize, discount: f64, draw: f64) -> usize {
        let cumulative = &self.entry_cumulative_counts[start..end];
        let (mut low, mut high) = (0, cumulative.len() - 1);
        while low < high {
            let middle = (low + high) / 2;
            if cumulative[middle] as f64 - (middle + 1) as f64 * discount > draw {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        low
    }
}

/// `clamp(n1 / (n1 + 2 n2), 0.05, 0.95)` from the counts of one level (0 / 0 read as 0).
fn discount_from_counts(counts: impl Iterator<Item = u32>) -> f64 {
    let (mut singletons, mut doubletons) = (0_u64, 0_u64);
    for count in counts {
        match count {
            1 => singletons += 1,
            2 => doubletons += 1,
            _ => {}
        }
    }
    let ratio = singletons as f64 / (singletons + 2 * doubletons).max(1) as f64;
    ratio.clamp(MIN_DISCOUNT, MAX_DISCOUNT)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    use super::*;

    /// Sum of prob(context, w) over the predictable ids.
    fn total_probability(model: &KneserNey, context: &[u32]) -> f64 {
        (0..model.vocab_size() as u32).filter(|&w| w != BOS).map(|w| model.prob(context, w)).sum()
    }

    /// Random corpus over words 3..vocab_size (plus occasional UNK) with Zipf-like frequencies and some
    /// local structure (each word tends to be followed by `word * 7 % n`).
    fn random_corpus(seed: u64, docs: usize, vocab_size: u32, max_len: u32) -> Vec<Vec<u32>> {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let words = vocab_size - 3;
        (0..docs)
            .map(|_| {
                let len = rng.random_range(0..=max_len);
                let mut doc = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    let token = if rng.random_bool(0.02) {
                        UNK
                    } else if let (Some(&previous), true) = (doc.last(), rng.random_bool(0.5)) {
                        if previous == UNK { 3 } else { 3 + (previous - 3) * 7 % words }
                    } else {
                        let u: f64 = rng.random();
                        3 + ((u * u * u * f64::from(words)) as u32).min(words - 1)
                    };
                    doc.push(token);
                }
                doc
            })
            .collect()
    }

    /// A straightforward re-implementation of the interpolated KN formula with BTreeMaps.
    struct BruteForce {
        order: usize,
        vocab_size: usize,
        /// Level counts per n-gram length (index = length - 1): raw at the top, continuation below.
        level_counts: Vec<BTreeMap<Vec<u32>, u64>>,
        discounts: Vec<f64>,
    }

    impl BruteForce {
        fn new(docs: &[Vec<u32>], vocab_size: usize, order: usize) -> Self {
            let mut windows: BTreeMap<Vec<u32>, u64> = BTreeMap::new();
            for doc in docs {
                let mut padded = vec![BOS; order - 1];
                padded.extend_from_slice(doc);
                padded.push(EOS);
                for end in order - 1..padded.len() {
                    for length in 1..=order {
                        *windows.entry(padded[end + 1 - length..=end].to_vec()).or_insert(0) += 1;
                    }
                }
            }
            let mut level_counts = Vec::new();
            let mut discounts = Vec::new();
            for length in 1..=order {
                let mut level = BTreeMap::new();
                for gram in windows.keys().filter(|gram| gram.len() == length) {
                    let count = if length == order {
                        windows[gram]
                    } else {
                        let left: BTreeSet<u32> = windows
                            .keys()
                            .filter(|longer| longer.len() == length + 1 && longer[1..] == gram[..])
                            .map(|longer| longer[0])
                            .collect();
                        left.len() as u64
                    };
                    assert!(*gram.last().unwrap() != BOS);
                    level.insert(gram.clone(), count);
                }
                let n1 = level.values().filter(|&&c| c == 1).count() as f64;
                let n2 = level.values().filter(|&&c| c == 2).count() as f64;
                let ratio = if n1 + 2.0 * n2 == 0.0 { 0.0 } else { n1 / (n1 + 2.0 * n2) };
                discounts.push(ratio.clamp(0.05, 0.95));
                level_counts.push(level);
            }
            Self { order, vocab_size, level_counts, discounts }
        }

        /// P_k(w | h) for `h.len() == k - 1`, literally as in the module documentation.
        fn level_prob(&self, h: &[u32], w: u32) -> f64 {
            let k = h.len() + 1;
            let lower = if k == 1 { 1.0 / (self.vocab_size - 1) as f64 } else { self.level_prob(&h[1..], w) };
            let level = &self.level_counts[k - 1];
            let in_context: Vec<(&Vec<u32>, &u64)> =
                level.iter().filter(|(gram, _)| gram[..k - 1] == h[..]).collect();
            let total: u64 = in_context.iter().map(|&(_, &c)| c).sum();
            if total == 0 {
                return lower;
            }
            let distinct = in_context.len() as f64;
            let mut gram = h.to_vec();
            gram.push(w);
            let count = level.get(&gram).copied().unwrap_or(0) as f64;
            let discount = self.discounts[k - 1];
            (count - discount).max(0.0) / total as f64 + discount * distinct / total as f64 * lower
        }

        fn prob(&self, context: &[u32], w: u32) -> f64 {
            let mut padded = vec![BOS; self.order - 1];
            padded.extend_from_slice(context);
            self.level_prob(&padded[padded.len() + 1 - self.order..], w)
        }
    }

    /// All id sequences of length `length` over `alphabet`.
    fn all_sequences(alphabet: &[u32], length: usize) -> Vec<Vec<u32>> {
        (0..length).fold(vec![Vec::new()], |sequences, _| {
            sequences
                .iter()
                .flat_map(|prefix| {
                    alphabet.iter().map(move |&id| {
                        let mut next = prefix.clone();
                        next.push(id);
                        next
                    })
                })
                .collect()
        })
    }

    #[test]
    fn vocabulary_interns_and_looks_up() {
        let mut vocabulary = Vocabulary::new();
        assert_eq!(vocabulary.len(), 3);
        assert!(!vocabulary.is_empty());
        assert_eq!((vocabulary.id("<unk>"), vocabulary.id("<s>"), vocabulary.id("</s>")), (UNK, BOS, EOS));
        let cat = vocabulary.intern("cat");
        assert_eq!(cat, 3);
        assert_eq!(vocabulary.intern("dog"), 4);
        assert_eq!(vocabulary.intern("cat"), cat);
        assert_eq!(vocabulary.id("cat"), cat);
        assert_eq!(vocabulary.id("never seen"), UNK);
        assert_eq!(vocabulary.token(cat), "cat");
        assert_eq!(vocabulary.token(99), "<unk>");
        assert_eq!(vocabulary.len(), 5);
    }

    #[test]
    fn matches_brute_force_formula() {
        let vocab_size = 7;
        let docs = random_corpus(11, 40, vocab_size as u32, 6);
        let alphabet: Vec<u32> = (0..vocab_size as u32).collect();
        for order in 1..=4 {
            let model = KneserNey::train(&docs, vocab_size, order);
            let reference = BruteForce::new(&docs, vocab_size, order);
            for (level, (&fast, &slow)) in model.discounts().iter().zip(&reference.discounts).enumerate() {
                assert!((fast - slow).abs() < 1e-15, "order {order} level {level}: {fast} vs {slow}");
            }
            let mut contexts = all_sequences(&alphabet, order - 1);
            contexts.extend([vec![], vec![5], vec![3, 4, 5, 6, 3]]);
            for context in &contexts {
                for w in 0..vocab_size as u32 {
                    let expected = if w == BOS { 0.0 } else { reference.prob(context, w) };
                    let actual = model.prob(context, w);
                    assert!(
                        (actual - expected).abs() < 1e-12,
                        "order {order} context {context:?} word {w}: {actual} vs {expected}"
                    );
                }
            }
        }
    }

    #[test]
    fn distributions_sum_to_one_on_a_larger_corpus() {
        let vocab_size = 60;
        let docs = random_corpus(3, 300, vocab_size as u32, 12);
        for order in 1..=4 {
            let model = KneserNey::train(&docs, vocab_size, order);
            let mut contexts: Vec<Vec<u32>> = docs.iter().take(40).cloned().collect();
            contexts.extend(docs.iter().take(40).filter(|doc| doc.len() > 2).map(|doc| doc[..2].to_vec()));
            contexts.extend([vec![], vec![UNK], vec![59, 58, 57], vec![BOS, EOS, 1000]]);
            for context in &contexts {
                let total = total_probability(&model, context);
                assert!((total - 1.0).abs() < 1e-9, "order {order} context {context:?}: {total}");
            }
        }
    }

    fn doc_strategy(vocab_size: u32) -> impl Strategy<Value = Vec<u32>> {
        // Ids allowed in training documents: UNK and 3..vocab_size.
        prop::collection::vec((0..vocab_size - 2).prop_map(|x| if x == 0 { UNK } else { x + 2 }), 0..8)
    }

    proptest! {
        #[test]
        fn every_context_gets_a_proper_distribution(
            (vocab_size, order, docs, contexts) in (3_u32..12, 1_usize..=4).prop_flat_map(|(v, o)| (
                Just(v),
                Just(o),
                prop::collection::vec(doc_strategy(v), 0..10),
                prop::collection::vec(prop::collection::vec(0..v + 2, 0..5), 1..6),
            ))
        ) {
            let model = KneserNey::train(&docs, vocab_size as usize, order);
            for context in &contexts {
                let total = total_probability(&model, context);
                prop_assert!((total - 1.0).abs() < 1e-9, "context {:?}: {}", context, total);
                prop_assert_eq!(model.prob(context, BOS), 0.0);
            }
        }
    }

    #[test]
    fn sampling_matches_probabilities() {
        let vocab_size = 40;
        let docs = random_corpus(5, 400, vocab_size as u32, 10);
        let model = KneserNey::train(&docs, vocab_size, 3);
        let mut rng = Pcg64Mcg::seed_from_u64(2024);
        let draws = 200_000;
        let seen = docs.iter().find(|doc| doc.len() >= 2).unwrap()[..2].to_vec();
        for context in [seen, vec![], vec![39, UNK, 38]] {
            let mut frequencies = vec![0_u64; vocab_size];
            for _ in 0..draws {
                frequencies[model.sample_next(&context, &mut rng) as usize] += 1;
            }
            assert_eq!(frequencies[BOS as usize], 0);
            for (w, &observed) in frequencies.iter().enumerate() {
                let p = model.prob(&context, w as u32);
                let standard_error = (p * (1.0 - p) / draws as f64).sqrt();
                let frequency = observed as f64 / draws as f64;
                assert!(
                    (frequency - p).abs() <= 5.0 * standard_error + 1e-12,
                    "context {context:?} word {w}: frequency {frequency} vs p {p}"
                );
            }
        }
    }

    #[test]
    fn sampled_docs_respect_bounds_and_never_hold_specials() {
        let docs = random_corpus(8, 200, 30, 10);
        let model = KneserNey::train(&docs, 30, 2);
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let mut lengths = 0;
        for _ in 0..2000 {
            let doc = model.sample_doc(&mut rng, 7);
            assert!(doc.len() <= 7);
            assert!(doc.iter().all(|&id| id != BOS && id != EOS && id < 30));
            lengths += doc.len();
        }
        assert!(lengths > 0);
        assert!(model.sample_doc(&mut rng, 0).is_empty());
    }

    #[test]
    fn perplexity_prefers_the_training_order() {
        let vocab_size = 50;
        let docs = random_corpus(21, 500, vocab_size as u32, 12);
        let model = KneserNey::train(&docs, vocab_size, 3);
        let mut rng = Pcg64Mcg::seed_from_u64(9);
        let mut all_tokens: Vec<u32> = docs.iter().flatten().copied().collect();
        for i in (1..all_tokens.len()).rev() {
            all_tokens.swap(i, rng.random_range(0..=i));
        }
        let mut remaining = all_tokens.into_iter();
        let shuffled: Vec<Vec<u32>> =
            docs.iter().map(|doc| remaining.by_ref().take(doc.len()).collect()).collect();
        let trained = model.perplexity(&docs);
        let scrambled = model.perplexity(&shuffled);
        assert!(trained.is_finite() && trained >= 1.0);
        assert!(trained < scrambled, "{trained} vs {scrambled}");
        assert!(model.perplexity(&[]).is_nan());
    }

    #[test]
    fn a_rare_word_gains_probability_once_seen() {
        let vocab_size = 30;
        let without = random_corpus(4, 300, 29, 10);
        let mut with = without.clone();
        with[10] = vec![5, 29, 6];
        let rare = 29;
        let model_without = KneserNey::train(&without, vocab_size, 3);
        let model_with = KneserNey::train(&with, vocab_size, 3);
        for context in [vec![], vec![5], vec![7, 8]] {
            assert!(
                model_with.prob(&context, rare) > model_without.prob(&context, rare),
                "context {context:?}"
            );
        }
        assert!(model_with.prob(&[5], rare) > 10.0 * model_without.prob(&[5], rare));
    }

    #[test]
    fn unseen_words_get_the_uniform_floor() {
        let docs = vec![vec![3, 4], vec![4, 3]];
        let model = KneserNey::train(&docs, 10, 2);
        for context in [vec![], vec![3], vec![9]] {
            assert!(model.prob(&context, UNK) > 0.0);
            assert!(model.prob(&context, 9) > 0.0);
            assert_eq!(model.prob(&context, UNK), model.prob(&context, 9));
            assert_eq!(model.prob(&context, 1000), model.prob(&context, UNK));
        }
    }

    #[test]
    fn order_one_and_empty_docs_work() {
        let docs = vec![vec![], vec![3, 3, 4], vec![]];
        let model = KneserNey::train(&docs, 6, 1);
        assert_eq!(model.order(), 1);
        // Unigram counts: 3 ×2, 4 ×1, EOS ×3; n1 = 1 and n2 = 1 give D = 1/3.
        let discount = 1.0 / 3.0;
        let floor = discount * 3.0 / 6.0 / 5.0;
        assert!((model.prob(&[4], EOS) - ((3.0 - discount) / 6.0 + floor)).abs() < 1e-12);
        assert!((model.prob(&[], 3) - ((2.0 - discount) / 6.0 + floor)).abs() < 1e-12);
        assert!((model.prob(&[3, 3], 5) - floor).abs() < 1e-12);
        assert!((total_probability(&model, &[3]) - 1.0).abs() < 1e-12);
        let (log_prob, predictions) = model.doc_log_prob(&[]);
        assert_eq!(predictions, 1);
        assert!((log_prob - model.prob(&[], EOS).ln()).abs() < 1e-12);
        assert!(model.perplexity(&docs).is_finite());
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let empties = (0..1000).filter(|_| model.sample_doc(&mut rng, 10).is_empty()).count();
        assert!(empties > 300, "EOS should be the most likely unigram: {empties}");

        // Empty documents contribute BOS .. EOS at higher orders too.
        let bigram = KneserNey::train(&docs, 6, 2);
        assert!(bigram.prob(&[], EOS) > 0.5);
        assert!((total_probability(&bigram, &[]) - 1.0).abs() < 1e-12);
        let nothing = KneserNey::train(&[], 6, 3);
        assert!((nothing.prob(&[3], 4) - 0.2).abs() < 1e-15);
        assert!(nothing.sample_next(&[], &mut rng) != BOS);
    }

    #[test]
    fn doc_log_prob_adds_the_final_eos() {
        let docs = random_corpus(2, 100, 20, 8);
        let model = KneserNey::train(&docs, 20, 3);
        let doc = [3, 4, 5];
        let expected = model.prob(&[], 3).ln()
            + model.prob(&[3], 4).ln()
            + model.prob(&[3, 4], 5).ln()
            + model.prob(&[3, 4, 5], EOS).ln();
        let (log_prob, predictions) = model.doc_log_prob(&doc);
        assert_eq!(predictions, 4);
        assert!((log_prob - expected).abs() < 1e-12);
    }
}
