//! Model-free stylometric features of one text (feature set `tailwatch-detect-features/1`), O(text).
//!
//! # Tokens
//!
//! *Words* are the tokens of tailwatch's default tokenizer ([`TokenizerSpec::words`]: Unicode UAX #29
//! words, punctuation-only segments dropped, case kept); `N` is their number. Counting features use the
//! lowercased words (Unicode full lowercase): `V` types, type `t` occurring `c_t` times. *Characters*
//! are Unicode scalar values; `C` is the number of non-whitespace characters.
//!
//! # Division by zero
//!
//! Every ratio `a / b` below reads as `0` when `b = 0` (empty text, a single word, no sentence, no
//! repeat, ...), so every feature is finite for every input; [`FeatureExtractor::extract`] of the empty
//! string is the zero vector except for `compression_ratio` (`0 / 8 = 0` as well, since zlib always
//! writes at least 8 bytes).
//!
//! # Features, in order ([`base_feature_names`])
//!
//! | name | formula | source |
//! |---|---|---|
//! | `compression_ratio` | UTF-8 bytes / zlib level-9 bytes (flate2, stock zlib, zlib header) | compression-based detection, e.g. Cilibrasi & Vitányi 2005; "zlib ratio" of GPTZero-style detectors |
//! | `unigram_entropy` | `H1 / log2 N`, `H1 = -Σ_t (c_t/N) log2(c_t/N)` (bits); 0 when `N < 2` | Shannon entropy of the word distribution, normalised to `[0, 1]` |
//! | `bigram_entropy` | `H2 / log2 (N-1)` over the `N-1` adjacent word pairs; 0 when `N < 3` | as above, word bigrams |
//! | `type_token_ratio` | `V / N` | Templin 1957 |
//! | `mattr_50` | mean over the `N-49` windows of 50 consecutive words of (distinct words / 50); `V / N` when `N <= 50` | moving-average TTR, Covington & McFall 2010 |
//! | `hapax_share` | `|{t : c_t = 1}| / V` (hapax legomena per type) | Baayen 2001 |
//! | `sentence_length_cv` | `std / mean` (population std) of sentence lengths; 0 with fewer than 2 sentences | burstiness of sentence length (GPTZero "burstiness") |
//! | `mean_sentence_length` | mean sentence length in words | |
//! | `repeat_gap_cv` | `std / mean` of the gaps `i - j` between each word and its previous occurrence `j` (same lowercased word); 0 with fewer than 2 gaps | burstiness of word recurrences (Church & Gale 1995; Madsen et al. 2005) |
//! | `rep_2`, `rep_3`, `rep_4` | `1 - distinct n-grams / n-grams` over the word n-grams of the text; 0 when `N < n` | rep-n of Welleck et al. 2020 ("Neural text generation with unlikelihood training") |
//! | `mean_word_length` | mean number of characters per word (case kept) | |
//! | `word_length_std` | population std of the number of characters per word | |
//! | `punctuation_share` | characters neither alphanumeric, whitespace nor control (punctuation and symbols) / `C` | |
//! | `capitalised_share` | words whose first character is uppercase / `N` | |
//! | `digit_share` | numeric characters (`char::is_numeric`) / `C` | |
//! | `function_word_share` | occurrences of the 40 [`FUNCTION_WORDS`] / `N` | function-word rate (stylometry) |
//! | `half_overlap` | share of the distinct non-function words of the second half of the text (words `N/2..N`) that also occur in its first half | lexical cohesion / topic drift (Halliday & Hasan 1976); sampled continuations drift or repeat |
//! | `fw_<w>` (40 features) | `count(w) / N` for each lowercased function word `w` of [`FUNCTION_WORDS`] | function-word stylometry, Mosteller & Wallace 1964 |
//!
//! Sentences: the text split at every `.`, `!`, `?` and newline; a sentence's length is its number of
//! whitespace-separated chunks that hold at least one alphanumeric character, and sentences of length
//! 0 are dropped.
//!
//! With a reference language model ([`ReferenceLm`]) seven more features follow ([`LM_FEATURES`]),
//! computed on the lowercased words `w_1..w_N` mapped to the model's vocabulary (out-of-vocabulary
//! words read as `<unk>`), with `ℓ_i = ln P_KN(w_i | w_{i-2} w_{i-1})` under the interpolated
//! Kneser-Ney model (the first words use `<s>` padding, as in training; no end-of-sentence
//! prediction) and `u_i = ln((c(w_i) + 1) / (T + V))` under the add-one unigram model of the same
//! corpus (`T` training words, `V` = vocabulary size − 1):
//!
//! | name | formula | idea |
//! |---|---|---|
//! | `lm_log_perplexity` | `-(1/N) Σ_i ℓ_i` (nats) | likelihood / perplexity detectors (Gehrmann et al. 2019, GLTR; Mitchell et al. 2023 baselines) |
//! | `lm_logprob_std` | population std of the `ℓ_i` | spread of surprise ("burstiness" in GPTZero's sense) |
//! | `lm_unk_share` | words mapped to `<unk>` / `N` | rare-word usage |
//! | `lm_unigram_logprob` | `(1/N) Σ_i u_i` | word rarity without context |
//! | `lm_context_gain` | `(1/N) Σ_i (ℓ_i - u_i)` | how predictable words are from their context beyond their frequency |
//! | `lm_novel_bigram_share` | adjacent word pairs (neither `<unk>`) never seen in the reference corpus / such pairs | n-gram novelty |
//! | `lm_logprob_p10` | `ℓ_(⌊N/10⌋ + 1)`, the 10th-percentile (nearest rank, ascending) of the `ℓ_i` | the most surprising words |
//!
//! The feature vector of an extractor with a reference model always has these features and one
//! without never has them, so training and scoring (which use the same extractor, stored in the
//! [`DetectorModel`](super::DetectorModel)) always agree.
use std::collections::HashMap;
use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use rayon::prelude::*;
use tailwatch_core::{Tokenizer, TokenizerSpec};

