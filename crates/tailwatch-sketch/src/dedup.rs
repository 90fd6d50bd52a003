//! The dedup pipeline: exact groups by BLAKE3 of normalized text, then near duplicates by
//! MinHash + LSH (or an exact join), verified, clustered by union-find, one record kept per
//! cluster.
use std::collections::HashMap;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::allpairs::all_pairs;
use crate::error::{DedupWarning, Error};
use crate::lsh::{Banding, band_keys, candidate_pairs};
use crate::minhash::{
    Affine32Permutations, OphSketcher, Permutations, affine32_signature, classic_signature, estimate_jaccard,
    fss_signature,
};
use crate::normalize::{NormalizeOptions, normalize_with_word_hashes};
use crate::shingle::{into_set, jaccard, shingle_set_sha1, shingles_from_words};
use crate::unionfind::UnionFind;

/// How signatures are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureMode {
    /// One-permutation hashing with optimal densification over the seeded 64-bit shingle
    /// hashes of [`shingles_from_words`], each hash its own bin and value (fast).
    Oph,
    /// Fast Similarity Sketching (Dahlgaard, Knudsen & Thorup 2017) over 64-bit shingle hashes:
    /// lower variance than classic and OPH, about half OPH's speed.
    Fss,
    /// k independent permutations ((a·h + b) mod 2^61 − 1) over 32-bit folds of the shingle
    /// hashes.
    Classic,
    /// Exactly datasketch 2.x's default `MinHash(num_perm, seed)` (scheme `affine32`) over
    /// `sha1_hash32` shingle hashes.
    Datasketch,
    /// Exactly datasketch's `MinHash(num_perm, seed, scheme="legacy")` (the 1.x scheme).
    DatasketchLegacy,
}

/// How candidate pairs are confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verify {
    /// Exact Jaccard of the shingle sets (precision 1 at the threshold), kept in memory.
    Exact,
    /// Exact Jaccard of shingle sets made again at the end from the candidates' texts, which
    /// the caller reads again for [`Deduper::finish_rereading`]: the same pairs as `Exact`
    /// without keeping every text's shingle set (8 bytes per shingle) in memory.
    Reread,
    /// The signatures' estimated Jaccard (no shingle sets kept: less memory).
    Estimate,
}

/// Why [`Deduper::finish_rereading`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RereadError<E> {
    /// Reading the texts again failed.
    #[error(transparent)]
    Read(E),
    /// A text read again does not normalize to the text hashed the first time: its input
    /// changed while it was deduplicated.
    #[error("document {doc} is not the text it was when first read: its input changed during dedup")]
    Changed {
        /// The document (input order).
        doc: u32,
    },
}

/// Which member of a cluster is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeepPolicy {
    /// The first in input order.
    First,
    /// The longest (bytes of the original text); ties: the first.
    Longest,
    /// The first whose extra field equals this value (for example `human`); else the first.
    Prefer(String),
}

impl KeepPolicy {
    /// The member of a cluster to keep: `members` are documents in input order (the first is
    /// the cluster's first member), `lengths` and `extras` hold every document's length (bytes
    /// of the original text) and keep-policy field, indexed by document.
    pub fn choose(&self, members: &[u32], lengths: &[u64], extras: &[Option<String>]) -> u32 {
        match self {
            KeepPolicy::First => members[0],
            KeepPolicy::Longest => *members
                .iter()
                .max_by(|a, b| lengths[**a as usize].cmp(&lengths[**b as usize]).then(b.cmp(a)))
                .expect("non-empty"),
            KeepPolicy::Prefer(value) => members
                .iter()
                .copied()
                .find(|&d| extras.get(d as usize).and_then(Option::as_deref) == Some(value.as_str()))
                .unwrap_or(members[0]),
        }
    }
}

/// The clusters of `representative.len()` documents: each document is linked to its
/// representative (the first document with the same normalized text) and each `near` pair
/// (documents) to each other. Groups of two or more members, each in input order, ordered by
/// first member: a group's index is its cluster id.
pub fn cluster_groups(representative: &[u32], near: impl IntoIterator<Item = (u32, u32)>) -> Vec<Vec<u32>> {
    let mut uf = UnionFind::new(representative.len());
    for (doc, &rep) in representative.iter().enumerate() {
        uf.union(doc as u32, rep);
    }
    for (a, b) in near {
        uf.union(a, b);
    }
    uf.groups(2)
}

/// Everything `dedup` can be told.
#[derive(Debug, Clone, Serialize)]
pub struct DedupOptions {
    /// Normalization before hashing.
    pub normalize: NormalizeOptions,
    /// Words per shingle.
    pub shingle_size: usize,
    /// Jaccard similarity at or above which two records are near duplicates.
    pub threshold: f64,
    /// Signature slots (hash functions or bins).
    pub num_perm: usize,
    /// Signature scheme.
    pub signature: SignatureMode,
    /// Seed of the hash functions.
    pub seed: u64,
    /// Target candidate recall at the threshold, used to choose bands × rows.
    pub recall: f64,
    /// Bands × rows chosen by the user instead.
    pub banding: Option<Banding>,
    /// How candidates are verified.
    pub verify: Verify,
    /// Exact duplicates only (no near-duplicate stage).
    pub exact_only: bool,
    /// Find near duplicates with the exact all-pairs join instead of LSH (small corpora).
    pub exact_pairs: bool,
    /// Which member of a cluster is kept.
    pub keep: KeepPolicy,
    /// Warn about clusters larger than this.
    pub max_cluster_size: usize,
}

impl Default for DedupOptions {
    fn default() -> Self {
        Self {
            normalize: NormalizeOptions::default(),
            shingle_size: 5,
            threshold: 0.8,
            num_perm: 128,
            signature: SignatureMode::Oph,
            seed: 1,
            recall: 0.99,
            banding: None,
            verify: Verify::Exact,
            exact_only: false,
            exact_pairs: false,
            keep: KeepPolicy::First,
            max_cluster_size: 1000,
        }
    }
}

