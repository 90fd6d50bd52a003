//! Reference language model of human text: a word-level interpolated Kneser-Ney n-gram model.
//!
//! The model is [`tailwatch_lm::KneserNey`] trained on the lowercased words
//! ([`TokenizerSpec::words`] with lowercasing) of a human reference corpus, one training sentence
//! per reference document (paragraph). Words seen fewer than `min_count` times in the corpus are
//! replaced by `<unk>` before training, so `<unk>` gets a realistic probability and out-of-vocabulary
//! words in scored texts are not all pushed down to the uniform floor. Alongside the n-gram model it
//! keeps an add-one unigram model and the set of adjacent word pairs of the corpus (for the
//! `lm_unigram_logprob`, `lm_context_gain` and `lm_novel_bigram_share` features).
//!
//! Serialisation stores the training documents as text (the kept lowercased words joined by single
//! spaces, `<unk>` for the replaced ones), not the n-gram tables: re-interning the words in order of
//! first occurrence reproduces the training ids and training is deterministic, so a loaded model gives
//! bit-identical probabilities. The JSON grows with the corpus (about 5.5 bytes per word: 0.8 M words
//! make 4.5 MB) and loading retrains (about 0.3 s for 0.8 M words), so keep the corpus modest.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tailwatch_core::{Tokenizer, TokenizerSpec};
use tailwatch_lm::{BOS, EOS, KneserNey, UNK, Vocabulary};

use crate::features::{LM_FEATURES, ratio};
use crate::{DetectError, Result};

/// Largest n-gram order accepted.
pub const MAX_ORDER: usize = 6;

/// How to build a [`ReferenceLm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceLmOptions {
    /// n-gram order (3 = trigram), `1..=MAX_ORDER`.
    pub order: usize,
    /// Words seen fewer times than this in the corpus become `<unk>` (1 keeps every word).
    pub min_count: u32,
}

impl Default for ReferenceLmOptions {
    /// A trigram model with words seen once mapped to `<unk>`.
    fn default() -> Self {
        Self { order: 3, min_count: 2 }
    }
}

/// What a [`ReferenceLm`] serialises to: the options and the training documents as text.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReferenceData {
    order: usize,
    min_count: u32,
    /// Training documents: the lowercased words joined by single spaces, `<unk>` for the words that
    /// were rarer than `min_count`.
    docs: Vec<String>,
}

#[derive(Debug)]
struct Inner {
    order: usize,
    min_count: u32,
    vocabulary: Vocabulary,
    docs: Vec<Vec<u32>>,
    model: KneserNey,
    tokens: usize,
    /// `ln((c(w) + 1) / (tokens + V))` per id: add-one unigram model, `V = vocab_size - 1`.
    unigram_log_probs: Vec<f64>,
    /// Adjacent word pairs `(a << 32) | b` of the training documents.
    bigrams: HashSet<u64>,
}

/// A Kneser-Ney model of human reference text with its vocabulary; cheap to clone (shared).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "ReferenceData", into = "ReferenceData")]
pub struct ReferenceLm {
    inner: Arc<Inner>,
}

impl From<ReferenceLm> for ReferenceData {
    fn from(reference: ReferenceLm) -> Self {
        let inner = &reference.inner;
        let docs = inner
            .docs
            .iter()
            .map(|doc| doc.iter().map(|&id| inner.vocabulary.token(id)).collect::<Vec<_>>().join(" "))
            .collect();
        ReferenceData { order: inner.order, min_count: inner.min_count, docs }
    }
}

impl TryFrom<ReferenceData> for ReferenceLm {
    type Error = DetectError;

    /// Re-interns the words in order of first occurrence, which reproduces the ids of training.
    fn try_from(data: ReferenceData) -> Result<Self> {
        let mut vocabulary = Vocabulary::new();
        let mut docs = Vec::with_capacity(data.docs.len());
        for (d, doc) in data.docs.iter().enumerate() {
            let mut ids = Vec::new();
            for (position, word) in doc.split(' ').enumerate() {
                let id = match word {
                    "<unk>" => UNK,
                    "" | "<s>" | "</s>" => {
                        return Err(DetectError::InvalidModel {
                            field: format!("reference.docs[{d}]"),
                            reason: format!(
                                "word {position} is `{word}` (empty words, <s> and </s> are invalid)"
                            ),
                        });
                    }
                    _ => vocabulary.intern(word),
                };
                ids.push(id);
            }
            docs.push(ids);
        }
        Self::build(data.order, data.min_count, vocabulary, docs)
    }
}