use crate::reference::ReferenceLm;
use crate::{DetectError, Result};

/// Version tag of the feature definitions in this module; stored in every model.
pub const FEATURE_SET_VERSION: &str = "tailwatch-detect-features/1";

/// Window of the moving-average type-token ratio (`mattr_50`).
pub const MATTR_WINDOW: usize = 50;

/// The 40 function words of the `fw_*` features: the 40 most frequent words of wordfreq 3.1.1's
/// `small_en` list (Speer et al., `wordfreq`; `/shared/data/wordfreq-en/small_en.tsv`) after dropping
/// the digit placeholders `00` and `0000`, in that frequency order.
pub const FUNCTION_WORDS: [&str; 40] = [
    "the", "to", "and", "of", "a", "in", "i", "is", "for", "that", "you", "it", "on", "with", "this", "was",
    "be", "as", "are", "have", "at", "he", "not", "by", "but", "from", "my", "or", "we", "an", "your", "all",
    "so", "his", "they", "me", "if", "one", "can", "will",
];

/// Names of the model-free features, in vector order (see the module documentation).
const TEXT_FEATURES: [&str; 19] = [
    "compression_ratio",
    "unigram_entropy",
    "bigram_entropy",
    "type_token_ratio",
    "mattr_50",
    "hapax_share",
    "sentence_length_cv",
    "mean_sentence_length",
    "repeat_gap_cv",
    "rep_2",
    "rep_3",
    "rep_4",
    "mean_word_length",
    "word_length_std",
    "punctuation_share",
    "capitalised_share",
    "digit_share",
    "function_word_share",
    "half_overlap",
];

/// Names of the reference-model features, appended when a [`ReferenceLm`] is used.
pub const LM_FEATURES: [&str; 7] = [
    "lm_log_perplexity",
    "lm_logprob_std",
    "lm_unk_share",
    "lm_unigram_logprob",
    "lm_context_gain",
    "lm_novel_bigram_share",
    "lm_logprob_p10",
];

/// Names of the features that need no reference model, in vector order.
pub fn base_feature_names() -> Vec<String> {
    TEXT_FEATURES
        .iter()
        .map(|name| (*name).to_owned())
        .chain(FUNCTION_WORDS.iter().map(|word| format!("fw_{word}")))
        .collect()
}

