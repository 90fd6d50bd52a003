//! The dedup pipeline: exact groups by BLAKE3 of normalized text, then near duplicates by
//! MinHash + LSH (or an exact join), verified, clustered by union-find, one record kept per
//! cluster.
use std::collections::HashMap;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::allpairs::all_pairs;
use crate::lsh::{Banding, band_keys, candidate_pairs};
use crate::minhash::{
    Affine32Permutations, OphSketcher, Permutations, affine32_signature, classic_signature, estimate_jaccard,
    fss_signature,
};
use crate::normalize::{NormalizeOptions, normalize_with_word_hashes};
use crate::shingle::{jaccard, shingle_set_sha1, shingles_from_words};
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
    /// Exact Jaccard of the shingle sets (precision 1 at the threshold).
    Exact,
    /// The signatures' estimated Jaccard (no shingle sets kept: less memory).
    Estimate,
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
    /// Normalization, shingling, signatures, band keys (parallel).
    pub hashing: f64,
    /// CPU seconds of normalization and the BLAKE3 exact-duplicate hash.
    pub normalize_cpu: f64,
    /// CPU seconds of shingle hashing, signatures and band keys (what MinHash libraries time).
    pub signature_cpu: f64,
    /// Candidate generation (LSH buckets or the exact join).
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
    pub warnings: Vec<String>,
}

/// Buffers reused from one document to the next by a hashing thread.
#[derive(Default)]
struct Scratch {
    normalized: Vec<u8>,
    words: Vec<u64>,
    signature: Vec<u32>,
}

/// Per-document state kept between batches.
struct Hashed {
    digest: [u8; 32],
    empty: bool,
    shingles: Vec<u64>,
    signature: Vec<u32>,
    keys: Vec<u64>,
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
    /// Append `runs`, copied in parallel into one block per hashing thread (so the new memory
    /// is first touched there, not on the calling thread).
    fn extend(&mut self, runs: &[&[u64]]) {
        let parts = rayon::current_num_threads().max(1);
        let per_part = runs.len().div_ceil(parts).max(1);
        let blocks: Vec<Vec<u64>> = runs
            .par_chunks(per_part)
            .map(|chunk| {
                let mut block = Vec::with_capacity(chunk.iter().map(|r| r.len()).sum());
                for run in chunk {
                    block.extend_from_slice(run);
                }
                block
            })
            .collect();
        for (chunk, block) in runs.chunks(per_part).zip(blocks) {
            let index = self.blocks.len();
            let mut start = 0;
            for run in chunk {
                self.runs.push((index, start, run.len()));
                start += run.len();
            }
            self.blocks.push(block);
        }
    }

