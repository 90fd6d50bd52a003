//! A seeded synthetic language (Zipfian words, class-level Markov chain) with an exactly known unigram law.
//!
//! # Generative process
//!
//! * `classes` word classes partition the `vocab_size` words; class sizes vary about twentyfold, so a
//!   few small classes behave like closed function-word classes and large ones like open classes.
//! * A sentence has a length `L` uniform on `min_sentence_len..=max_sentence_len`. Its class sequence is
//!   a first-order Markov chain: the first class is drawn from a start distribution `s` (80 % of the
//!   mass on up to 3 start classes, 20 % spread evenly), each next class from the row of a sparse
//!   transition matrix `T` (90 % of each row on 2 to 4 likely successors, 10 % spread evenly, so the
//!   chain is irreducible).
//! * Each position emits a word of its class with Zipfian weights: the within-class rank `j` (from 0)
//!   has probability `(j + 1)^(-zipf_exponent) / Σ_i (i + 1)^(-zipf_exponent)`.
//!
//! # Exact unigram distribution
//!
//! With `π_0 = s` and `π_{t+1} = π_t T`, the expected number of class-`c` tokens per sentence is
//! `o_c = Σ_{t < max} P(L > t) · π_t(c)`; the expected share of word `w` (class `c`, rank `j`) among all
//! generated tokens is `o_c · e_c(j) / E[L]`, the limit of its empirical frequency. Word ids are sorted by
//! that share (id 0 is the most frequent word), and frequent words get fewer syllables.
//!
//! # Determinism
//!
//! Everything derives from `seed` through `rand_pcg::Pcg64Mcg::seed_from_u64`, integer ranges of fixed
//! width and IEEE basic arithmetic; the Zipf powers use a series evaluation built from `+ - × /` only,
//! because `f64::powf` may differ in the last bit between platforms. The same spec therefore yields the
//! same words, probabilities and text on every machine.

use std::collections::HashSet;