impl DedupOptions {
    /// Check every option; errors name the option's field.
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::invalid("threshold", "in (0, 1]", self.threshold));
        }
        if self.shingle_size == 0 {
            return Err(Error::invalid("shingle_size", "at least 1", 0));
        }
        if !(1..=8192).contains(&self.num_perm) {
            return Err(Error::invalid("num_perm", "in 1..=8192", self.num_perm));
        }
        if !(self.recall > 0.0 && self.recall < 1.0) {
            return Err(Error::invalid("recall", "in (0, 1)", self.recall));
        }
        if let Some(Banding { bands, rows }) = self.banding
            && (bands == 0 || rows == 0 || bands.saturating_mul(rows) > self.num_perm)
        {
            return Err(Error::invalid(
                "bands × rows",
                "between 1 and num_perm",
                format!("{bands} × {rows}"),
            ));
        }
        if self.exact_only && self.exact_pairs {
            return Err(Error::Conflict { first: "exact_only", second: "exact_pairs" });
        }
        Ok(())
    }

    /// The bands × rows in use: the user's, or the one for the recall target.
    pub fn banding(&self) -> Banding {
        self.banding.unwrap_or_else(|| Banding::for_recall(self.num_perm, self.threshold, self.recall))
    }
}

/// Why a member belongs to its cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// The record kept for the cluster.
    Kept,
    /// Same normalized text as another member.
    Exact,
    /// Near duplicate (Jaccard ≥ threshold to some member).
    Near,
}

/// One member of a cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// Document index (input order).
    pub doc: u32,
    /// How it relates to the kept record.
    pub relation: Relation,
    /// Jaccard similarity of its shingles to the kept record's (estimated with `Verify::Estimate`).
    pub similarity: f64,
}

/// A group of duplicates (two or more documents).
#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    /// Cluster id (0-based, by first member).
    pub id: usize,
    /// The kept document.
    pub kept: u32,
    /// Every member, the kept one included, in input order.
    pub members: Vec<Member>,
}

/// Counts and parameters of a run (the `--json` summary).
#[derive(Debug, Clone, Serialize, Default)]
pub struct DedupSummary {
    /// Documents read.
    pub docs: u64,
    /// Documents removed as exact duplicates (same normalized text as a kept one).
    pub exact_duplicates: u64,
    /// Documents removed as near duplicates.
    pub near_duplicates: u64,
    /// Documents kept.
    pub kept: u64,
    /// Clusters with at least two members.
    pub clusters: u64,
    /// Members of the largest cluster.
    pub largest_cluster: u64,
    /// Removed / docs.
    pub removal_rate: f64,
    /// Distinct normalized texts (documents entering the near-duplicate stage).
    pub unique_texts: u64,
    /// Documents whose normalized text is empty (they are exact duplicates of each other).
    pub empty_docs: u64,
    /// Candidate pairs from LSH (or the exact join).
    pub candidate_pairs: u64,
    /// Candidate pairs at or above the threshold.
    pub verified_pairs: u64,
    /// LSH buckets larger than the pairwise limit (linked to their first member).
    pub large_buckets: u64,
    /// Bytes held by shingle sets, signatures and band keys at the end.
    pub memory_bytes: u64,
    /// Seconds per stage: hashing (normalize, shingles, signatures), candidates, verify, cluster.
    pub seconds: StageSeconds,
}

/// Wall time per stage (and CPU time of the hashing stage's two halves, summed over threads).
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct StageSeconds {
    /// Normalization, shingling, signatures, band keys (parallel): wall time from the first
    /// batch hashed to the last one taken in (reading the input overlaps it).
    pub hashing: f64,
    /// CPU seconds of normalization and the BLAKE3 exact-duplicate hash.
    pub normalize_cpu: f64,
    /// CPU seconds of shingle hashing, signatures and band keys (what MinHash libraries time).
    pub signature_cpu: f64,
    /// Candidate generation (LSH buckets or the exact join), with `Verify::Reread` including
    /// reading the candidates' texts again and making their shingle sets.
    pub candidates: f64,
    /// Verification of candidates.
    pub verify: f64,
    /// Union-find, keep policy, similarities.
    pub cluster: f64,
}

/// The result: which documents to keep, the clusters and the summary.
#[derive(Debug, Clone)]
pub struct DedupResult {
    /// Per document: kept?
    pub keep: Vec<bool>,
    /// Clusters of two or more members.
    pub clusters: Vec<Cluster>,
    /// Verified near-duplicate pairs (a < b, documents of distinct normalized texts) with
    /// their Jaccard similarity (exact, or estimated with `Verify::Estimate`).
    pub pairs: Vec<(u32, u32, f64)>,
    /// Counts.
    pub summary: DedupSummary,
    /// Warnings for the user (giant clusters, large buckets).
    pub warnings: Vec<DedupWarning>,
}

/// Runs of documents per hashing thread and batch: enough that the threads finish a batch
/// together (a thread idles for about half a run at the end of each batch).
const RUNS_PER_THREAD: usize = 4;

/// Buffers reused from one document to the next by a hashing thread.
#[derive(Default)]
struct Scratch {
    normalized: Vec<u8>,
    words: Vec<u64>,
    shingles: Vec<u64>,
    signature: Vec<u32>,
    keys: Vec<u64>,
}

/// What a hashing thread returns for consecutive documents of a batch, each field concatenated
/// over the documents: a few allocations per run of documents instead of several per document.
#[derive(Default)]
struct HashedRun {
    digests: Vec<[u8; 32]>,
    empty: Vec<bool>,
    /// Kept shingle hashes (see [`Deduper::keeps_shingles`]): document i's end at
    /// `shingle_ends[i]`, its start at the end before.
    shingles: Vec<u64>,
    shingle_ends: Vec<usize>,
    /// `bands` band keys per document (zeros when it has no shingles).
    keys: Vec<u64>,
    has_shingles: Vec<bool>,
    /// `num_perm` slots per document, only with `Verify::Estimate`.
    signatures: Vec<u32>,
}

/// Append-only runs of shingle hashes (one per distinct text), packed into blocks of many
/// runs each: one allocation per block instead of one per text (growing many small vectors
/// costs the allocator more than hashing their contents).
#[derive(Default)]
struct RunStore {
    blocks: Vec<Vec<u64>>,
    /// Per run: (block, start, length).
    runs: Vec<(usize, usize, usize)>,
}