/// Computes the feature vector of a text; with a [`ReferenceLm`] the three `lm_*` features are added.
#[derive(Debug, Clone)]
pub struct FeatureExtractor {
    tokenizer: Tokenizer,
    function_words: HashMap<&'static str, usize>,
    reference: Option<ReferenceLm>,
}

impl FeatureExtractor {
    /// An extractor of the model-free features, plus the `lm_*` features when `reference` is given.
    pub fn new(reference: Option<ReferenceLm>) -> Result<Self> {
        let tokenizer = Tokenizer::from_spec(&TokenizerSpec::words())?;
        let function_words = FUNCTION_WORDS.iter().enumerate().map(|(i, word)| (*word, i)).collect();
        Ok(Self { tokenizer, function_words, reference })
    }

    /// The reference model, if any.
    pub fn reference(&self) -> Option<&ReferenceLm> {
        self.reference.as_ref()
    }

    /// Number of features this extractor produces.
    pub fn len(&self) -> usize {
        TEXT_FEATURES.len()
            + FUNCTION_WORDS.len()
            + if self.reference.is_some() { LM_FEATURES.len() } else { 0 }
    }

    /// Always false: there is at least one feature.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The feature names, in vector order.
    pub fn names(&self) -> Vec<String> {
        let mut names = base_feature_names();
        if self.reference.is_some() {
            names.extend(LM_FEATURES.iter().map(|name| (*name).to_owned()));
        }
        names
    }

    /// The feature vector of `text` (length [`FeatureExtractor::len`]); every entry is finite.
    pub fn extract(&self, text: &str) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(self.len());
        let words = self.tokenizer.tokens(text)?;
        let lowered: Vec<String> = words.iter().map(|word| word.to_lowercase()).collect();

        // Dense per-document ids of the lowercased words, in order of first occurrence.
        let mut index: HashMap<&str, u32> = HashMap::with_capacity(lowered.len());
        let mut types: Vec<&str> = Vec::new();
        let ids: Vec<u32> = lowered
            .iter()
            .map(|word| {
                *index.entry(word.as_str()).or_insert_with(|| {
                    types.push(word.as_str());
                    (types.len() - 1) as u32
                })
            })
            .collect();
        let n = ids.len();
        let v = types.len();
        let mut counts = vec![0_u32; v];
        for &id in &ids {
            counts[id as usize] += 1;
        }

