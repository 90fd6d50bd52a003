//! The text [`Profile`]: the mergeable state one streaming pass over a corpus leaves, built by a
//! [`ProfileBuilder`] and stored as a `.twp` file ([`wire`]).
//!
//! Three parts, as tantivy keeps a writer, a serializer and a reader apart: the builder holds
//! the scratch buffers of the document being observed; the profile holds only what merges
//! (counts, tables, sketches, the sample); `wire` is the file format.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tailwatch_core::{DocHash, TokenizerKind, TokenizerSpec};

use crate::accumulator::{Accumulator, ProfileKind};
use crate::distinct_estimate::DistinctRegisters;
use crate::grouped::{GroupSample, Grouping};
use crate::ngram_table::{MAX_ORDER, NgramTable};
use crate::phrases::PhraseCounts;
use crate::sample::{BottomK, SampleSize};
use crate::score_columns::ScoreColumn;
use crate::token_counts::TokenCounts;
use crate::{Error, Result};

mod builder;
pub mod wire;

pub use builder::ProfileBuilder;
pub use wire::{PROFILE_FORMAT_OLDEST, PROFILE_FORMAT_VERSION, PROFILE_MAGIC};

/// Empty n-gram tables for orders 2..=MAX_ORDER: keys only below the highest order (distinct
/// counts are all the metrics read of them), counts and document frequencies at the highest
/// (self-repetition reads them).
fn empty_ngram_tables() -> [NgramTable; MAX_ORDER - 1] {
    std::array::from_fn(|i| if i + 2 < MAX_ORDER { NgramTable::keys_only() } else { NgramTable::default() })
}

type DocMap = hashbrown::HashMap<DocHash, u64, foldhash::fast::FixedState>;

/// Settings fixed for the life of a profile; profiles merge only when these agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileConfig {
    /// How documents were tokenized.
    pub tokenizer: TokenizerSpec,
    /// Size of the bottom-k document sample.
    pub sample: SampleSize,
    /// Seed of the sample's content hash.
    pub seed: u64,
    /// For `items`: how many leading items of each list count as exposed (top-k).
    pub items_k: u32,
    /// Whether the sample keeps its documents' text (else their token hashes only, and
    /// `compression_ratio` cannot be computed). The one setting profiles may differ in when they
    /// merge: the union keeps text only when both did.
    #[serde(default)]
    pub keep_text: bool,
    /// How answers are grouped by prompt, if they are ([`crate::grouped`]). Not in the body's
    /// configuration: a `.twp` file holds it with its groups.
    #[serde(skip)]
    pub grouping: Option<Grouping>,
    /// Per-record numeric fields whose statistics the profile keeps ([`ScoreColumn`]); the
    /// first one also scores the answers of groups (`utility_at_k`). Not in the body's
    /// configuration: a `.twp` file holds them with their columns.
    #[serde(skip)]
    pub score_fields: Vec<String>,
}

impl ProfileConfig {
    /// Defaults: sample 1000, seed 0, top-10 exposure, no text kept.
    pub fn new(tokenizer: TokenizerSpec) -> Self {
        Self {
            tokenizer,
            sample: SampleSize::Docs(1000),
            seed: 0,
            items_k: 10,
            keep_text: false,
            grouping: None,
            score_fields: Vec::new(),
        }
    }
}

/// Counts of one token type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenStat {
    /// Stable hash of the token string.
    pub hash: u64,
    /// Occurrences.
    pub count: u64,
    /// Documents containing it.
    pub docs: u64,
    /// Occurrences within the first `items_k` positions of a document (items tokenizer only).
    pub exposure: u64,
}

/// Which parts of a profile are kept. A full profile keeps them all and is what `.twp` files
/// hold; a partial one, for a run that asks for a few metrics, skips the work of the others
/// (it cannot be saved, and merges only with profiles of the same parts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileParts {
    /// Token types and n-gram tables (distinct-n, entropy, Zipf, HD-D, rep-n, the reference
    /// metrics, recommendation lists, self-repetition).
    pub tokens: bool,
    /// Exact-duplicate counts and the document-length histogram (duplicate rate, top output
    /// share, PSI and Wasserstein of lengths).
    pub documents: bool,
    /// The bottom-k document sample (self-BLEU, MTLD, compression ratio, self-repetition).
    pub sample: bool,
}