impl RunStore {
    /// Append the runs `chosen` (in order) of `values`, where run i ends at `ends[i]` and starts
    /// where the one before ends. `values` becomes a block as it is when every run is chosen;
    /// otherwise the chosen runs are first moved to its front (and a block with none of them
    /// is dropped).
    fn push_block(&mut self, mut values: Vec<u64>, ends: &[usize], chosen: &[usize]) {
        let start_of = |i: usize| if i == 0 { 0 } else { ends[i - 1] };
        let block = self.blocks.len();
        if chosen.len() < ends.len() {
            let mut write = 0;
            for &i in chosen {
                let (start, end) = (start_of(i), ends[i]);
                values.copy_within(start..end, write);
                self.runs.push((block, write, end - start));
                write += end - start;
            }
            values.truncate(write);
        } else {
            self.runs.extend(chosen.iter().map(|&i| (block, start_of(i), ends[i] - start_of(i))));
        }
        // the hashing threads reserve generously; giving back the tail does not move the block
        values.shrink_to_fit();
        if values.is_empty() {
            // no block: the runs are empty, and `run` never reads it
            let first = self.runs.len() - chosen.len();
            for run in &mut self.runs[first..] {
                *run = (usize::MAX, 0, 0);
            }
        } else {
            self.blocks.push(values);
        }
    }

    /// Sort and deduplicate these runs in place, block by block in parallel: each becomes a
    /// set (sorting a set again leaves it as it is).
    fn sort_runs(&mut self, which: &[usize]) {
        let mut by_block: Vec<Vec<usize>> = vec![Vec::new(); self.blocks.len()];
        for &run in which {
            let (block, _, len) = self.runs[run];
            if len > 0 {
                by_block[block].push(run);
            }
        }
        let runs = &self.runs;
        let lengths: Vec<Vec<(usize, usize)>> = self
            .blocks
            .par_iter_mut()
            .zip(by_block.par_iter())
            .map(|(block, chosen)| {
                chosen
                    .iter()
                    .map(|&run| {
                        let (_, start, len) = runs[run];
                        (run, sort_dedup(&mut block[start..start + len]))
                    })
                    .collect()
            })
            .collect();
        for (run, len) in lengths.into_iter().flatten() {
            self.runs[run].2 = len;
        }
    }

    fn run(&self, index: usize) -> &[u64] {
        match self.runs[index] {
            (_, _, 0) => &[],
            (block, start, len) => &self.blocks[block][start..start + len],
        }
    }

    fn memory_bytes(&self) -> usize {
        self.blocks.iter().map(|b| b.capacity() * 8).sum::<usize>() + self.runs.capacity() * 24
    }
}

/// Sort `values` and move its distinct values to the front; returns how many there are.
fn sort_dedup(values: &mut [u64]) -> usize {
    values.sort_unstable();
    let mut distinct = 0;
    for i in 0..values.len() {
        if i == 0 || values[i] != values[distinct - 1] {
            values[distinct] = values[i];
            distinct += 1;
        }
    }
    distinct
}

/// The hashing half of a [`Deduper`]: its options and hash functions, shared (behind an
/// `Arc`) with the threads that hash the next batch while the deduper takes in the current one.
pub struct BatchHasher {
    options: DedupOptions,
    banding: Banding,
    permutations: Option<Permutations>,
    affine: Option<Affine32Permutations>,
    oph: Option<OphSketcher>,
    /// When the first batch was hashed.
    started: std::sync::OnceLock<Instant>,
    normalize_nanos: std::sync::atomic::AtomicU64,
    signature_nanos: std::sync::atomic::AtomicU64,
}

/// A batch of documents hashed by [`BatchHasher::hash`], for [`Deduper::absorb`].
pub struct HashedBatch {
    runs: Vec<HashedRun>,
    docs: usize,
    /// Band keys per document (0 when exact only).
    bands: usize,
    /// The hasher that made it (its address).
    hasher: usize,
}

/// One document of a [`HashedBatch`]: what [`Deduper::absorb`] takes in of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashedDoc<'a> {
    /// BLAKE3 of the normalized text: documents with equal digests are exact duplicates.
    pub digest: &'a [u8; 32],
    /// Its band keys (one per band of [`DedupOptions::banding`]); `None` when the options are
    /// exact only or the text has no shingles (it is then never a near-duplicate candidate).
    pub band_keys: Option<&'a [u64]>,
}

impl HashedBatch {
    /// Documents hashed.
    pub fn len(&self) -> usize {
        self.docs
    }

    /// Whether no documents were hashed.
    pub fn is_empty(&self) -> bool {
        self.docs == 0
    }

    /// Each document's digest and band keys, in input order.
    pub fn docs(&self) -> impl Iterator<Item = HashedDoc<'_>> {
        let bands = self.bands;
        self.runs.iter().flat_map(move |run| {
            run.digests.iter().enumerate().map(move |(i, digest)| HashedDoc {
                digest,
                band_keys: (bands > 0 && run.has_shingles[i]).then(|| &run.keys[i * bands..(i + 1) * bands]),
            })
        })
    }
}

impl BatchHasher {
    /// A hasher for `options`, once [`DedupOptions::validate`] accepts them (a [`Deduper`]
    /// makes its own: [`Deduper::batch_hasher`]). Hashing with it on several machines gives
    /// what one deduper's hashing gives.
    pub fn new(options: DedupOptions) -> Result<Self, Error> {
        options.validate()?;
        let banding = options.banding();
        let permutations =
            matches!(options.signature, SignatureMode::Classic | SignatureMode::DatasketchLegacy)
                .then(|| Permutations::datasketch(options.num_perm, options.seed as u32));
        let oph = (options.signature == SignatureMode::Oph)
            .then(|| OphSketcher::new(options.num_perm, options.seed));
        let affine = (options.signature == SignatureMode::Datasketch)
            .then(|| Affine32Permutations::datasketch(options.num_perm, options.seed as u32));
        Ok(Self {
            options,
            banding,
            permutations,
            affine,
            oph,
            started: std::sync::OnceLock::new(),
            normalize_nanos: Default::default(),
            signature_nanos: Default::default(),
        })
    }