        out.push(compression_ratio(text));
        out.push(normalised_entropy(counts.iter().map(|&c| u64::from(c)), n));
        let mut bigrams: Vec<u64> =
            ids.windows(2).map(|pair| (u64::from(pair[0]) << 32) | u64::from(pair[1])).collect();
        bigrams.sort_unstable();
        out.push(normalised_entropy(run_lengths(&bigrams), bigrams.len()));
        out.push(ratio(v as f64, n as f64));
        out.push(mattr(&ids, v, MATTR_WINDOW));
        out.push(ratio(counts.iter().filter(|&&c| c == 1).count() as f64, v as f64));
        let sentences = sentence_lengths(text);
        out.push(coefficient_of_variation(&sentences));
        out.push(mean(&sentences));
        out.push(coefficient_of_variation(&repeat_gaps(&ids, v)));
        for order in 2..=4 {
            out.push(repetition(&ids, order));
        }
        let word_chars: usize = words.iter().map(|word| word.chars().count()).sum();
        let mean_length = ratio(word_chars as f64, n as f64);
        out.push(mean_length);
        let squares: f64 = words.iter().map(|word| (word.chars().count() as f64 - mean_length).powi(2)).sum();
        out.push(ratio(squares, n as f64).sqrt());
        let (mut non_space, mut punctuation, mut digits) = (0_usize, 0_usize, 0_usize);
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            non_space += 1;
            if c.is_numeric() {
                digits += 1;
            } else if !c.is_alphanumeric() && !c.is_control() {
                punctuation += 1;
            }
        }
        out.push(ratio(punctuation as f64, non_space as f64));
        let capitalised =
            words.iter().filter(|word| word.chars().next().is_some_and(char::is_uppercase)).count();
        out.push(ratio(capitalised as f64, n as f64));
        out.push(ratio(digits as f64, non_space as f64));

        let mut function_counts = [0_u32; FUNCTION_WORDS.len()];
        let mut is_function = vec![false; v];
        for ((word, &count), function) in types.iter().zip(&counts).zip(&mut is_function) {
            if let Some(&slot) = self.function_words.get(word) {
                function_counts[slot] += count;
                *function = true;
            }
        }
        out.push(ratio(f64::from(function_counts.iter().sum::<u32>()), n as f64));
        out.push(half_overlap(&ids, &is_function));
        out.extend(function_counts.iter().map(|&count| ratio(f64::from(count), n as f64)));

        if let Some(reference) = &self.reference {
            let type_ids: Vec<u32> = types.iter().map(|word| reference.token_id(word)).collect();
            let lm_ids: Vec<u32> = ids.iter().map(|&id| type_ids[id as usize]).collect();
            out.extend(reference.features(&lm_ids));
        }
        debug_assert_eq!(out.len(), self.len());
        if let Some((i, value)) = out.iter().enumerate().find(|(_, value)| !value.is_finite()) {
            // Unreachable by construction; reported instead of poisoning a model.
            return Err(DetectError::InvalidModel {
                field: format!("feature `{}`", self.names()[i]),
                reason: format!("non-finite value {value}"),
            });
        }
        Ok(out)
    }

    /// Feature vectors of many texts, computed in parallel (rayon), in input order.
    pub fn extract_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<f64>>> {
        texts.par_iter().map(|text| self.extract(text.as_ref())).collect()
    }
}

/// `a / b`, or 0 when `b` is 0.
pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

fn mean(values: &[f64]) -> f64 {
    ratio(values.iter().sum(), values.len() as f64)
}

/// Population standard deviation over mean; 0 with fewer than 2 values or a zero mean.
fn coefficient_of_variation(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    let variance = values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / values.len() as f64;
    ratio(variance.sqrt(), m)
}

fn compression_ratio(text: &str) -> f64 {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(text.len() / 2 + 64), Compression::best());
    // Writing to a Vec cannot fail.
    let compressed = encoder.write_all(text.as_bytes()).and_then(|()| encoder.finish()).map(|v| v.len());
    match compressed {
        Ok(len) => ratio(text.len() as f64, len as f64),
        Err(_) => 0.0,
    }
}

/// `H / log2(total)` in bits for the given counts summing to `total`; 0 when `total < 2`.
fn normalised_entropy(counts: impl Iterator<Item = u64>, total: usize) -> f64 {
    if total < 2 {
        return 0.0;
    }
    let total_f = total as f64;
    let sum_c_log_c: f64 = counts.filter(|&c| c > 1).map(|c| c as f64 * (c as f64).log2()).sum();
    let entropy = total_f.log2() - sum_c_log_c / total_f;
    (entropy / total_f.log2()).clamp(0.0, 1.0)
}

/// Lengths of the runs of equal values of a sorted slice.
fn run_lengths(sorted: &[u64]) -> impl Iterator<Item = u64> + '_ {
    sorted.chunk_by(|a, b| a == b).map(|run| run.len() as u64)
}

fn mattr(ids: &[u32], types: usize, window: usize) -> f64 {
    let n = ids.len();
    if n <= window {
        return ratio(types as f64, n as f64);
    }
    let mut counts = vec![0_u32; types];
    let mut distinct = 0_usize;
    for &id in &ids[..window] {
        counts[id as usize] += 1;
        if counts[id as usize] == 1 {
            distinct += 1;
        }
    }
    let mut total = distinct;
    for i in window..n {
        let (incoming, outgoing) = (ids[i] as usize, ids[i - window] as usize);
        counts[outgoing] -= 1;
        if counts[outgoing] == 0 {
            distinct -= 1;
        }
        counts[incoming] += 1;
        if counts[incoming] == 1 {
            distinct += 1;
        }
        total += distinct;
    }
    total as f64 / ((n - window + 1) * window) as f64
}