impl ProfileParts {
    /// Every part.
    pub const ALL: Self = Self { tokens: true, documents: true, sample: true };
}

impl Default for ProfileParts {
    fn default() -> Self {
        Self::ALL
    }
}

/// Everything the metrics need from one pass over a corpus: document, token and byte counts,
/// token types with their counts and document frequencies, n-gram tables of orders 2..=4
/// (exact, or HyperLogLog sketches past a memory budget), per-document distinct n-gram sums,
/// exact-duplicate counts, a document-length histogram and a bottom-k sample of documents.
/// Merging two profiles gives the profile of both corpora; [`ProfileBuilder`] builds one.
#[derive(Debug, Clone)]
pub struct Profile {
    pub(crate) config: ProfileConfig,
    pub(crate) parts: ProfileParts,
    pub(crate) n_docs: u64,
    pub(crate) n_tokens: u64,
    pub(crate) n_bytes: u64,
    /// Token types (identified by their stable 64-bit hash) with their counts.
    pub(crate) vocab: TokenCounts,
    pub(crate) ngrams: [NgramTable; MAX_ORDER - 1],
    pub(crate) totals: [u64; MAX_ORDER],
    pub(crate) unique_in_docs: [u64; MAX_ORDER],
    pub(crate) doc_counts: DocMap,
    pub(crate) doc_lengths: BTreeMap<u64, u64>,
    pub(crate) sample: BottomK,
    /// The sampled groups of answers, when the answers are grouped.
    pub(crate) groups: Option<GroupSample>,
    /// One column per score field of the configuration, in its order.
    pub(crate) scores: Vec<ScoreColumn>,
    /// Refusals and disclaimers among the documents (the document part), by the standard
    /// phrase bank; `None` when unknown (a profile written before they were counted, or merged
    /// with one, or counted with another version of the bank).
    pub(crate) phrases: Option<PhraseCounts>,
}

impl Profile {
    /// An empty profile (the identity of [`Profile::merge`]).
    pub fn new(config: ProfileConfig) -> Self {
        Self::with_parts(config, ProfileParts::ALL)
    }