    /// Normalize and hash a batch of documents, in parallel runs of consecutive documents.
    pub fn hash<S: AsRef<str> + Sync>(&self, texts: &[S]) -> HashedBatch {
        self.started.get_or_init(Instant::now);
        let per_run = texts.len().div_ceil(RUNS_PER_THREAD * rayon::current_num_threads().max(1)).max(1);
        let runs: Vec<HashedRun> = texts
            .par_chunks(per_run)
            .map_init(Scratch::default, |scratch, run| self.hash_run(run, scratch))
            .collect();
        let bands = if self.options.exact_only { 0 } else { self.banding.bands };
        HashedBatch { runs, docs: texts.len(), bands, hasher: self as *const Self as usize }
    }

    /// The similarity a [`Deduper`] verifies a candidate pair of distinct texts with: the exact
    /// Jaccard of their shingle sets (`Verify::Exact` and `Verify::Reread`), or the estimate
    /// from their signatures (`Verify::Estimate`). A pair is a near duplicate when it reaches
    /// [`DedupOptions::threshold`].
    pub fn similarity(&self, a: &str, b: &str) -> f64 {
        let mut scratch = Scratch::default();
        match self.options.verify {
            Verify::Exact | Verify::Reread => {
                let (_, x) = self.digest_and_set(a, &mut scratch);
                let (_, y) = self.digest_and_set(b, &mut scratch);
                jaccard(&x, &y)
            }
            Verify::Estimate => {
                // the signatures exactly as hashing for a deduper makes them
                let (mut run, mut nanos) = (HashedRun::default(), [0u64; 2]);
                self.hash_one(a, &mut scratch, &mut run, &mut nanos);
                self.hash_one(b, &mut scratch, &mut run, &mut nanos);
                let k = self.options.num_perm;
                estimate_jaccard(&run.signatures[..k], &run.signatures[k..2 * k])
            }
        }
    }

    /// Whether shingle hashes are kept for verification (exact Jaccard) or the exact join.
    fn keeps_shingles(&self) -> bool {
        !self.options.exact_only && (self.options.verify == Verify::Exact || self.options.exact_pairs)
    }

    /// Append the shingle hashes of a normalized text (with its word hashes) to `hashes`, in
    /// text order with duplicates; the datasketch modes also return their 32-bit SHA-1 set.
    fn push_shingles(&self, normalized: &[u8], words: &[u64], hashes: &mut Vec<u64>) -> Option<Vec<u32>> {
        let n = self.options.shingle_size;
        match self.options.signature {
            SignatureMode::Oph | SignatureMode::Fss | SignatureMode::Classic => {
                shingles_from_words(words, n, self.options.seed, hashes);
                None
            }
            SignatureMode::Datasketch | SignatureMode::DatasketchLegacy => {
                let normalized = std::str::from_utf8(normalized).expect("normalized text is UTF-8");
                let set = shingle_set_sha1(normalized, n);
                hashes.extend(set.iter().map(|&h| u64::from(h)));
                Some(set)
            }
        }
    }

    /// The BLAKE3 digest of a text's normalized form and its shingle set (sorted, distinct):
    /// what hashing it the first time found and kept.
    fn digest_and_set(&self, text: &str, scratch: &mut Scratch) -> ([u8; 32], Vec<u64>) {
        let Scratch { normalized, words, .. } = scratch;
        normalize_with_word_hashes(text, self.options.normalize, normalized, words);
        let mut hashes = Vec::with_capacity(words.len());
        self.push_shingles(normalized, words, &mut hashes);
        (*blake3::hash(normalized).as_bytes(), into_set(hashes))
    }

    /// Hash consecutive documents of a batch into one [`HashedRun`].
    fn hash_run<S: AsRef<str>>(&self, texts: &[S], scratch: &mut Scratch) -> HashedRun {
        let mut run = HashedRun {
            digests: Vec::with_capacity(texts.len()),
            empty: Vec::with_capacity(texts.len()),
            ..HashedRun::default()
        };
        if !self.options.exact_only {
            let bytes: usize = texts.iter().map(|t| t.as_ref().len()).sum();
            if self.keeps_shingles() {
                // about one shingle per word, a word per five or six bytes
                run.shingles.reserve(bytes / 5);
            }
            run.shingle_ends.reserve(texts.len());
            run.keys.reserve(texts.len() * self.banding.bands);
            run.has_shingles.reserve(texts.len());
        }
        let mut nanos = [0u64; 2];
        for text in texts {
            self.hash_one(text.as_ref(), scratch, &mut run, &mut nanos);
        }
        // once per run: two threads adding to the same counters per document contend for them
        self.normalize_nanos.fetch_add(nanos[0], std::sync::atomic::Ordering::Relaxed);
        self.signature_nanos.fetch_add(nanos[1], std::sync::atomic::Ordering::Relaxed);
        run
    }