use rand::{Rng, RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

/// Share of the start distribution on the designated start classes.
const START_CONCENTRATION: f64 = 0.8;
/// Share of each transition row on the class's likely successors.
const TRANSITION_CONCENTRATION: f64 = 0.9;
/// Words with rank below `SYLLABLE_TIERS[i]` get `i + 1` syllables (before a 25 % chance of one more).
const SYLLABLE_TIERS: [usize; 3] = [40, 400, 2500];
const MAX_SYLLABLES: usize = 4;
const ONSETS: [&str; 20] =
    ["b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "sh", "ch", "tr", "br", "kl"];
const VOWELS: [&str; 7] = ["a", "e", "i", "o", "u", "ai", "ou"];
/// Empty codas are listed several times so that most syllables are open.
const CODAS: [&str; 10] = ["", "", "", "", "n", "r", "s", "l", "m", "k"];
/// Offset between the seed that builds the language and the seed of [`generate_corpus`]'s text stream.
const TEXT_STREAM_OFFSET: u64 = 0x9e37_79b9_7f4a_7c15;

/// Parameters of a [`SyntheticLanguage`] (Default: vocab 4000 words, 24 word classes, Zipf exponent 1.1,
/// sentence length 6..=18, seed 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageSpec {
    /// Number of distinct words (at least `classes`).
    pub vocab_size: usize,
    /// Number of word classes (at least 1).
    pub classes: usize,
    /// Exponent of the Zipfian emission weights within a class (finite, >= 0).
    pub zipf_exponent: f64,
    /// Shortest sentence, in words.
    pub min_sentence_len: usize,
    /// Longest sentence, in words (at least 1 and at least `min_sentence_len`).
    pub max_sentence_len: usize,
    /// Seed of everything: words, classes, chain, and [`generate_corpus`]'s text.
    pub seed: u64,
}

impl Default for LanguageSpec {
    fn default() -> Self {
        Self {
            vocab_size: 4000,
            classes: 24,
            zipf_exponent: 1.1,
            min_sentence_len: 6,
            max_sentence_len: 18,
            seed: 7,
        }
    }
}

/// The generative language: words, a class-level first-order Markov chain, Zipfian emissions within classes.
#[derive(Debug, Clone)]
pub struct SyntheticLanguage {
    spec: LanguageSpec,
    words: Vec<String>,
    start_cumulative: Vec<f64>,
    transition_cumulative: Vec<Vec<f64>>,
    /// Word ids of each class in within-class rank order.
    class_words: Vec<Vec<u32>>,
    emission_cumulative: Vec<Vec<f64>>,
    unigram: Vec<f64>,
}

impl SyntheticLanguage {
    /// Build the language of `spec` (deterministic in the spec).
    ///
    /// # Panics
    ///
    /// If `classes == 0`, `vocab_size < classes`, `vocab_size > u32::MAX`, the Zipf exponent is negative
    /// or not finite, `max_sentence_len == 0` or `min_sentence_len > max_sentence_len`.
    pub fn new(spec: &LanguageSpec) -> Self {
        assert!(spec.classes >= 1, "at least one word class");
        assert!(spec.vocab_size >= spec.classes, "every class needs a word");
        assert!(u32::try_from(spec.vocab_size).is_ok(), "word ids must fit u32");
        assert!(spec.zipf_exponent.is_finite() && spec.zipf_exponent >= 0.0, "Zipf exponent must be >= 0");
        assert!(
            spec.max_sentence_len >= 1 && spec.min_sentence_len <= spec.max_sentence_len,
            "sentence lengths need 1 <= max and min <= max"
        );
        let mut rng = Pcg64Mcg::seed_from_u64(spec.seed);
        let class_sizes = class_sizes(spec.vocab_size, spec.classes, &mut rng);
        let start = start_distribution(spec.classes, &mut rng);
        let transitions = transition_matrix(spec.classes, &mut rng);
        let emissions: Vec<Vec<f64>> =
            class_sizes.iter().map(|&size| zipf_probabilities(size, spec.zipf_exponent)).collect();
        let occupancy =
            expected_class_occupancy(&start, &transitions, spec.min_sentence_len, spec.max_sentence_len);

        // Every (class, rank) slot becomes a word; ids go by decreasing expected share.
        let mut slots: Vec<(f64, usize, usize)> = emissions
            .iter()
            .enumerate()
            .flat_map(|(class, probabilities)| {
                let class_occupancy = occupancy[class];
                probabilities.iter().enumerate().map(move |(rank, &p)| (class_occupancy * p, class, rank))
            })
            .collect();
        slots.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let total: f64 = slots.iter().map(|slot| slot.0).sum();
        let mut class_words: Vec<Vec<u32>> = class_sizes.iter().map(|&size| vec![0; size]).collect();
        let mut unigram = Vec::with_capacity(slots.len());
        for (id, &(share, class, rank)) in slots.iter().enumerate() {
            class_words[class][rank] = id as u32;
            unigram.push(share / total);
        }
        let words = pseudo_words(spec.vocab_size, &mut rng);

        Self {
            spec: spec.clone(),
            words,
            start_cumulative: cumulative(&start),
            transition_cumulative: transitions.iter().map(|row| cumulative(row)).collect(),
            class_words,
            emission_cumulative: emissions.iter().map(|probabilities| cumulative(probabilities)).collect(),
            unigram,
        }
    }

    /// The spec this language was built from.
    pub fn spec(&self) -> &LanguageSpec {
        &self.spec
    }

    /// Distinct pronounceable lowercase pseudo-words (syllables), index = word id; id 0 is the most
    /// frequent word and ids follow decreasing true probability.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Exact expected share of each word among generated tokens (computed, not estimated; sums to 1),
    /// indexed by word id.
    pub fn true_unigram(&self) -> Vec<f64> {
        self.unigram.clone()
    }

    /// `n` sentences as word-id sequences.
    pub fn sentence_word_ids<R: Rng + ?Sized>(&self, rng: &mut R, n: usize) -> Vec<Vec<u32>> {
        (0..n).map(|_| self.sample_sentence(rng)).collect()
    }

    /// `n` sentences, each the space-joined words of one sentence.
    pub fn sentences<R: Rng + ?Sized>(&self, rng: &mut R, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                let ids = self.sample_sentence(rng);
                let mut sentence = String::new();
                for (position, &id) in ids.iter().enumerate() {
                    if position > 0 {
                        sentence.push(' ');
                    }
                    sentence.push_str(&self.words[id as usize]);
                }
                sentence
            })
            .collect()
    }

    fn sample_sentence<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<u32> {
        let length =
            rng.random_range(self.spec.min_sentence_len as u64..=self.spec.max_sentence_len as u64) as usize;
        let mut sentence = Vec::with_capacity(length);
        let mut class = sample_cumulative(&self.start_cumulative, rng);
        for position in 0..length {
            let rank = sample_cumulative(&self.emission_cumulative[class], rng);
            sentence.push(self.class_words[class][rank]);
            if position + 1 < length {
                class = sample_cumulative(&self.transition_cumulative[class], rng);
            }
        }
        sentence
    }
}