/// Share of the distinct non-function words of the second half (`ids[N/2..]`) that also occur in
/// the first half (`ids[..N/2]`).
fn half_overlap(ids: &[u32], is_function: &[bool]) -> f64 {
    let half = ids.len() / 2;
    let mut in_first = vec![false; is_function.len()];
    for &id in &ids[..half] {
        in_first[id as usize] = true;
    }
    let mut counted = vec![false; is_function.len()];
    let (mut distinct, mut shared) = (0_usize, 0_usize);
    for &id in &ids[half..] {
        let id = id as usize;
        if is_function[id] || std::mem::replace(&mut counted[id], true) {
            continue;
        }
        distinct += 1;
        if in_first[id] {
            shared += 1;
        }
    }
    ratio(shared as f64, distinct as f64)
}

fn sentence_lengths(text: &str) -> Vec<f64> {
    text.split(['.', '!', '?', '\n'])
        .map(|sentence| {
            sentence.split_whitespace().filter(|chunk| chunk.chars().any(char::is_alphanumeric)).count()
        })
        .filter(|&len| len > 0)
        .map(|len| len as f64)
        .collect()
}

fn repeat_gaps(ids: &[u32], types: usize) -> Vec<f64> {
    let mut last = vec![usize::MAX; types];
    let mut gaps = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        let previous = std::mem::replace(&mut last[id as usize], i);
        if previous != usize::MAX {
            gaps.push((i - previous) as f64);
        }
    }
    gaps
}