    /// Normalize and hash one document, appending to `run`; adds the nanoseconds spent
    /// normalizing (with the BLAKE3 hash) and sketching to `nanos`.
    fn hash_one(&self, text: &str, scratch: &mut Scratch, run: &mut HashedRun, nanos: &mut [u64; 2]) {
        let start = Instant::now();
        let Scratch { normalized, words, shingles, signature, keys } = scratch;
        normalize_with_word_hashes(text, self.options.normalize, normalized, words);
        run.digests.push(*blake3::hash(normalized).as_bytes());
        run.empty.push(normalized.is_empty());
        let middle = Instant::now();
        nanos[0] += (middle - start).as_nanos() as u64;
        if self.options.exact_only {
            return;
        }
        signature.clear();
        signature.resize(self.options.num_perm, 0);
        // unsorted hashes (duplicates kept): MinHash ignores duplicates, and only the texts that
        // become candidates are sorted into sets, in `finish`
        let hashes: &mut Vec<u64> = if self.keeps_shingles() { &mut run.shingles } else { shingles };
        if !self.keeps_shingles() {
            hashes.clear();
        }
        let first = hashes.len();
        let sha1_set = self.push_shingles(normalized, words, hashes);
        let new = &hashes[first..];
        match (self.options.signature, sha1_set) {
            (SignatureMode::Oph, _) => {
                self.oph.as_ref().expect("sketcher").signature_of_mixed(new, signature);
            }
            (SignatureMode::Fss, _) => {
                fss_signature(new, self.options.num_perm, self.options.seed, signature)
            }
            (SignatureMode::Classic, _) => {
                let h32: Vec<u32> = new.iter().map(|h| (h >> 32) as u32 ^ *h as u32).collect();
                classic_signature(self.permutations.as_ref().expect("permutations"), &h32, signature);
            }
            (SignatureMode::Datasketch, Some(set)) => {
                affine32_signature(self.affine.as_ref().expect("permutations"), &set, signature);
            }
            (SignatureMode::DatasketchLegacy, Some(set)) => {
                classic_signature(self.permutations.as_ref().expect("permutations"), &set, signature);
            }
            (SignatureMode::Datasketch | SignatureMode::DatasketchLegacy, None) => {
                unreachable!("push_shingles gives the datasketch modes their set")
            }
        }
        let has_shingles = !new.is_empty();
        if self.keeps_shingles() {
            run.shingle_ends.push(run.shingles.len());
        }
        run.has_shingles.push(has_shingles);
        if has_shingles {
            band_keys(signature, self.banding, keys);
            run.keys.extend_from_slice(keys);
        } else {
            run.keys.extend(std::iter::repeat_n(0, self.banding.bands));
        }
        if self.options.verify == Verify::Estimate {
            run.signatures.extend_from_slice(signature);
        }
        nanos[1] += middle.elapsed().as_nanos() as u64;
    }
}

/// Streaming dedup: feed batches with [`Deduper::add`], then [`Deduper::finish`] (or
/// [`Deduper::finish_rereading`]). Memory: per distinct text its band keys (8 bytes per band),
/// its shingle hashes with `Verify::Exact` (8 bytes per shingle; `Verify::Reread` makes them
/// again for the candidates only) and its signature with `Verify::Estimate` (4 bytes per slot);
/// per document 36 bytes (its representative, length and keep-policy field); per distinct text
/// its BLAKE3 digest in a hash map (about 40 bytes).
pub struct Deduper {
    options: DedupOptions,
    banding: Banding,
    hasher: std::sync::Arc<BatchHasher>,
    exact: HashMap<[u8; 32], u32>,
    /// Per document: the first document with the same normalized text (itself if first).
    representative: Vec<u32>,
    lengths: Vec<u64>,
    extras: Vec<Option<String>>,
    empty: u64,
    /// Per distinct text, in order of first appearance: its first document.
    unique: Vec<u32>,
    /// Per distinct text: its shingle hashes in text order (an empty run when not kept).
    shingles: RunStore,
    /// Per distinct text: `num_perm` signature slots (only with `Verify::Estimate`).
    signatures: Vec<u32>,
    /// Per distinct text: its band keys, `bands` of them (zeros when it has no shingles).
    keys: Vec<u64>,
    /// Per distinct text: whether it has shingles (texts without are never near duplicates).
    has_shingles: Vec<bool>,
    /// With [`Verify::Reread`]: the shingle sets of the distinct texts in candidate pairs.
    reread_sets: HashMap<usize, Vec<u64>>,
    hashing_seconds: f64,
}

impl Deduper {
    /// A deduper with `options`, once [`DedupOptions::validate`] accepts them. The exact join
    /// keeps every shingle set, so it verifies `Exact` when asked to `Reread`.
    pub fn new(mut options: DedupOptions) -> Result<Self, Error> {
        options.validate()?;
        if options.exact_pairs && options.verify == Verify::Reread {
            options.verify = Verify::Exact;
        }
        let banding = options.banding();
        let hasher = std::sync::Arc::new(BatchHasher::new(options.clone())?);
        Ok(Self {
            options,
            banding,
            hasher,
            exact: HashMap::new(),
            representative: Vec::new(),
            lengths: Vec::new(),
            extras: Vec::new(),
            empty: 0,
            unique: Vec::new(),
            shingles: RunStore::default(),
            signatures: Vec::new(),
            keys: Vec::new(),
            has_shingles: Vec::new(),
            reread_sets: HashMap::new(),
            hashing_seconds: 0.0,
        })
    }

    /// The bands × rows in use.
    pub fn banding(&self) -> Banding {
        self.banding
    }

    /// This deduper's hasher, to hash the next batch (on other threads) while this one takes in
    /// the current batch with [`Deduper::absorb`].
    pub fn batch_hasher(&self) -> std::sync::Arc<BatchHasher> {
        self.hasher.clone()
    }

    /// Add documents (in input order); `extras` (same length) feed `KeepPolicy::Prefer`.
    pub fn add(&mut self, texts: &[String], extras: Option<&[Option<String>]>) {
        let hashed = self.hasher.hash(texts);
        self.absorb(texts, extras, hashed);
    }

    /// Take in a batch hashed by this deduper's [`Deduper::batch_hasher`]: batches must be
    /// absorbed in input order, each with the texts it was hashed from. Panics when `hashed`
    /// came from another deduper's hasher or from a different number of texts.
    pub fn absorb(&mut self, texts: &[String], extras: Option<&[Option<String>]>, hashed: HashedBatch) {
        assert_eq!(
            hashed.hasher,
            std::sync::Arc::as_ptr(&self.hasher) as usize,
            "a batch hashed by another deduper"
        );
        assert_eq!(hashed.docs, texts.len(), "a batch hashed from other texts");
        let runs = hashed.runs;
        let (bands, slots) = (self.banding.bands, self.options.num_perm);
        let mut index = 0;
        for run in runs {
            // exact duplicates, in input order; the first appearances go on
            let mut new_texts: Vec<usize> = Vec::new();
            for (i, digest) in run.digests.iter().enumerate() {
                let doc = self.representative.len() as u32;
                self.lengths.push(texts[index].len() as u64);
                self.extras.push(extras.and_then(|e| e.get(index).cloned().flatten()));
                index += 1;
                if run.empty[i] {
                    self.empty += 1;
                }
                if let Some(&first) = self.exact.get(digest) {
                    self.representative.push(first);
                    continue;
                }
                self.exact.insert(*digest, doc);
                self.representative.push(doc);
                self.unique.push(doc);
                new_texts.push(i);
                if self.options.exact_only {
                    continue;
                }
                if self.options.verify == Verify::Estimate {
                    self.signatures.extend_from_slice(&run.signatures[i * slots..(i + 1) * slots]);
                }
                self.has_shingles.push(run.has_shingles[i]);
                self.keys.extend_from_slice(&run.keys[i * bands..(i + 1) * bands]);
            }
            if self.hasher.keeps_shingles() {
                self.shingles.push_block(run.shingles, &run.shingle_ends, &new_texts);
            }
        }
        self.hashing_seconds = self.hasher.started.get().map_or(0.0, |t| t.elapsed().as_secs_f64());
    }