/// Convenience: `n` sentences from `spec` with its own seed (deterministic: same spec and n give the same
/// text on every machine). The text stream's seed is derived from `spec.seed`, apart from the one that
/// builds the language.
pub fn generate_corpus(spec: &LanguageSpec, n: usize) -> Vec<String> {
    let language = SyntheticLanguage::new(spec);
    let mut rng = Pcg64Mcg::seed_from_u64(spec.seed.wrapping_add(TEXT_STREAM_OFFSET));
    language.sentences(&mut rng, n)
}

/// Class sizes: one word each, the rest split in proportion to weights `0.05 + u²`, `u ~ U[0, 1)`
/// (floors, then the leftover one by one from class 0).
fn class_sizes<R: Rng + ?Sized>(vocab_size: usize, classes: usize, rng: &mut R) -> Vec<usize> {
    let weights: Vec<f64> = (0..classes)
        .map(|_| {
            let u: f64 = rng.random();
            0.05 + u * u
        })
        .collect();
    let weight_sum: f64 = weights.iter().sum();
    let rest = vocab_size - classes;
    let mut sizes: Vec<usize> =
        weights.iter().map(|&weight| 1 + (rest as f64 * weight / weight_sum).floor() as usize).collect();
    let assigned: usize = sizes.iter().sum();
    for class in 0..vocab_size.saturating_sub(assigned) {
        sizes[class % classes] += 1;
    }
    // Floors cannot overshoot, but guard against rounding anyway.
    let mut class = 0;
    while sizes.iter().sum::<usize>() > vocab_size {
        if sizes[class % classes] > 1 {
            sizes[class % classes] -= 1;
        }
        class += 1;
    }
    sizes
}

/// `count` distinct classes in `0..classes` (fewer if there are fewer classes), in draw order.
fn distinct_classes<R: Rng + ?Sized>(classes: usize, count: usize, rng: &mut R) -> Vec<usize> {
    let count = count.min(classes);
    let mut chosen = Vec::with_capacity(count);
    while chosen.len() < count {
        let class = rng.random_range(0..classes as u32) as usize;
        if !chosen.contains(&class) {
            chosen.push(class);
        }
    }
    chosen
}