    /// An empty profile keeping only `parts`.
    pub fn with_parts(config: ProfileConfig, parts: ProfileParts) -> Self {
        let sample = BottomK::new(config.sample);
        let groups = config.grouping.clone().map(|g| GroupSample::new(g, config.seed));
        let scores = vec![ScoreColumn::new(); config.score_fields.len()];
        Self {
            config,
            parts,
            n_docs: 0,
            n_tokens: 0,
            n_bytes: 0,
            vocab: TokenCounts::default(),
            ngrams: empty_ngram_tables(),
            totals: [0; MAX_ORDER],
            unique_in_docs: [0; MAX_ORDER],
            doc_counts: DocMap::default(),
            doc_lengths: BTreeMap::new(),
            sample,
            groups,
            scores,
            phrases: parts.documents.then(PhraseCounts::default),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ProfileConfig {
        &self.config
    }
    /// The parts it keeps.
    pub fn parts(&self) -> ProfileParts {
        self.parts
    }
    /// Its kind: a profile of lists of item ids (the `items` tokenizer), or of text.
    pub fn kind(&self) -> ProfileKind {
        if self.config.tokenizer.kind == TokenizerKind::Items {
            ProfileKind::Items
        } else {
            ProfileKind::Text
        }
    }
    /// Documents seen.
    pub fn n_docs(&self) -> u64 {
        self.n_docs
    }
    /// Tokens seen.
    pub fn n_tokens(&self) -> u64 {
        self.n_tokens
    }
    /// Bytes of document text seen.
    pub fn n_bytes(&self) -> u64 {
        self.n_bytes
    }
    /// Whether distinct n-gram counts for n ≥ 2 are sketched (approximate).
    pub fn is_sketched(&self) -> bool {
        self.ngrams.iter().any(|t| !t.is_exact())
    }
    /// Every token type with its counts.
    pub fn token_stats(&self) -> impl Iterator<Item = (&str, TokenStat)> {
        self.vocab.iter()
    }
    /// Counts of one token type.
    pub fn token(&self, token: &str) -> Option<TokenStat> {
        self.vocab.get(token)
    }
    /// The text of the token type whose stable hash is `hash`, if the profile saw it.
    pub fn token_text(&self, hash: u64) -> Option<&str> {
        self.vocab.text_of_hash(hash)
    }
    /// Number of token types.
    pub fn n_types(&self) -> usize {
        self.vocab.len()
    }
    /// The n-gram table of order `n` (2..=4); exact tables are readable once sealed.
    pub fn ngram_table(&self, n: usize) -> &NgramTable {
        &self.ngrams[n - 2]
    }
    /// Total n-grams of order `n` (1..=4), counted inside documents.
    pub fn ngram_total(&self, n: usize) -> u64 {
        self.totals[n - 1]
    }
    /// Σ over documents of the distinct n-grams of order `n` within the document.
    pub fn unique_in_docs(&self, n: usize) -> u64 {
        self.unique_in_docs[n - 1]
    }
    /// How many times each distinct document text occurs.
    pub fn doc_multiplicities(&self) -> impl Iterator<Item = u64> + '_ {
        self.doc_counts.values().copied()
    }
    /// How many of this profile's documents (copies counted) also occur, exactly, in `other`.
    pub fn shared_documents(&self, other: &Profile) -> u64 {
        self.doc_counts.iter().filter(|(h, _)| other.doc_counts.contains_key(*h)).map(|(_, c)| *c).sum()
    }
    /// Histogram of document lengths in tokens.
    pub fn doc_lengths(&self) -> &BTreeMap<u64, u64> {
        &self.doc_lengths
    }
    /// The bottom-k document sample.
    pub fn sample(&self) -> &BottomK {
        &self.sample
    }
    /// The sampled groups of answers, when the profile groups them.
    pub fn groups(&self) -> Option<&GroupSample> {
        self.groups.as_ref()
    }
    /// Refusals and disclaimers among the documents, when counted with this build's phrase bank.
    pub fn phrase_counts(&self) -> Option<&PhraseCounts> {
        self.phrases.as_ref()
    }
    /// The score columns, with their fields' names, in the configuration's order.
    pub fn score_columns(&self) -> impl Iterator<Item = (&str, &ScoreColumn)> {
        self.config.score_fields.iter().map(String::as_str).zip(&self.scores)
    }
    /// The score columns, to add values to (what [`ProfileBuilder::observe_scored`] does).
    pub(crate) fn score_columns_mut(&mut self) -> &mut [ScoreColumn] {
        &mut self.scores
    }
    /// Move the sampled groups out, leaving an empty sample of the same grouping: a worker's
    /// groups pooled with other workers' (and given back by [`Profile::merge_groups`]) to keep
    /// a run's memory bounded. `None` when the profile does not group answers.
    pub fn take_groups(&mut self) -> Option<GroupSample> {
        let empty = self.groups.as_ref().map(|g| GroupSample::new(g.grouping().clone(), self.config.seed));
        std::mem::replace(&mut self.groups, empty)
    }

    /// Merge a sample of groups of this profile's grouping (taken from a profile of the same
    /// run by [`Profile::take_groups`]) into its own.
    pub fn merge_groups(&mut self, groups: GroupSample) -> Result<()> {
        match &mut self.groups {
            Some(mine) => mine.merge(groups),
            None => Err(crate::Error::Incompatible {
                what: "groups of answers merged into a profile that groups none".into(),
            }),
        }
    }

    /// The sampled groups, to add answers to (what [`ProfileBuilder::observe_group`] does).
    pub(crate) fn groups_mut(&mut self) -> Option<&mut GroupSample> {
        self.groups.as_mut()
    }

    /// Make the n-gram tables readable: sort and merge what the builder buffered.
    ///
    /// Metrics, [`Profile::to_bytes`] and the n-gram accessors need a sealed profile;
    /// [`ProfileBuilder::finish`], [`Profile::merge`] and [`Profile::from_bytes`] return sealed
    /// profiles.
    pub fn seal(&mut self) {
        for table in self.ngrams.iter_mut() {
            table.compact();
        }
        if let Some(groups) = &mut self.groups {
            groups.seal();
        }
    }

    /// [`Profile::seal`], by value.
    pub fn sealed(mut self) -> Self {
        self.seal();
        self
    }

    /// Approximate heap bytes held.
    pub fn memory_bytes(&self) -> usize {
        let vocab = self.vocab.memory_bytes();
        let ngrams: usize = self.ngrams.iter().map(NgramTable::memory_bytes).sum();
        let docs = self.doc_counts.capacity() * (std::mem::size_of::<(DocHash, u64)>() + 1);
        vocab
            + ngrams
            + docs
            + self.sample.memory_bytes()
            + self.groups.as_ref().map_or(0, GroupSample::memory_bytes)
    }

    /// Bytes of the exact n-gram tables' distinct entries (0 once sketched): a function of the
    /// corpus alone, whatever the order of the documents and the number of workers that
    /// profiled it, so a memory budget decided on it gives the same profile for any thread
    /// count. Needs a sealed profile.
    pub fn exact_ngram_bytes(&self) -> usize {
        self.ngrams.iter().map(NgramTable::exact_bytes).sum()
    }

    /// An upper bound of [`Profile::exact_ngram_bytes`] that needs no sealing (buffered
    /// n-grams count as distinct).
    pub fn exact_ngram_bytes_bound(&self) -> usize {
        self.ngrams.iter().map(NgramTable::exact_bytes_bound).sum()
    }

    /// Keep registers of the distinct n-grams of the exact tables from now on, starting with
    /// those already seen, for an [`ExactNgramEstimate`] of a union of profiles.
    pub fn track_distinct_ngrams(&mut self) {
        for table in self.ngrams.iter_mut() {
            table.track_distinct();
        }
    }

    /// Switch the n-gram tables (n ≥ 2) to HLL sketches; distinct_2..4 become approximate.
    pub fn sketch_ngrams(&mut self) {
        for table in self.ngrams.iter_mut() {
            *table = std::mem::take(table).into_sketch();
        }
    }

    /// Merge `other` into `self`: the result is the profile of both corpora together.
    pub fn merge(&mut self, other: Profile) -> Result<()> {
        let (a, b) = (&self.config, &other.config);
        if !a.tokenizer.same_tokens_as(&b.tokenizer) {
            return Err(Error::Incompatible {
                what: format!("tokenizer `{}` vs `{}`", a.tokenizer.name(), b.tokenizer.name()),
            });
        }
        if a.sample != b.sample || a.seed != b.seed {
            return Err(Error::Incompatible {
                what: format!("sample {} seed {} vs sample {} seed {}", a.sample, a.seed, b.sample, b.seed),
            });
        }
        if a.items_k != b.items_k {
            return Err(Error::Incompatible { what: format!("items top-k {} vs {}", a.items_k, b.items_k) });
        }
        if self.parts != other.parts {
            return Err(Error::Incompatible {
                what: format!("kept parts {:?} vs {:?}", self.parts, other.parts),
            });
        }
        if a.score_fields != b.score_fields && self.n_docs > 0 && other.n_docs > 0 {
            return Err(Error::Incompatible {
                what: format!(
                    "score fields [{}] vs [{}]",
                    a.score_fields.join(", "),
                    b.score_fields.join(", ")
                ),
            });
        }
        let adopt_scores = a.score_fields != b.score_fields && self.n_docs == 0;
        // an empty profile merges with any: it is the identity
        let adopt_grouping = match (&a.grouping, &b.grouping) {
            (x, y) if x == y => false,
            (Some(_), None) if other.n_docs == 0 => false,
            (None, Some(_)) if self.n_docs == 0 => true,
            (Some(x), Some(y)) if x.by == y.by => {
                return Err(Error::Incompatible {
                    what: format!("group samples of {} vs {} groups", x.groups, y.groups),
                });
            }
            (x, y) => {
                let name = |g: &Option<Grouping>| {
                    g.as_ref().map_or("not grouped".to_string(), |g| format!("grouped by {}", g.by))
                };
                return Err(Error::Incompatible { what: format!("answers {} vs {}", name(x), name(y)) });
            }
        };
        // merged before anything changes: columns refuse counts past 64 bits
        let mut merged_scores = self.scores.clone();
        if adopt_scores {
            merged_scores.clone_from(&other.scores);
        } else if a.score_fields == b.score_fields {
            for (mine, theirs) in merged_scores.iter_mut().zip(&other.scores) {
                mine.merge(theirs).map_err(|e| Error::Incompatible { what: e.to_string() })?;
            }
        }
        // every other count is at most one of these, so checking them checks all
        let overflow = || Error::Incompatible { what: "their counts together overflow 64 bits".into() };
        let add = |a: u64, b: u64| a.checked_add(b).ok_or_else(overflow);
        let (n_docs, n_tokens, n_bytes) = (
            add(self.n_docs, other.n_docs)?,
            add(self.n_tokens, other.n_tokens)?,
            add(self.n_bytes, other.n_bytes)?,
        );
        let mut totals = self.totals;
        let mut unique = self.unique_in_docs;
        for n in 0..MAX_ORDER {
            totals[n] = add(totals[n], other.totals[n])?;
            unique[n] = add(unique[n], other.unique_in_docs[n])?;
        }
        (self.n_docs, self.n_tokens, self.n_bytes) = (n_docs, n_tokens, n_bytes);
        (self.totals, self.unique_in_docs) = (totals, unique);
        // the n-gram tables merge on all threads; the rest merges beside them
        let keep_text = other.config.keep_text;
        let Profile {
            vocab,
            ngrams,
            doc_counts,
            doc_lengths,
            sample,
            groups,
            phrases,
            config: their_config,
            ..
        } = other;
        // (counts at most the documents, whose sum was checked)
        self.phrases = match (self.phrases.take(), phrases) {
            (Some(mut mine), Some(theirs)) => {
                mine.merge(&theirs);
                Some(mine)
            }
            _ => None,
        };
        self.scores = merged_scores;
        if adopt_scores {
            self.config.score_fields.clone_from(&their_config.score_fields);
        }
        // checked above: the same grouping, or one side empty
        match (&mut self.groups, groups) {
            (Some(mine), Some(theirs)) => mine.merge(theirs)?,
            (None, Some(theirs)) if adopt_grouping => {
                self.groups = Some(theirs);
                self.config.grouping = their_config.grouping;
            }
            _ => {}
        }
        let (my_ngrams, my_vocab, my_doc_counts) = (&mut self.ngrams, &mut self.vocab, &mut self.doc_counts);
        rayon::join(
            || {
                for (mine, theirs) in my_ngrams.iter_mut().zip(ngrams) {
                    mine.merge(theirs);
                }
            },
            || {
                for (token, stat) in vocab.iter() {
                    my_vocab.add(token, stat);
                }
                my_doc_counts.reserve(doc_counts.len());
                for (h, c) in doc_counts {
                    *my_doc_counts.entry(h).or_default() += c;
                }
            },
        );
        for (l, c) in doc_lengths {
            *self.doc_lengths.entry(l).or_default() += c;
        }
        self.sample.merge(sample);
        self.config.keep_text &= keep_text;
        if !self.config.keep_text {
            self.hash_sample_tokens()?;
            self.sample.drop_text();
        }
        self.seal();
        Ok(())
    }

    /// Whether the counts of a decoded profile add up as a profile built from documents has them:
    /// else why not. Cost: O(types + distinct documents + sample).
    pub(crate) fn check_consistent(&self) -> std::result::Result<(), String> {
        fn sum(values: impl Iterator<Item = u64>) -> Option<u64> {
            values.into_iter().try_fold(0u64, |acc, v| acc.checked_add(v))
        }
        let n = self.n_docs;
        for order in 0..MAX_ORDER {
            if self.unique_in_docs[order] > self.totals[order] || self.totals[order] > self.n_tokens {
                return Err(format!("its {}-gram counts exceed its tokens", order + 1));
            }
        }
        if self.parts.tokens {
            if self.totals[0] != self.n_tokens {
                return Err(format!("{} tokens, but a unigram total of {}", self.n_tokens, self.totals[0]));
            }
            let (mut occurrences, mut bad) = (Some(0u64), None);
            for (token, stat) in self.vocab.iter() {
                occurrences = occurrences.and_then(|o| o.checked_add(stat.count));
                if stat.docs > stat.count || stat.docs > n || stat.exposure > stat.count || stat.count == 0 {
                    bad = Some(token.to_string());
                    break;
                }
            }
            if let Some(token) = bad {
                return Err(format!("the counts of token `{token}` cannot be"));
            }
            if occurrences != Some(self.n_tokens) {
                return Err(format!("its tokens' counts do not add up to its {} tokens", self.n_tokens));
            }
        }
        if self.parts.documents {
            if sum(self.doc_counts.values().copied()) != Some(n) {
                return Err(format!("its distinct documents' copies do not add up to its {n} documents"));
            }
            if sum(self.doc_lengths.values().copied()) != Some(n) {
                return Err(format!("its length histogram does not add up to its {n} documents"));
            }
            let tokens =
                self.doc_lengths.iter().try_fold(0u64, |acc, (l, c)| acc.checked_add(l.checked_mul(*c)?));
            if tokens != Some(self.n_tokens) {
                return Err(format!("its length histogram does not add up to its {} tokens", self.n_tokens));
            }
        }
        if let Some(groups) = &self.groups {
            let answers = sum(groups.groups().map(|g| g.answers_seen));
            if answers.is_none_or(|a| a > n) {
                return Err(format!("its groups hold more answers than its {n} documents"));
            }
        }
        for (field, column) in self.score_columns() {
            let values = [column.count(), column.missing(), column.non_finite()].into_iter();
            if sum(values) != Some(n) {
                return Err(format!("its score column `{field}` does not hold one value per document"));
            }
        }
        if let Some(p) = &self.phrases
            && (p.answers > n || p.refusals > p.answers || p.disclaimers > p.answers)
        {
            return Err(format!("its refusal counts ({} of {} answers) cannot be", p.refusals, p.answers));
        }
        if self.sample.held() > n {
            return Err(format!("its sample holds {} documents, more than its {n}", self.sample.held()));
        }
        Ok(())
    }

    /// Hash the tokens of sampled documents held as text alone, with the profile's tokenizer
    /// (built-in ones; a HuggingFace tokenizer is not at hand here, and such documents keep
    /// only their text).
    pub(crate) fn hash_sample_tokens(&mut self) -> Result<()> {
        if let Ok(tokenizer) = tailwatch_core::Tokenizer::from_spec(&self.config.tokenizer) {
            self.sample.fill_tokens(|text| {
                let mut hashes = Vec::new();
                tokenizer.tokenize(text, |t| hashes.push(tailwatch_core::stable_hash(t))).map(|()| hashes)
            })?;
        }
        Ok(())
    }

    /// Content equality of everything that metrics read (for tests; full profiles only).
    pub fn same_content(&self, other: &Profile) -> bool {
        self.to_bytes().ok() == other.to_bytes().ok()
    }
}

/// An estimate of [`Profile::exact_ngram_bytes`] of the union of several profiles, from the
/// registers of their exact tables, without merging them: the registers of a union are the
/// register-wise maximum of the parts', so the estimate is the same however the documents were
/// split among the profiles.
#[derive(Debug, Clone, Default)]
pub struct ExactNgramEstimate {
    /// Per order 2..=4: the union's registers and the bytes an entry of that order takes.
    orders: [(DistinctRegisters, usize); MAX_ORDER - 1],
}

impl ExactNgramEstimate {
    /// Add a profile's n-grams: those of each exact table whose registers are tracked
    /// ([`Profile::track_distinct_ngrams`]); untracked tables and sketches add nothing.
    pub fn absorb(&mut self, profile: &Profile) {
        for ((registers, entry_bytes), table) in self.orders.iter_mut().zip(&profile.ngrams) {
            if let Some(theirs) = table.distinct_registers() {
                registers.merge(theirs);
                *entry_bytes = table.entry_bytes();
            }
        }
    }

