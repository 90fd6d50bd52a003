//! The [`Profile`]: one streaming pass over a corpus into mergeable counts, and its `.twp` file.
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tailwatch_core::{
    DocHash, Tokenizer, TokenizerKind, TokenizerSpec, content_hash, sample_key, stable_hash,
};

use crate::ngram_table::{MAX_ORDER, NgramTable, NgramWire, for_each_run};
use crate::sample::{BottomK, SampleSize};
use crate::token_counts::TokenCounts;
use crate::{Error, Result};

/// Magic bytes that open every `.twp` file.
pub const PROFILE_MAGIC: &[u8; 8] = b"TWPROF\x00\x01";
/// The `.twp` format version this build writes. Version 2 stores the 2- and 3-gram tables as
/// keys only; this build also reads version 1 (and drops those tables' statistics).
pub const PROFILE_FORMAT_VERSION: u32 = 2;
/// The oldest `.twp` format version this build reads.
pub const PROFILE_FORMAT_OLDEST: u32 = 1;

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
}

impl ProfileConfig {
    /// Defaults: sample 1000, seed 0, top-10 exposure.
    pub fn new(tokenizer: TokenizerSpec) -> Self {
        Self { tokenizer, sample: SampleSize::Docs(1000), seed: 0, items_k: 10 }
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

/// Everything the metrics need from one pass over a corpus. See the crate docs.
#[derive(Debug, Clone)]
pub struct Profile {
    config: ProfileConfig,
    n_docs: u64,
    n_tokens: u64,
    n_bytes: u64,
    /// Token types (identified by their stable 64-bit hash) with their counts.
    vocab: TokenCounts,
    ngrams: [NgramTable; MAX_ORDER - 1],
    totals: [u64; MAX_ORDER],
    unique_in_docs: [u64; MAX_ORDER],
    doc_counts: DocMap,
    doc_lengths: BTreeMap<u64, u64>,
    sample: BottomK,
    /// The current document's token hashes, texts (concatenated) and text ends.
    scratch_hashes: Vec<u64>,
    scratch_text: String,
    scratch_ends: Vec<usize>,
    scratch_keys: Vec<Vec<u64>>,
    /// Whether each token of the current document is the first of its type in it.
    scratch_first_seen: Vec<bool>,
}

impl Profile {
    /// An empty profile (the identity of [`Profile::merge`]).
    pub fn new(config: ProfileConfig) -> Self {
        let sample = BottomK::new(config.sample);
        Self {
            config,
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
            scratch_hashes: Vec::new(),
            scratch_text: String::new(),
            scratch_ends: Vec::new(),
            scratch_keys: vec![Vec::new(); MAX_ORDER],
            scratch_first_seen: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ProfileConfig {
        &self.config
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
    /// Histogram of document lengths in tokens.
    pub fn doc_lengths(&self) -> &BTreeMap<u64, u64> {
        &self.doc_lengths
    }
    /// The bottom-k document sample.
    pub fn sample(&self) -> &BottomK {
        &self.sample
    }

    /// Add one document.
    pub fn observe(&mut self, tokenizer: &Tokenizer, doc: &str) -> Result<()> {
        let mut hashes = std::mem::take(&mut self.scratch_hashes);
        let mut text = std::mem::take(&mut self.scratch_text);
        let mut ends = std::mem::take(&mut self.scratch_ends);
        hashes.clear();
        text.clear();
        ends.clear();
        let outcome = tokenizer.tokenize(doc, |t| {
            hashes.push(stable_hash(t));
            text.push_str(t);
            ends.push(text.len());
        });
        if outcome.is_ok() {
            self.observe_tokens(doc, &hashes, &text, &ends);
        }
        self.scratch_hashes = hashes;
        self.scratch_text = text;
        self.scratch_ends = ends;
        Ok(outcome?)
    }

    /// [`Profile::observe`] of a tokenized document: its token hashes, and their texts
    /// concatenated in `text` (token `i` ends at `ends[i]`).
    fn observe_tokens(&mut self, doc: &str, hashes: &[u64], text: &str, ends: &[usize]) {
        let len = hashes.len();
        self.n_docs += 1;
        self.n_tokens += len as u64;
        self.n_bytes += doc.len() as u64;
        *self.doc_lengths.entry(len as u64).or_default() += 1;
        *self.doc_counts.entry(content_hash(doc)).or_default() += 1;
        self.sample.offer(sample_key(doc, self.config.seed), doc);

        // Unigrams: counts and document frequencies, in the vocabulary's slots.
        let exposed =
            if self.config.tokenizer.kind == TokenizerKind::Items { self.config.items_k as usize } else { 0 };
        self.vocab.prefetch(hashes);
        self.vocab.begin_doc();
        let mut first_seen = std::mem::take(&mut self.scratch_first_seen);
        first_seen.clear();
        let mut start = 0;
        for (position, (&hash, &end)) in hashes.iter().zip(ends).enumerate() {
            let (id, first) = self.vocab.count(hash, &text[start..end]);
            start = end;
            first_seen.push(first);
            if position < exposed {
                self.vocab.expose(id);
            }
        }
        self.totals[0] += len as u64;
        self.unique_in_docs[0] += first_seen.iter().filter(|&&first| first).count() as u64;

        // n-gram keys of orders 2..=4, chained from the token hashes.
        let mut keys = std::mem::take(&mut self.scratch_keys);
        for k in keys.iter_mut() {
            k.clear();
        }
        for start in 0..len {
            let mut key = hashes[start];
            for order in 2..=MAX_ORDER.min(len - start) {
                key = crate::ngram_table::extend_key(key, hashes[start + order - 1]);
                keys[order - 1].push(key);
            }
        }
        // A repeated n-gram repeats its leading bigram, and a bigram repeats an earlier one
        // only where neither of its tokens is new to the document: only those bigrams are
        // looked for among the earlier ones. Without a repeat, every n-gram occurs once and
        // needs no sorting.
        let bigrams = &keys[1];
        let repeats = (1..bigrams.len())
            .any(|i| !first_seen[i] && !first_seen[i + 1] && bigrams[..i].contains(&bigrams[i]));
        for order in 2..=MAX_ORDER {
            let list = &mut keys[order - 1];
            self.totals[order - 1] += list.len() as u64;
            let table = &mut self.ngrams[order - 2];
            let mut runs = 0;
            if repeats {
                for_each_run(list, |key, count| {
                    table.add(key, count);
                    runs += 1;
                });
            } else {
                for &key in list.iter() {
                    table.add(key, 1);
                }
                runs = list.len() as u64;
            }
            self.unique_in_docs[order - 1] += runs;
        }
        self.scratch_keys = keys;
        self.scratch_first_seen = first_seen;
    }

    /// Make the n-gram tables readable: sort and merge what [`Profile::observe`] buffered.
    ///
    /// Metrics, [`Profile::to_bytes`] and the n-gram accessors need a sealed profile;
    /// [`Profile::merge`] and [`Profile::from_bytes`] return sealed profiles. Observing more
    /// documents afterwards is fine (seal again before reading).
    pub fn seal(&mut self) {
        for table in self.ngrams.iter_mut() {
            table.compact();
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
        vocab + ngrams + docs + self.sample.memory_bytes()
    }

    /// Bytes of the exact n-gram tables' distinct entries (0 once sketched): a function of the
    /// corpus alone, whatever the order of the documents and the number of workers that
    /// profiled it, so a memory budget decided on it gives the same profile for any thread
    /// count. Needs a sealed profile.
    pub fn exact_ngram_bytes(&self) -> usize {
        self.ngrams.iter().map(NgramTable::exact_bytes).sum()
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
        self.n_docs += other.n_docs;
        self.n_tokens += other.n_tokens;
        self.n_bytes += other.n_bytes;
        for n in 0..MAX_ORDER {
            self.totals[n] += other.totals[n];
            self.unique_in_docs[n] += other.unique_in_docs[n];
        }
        // the n-gram tables merge on all threads; the rest merges beside them
        let Profile { vocab, ngrams, doc_counts, doc_lengths, sample, .. } = other;
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
        self.seal();
        Ok(())
    }

    /// Serialize to `.twp` bytes: magic, format version (u32 LE), zstd-compressed postcard body.
    /// The body is canonical (sorted), so equal profiles give equal bytes. Needs a sealed profile.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut tokens: Vec<(String, u64, u64, u64)> =
            self.token_stats().map(|(t, s)| (t.to_string(), s.count, s.docs, s.exposure)).collect();
        tokens.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut doc_counts: Vec<(u128, u64)> = self.doc_counts.iter().map(|(h, c)| (h.0, *c)).collect();
        doc_counts.sort_unstable();
        let wire = ProfileWire {
            tailwatch_version: tailwatch_core::VERSION.to_string(),
            config: self.config.clone(),
            n_docs: self.n_docs,
            n_tokens: self.n_tokens,
            n_bytes: self.n_bytes,
            tokens,
            ngrams: self.ngrams.iter().map(NgramTable::to_wire).collect(),
            totals: self.totals,
            unique_in_docs: self.unique_in_docs,
            doc_counts,
            doc_lengths: self.doc_lengths.iter().map(|(l, c)| (*l, *c)).collect(),
            sample: self.sample.clone(),
        };
        let body =
            postcard::to_stdvec(&wire).map_err(|e| Error::Invalid(format!("cannot encode profile: {e}")))?;
        let mut out = Vec::with_capacity(body.len() / 3 + 16);
        out.extend_from_slice(PROFILE_MAGIC);
        out.extend_from_slice(&PROFILE_FORMAT_VERSION.to_le_bytes());
        let mut encoder = zstd::Encoder::new(out, 3).map_err(|e| Error::Invalid(e.to_string()))?;
        encoder.write_all(&body).map_err(|e| Error::Invalid(e.to_string()))?;
        encoder.finish().map_err(|e| Error::Invalid(e.to_string()))
    }

    /// Parse `.twp` bytes; `path` is only used in error messages.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        Self::from_bytes_limited(bytes, path, usize::MAX)
    }

    /// [`Profile::from_bytes`], refusing bodies that decompress to more than `max_decoded` bytes
    /// (for untrusted input such as a server's request bodies).
    pub fn from_bytes_limited(bytes: &[u8], path: &Path, max_decoded: usize) -> Result<Self> {
        let not_profile = |reason: String| Error::NotAProfile { path: path.to_path_buf(), reason };
        if bytes.len() < 12 || bytes[..6] != PROFILE_MAGIC[..6] {
            return Err(not_profile("missing the `TWPROF` magic header".into()));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if !(PROFILE_FORMAT_OLDEST..=PROFILE_FORMAT_VERSION).contains(&version)
            || bytes[..8] != PROFILE_MAGIC[..]
        {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: PROFILE_FORMAT_VERSION,
            });
        }
        let mut body = Vec::new();
        {
            use std::io::Read;
            let decoder =
                zstd::Decoder::new(&bytes[12..]).map_err(|e| not_profile(format!("corrupt body: {e}")))?;
            decoder
                .take((max_decoded as u64).saturating_add(1))
                .read_to_end(&mut body)
                .map_err(|e| not_profile(format!("corrupt body: {e}")))?;
        }
        if body.len() > max_decoded {
            return Err(not_profile(format!("the body decompresses to more than {max_decoded} bytes")));
        }
        let wire: ProfileWire =
            postcard::from_bytes(&body).map_err(|e| not_profile(format!("corrupt body: {e}")))?;
        let mut profile = Profile::new(wire.config);
        profile.n_docs = wire.n_docs;
        profile.n_tokens = wire.n_tokens;
        profile.n_bytes = wire.n_bytes;
        for (token, count, docs, exposure) in wire.tokens {
            profile.vocab.add(&token, TokenStat { hash: 0, count, docs, exposure });
        }
        if wire.ngrams.len() != MAX_ORDER - 1 {
            return Err(not_profile(format!(
                "expected {} n-gram tables, found {}",
                MAX_ORDER - 1,
                wire.ngrams.len()
            )));
        }
        for (order, (slot, table)) in (2..).zip(profile.ngrams.iter_mut().zip(wire.ngrams)) {
            let table =
                NgramTable::from_wire(table).map_err(|e| not_profile(format!("corrupt sketch: {e}")))?;
            // version 1 kept statistics for every order
            *slot = if order < MAX_ORDER { table.into_keys_only() } else { table };
        }
        profile.totals = wire.totals;
        profile.unique_in_docs = wire.unique_in_docs;
        profile.doc_counts = wire.doc_counts.into_iter().map(|(h, c)| (DocHash(h), c)).collect();
        profile.doc_lengths = wire.doc_lengths.into_iter().collect();
        if wire.sample.size() != profile.config.sample {
            return Err(not_profile("sample size does not match the header".into()));
        }
        profile.sample = wire.sample;
        profile.seal();
        Ok(profile)
    }

    /// Content equality of everything that metrics read (for tests).
    pub fn same_content(&self, other: &Profile) -> bool {
        self.to_bytes().ok() == other.to_bytes().ok()
    }
}

#[derive(Serialize, Deserialize)]
struct ProfileWire {
    tailwatch_version: String,
    config: ProfileConfig,
    n_docs: u64,
    n_tokens: u64,
    n_bytes: u64,
    tokens: Vec<(String, u64, u64, u64)>,
    ngrams: Vec<NgramWire>,
    totals: [u64; MAX_ORDER],
    unique_in_docs: [u64; MAX_ORDER],
    doc_counts: Vec<(u128, u64)>,
    doc_lengths: Vec<(u64, u64)>,
    sample: BottomK,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tailwatch_core::Tokenizer;

    fn profile_of(docs: &[&str]) -> Profile {
        let spec = TokenizerSpec::words();
        let tokenizer = Tokenizer::from_spec(&spec).expect("words tokenizer");
        let mut profile = Profile::new(ProfileConfig::new(spec));
        for doc in docs {
            profile.observe(&tokenizer, doc).expect("observe");
        }
        profile.sealed()
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
        let path = Path::new("v3.twp");
        let future = [&PROFILE_MAGIC[..], &3u32.to_le_bytes(), b"junk"].concat();
        assert!(matches!(
            Profile::from_bytes(&future, path),
            Err(Error::UnsupportedVersion { found: 3, .. })
        ));
    }
}