/// A distribution with `concentration` of its mass on `favoured` (weights `U[0.5, 1.5)`) and the
/// rest spread evenly over all `classes`.
fn concentrated_distribution<R: Rng + ?Sized>(
    classes: usize,
    favoured: &[usize],
    concentration: f64,
    rng: &mut R,
) -> Vec<f64> {
    let mut distribution = vec![(1.0 - concentration) / classes as f64; classes];
    let weights: Vec<f64> = favoured.iter().map(|_| 0.5 + rng.random::<f64>()).collect();
    let weight_sum: f64 = weights.iter().sum();
    for (&class, &weight) in favoured.iter().zip(&weights) {
        distribution[class] += concentration * weight / weight_sum;
    }
    distribution
}

fn start_distribution<R: Rng + ?Sized>(classes: usize, rng: &mut R) -> Vec<f64> {
    let favoured = distinct_classes(classes, 3, rng);
    concentrated_distribution(classes, &favoured, START_CONCENTRATION, rng)
}

fn transition_matrix<R: Rng + ?Sized>(classes: usize, rng: &mut R) -> Vec<Vec<f64>> {
    (0..classes)
        .map(|_| {
            let successors = rng.random_range(2_u32..=4) as usize;
            let favoured = distinct_classes(classes, successors, rng);
            concentrated_distribution(classes, &favoured, TRANSITION_CONCENTRATION, rng)
        })
        .collect()
}

/// `(j + 1)^(-exponent)`, normalised, for ranks `j` in `0..size`.
fn zipf_probabilities(size: usize, exponent: f64) -> Vec<f64> {
    let weights: Vec<f64> = (1..=size).map(|rank| inverse_power(rank as f64, exponent)).collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|&weight| weight / total).collect()
}

/// Expected number of tokens of each class per sentence: `Σ_{t < max} P(L > t) · π_t`, where
/// `L ~ U{min..=max}`, `π_0 = start` and `π_{t+1} = π_t · transitions`.
fn expected_class_occupancy(
    start: &[f64],
    transitions: &[Vec<f64>],
    min_len: usize,
    max_len: usize,
) -> Vec<f64> {
    let lengths = (max_len - min_len + 1) as f64;
    let mut occupancy = vec![0.0; start.len()];
    let mut state = start.to_vec();
    for position in 0..max_len {
        // Number of lengths L in min..=max with L > position.
        let longer = (max_len - min_len.max(position + 1) + 1) as f64;
        for (total, &p) in occupancy.iter_mut().zip(&state) {
            *total += longer / lengths * p;
        }
        let mut next = vec![0.0; state.len()];
        for (&p, row) in state.iter().zip(transitions) {
            for (target, &q) in next.iter_mut().zip(row) {
                *target += p * q;
            }
        }
        state = next;
    }
    occupancy
}

fn cumulative(probabilities: &[f64]) -> Vec<f64> {
    probabilities
        .iter()
        .scan(0.0, |running, &p| {
            *running += p;
            Some(*running)
        })
        .collect()
}

/// Index `i` with probability `cumulative[i] - cumulative[i - 1]` (relative to the last element).
fn sample_cumulative<R: Rng + ?Sized>(cumulative: &[f64], rng: &mut R) -> usize {
    let total = cumulative[cumulative.len() - 1];
    let draw = rng.random::<f64>() * total;
    cumulative.partition_point(|&c| c <= draw).min(cumulative.len() - 1)
}

/// Distinct pseudo-words; rank `r` gets 1-4 syllables, more for rarer ranks (tiers in
/// [`SYLLABLE_TIERS`], plus one with probability 1/4). A collision is redrawn; after 64 collisions at
/// one length the word gets one more syllable (beyond 4 only if the 4-syllable space ran out).
fn pseudo_words<R: Rng + ?Sized>(count: usize, rng: &mut R) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::with_capacity(count);
    let mut words = Vec::with_capacity(count);
    for rank in 0..count {
        let tier = SYLLABLE_TIERS.iter().filter(|&&limit| rank >= limit).count() + 1;
        let mut syllables =
            if rng.random_range(0_u32..4) == 0 { (tier + 1).min(MAX_SYLLABLES) } else { tier };
        let mut collisions = 0;
        let word = loop {
            let candidate: String = (0..syllables).map(|_| syllable(rng)).collect();
            if !taken.contains(&candidate) {
                break candidate;
            }
            collisions += 1;
            if collisions % 64 == 0 {
                syllables += 1;
            }
        };
        taken.insert(word.clone());
        words.push(word);
    }
    words
}