    /// Estimated bytes of the exact tables of the union (relative standard error
    /// [`crate::distinct_estimate::RELATIVE_STANDARD_ERROR`], about 0.8 %).
    pub fn bytes(&self) -> f64 {
        self.orders.iter().map(|(registers, entry_bytes)| registers.estimate() * *entry_bytes as f64).sum()
    }
}

impl Accumulator for Profile {
    type Config = ProfileConfig;

    fn empty(config: ProfileConfig) -> Self {
        Profile::new(config)
    }
    fn config(&self) -> &ProfileConfig {
        &self.config
    }
    fn kind(&self) -> ProfileKind {
        Profile::kind(self)
    }
    fn merge(&mut self, other: Self) -> Result<()> {
        Profile::merge(self, other)
    }
    fn seal(&mut self) {
        Profile::seal(self);
    }
    fn to_bytes(&self) -> Result<Vec<u8>> {
        Profile::to_bytes(self)
    }
    fn from_bytes_limited(bytes: &[u8], path: &std::path::Path, max_decoded: usize) -> Result<Self> {
        Profile::from_bytes_limited(bytes, path, max_decoded)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use tailwatch_core::{Tokenizer, stable_hash};

    fn profile_of(docs: &[&str]) -> Profile {
        let spec = TokenizerSpec::words();
        let tokenizer = Tokenizer::from_spec(&spec).expect("words tokenizer");
        let mut builder = ProfileBuilder::new(&tokenizer, ProfileConfig::new(spec));
        for doc in docs {
            builder.observe(doc).expect("observe");
        }
        builder.finish()
    }

    /// Per-document distinct n-grams and 4-gram statistics equal a brute-force count, for
    /// documents whose repeats the per-document shortcut must catch (repeated bigrams after
    /// repeated tokens, at the start, overlapping, a doc that is one token over and over).
    #[test]
    fn per_document_counts_match_brute_force() {
        let docs = [
            "a b a b",
            "a b c a b",
            "x a b y a b a b",
            "the cat the dog the cat",
            "a a a a a",
            "a b c d a b c d",
            "p q r s t",
            "a b c b a",
            "",
            "one",
        ];
        let profile = profile_of(&docs);
        let mut unique = [0u64; MAX_ORDER];
        let mut stats: BTreeMap<u64, (u32, u32)> = BTreeMap::new();
        for doc in docs {
            let hashes: Vec<u64> = doc.split_whitespace().map(stable_hash).collect();
            let mut in_doc: [BTreeMap<u64, u32>; MAX_ORDER] = Default::default();
            crate::ngram_table::for_each_ngram(&hashes, MAX_ORDER, |n, key| {
                *in_doc[n - 1].entry(key).or_default() += 1
            });
            for n in 0..MAX_ORDER {
                unique[n] += in_doc[n].len() as u64;
            }
            for (&key, &count) in &in_doc[MAX_ORDER - 1] {
                let stat = stats.entry(key).or_default();
                *stat = (stat.0 + count, stat.1 + 1);
            }
        }
        assert_eq!(profile.unique_in_docs, unique);
        let table = profile.ngram_table(MAX_ORDER).exact().expect("exact 4-grams");
        assert_eq!(table.len(), stats.len());
        for (key, (count, docs)) in stats {
            assert_eq!(table.get(key), Some(crate::ngram_table::NgramStat { count, docs }));
        }
    }

    /// Files of formats 1 and 2 written by earlier builds are committed and read by the CLI's
    /// tests (`tests/fixtures/profiles`); here, the lower orders keep keys only and a format from
    /// the future is refused by name.
    #[test]
    fn lower_orders_keep_keys_only_and_future_formats_are_refused() {
        let a = profile_of(&["the cat sat on the mat", "the cat sat on a hat"]);
        assert!(matches!(a.ngram_table(2), NgramTable::Keys(_)));
        assert!(matches!(a.ngram_table(3), NgramTable::Keys(_)));
        assert!(a.ngram_table(4).exact().is_some());
        let path = Path::new("v4.twp");
        // the header's kind tag: 0 for text; a tag this build does not know is refused by name
        let bytes = a.to_bytes().expect("encode");
        assert_eq!(bytes[6], ProfileKind::Text.tag());
        let mut unknown = bytes.clone();
        unknown[6] = 9;
        assert!(matches!(Profile::from_bytes(&unknown, path), Err(Error::UnknownKind { tag: 9, .. })));
        // a text profile whose header says item lists is not a profile
        let mut wrong = bytes;
        wrong[6] = ProfileKind::Items.tag();
        assert!(matches!(Profile::from_bytes(&wrong, path), Err(Error::NotAProfile { .. })));
        let future = [&PROFILE_MAGIC[..], &5u32.to_le_bytes(), b"junk"].concat();
        assert!(matches!(
            Profile::from_bytes(&future, path),
            Err(Error::UnsupportedVersion { found: 5, .. })
        ));
    }

    pub(super) fn profile_keeping_text(docs: &[&str], keep_text: bool) -> Profile {
        let tokenizer = Tokenizer::from_spec(&TokenizerSpec::words()).unwrap();
        let mut config = ProfileConfig::new(TokenizerSpec::words());
        config.keep_text = keep_text;
        let mut b = ProfileBuilder::new(&tokenizer, config);
        for d in docs {
            b.observe(d).unwrap();
        }
        b.finish()
    }

    /// The sample keeps token hashes, and text only when asked; both round-trip through the
    /// wire; a union keeps text only when both sides did; a corrupt token index is refused.
    #[test]
    fn samples_keep_tokens_and_text_only_when_asked() {
        let docs = ["the cat sat on the mat", "a dog ran", "the cat sat on the mat"];
        let path = Path::new("p.twp");
        for keep_text in [false, true] {
            let p = profile_keeping_text(&docs, keep_text);
            assert_eq!(p.sample().held(), 3);
            assert_eq!(p.sample().has_text(), keep_text);
            for (_, doc) in p.sample().docs() {
                // text or tokens
                assert_eq!(doc.tokens.as_ref().is_some_and(|t| !t.is_empty()), !keep_text);
            }
            let bytes = p.to_bytes().unwrap();
            let back = Profile::from_bytes(&bytes, path).unwrap();
            assert_eq!(back.config(), p.config());
            assert_eq!(back.to_bytes().unwrap(), bytes, "a round trip gives the same bytes");
            // read back, text is tokenized again (so a union without text can drop it)
            for (_, doc) in back.sample().docs() {
                assert!(doc.tokens.as_ref().is_some_and(|t| !t.is_empty()));
            }
        }
        // (documents in one side only: the text side's are tokenized to drop their text)
        let mut with = profile_keeping_text(&docs[1..2], true);
        with.merge(profile_keeping_text(&[docs[0], docs[2]], false)).unwrap();
        assert!(!with.config().keep_text && !with.sample().holds_any_text());
        assert_eq!(with.sample(), profile_keeping_text(&docs, false).sample());
        let mut both = profile_keeping_text(&docs[..1], true);
        both.merge(profile_keeping_text(&docs[1..], true)).unwrap();
        assert!(both.sample().has_text() && both.sample().texts().count() == 3);
    }
}