    /// Jaccard similarity of two distinct texts: exact on their shingle sets (sorted by
    /// [`RunStore::sort_runs`] in `finish`, or made again from the texts read again), or
    /// estimated from their signatures.
    fn similarity(&self, a: usize, b: usize) -> f64 {
        match self.options.verify {
            Verify::Exact => jaccard(self.shingles.run(a), self.shingles.run(b)),
            Verify::Reread => jaccard(&self.reread_sets[&a], &self.reread_sets[&b]),
            Verify::Estimate => {
                let k = self.options.num_perm;
                estimate_jaccard(&self.signatures[a * k..(a + 1) * k], &self.signatures[b * k..(b + 1) * k])
            }
        }
    }

    fn chosen(&self, members: &[u32]) -> u32 {
        self.options.keep.choose(members, &self.lengths, &self.extras)
    }

    /// Cluster everything added and decide what to keep.
    ///
    /// # Panics
    /// With [`Verify::Reread`], which needs [`Deduper::finish_rereading`].
    pub fn finish(self) -> DedupResult {
        assert!(
            self.options.verify != Verify::Reread || self.options.exact_only,
            "Verify::Reread needs Deduper::finish_rereading"
        );
        let no_text =
            |_: u32| -> Result<String, std::convert::Infallible> { unreachable!("no Verify::Reread") };
        match self.finish_rereading(no_text) {
            Ok(result) => result,
            Err(RereadError::Read(never)) => match never {},
            Err(e) => unreachable!("nothing is read again without Verify::Reread: {e}"),
        }
    }

    /// [`Deduper::finish`] for [`Verify::Reread`]: `text_of` returns a document's text again
    /// (as it was added), for each document whose text a candidate pair needs, once each, from
    /// several threads. Each text is checked against the digest of its first reading. (With
    /// another `Verify`, `text_of` is never called.)
    pub fn finish_rereading<E: Send>(
        mut self,
        text_of: impl Fn(u32) -> Result<String, E> + Sync,
    ) -> Result<DedupResult, RereadError<E>> {
        let n = self.representative.len();
        let mut summary = DedupSummary {
            docs: n as u64,
            unique_texts: self.unique.len() as u64,
            empty_docs: self.empty,
            ..DedupSummary::default()
        };
        summary.seconds.hashing = self.hashing_seconds;
        summary.seconds.normalize_cpu =
            self.hasher.normalize_nanos.load(std::sync::atomic::Ordering::Relaxed) as f64 * 1e-9;
        summary.seconds.signature_cpu =
            self.hasher.signature_nanos.load(std::sync::atomic::Ordering::Relaxed) as f64 * 1e-9;
        let mut warnings = Vec::new();
        // near-duplicate pairs among distinct texts (indices into `unique`)
        let mut near: Vec<(u32, u32, f64)> = Vec::new();
        if !self.options.exact_only {
            let start = Instant::now();
            let with_shingles: Vec<usize> =
                (0..self.unique.len()).filter(|&u| self.has_shingles[u]).collect();
            let candidates: Vec<(u32, u32, f64)> = if self.options.exact_pairs {
                self.shingles.sort_runs(&with_shingles);
                let compact: Vec<Vec<u64>> =
                    with_shingles.iter().map(|&u| self.shingles.run(u).to_vec()).collect();
                all_pairs(&compact, self.options.threshold)
                    .into_iter()
                    .map(|(a, b, j)| (with_shingles[a as usize] as u32, with_shingles[b as usize] as u32, j))
                    .collect()
            } else {
                let bands = self.banding.bands;
                let keys: Vec<&[u64]> =
                    with_shingles.iter().map(|&u| &self.keys[u * bands..(u + 1) * bands]).collect();
                let (pairs, large) = candidate_pairs(&keys);
                summary.large_buckets = large as u64;
                if large > 0 {
                    warnings.push(DedupWarning::LargeBuckets {
                        buckets: large,
                        limit: crate::lsh::MAX_PAIRWISE_BUCKET,
                    });
                }
                pairs
                    .into_iter()
                    .map(|(a, b)| {
                        (with_shingles[a as usize] as u32, with_shingles[b as usize] as u32, f64::NAN)
                    })
                    .collect()
            };
            summary.candidate_pairs = candidates.len() as u64;
            if self.options.verify != Verify::Estimate && !self.options.exact_pairs {
                let mut involved: Vec<usize> =
                    candidates.iter().flat_map(|&(a, b, _)| [a as usize, b as usize]).collect();
                involved.sort_unstable();
                involved.dedup();
                // only texts in candidate pairs are ever compared
                if self.options.verify == Verify::Reread {
                    self.reread(&involved, text_of)?;
                } else {
                    self.shingles.sort_runs(&involved);
                }
            }
            summary.seconds.candidates = start.elapsed().as_secs_f64();
            let start = Instant::now();
            near = if self.options.exact_pairs {
                candidates
            } else {
                candidates
                    .into_par_iter()
                    .filter_map(|(a, b, _)| {
                        let j = self.similarity(a as usize, b as usize);
                        (j >= self.options.threshold).then_some((a, b, j))
                    })
                    .collect()
            };
            summary.verified_pairs = near.len() as u64;
            summary.seconds.verify = start.elapsed().as_secs_f64();
        }
        let start = Instant::now();
        let pairs: Vec<(u32, u32, f64)> =
            near.iter().map(|&(a, b, j)| (self.unique[a as usize], self.unique[b as usize], j)).collect();
        let groups = cluster_groups(&self.representative, pairs.iter().map(|&(a, b, _)| (a, b)));
        // per document: its index among the distinct texts (set for their first documents)
        let mut unique_index = vec![usize::MAX; n];
        for (i, &doc) in self.unique.iter().enumerate() {
            unique_index[doc as usize] = i;
        }
        let mut keep = vec![true; n];
        let mut clusters = Vec::new();
        for (id, members) in groups.into_iter().enumerate() {
            let kept = self.chosen(&members);
            let kept_rep = unique_index[self.representative[kept as usize] as usize];
            let mut out = Vec::with_capacity(members.len());
            for &doc in &members {
                let rep = self.representative[doc as usize];
                let relation = if doc == kept {
                    Relation::Kept
                } else if rep == self.representative[kept as usize] {
                    Relation::Exact
                } else {
                    Relation::Near
                };
                let similarity = if relation == Relation::Near {
                    self.similarity(unique_index[rep as usize], kept_rep)
                } else {
                    1.0
                };
                if doc != kept {
                    keep[doc as usize] = false;
                    if relation == Relation::Exact {
                        summary.exact_duplicates += 1;
                    } else {
                        summary.near_duplicates += 1;
                    }
                }
                out.push(Member { doc, relation, similarity });
            }
            summary.largest_cluster = summary.largest_cluster.max(members.len() as u64);
            if members.len() > self.options.max_cluster_size {
                let least = out.iter().map(|m| m.similarity).fold(1.0f64, f64::min);
                let exact = out.iter().filter(|m| m.relation != Relation::Near).count();
                warnings.push(if exact == members.len() {
                    DedupWarning::CollapsedMode { cluster: id, members: members.len() }
                } else {
                    DedupWarning::LargeCluster {
                        cluster: id,
                        members: members.len(),
                        exact,
                        limit: self.options.max_cluster_size,
                        least_similarity: least,
                    }
                });
            }
            clusters.push(Cluster { id, kept, members: out });
        }
        summary.clusters = clusters.len() as u64;
        summary.kept = keep.iter().filter(|&&k| k).count() as u64;
        summary.removal_rate = if n == 0 { 0.0 } else { (n as u64 - summary.kept) as f64 / n as f64 };
        summary.memory_bytes = (self.shingles.memory_bytes()
            + self.reread_sets.values().map(|set| set.capacity() * 8 + 32).sum::<usize>()
            + self.signatures.capacity() * 4
            + self.keys.capacity() * 8
            + n * 36
            + self.exact.capacity() * 40) as u64;
        summary.seconds.cluster = start.elapsed().as_secs_f64();
        Ok(DedupResult { keep, clusters, pairs, summary, warnings })
    }