fn syllable<R: Rng + ?Sized>(rng: &mut R) -> String {
    let onset = ONSETS[rng.random_range(0..ONSETS.len() as u32) as usize];
    let vowel = VOWELS[rng.random_range(0..VOWELS.len() as u32) as usize];
    let coda = CODAS[rng.random_range(0..CODAS.len() as u32) as usize];
    [onset, vowel, coda].concat()
}

/// `base^(-exponent)` for `base >= 1`, from IEEE basic operations only (bit-identical everywhere).
fn inverse_power(base: f64, exponent: f64) -> f64 {
    portable_exp(-exponent * portable_ln(base))
}

/// Natural logarithm of a positive normal `x`: `x = m · 2^e` with `m ∈ [√½, √2)`, then
/// `ln m = 2 atanh((m - 1) / (m + 1))` by its series (|z| <= 0.172, 20 terms).
fn portable_ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut mantissa = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if mantissa > std::f64::consts::SQRT_2 {
        mantissa /= 2.0;
        exponent += 1;
    }
    let z = (mantissa - 1.0) / (mantissa + 1.0);
    let z_squared = z * z;
    let mut power = z;
    let mut series = 0.0;
    for k in 0..20 {
        series += power / f64::from(2 * k + 1);
        power *= z_squared;
    }
    2.0 * series + exponent as f64 * std::f64::consts::LN_2
}

/// `e^y` for `y <= 0`: `y = k ln 2 + r` with `|r| <= ln 2 / 2`, Taylor series of `e^r` (24 terms),
/// scaled by `2^k` in two exact steps; 0 below the subnormal range.
fn portable_exp(y: f64) -> f64 {
    if y < -745.0 {
        return 0.0;
    }
    let k = (y / std::f64::consts::LN_2).round();
    let r = y - k * std::f64::consts::LN_2;
    let mut term = 1.0;
    let mut series = 1.0;
    for n in 1..=24 {
        term *= r / f64::from(n);
        series += term;
    }
    let k = k as i64;
    let half = k / 2;
    series * power_of_two(half) * power_of_two(k - half)
}