fn check_order(order: usize) -> Result<()> {
    if (1..=MAX_ORDER).contains(&order) {
        Ok(())
    } else {
        Err(DetectError::invalid("reference order", format!("in 1..={MAX_ORDER}"), order))
    }
}

impl ReferenceLm {
    /// Train on human reference documents (one training sentence each; empty ones are skipped).
    ///
    /// Errors when the options are out of range or the corpus has no word.
    pub fn train<S: AsRef<str>>(docs: &[S], options: ReferenceLmOptions) -> Result<Self> {
        check_order(options.order)?;
        let tokenizer =
            Tokenizer::from_spec(&TokenizerSpec::builtin(tailwatch_core::TokenizerKind::Words, true))?;
        let mut tokenized = Vec::with_capacity(docs.len());
        let mut counts: HashMap<String, u32> = HashMap::new();
        for doc in docs {
            let words = tokenizer.tokens(doc.as_ref())?;
            if words.is_empty() {
                continue;
            }
            for word in &words {
                *counts.entry(word.clone()).or_insert(0) += 1;
            }
            tokenized.push(words);
        }
        if tokenized.is_empty() {
            return Err(DetectError::ReferenceCorpus { reason: "the reference corpus has no word".into() });
        }
        // Ids in order of first occurrence among the kept words: deterministic.
        let mut vocabulary = Vocabulary::new();
        let mut docs: Vec<Vec<u32>> = Vec::with_capacity(tokenized.len());
        for doc in &tokenized {
            let mut ids = Vec::with_capacity(doc.len());
            for word in doc {
                let mut id = UNK;
                if counts[word] >= options.min_count {
                    id = vocabulary.intern(word);
                }
                // The special tokens typed as words (impossible with this tokenizer) read as `<unk>`.
                ids.push(if id < 3 { UNK } else { id });
            }
            docs.push(ids);
        }
        Self::build(options.order, options.min_count, vocabulary, docs)
    }