    /// Sort and deduplicate these runs in place, block by block in parallel: each becomes a
    /// set (sorting a set again leaves it as it is).
    fn sort_runs(&mut self, which: &[usize]) {
        let mut by_block: Vec<Vec<usize>> = vec![Vec::new(); self.blocks.len()];
        for &run in which {
            by_block[self.runs[run].0].push(run);
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
        let (block, start, len) = self.runs[index];
        &self.blocks[block][start..start + len]
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

/// Streaming dedup: feed batches with [`Deduper::add`], then [`Deduper::finish`]. Memory:
/// per distinct text its shingle hashes (8 bytes per shingle, unless `Verify::Estimate`), its band
/// keys (8 bytes per band) and, with `Verify::Estimate`, its signature (4 bytes per slot); per
/// document 24 bytes.
pub struct Deduper {
    options: DedupOptions,
    banding: Banding,
    permutations: Option<Permutations>,
    affine: Option<Affine32Permutations>,
    oph: Option<OphSketcher>,
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
    hashing_seconds: f64,
    normalize_nanos: std::sync::atomic::AtomicU64,
    signature_nanos: std::sync::atomic::AtomicU64,
}

impl Deduper {
    /// A deduper with `options` (validated by the caller: threshold in (0, 1], sizes ≥ 1).
    pub fn new(options: DedupOptions) -> Self {
        let banding = options.banding();
        let permutations =
            matches!(options.signature, SignatureMode::Classic | SignatureMode::DatasketchLegacy)
                .then(|| Permutations::datasketch(options.num_perm, options.seed as u32));
        let oph = (options.signature == SignatureMode::Oph)
            .then(|| OphSketcher::new(options.num_perm, options.seed));
        let affine = (options.signature == SignatureMode::Datasketch)
            .then(|| Affine32Permutations::datasketch(options.num_perm, options.seed as u32));
        Self {
            options,
            banding,
            permutations,
            affine,
            oph,
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
            hashing_seconds: 0.0,
            normalize_nanos: Default::default(),
            signature_nanos: Default::default(),
        }
    }

    /// The bands × rows in use.
    pub fn banding(&self) -> Banding {
        self.banding
    }

    fn hash_one(&self, text: &str, scratch: &mut Scratch) -> Hashed {
        use std::sync::atomic::Ordering::Relaxed;
        let start = Instant::now();
        let Scratch { normalized, words, signature } = scratch;
        normalize_with_word_hashes(text, self.options.normalize, normalized, words);
        let digest = *blake3::hash(normalized).as_bytes();
        let empty = normalized.is_empty();
        let middle = Instant::now();
        self.normalize_nanos.fetch_add((middle - start).as_nanos() as u64, Relaxed);
        if self.options.exact_only {
            return Hashed { digest, empty, shingles: Vec::new(), signature: Vec::new(), keys: Vec::new() };
        }
        let n = self.options.shingle_size;
        signature.clear();
        signature.resize(self.options.num_perm, 0);
        let from_words = || {
            let mut hashes = Vec::with_capacity(words.len());
            shingles_from_words(words, n, self.options.seed, &mut hashes);
            hashes
        };
        let shingles = match self.options.signature {
            // unsorted hashes (duplicates kept): MinHash ignores duplicates, and only the texts
            // that become candidates are sorted into sets, in `finish`
            SignatureMode::Oph => {
                let hashes = from_words();
                self.oph.as_ref().expect("sketcher").signature_of_mixed(&hashes, signature);
                hashes
            }
            SignatureMode::Fss => {
                let hashes = from_words();
                fss_signature(&hashes, self.options.num_perm, self.options.seed, signature);
                hashes
            }
            SignatureMode::Classic => {
                let hashes = from_words();
                let h32: Vec<u32> = hashes.iter().map(|h| (h >> 32) as u32 ^ *h as u32).collect();
                classic_signature(self.permutations.as_ref().expect("permutations"), &h32, signature);
                hashes
            }
            SignatureMode::Datasketch => {
                let set =
                    shingle_set_sha1(std::str::from_utf8(normalized).expect("normalized text is UTF-8"), n);
                affine32_signature(self.affine.as_ref().expect("permutations"), &set, signature);
                set.into_iter().map(u64::from).collect()
            }
            SignatureMode::DatasketchLegacy => {
                let set =
                    shingle_set_sha1(std::str::from_utf8(normalized).expect("normalized text is UTF-8"), n);
                classic_signature(self.permutations.as_ref().expect("permutations"), &set, signature);
                set.into_iter().map(u64::from).collect()
            }
        };
        let mut keys = Vec::new();
        if !shingles.is_empty() {
            band_keys(signature, self.banding, &mut keys);
        }
        let signature = if self.options.verify == Verify::Estimate { signature.clone() } else { Vec::new() };
        self.signature_nanos.fetch_add(middle.elapsed().as_nanos() as u64, Relaxed);
        Hashed { digest, empty, shingles, signature, keys }
    }

    /// Add documents (in input order); `extras` (same length) feed `KeepPolicy::Prefer`.
    pub fn add(&mut self, texts: &[String], extras: Option<&[Option<String>]>) {
        let start = Instant::now();
        let hashed: Vec<Hashed> =
            texts.par_iter().map_init(Scratch::default, |scratch, t| self.hash_one(t, scratch)).collect();
        // exact duplicates, in input order; the first appearances go on
        let mut new_texts: Vec<usize> = Vec::new();
        for (i, (text, h)) in texts.iter().zip(&hashed).enumerate() {
            let doc = self.representative.len() as u32;
            self.lengths.push(text.len() as u64);
            self.extras.push(extras.and_then(|e| e.get(i).cloned().flatten()));
            if h.empty {
                self.empty += 1;
            }
            match self.exact.get(&h.digest) {
                Some(&first) => self.representative.push(first),
                None => {
                    self.exact.insert(h.digest, doc);
                    self.representative.push(doc);
                    self.unique.push(doc);
                    new_texts.push(i);
                    if self.options.exact_only {
                        continue;
                    }
                    if self.options.verify == Verify::Estimate {
                        self.signatures.extend_from_slice(&h.signature);
                    }
                    self.has_shingles.push(!h.keys.is_empty());
                    if h.keys.is_empty() {
                        self.keys.extend(std::iter::repeat_n(0, self.banding.bands));
                    } else {
                        self.keys.extend_from_slice(&h.keys);
                    }
                }
            }
        }
        // the new texts' shingle hashes, copied (and the batch freed) by the hashing threads
        let keep_shingles = self.options.verify == Verify::Exact || self.options.exact_pairs;
        let runs: Vec<&[u64]> = new_texts
            .iter()
            .map(|&i| if keep_shingles { hashed[i].shingles.as_slice() } else { &[] })
            .collect();
        self.shingles.extend(&runs);
        drop(runs);
        hashed.into_par_iter().with_min_len(64).for_each(drop);
        self.hashing_seconds += start.elapsed().as_secs_f64();
    }

    /// Turn the stored shingle hashes of these distinct texts into sorted, distinct sets, in
    /// place and in parallel (only texts in candidate pairs are ever compared).
    fn sort_sets(&mut self, which: &[usize]) {
        self.shingles.sort_runs(which);
    }

    /// Jaccard similarity of two distinct texts: exact on their shingle sets (sorted by
    /// [`Self::sort_sets`]), or estimated from their signatures.
    fn similarity(&self, a: usize, b: usize) -> f64 {
        match self.options.verify {
            Verify::Exact => jaccard(self.shingles.run(a), self.shingles.run(b)),
            Verify::Estimate => {
                let k = self.options.num_perm;
                estimate_jaccard(&self.signatures[a * k..(a + 1) * k], &self.signatures[b * k..(b + 1) * k])
            }
        }
    }

    fn chosen(&self, members: &[u32]) -> u32 {
        match &self.options.keep {
            KeepPolicy::First => members[0],
            KeepPolicy::Longest => *members
                .iter()
                .max_by(|a, b| self.lengths[**a as usize].cmp(&self.lengths[**b as usize]).then(b.cmp(a)))
                .expect("non-empty"),
            KeepPolicy::Prefer(value) => members
                .iter()
                .copied()
                .find(|&d| self.extras[d as usize].as_deref() == Some(value.as_str()))
                .unwrap_or(members[0]),
        }
    }

    /// Cluster everything added and decide what to keep.
    pub fn finish(mut self) -> DedupResult {
        let n = self.representative.len();
        let mut summary = DedupSummary {
            docs: n as u64,
            unique_texts: self.unique.len() as u64,
            empty_docs: self.empty,
            ..DedupSummary::default()
        };
        summary.seconds.hashing = self.hashing_seconds;
        summary.seconds.normalize_cpu =
            self.normalize_nanos.load(std::sync::atomic::Ordering::Relaxed) as f64 * 1e-9;
        summary.seconds.signature_cpu =
            self.signature_nanos.load(std::sync::atomic::Ordering::Relaxed) as f64 * 1e-9;
        let mut warnings = Vec::new();
        // near-duplicate pairs among distinct texts (indices into `unique`)
        let mut near: Vec<(u32, u32, f64)> = Vec::new();
        if !self.options.exact_only {
            let start = Instant::now();
            let with_shingles: Vec<usize> =
                (0..self.unique.len()).filter(|&u| self.has_shingles[u]).collect();
            let candidates: Vec<(u32, u32, f64)> = if self.options.exact_pairs {
                self.sort_sets(&with_shingles);
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
                    warnings.push(format!(
                        "{large} LSH bucket(s) held more than {} documents; their members were compared with the bucket's first document only",
                        crate::lsh::MAX_PAIRWISE_BUCKET
                    ));
                }
                pairs
                    .into_iter()
                    .map(|(a, b)| {
                        (with_shingles[a as usize] as u32, with_shingles[b as usize] as u32, f64::NAN)
                    })
                    .collect()
            };
            summary.candidate_pairs = candidates.len() as u64;
            if self.options.verify == Verify::Exact && !self.options.exact_pairs {
                let mut involved: Vec<usize> =
                    candidates.iter().flat_map(|&(a, b, _)| [a as usize, b as usize]).collect();
                involved.sort_unstable();
                involved.dedup();
                self.sort_sets(&involved);
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
        let mut uf = UnionFind::new(n);
        for (doc, &rep) in self.representative.iter().enumerate() {
            uf.union(doc as u32, rep);
        }
        for &(a, b, _) in &near {
            uf.union(self.unique[a as usize], self.unique[b as usize]);
        }
        let pairs =
            near.iter().map(|&(a, b, j)| (self.unique[a as usize], self.unique[b as usize], j)).collect();
        let unique_index: HashMap<u32, usize> =
            self.unique.iter().enumerate().map(|(i, &d)| (d, i)).collect();
        let mut keep = vec![true; n];
        let mut clusters = Vec::new();
        for (id, members) in uf.groups(2).into_iter().enumerate() {
            let kept = self.chosen(&members);
            let kept_rep = unique_index[&self.representative[kept as usize]];
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
                    self.similarity(unique_index[&rep], kept_rep)
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
                if exact == members.len() {
                    warnings.push(format!(
                        "cluster {id} has {} members, all the same normalized text: the corpus repeats one record {} times (a collapsed mode)",
                        members.len(),
                        members.len()
                    ));
                } else {
                    warnings.push(format!(
                    "cluster {id} has {} members ({exact} exact duplicates; more than --max-cluster-size {}): near-duplicate links chain transitively (A~B and B~C put A, B, C together), and its least similar member has Jaccard {least:.3} to the kept record; check it, or raise --threshold or --shingle",
                    members.len(),
                    self.options.max_cluster_size
                ));
                }
            }
            clusters.push(Cluster { id, kept, members: out });
        }
        summary.clusters = clusters.len() as u64;
        summary.kept = keep.iter().filter(|&&k| k).count() as u64;
        summary.removal_rate = if n == 0 { 0.0 } else { (n as u64 - summary.kept) as f64 / n as f64 };
        summary.memory_bytes = (self.shingles.memory_bytes()
            + self.signatures.capacity() * 4
            + self.keys.capacity() * 8
            + n * 24
            + self.exact.capacity() * 40) as u64;
        summary.seconds.cluster = start.elapsed().as_secs_f64();
        DedupResult { keep, clusters, pairs, summary, warnings }
    }
}