    /// Read these distinct texts again (by their first documents) and make their shingle sets,
    /// for [`Verify::Reread`].
    fn reread<E: Send>(
        &mut self,
        texts: &[usize],
        text_of: impl Fn(u32) -> Result<String, E> + Sync,
    ) -> Result<(), RereadError<E>> {
        let (hasher, unique, exact) = (&self.hasher, &self.unique, &self.exact);
        let sets = texts
            .par_iter()
            .map_init(Scratch::default, |scratch, &text| {
                let doc = unique[text];
                let again = text_of(doc).map_err(RereadError::Read)?;
                let (digest, set) = hasher.digest_and_set(&again, scratch);
                if exact.get(&digest) != Some(&doc) {
                    return Err(RereadError::Changed { doc });
                }
                Ok((text, set))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.reread_sets.extend(sets);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_store_keeps_the_chosen_runs() {
        let mut store = RunStore::default();
        // runs [1, 2], [], [3, 4, 5], all kept: the block as it is
        store.push_block(vec![1, 2, 3, 4, 5], &[2, 2, 5], &[0, 1, 2]);
        // runs [6], [7, 8], [9]: the first and last kept, moved to the front
        store.push_block(vec![6, 7, 8, 9], &[1, 3, 4], &[0, 2]);
        // nothing kept: no block
        store.push_block(vec![10, 11], &[2], &[]);
        // only empty runs: no block either
        store.push_block(Vec::new(), &[0, 0], &[0, 1]);
        let runs: Vec<&[u64]> = (0..store.runs.len()).map(|i| store.run(i)).collect();
        assert_eq!(runs, vec![&[1, 2][..], &[], &[3, 4, 5], &[6], &[9], &[], &[]]);
        assert_eq!(store.blocks.len(), 2);
        assert_eq!(store.blocks[1].len(), 2);
        // sorting into sets, in place; empty runs are left alone
        let mut store2 = RunStore::default();
        store2.push_block(vec![5, 3, 5, 1, 9, 9], &[4, 4, 6], &[0, 1, 2]);
        store2.sort_runs(&[0, 1, 2]);
        assert_eq!(store2.run(0), &[1, 3, 5]);
        assert_eq!(store2.run(1), &[] as &[u64]);
        assert_eq!(store2.run(2), &[9]);
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    fn texts() -> Vec<String> {
        ["a b c d e f g", "a b c d e f h", "x y z", "a b c d e f g"].map(String::from).to_vec()
    }

    #[test]
    fn options_out_of_range_are_refused_naming_the_option() {
        let refused = |options: DedupOptions| Deduper::new(options).err().expect("refused");
        let d = DedupOptions::default;
        assert_eq!(
            refused(DedupOptions { threshold: 0.0, ..d() }).to_string(),
            "threshold must be in (0, 1], found 0"
        );
        assert!(matches!(
            refused(DedupOptions { shingle_size: 0, ..d() }),
            Error::InvalidOption { name: "shingle_size", .. }
        ));
        assert!(matches!(
            refused(DedupOptions { num_perm: 0, ..d() }),
            Error::InvalidOption { name: "num_perm", .. }
        ));
        assert!(matches!(
            refused(DedupOptions { recall: 1.0, ..d() }),
            Error::InvalidOption { name: "recall", .. }
        ));
        let banding = Some(Banding { bands: 64, rows: 4 });
        assert!(matches!(
            refused(DedupOptions { banding, ..d() }),
            Error::InvalidOption { name: "bands × rows", .. }
        ));
        let both = DedupOptions { exact_only: true, exact_pairs: true, ..d() };
        assert_eq!(refused(both), Error::Conflict { first: "exact_only", second: "exact_pairs" });
    }

    #[test]
    fn hashing_ahead_equals_adding() {
        let mut added = Deduper::new(DedupOptions { threshold: 0.5, ..DedupOptions::default() }).unwrap();
        added.add(&texts(), None);
        let mut ahead = Deduper::new(DedupOptions { threshold: 0.5, ..DedupOptions::default() }).unwrap();
        let hasher = ahead.batch_hasher();
        let (first, second) = (hasher.hash(&texts()[..2]), hasher.hash(&texts()[2..]));
        ahead.absorb(&texts()[..2], None, first);
        ahead.absorb(&texts()[2..], None, second);
        let (a, b) = (added.finish(), ahead.finish());
        assert_eq!(a.keep, b.keep);
        assert_eq!(a.pairs, b.pairs);
        assert_eq!((b.summary.exact_duplicates, b.summary.near_duplicates), (1, 1));
    }

    /// A corpus with exact copies, near copies, texts too short for a shingle, an empty text,
    /// and a hundred one-word edits of one text (LSH buckets above the pairwise limit).
    fn mixed_corpus() -> Vec<String> {
        let spec = crate::planted::PlantedSpec {
            base_docs: 40,
            min_words: 20,
            max_words: 60,
            ..crate::planted::PlantedSpec::default()
        };
        let mut docs = crate::planted::planted_corpus(&spec).docs;
        let copies: Vec<String> = docs.iter().step_by(7).cloned().collect();
        docs.extend(copies.into_iter().map(|d| d.to_uppercase()));
        docs.extend(["", "a b", "A  b", "x"].map(String::from));
        let base: Vec<String> = (0..300).map(|w| format!("w{w}")).collect();
        for i in 0..100 {
            let mut words = base.clone();
            words[i * 3] = format!("edit{i}");
            docs.push(words.join(" "));
        }
        docs
    }

    /// What a distributed dedup computes from the public pieces (digests and band keys per
    /// document, `candidate_pairs`, `similarity`, `cluster_groups`, `KeepPolicy::choose`):
    /// per document its cluster (`None`: no duplicate) and keep flag.
    fn from_pieces(texts: &[String], options: &DedupOptions) -> (Vec<Option<usize>>, Vec<bool>) {
        let hasher = BatchHasher::new(options.clone()).unwrap();
        // hashed in uneven batches, as partitions would be
        let mut digests: Vec<[u8; 32]> = Vec::new();
        let mut keys: Vec<Option<Vec<u64>>> = Vec::new();
        for batch in texts.chunks(37) {
            for doc in hasher.hash(batch).docs() {
                digests.push(*doc.digest);
                keys.push(doc.band_keys.map(<[u64]>::to_vec));
            }
        }
        let mut first: HashMap<[u8; 32], u32> = HashMap::new();
        let representative: Vec<u32> =
            digests.iter().enumerate().map(|(d, g)| *first.entry(*g).or_insert(d as u32)).collect();
        let candidates: Vec<u32> = (0..texts.len() as u32)
            .filter(|&d| representative[d as usize] == d && keys[d as usize].is_some())
            .collect();
        let candidate_keys: Vec<&[u64]> =
            candidates.iter().map(|&d| keys[d as usize].as_deref().unwrap()).collect();
        let near: Vec<(u32, u32)> = if options.exact_only {
            Vec::new()
        } else {
            candidate_pairs(&candidate_keys)
                .0
                .into_iter()
                .map(|(a, b)| (candidates[a as usize], candidates[b as usize]))
                .filter(|&(a, b)| {
                    hasher.similarity(&texts[a as usize], &texts[b as usize]) >= options.threshold
                })
                .collect()
        };
        let lengths: Vec<u64> = texts.iter().map(|t| t.len() as u64).collect();
        let (mut cluster, mut keep) = (vec![None; texts.len()], vec![true; texts.len()]);
        for (id, members) in cluster_groups(&representative, near).into_iter().enumerate() {
            let kept = options.keep.choose(&members, &lengths, &[]);
            for m in members {
                cluster[m as usize] = Some(id);
                keep[m as usize] = m == kept;
            }
        }
        (cluster, keep)
    }

    #[test]
    fn the_public_pieces_reproduce_a_deduper() {
        let texts = mixed_corpus();
        let d = DedupOptions::default;
        let settings = [
            d(),
            DedupOptions { threshold: 0.6, keep: KeepPolicy::Longest, ..d() },
            DedupOptions { verify: Verify::Estimate, signature: SignatureMode::Fss, ..d() },
            DedupOptions { signature: SignatureMode::Datasketch, shingle_size: 3, ..d() },
            DedupOptions { exact_only: true, ..d() },
        ];
        for options in settings {
            let mut deduper = Deduper::new(options.clone()).unwrap();
            deduper.add(&texts, None);
            let result = deduper.finish();
            let mut cluster = vec![None; texts.len()];
            for c in &result.clusters {
                for m in &c.members {
                    cluster[m.doc as usize] = Some(c.id);
                }
            }
            let (got_cluster, got_keep) = from_pieces(&texts, &options);
            assert_eq!(got_cluster, cluster, "{options:?}");
            assert_eq!(got_keep, result.keep, "{options:?}");
            if !options.exact_only {
                assert!(
                    result.summary.near_duplicates > 0 && result.summary.large_buckets > 0,
                    "{options:?}"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "another deduper")]
    fn a_batch_from_another_deduper_is_refused() {
        let other = Deduper::new(DedupOptions::default()).unwrap();
        let hashed = other.batch_hasher().hash(&texts());
        Deduper::new(DedupOptions::default()).unwrap().absorb(&texts(), None, hashed);
    }
}