/// rep-n: `1 - distinct n-grams / n-grams`; 0 when there is no n-gram.
fn repetition(ids: &[u32], order: usize) -> f64 {
    if ids.len() < order {
        return 0.0;
    }
    let mut grams: Vec<u128> = ids
        .windows(order)
        .map(|gram| gram.iter().fold(0_u128, |key, &id| (key << 32) | u128::from(id)))
        .collect();
    let total = grams.len();
    grams.sort_unstable();
    grams.dedup();
    1.0 - grams.len() as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract(text: &str) -> Vec<f64> {
        FeatureExtractor::new(None).unwrap().extract(text).unwrap()
    }

    fn feature(text: &str, name: &str) -> f64 {
        let names = base_feature_names();
        let position = names.iter().position(|n| n == name).unwrap();
        extract(text)[position]
    }

    #[test]
    fn names_are_unique_and_match_the_vector() {
        let extractor = FeatureExtractor::new(None).unwrap();
        let names = extractor.names();
        assert_eq!(names.len(), extractor.len());
        assert_eq!(names.len(), 59);
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert_eq!(extract("Hello there.").len(), names.len());
    }

    #[test]
    fn degenerate_inputs_are_finite_and_defined() {
        for text in ["", " ", "word", "...", "\n\n\n", "!!! ???", "a a a a", "ünïcödé 日本語 🎉"] {
            let values = extract(text);
            assert!(values.iter().all(|v| v.is_finite()), "{text:?}: {values:?}");
        }
        let empty = extract("");
        assert_eq!(empty[0], 0.0, "compression ratio of the empty text is 0 / 8");
        assert!(empty[1..].iter().all(|&v| v == 0.0), "{empty:?}");
        // One word: TTR 1, hapax share 1, entropies 0, no sentence burstiness.
        assert_eq!(feature("word", "type_token_ratio"), 1.0);
        assert_eq!(feature("word", "hapax_share"), 1.0);
        assert_eq!(feature("word", "unigram_entropy"), 0.0);
        assert_eq!(feature("word", "sentence_length_cv"), 0.0);
        assert_eq!(feature("word", "mean_sentence_length"), 1.0);
    }

    #[test]
    fn hand_computed_counts() {
        // Words: The cat saw the dog The end (N = 7); types the x3, cat, saw, dog, end (V = 5).
        let text = "The cat saw the dog. The end!";
        assert!((feature(text, "type_token_ratio") - 5.0 / 7.0).abs() < 1e-12);
        assert!((feature(text, "hapax_share") - 4.0 / 5.0).abs() < 1e-12);
        assert!((feature(text, "capitalised_share") - 2.0 / 7.0).abs() < 1e-12);
        assert!((feature(text, "fw_the") - 3.0 / 7.0).abs() < 1e-12);
        assert!((feature(text, "mean_word_length") - 21.0 / 7.0).abs() < 1e-12);
        // Sentences 5 and 2 words: mean 3.5, std 1.5.
        assert!((feature(text, "mean_sentence_length") - 3.5).abs() < 1e-12);
        assert!((feature(text, "sentence_length_cv") - 1.5 / 3.5).abs() < 1e-12);
        // "the" at 0, 3, 5: gaps 3 and 2, mean 2.5, std 0.5.
        assert!((feature(text, "repeat_gap_cv") - 0.5 / 2.5).abs() < 1e-12);
        // 23 non-space chars, 2 punctuation marks, no digits.
        assert!((feature(text, "punctuation_share") - 2.0 / 23.0).abs() < 1e-12);
        assert_eq!(feature(text, "digit_share"), 0.0);
        // Unigram entropy: counts 3,1,1,1,1 of 7.
        let h = 7f64.log2() - 3.0 * 3f64.log2() / 7.0;
        assert!((feature(text, "unigram_entropy") - h / 7f64.log2()).abs() < 1e-12);
        // Six distinct bigrams of six: maximal entropy.
        assert!((feature(text, "bigram_entropy") - 1.0).abs() < 1e-12);
        assert_eq!(feature(text, "rep_2"), 0.0);
        assert_eq!(feature(text, "word_length_std"), 0.0);
        assert!((feature(text, "function_word_share") - 3.0 / 7.0).abs() < 1e-12);
        // First half: The cat saw; second half: the dog the end -> content words dog, end, unseen.
        assert_eq!(feature(text, "half_overlap"), 0.0);
        assert_eq!(feature("alpha beta alpha beta", "half_overlap"), 1.0);
        assert_eq!(feature("alpha beta gamma alpha", "half_overlap"), 0.5);
        // Lengths 1 and 3: std 1.
        assert_eq!(feature("a bcd", "word_length_std"), 1.0);
    }

    #[test]
    fn repetition_and_mattr() {
        // a b a b a b: bigrams ab ba ab ba ab -> 2 distinct of 5.
        let text = "a b a b a b";
        assert!((feature(text, "rep_2") - (1.0 - 2.0 / 5.0)).abs() < 1e-12);
        assert!((feature(text, "rep_3") - (1.0 - 2.0 / 4.0)).abs() < 1e-12);
        assert!((feature(text, "rep_4") - (1.0 - 2.0 / 3.0)).abs() < 1e-12);
        assert_eq!(feature("a b c", "rep_4"), 0.0);
        // 100 distinct words: MATTR 1; a 2-word cycle: every window holds 2 types.
        let distinct: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        assert!((feature(&distinct.join(" "), "mattr_50") - 1.0).abs() < 1e-12);
        let cycle = vec!["x y"; 60].join(" ");
        assert!((feature(&cycle, "mattr_50") - 2.0 / 50.0).abs() < 1e-12);
        assert_eq!(mattr(&[0, 1, 0], 2, 50), 2.0 / 3.0);
    }

    #[test]
    fn compression_is_higher_for_repetitive_text() {
        let repetitive = "the same line again. ".repeat(40);
        let varied: String = (0..200).map(|i| format!("w{} ", i * 7919 % 10007)).collect();
        assert!(
            feature(&repetitive, "compression_ratio") > 5.0 * feature(&varied, "compression_ratio") / 2.0
        );
    }

    #[test]
    fn batch_matches_single() {
        let extractor = FeatureExtractor::new(None).unwrap();
        let texts = ["One text here.", "", "Another, with digits 123."];
        let batch = extractor.extract_batch(&texts).unwrap();
        for (text, row) in texts.iter().zip(&batch) {
            assert_eq!(&extractor.extract(text).unwrap(), row);
        }
    }
}