    fn build(order: usize, min_count: u32, vocabulary: Vocabulary, docs: Vec<Vec<u32>>) -> Result<Self> {
        check_order(order)?;
        let vocab_size = vocabulary.len();
        debug_assert!(docs.iter().flatten().all(|&id| id != BOS && id != EOS && (id as usize) < vocab_size));
        let model = KneserNey::train(&docs, vocab_size, order);
        let tokens: usize = docs.iter().map(Vec::len).sum();
        let mut counts = vec![0_u64; vocab_size];
        let mut bigrams = HashSet::new();
        for doc in &docs {
            for &id in doc {
                counts[id as usize] += 1;
            }
            for pair in doc.windows(2) {
                bigrams.insert((u64::from(pair[0]) << 32) | u64::from(pair[1]));
            }
        }
        let denominator = (tokens + vocab_size - 1) as f64;
        let unigram_log_probs = counts.iter().map(|&c| ((c + 1) as f64 / denominator).ln()).collect();
        let inner = Inner { order, min_count, vocabulary, docs, model, tokens, unigram_log_probs, bigrams };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The options it was built with.
    pub fn options(&self) -> ReferenceLmOptions {
        ReferenceLmOptions { order: self.inner.order, min_count: self.inner.min_count }
    }

    /// Vocabulary size, `<unk>`, `<s>` and `</s>` included.
    pub fn vocab_size(&self) -> usize {
        self.inner.vocabulary.len()
    }

    /// Number of training words (`<unk>` included).
    pub fn training_tokens(&self) -> usize {
        self.inner.tokens
    }

    /// The model id of a lowercased word ([`UNK`] when out of vocabulary).
    pub fn token_id(&self, word: &str) -> u32 {
        match self.inner.vocabulary.id(word) {
            id if id < 3 => UNK,
            id => id,
        }
    }

    /// Natural-log probability of every id of `ids` given its predecessors (`<s>`-padded).
    pub fn log_probs(&self, ids: &[u32]) -> Vec<f64> {
        (0..ids.len()).map(|i| self.inner.model.prob(&ids[..i], ids[i]).ln()).collect()
    }

    /// The `lm_*` features of a word-id sequence (see [`super::features`]); all 0 when empty.
    pub fn features(&self, ids: &[u32]) -> [f64; LM_FEATURES.len()] {
        let n = ids.len() as f64;
        let log_probs = self.log_probs(ids);
        let mean = ratio(log_probs.iter().sum(), n);
        let variance = ratio(log_probs.iter().map(|l| (l - mean) * (l - mean)).sum(), n);
        let unknown = ids.iter().filter(|&&id| id == UNK).count() as f64;
        let unigram = ratio(ids.iter().map(|&id| self.inner.unigram_log_probs[id as usize]).sum(), n);
        let pairs = ids.windows(2).filter(|p| p[0] != UNK && p[1] != UNK);
        let (mut total_pairs, mut novel) = (0_usize, 0_usize);
        for pair in pairs {
            total_pairs += 1;
            if !self.inner.bigrams.contains(&((u64::from(pair[0]) << 32) | u64::from(pair[1]))) {
                novel += 1;
            }
        }
        let mut sorted = log_probs.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let low = sorted.get(sorted.len() / 10).copied().unwrap_or(0.0);
        [
            -mean,
            variance.sqrt(),
            ratio(unknown, n),
            unigram,
            mean - unigram,
            ratio(novel as f64, total_pairs as f64),
            low,
        ]
    }

    /// Perplexity of lowercased-word documents under the model (EOS predictions included, as in
    /// [`KneserNey::perplexity`]); NaN when `docs` is empty.
    pub fn perplexity<S: AsRef<str>>(&self, docs: &[S]) -> Result<f64> {
        let tokenizer =
            Tokenizer::from_spec(&TokenizerSpec::builtin(tailwatch_core::TokenizerKind::Words, true))?;
        let mut ids = Vec::with_capacity(docs.len());
        for doc in docs {
            ids.push(tokenizer.tokens(doc.as_ref())?.iter().map(|w| self.token_id(w)).collect());
        }
        Ok(self.inner.model.perplexity(&ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<String> {
        let mut docs = Vec::new();
        for i in 0..50 {
            docs.push(format!("the cat sat on the mat number {}", i % 5));
            docs.push("a dog ran in the park".to_string());
        }
        docs.push("hapax".to_string());
        docs
    }

    #[test]
    fn rare_words_become_unknown_and_in_domain_text_is_likelier() {
        let lm = ReferenceLm::train(&corpus(), ReferenceLmOptions::default()).unwrap();
        assert_eq!(lm.token_id("hapax"), UNK);
        assert_ne!(lm.token_id("cat"), UNK);
        assert_eq!(lm.token_id("<s>"), UNK);
        let seen = lm.features(&[lm.token_id("the"), lm.token_id("cat"), lm.token_id("sat")]);
        let shuffled = lm.features(&[lm.token_id("sat"), lm.token_id("the"), lm.token_id("park")]);
        assert!(seen[0] < shuffled[0], "{seen:?} vs {shuffled:?}");
        assert_eq!(lm.features(&[]), [0.0; 7]);
        let unknown = lm.features(&[UNK, UNK]);
        assert_eq!(unknown[2], 1.0);
        assert!(unknown.iter().all(|v| v.is_finite()));
        assert!(
            lm.perplexity(&["the cat sat on the mat"]).unwrap() < lm.perplexity(&["mat the on"]).unwrap()
        );
    }

    #[test]
    fn json_round_trip_rebuilds_identical_probabilities() {
        let lm = ReferenceLm::train(&corpus(), ReferenceLmOptions { order: 3, min_count: 1 }).unwrap();
        let json = serde_json::to_string(&lm).unwrap();
        assert!(json.contains(r#""the cat sat on the mat number 0""#), "{json}");
        let back: ReferenceLm = serde_json::from_str(&json).unwrap();
        assert_eq!(back.options(), lm.options());
        assert_eq!(back.vocab_size(), lm.vocab_size());
        let ids: Vec<u32> =
            ["the", "dog", "sat", "in", "hapax", "zzz"].iter().map(|w| lm.token_id(w)).collect();
        assert_eq!(lm.log_probs(&ids), back.log_probs(&ids));
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(ReferenceLm::train(&["", "   ", "..."], ReferenceLmOptions::default()).is_err());
        assert!(ReferenceLm::train(&["a b"], ReferenceLmOptions { order: 0, min_count: 1 }).is_err());
        for bad in [
            r#"{"order":3,"min_count":1,"docs":["a  b"]}"#,
            r#"{"order":3,"min_count":1,"docs":[""]}"#,
            r#"{"order":3,"min_count":1,"docs":["a </s>"]}"#,
            r#"{"order":0,"min_count":1,"docs":["a"]}"#,
            r#"{"order":3,"min_count":1,"docs":[[3, 4]]}"#,
        ] {
            assert!(serde_json::from_str::<ReferenceLm>(bad).is_err(), "{bad}");
        }
        let good = r#"{"order":2,"min_count":1,"docs":["a <unk> b","b a"]}"#;
        let lm: ReferenceLm = serde_json::from_str(good).unwrap();
        assert_eq!(lm.vocab_size(), 5);
        assert_eq!(lm.training_tokens(), 5);
    }
}