/// `2^k` for `-1022 <= k <= 1023`.
fn power_of_two(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fnv1a(text: &str) -> u64 {
        text.bytes()
            .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3))
    }

    #[test]
    fn generation_is_deterministic() {
        let spec = LanguageSpec::default();
        let first = generate_corpus(&spec, 300);
        assert_eq!(first, generate_corpus(&spec, 300));
        assert_eq!(first.len(), 300);
        let language = SyntheticLanguage::new(&spec);
        let again = SyntheticLanguage::new(&spec);
        assert_eq!(language.words(), again.words());
        assert_eq!(language.true_unigram(), again.true_unigram());
        let other_seed = generate_corpus(&LanguageSpec { seed: 8, ..spec.clone() }, 300);
        assert_ne!(first, other_seed);
        // Same stream with a fresh generator of the same seed.
        let mut rng = Pcg64Mcg::seed_from_u64(99);
        let mut rng_again = Pcg64Mcg::seed_from_u64(99);
        assert_eq!(language.sentences(&mut rng, 50), again.sentences(&mut rng_again, 50));
    }

    #[test]
    fn default_corpus_is_pinned() {
        // Guards the "same text on every machine" promise: change only on purpose.
        let corpus = generate_corpus(&LanguageSpec::default(), 100).join("\n");
        assert_eq!(fnv1a(&corpus), PINNED_CORPUS_HASH, "first sentence: {}", corpus.lines().next().unwrap());
    }

    const PINNED_CORPUS_HASH: u64 = 2_608_609_484_030_117_383;

    #[test]
    fn words_are_distinct_lowercase_and_frequent_ones_shorter() {
        let language = SyntheticLanguage::new(&LanguageSpec::default());
        let words = language.words();
        assert_eq!(words.len(), 4000);
        let distinct: HashSet<&String> = words.iter().collect();
        assert_eq!(distinct.len(), words.len());
        assert!(words.iter().all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase())));
        assert!(words.iter().all(|word| word.len() <= MAX_SYLLABLES * 5));
        let mean_length =
            |slice: &[String]| slice.iter().map(String::len).sum::<usize>() as f64 / slice.len() as f64;
        assert!(mean_length(&words[..100]) + 2.0 < mean_length(&words[3000..]));
    }

    #[test]
    fn true_unigram_is_a_sorted_distribution_with_a_real_tail() {
        let language = SyntheticLanguage::new(&LanguageSpec::default());
        let unigram = language.true_unigram();
        assert_eq!(unigram.len(), 4000);
        assert!((unigram.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(unigram.iter().all(|&p| p > 0.0));
        assert!(unigram.windows(2).all(|pair| pair[0] >= pair[1]));
        let rare = unigram.iter().filter(|&&p| p < 1e-4).count();
        assert!(rare >= 1000, "only {rare} words below 1e-4");
        assert!(unigram[0] > 0.01, "head too light: {}", unigram[0]);
    }

    #[test]
    fn one_class_gives_the_exact_zipf_law() {
        let spec = LanguageSpec { vocab_size: 50, classes: 1, zipf_exponent: 1.3, ..LanguageSpec::default() };
        let unigram = SyntheticLanguage::new(&spec).true_unigram();
        let harmonic: f64 = (1..=50).map(|r| (r as f64).powf(-1.3)).sum();
        for (rank, &p) in unigram.iter().enumerate() {
            let expected = ((rank + 1) as f64).powf(-1.3) / harmonic;
            assert!((p - expected).abs() < 1e-14, "rank {rank}: {p} vs {expected}");
        }
    }

    /// Generates at least `tokens` tokens and checks the empirical frequency of words `0..checked`
    /// against the true unigram within 5 standard errors. Sentences are independent, tokens within one
    /// are not, so the standard error is the cluster-robust one of the ratio estimator Σ_s x_s / Σ_s L_s.
    fn assert_empirical_frequencies_match(spec: &LanguageSpec, checked: usize, tokens: usize, seed: u64) {
        let language = SyntheticLanguage::new(spec);
        let unigram = language.true_unigram();
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let mut per_sentence_counts: Vec<(Vec<u32>, usize)> = Vec::new();
        let mut generated = 0;
        while generated < tokens {
            let sentence = language.sentence_word_ids(&mut rng, 1).pop().unwrap();
            generated += sentence.len();
            let mut counts = vec![0_u32; checked];
            for &id in sentence.iter().filter(|&&id| (id as usize) < checked) {
                counts[id as usize] += 1;
            }
            per_sentence_counts.push((counts, sentence.len()));
        }
        for (word, &p) in unigram.iter().enumerate().take(checked) {
            let observed: u32 = per_sentence_counts.iter().map(|(counts, _)| counts[word]).sum();
            let squared_residuals: f64 = per_sentence_counts
                .iter()
                .map(|(counts, length)| (f64::from(counts[word]) - p * *length as f64).powi(2))
                .sum();
            let standard_error = squared_residuals.sqrt() / generated as f64;
            let frequency = f64::from(observed) / generated as f64;
            assert!(
                (frequency - p).abs() <= 5.0 * standard_error,
                "{spec:?} word {word}: frequency {frequency} vs p {p} (se {standard_error})"
            );
        }
    }

    #[test]
    fn true_unigram_matches_empirical_frequencies() {
        assert_empirical_frequencies_match(&LanguageSpec::default(), 40, 200_000, 12);
        // Few classes and short sentences: every word checked, first and last positions weigh a lot.
        let small = LanguageSpec {
            vocab_size: 20,
            classes: 4,
            min_sentence_len: 1,
            max_sentence_len: 3,
            ..LanguageSpec::default()
        };
        assert_empirical_frequencies_match(&small, 20, 200_000, 13);
    }

    #[test]
    fn true_unigram_matches_enumeration_of_class_sequences() {
        let spec = LanguageSpec {
            vocab_size: 12,
            classes: 3,
            min_sentence_len: 2,
            max_sentence_len: 4,
            zipf_exponent: 0.9,
            seed: 5,
        };
        let language = SyntheticLanguage::new(&spec);
        let probabilities = |cumulative: &[f64]| -> Vec<f64> {
            let mut previous = 0.0;
            cumulative
                .iter()
                .map(|&c| (c - std::mem::replace(&mut previous, c)) / cumulative[cumulative.len() - 1])
                .collect()
        };
        let start = probabilities(&language.start_cumulative);
        let transitions: Vec<Vec<f64>> =
            language.transition_cumulative.iter().map(|row| probabilities(row)).collect();
        // Expected class counts per sentence, summing over every length and every class sequence.
        let mut class_tokens = [0.0; 3];
        let mut expected_length = 0.0;
        for length in 2..=4_u32 {
            let length_probability = 1.0 / 3.0;
            expected_length += length_probability * f64::from(length);
            for code in 0..3_usize.pow(length) {
                let sequence: Vec<usize> = (0..length).map(|i| code / 3_usize.pow(i) % 3).collect();
                let mut probability = length_probability * start[sequence[0]];
                for pair in sequence.windows(2) {
                    probability *= transitions[pair[0]][pair[1]];
                }
                for &class in &sequence {
                    class_tokens[class] += probability;
                }
            }
        }
        let unigram = language.true_unigram();
        for (class, words) in language.class_words.iter().enumerate() {
            let emissions = probabilities(&language.emission_cumulative[class]);
            for (rank, &word) in words.iter().enumerate() {
                let expected = class_tokens[class] * emissions[rank] / expected_length;
                let actual = unigram[word as usize];
                assert!(
                    (actual - expected).abs() < 1e-12,
                    "class {class} rank {rank}: {actual} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn sentence_lengths_stay_within_bounds() {
        let spec = LanguageSpec { min_sentence_len: 3, max_sentence_len: 5, ..LanguageSpec::default() };
        let language = SyntheticLanguage::new(&spec);
        let mut rng = Pcg64Mcg::seed_from_u64(4);
        let mut seen = [false; 6];
        for sentence in language.sentences(&mut rng, 2000) {
            let length = sentence.split(' ').count();
            assert!((3..=5).contains(&length), "{sentence}");
            seen[length] = true;
        }
        assert!(seen[3] && seen[4] && seen[5]);
        let fixed =
            LanguageSpec { min_sentence_len: 1, max_sentence_len: 1, vocab_size: 30, classes: 30, ..spec };
        let language = SyntheticLanguage::new(&fixed);
        assert!(language.sentences(&mut rng, 100).iter().all(|s| !s.is_empty() && !s.contains(' ')));
        assert!((language.true_unigram().iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn portable_power_matches_powf() {
        for base in [1.0, 1.5, 2.0, 3.0, 10.0, 123.0, 4000.0, 1e6] {
            for exponent in [0.0, 0.5, 1.0, 1.1, 2.0, 3.7] {
                let expected = f64::powf(base, -exponent);
                let actual = inverse_power(base, exponent);
                assert!(
                    (actual - expected).abs() <= 1e-14 * expected,
                    "{base}^-{exponent}: {actual} vs {expected}"
                );
            }
        }
        assert_eq!(inverse_power(1e300, 5.0), 0.0);
    }
}
