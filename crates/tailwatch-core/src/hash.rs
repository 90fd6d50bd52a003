//! Stable content hashes: identical across runs, machines, threads and profile merges.
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed, xxh3_128};

/// 128-bit content hash of a document's exact bytes, used to find exact duplicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocHash(pub u128);

/// Hash a document's bytes for duplicate detection (xxh3-128).
pub fn content_hash(text: &str) -> DocHash {
    DocHash(xxh3_128(text.as_bytes()))
}

/// The key that orders documents in the bottom-k sample (xxh3-64 with the sample seed).
pub fn sample_key(text: &str, seed: u64) -> u64 {
    xxh3_64_with_seed(text.as_bytes(), seed)
}

/// Stable 64-bit hash of a token string (xxh3-64, seed 0); n-gram keys are built from these.
#[inline]
pub fn stable_hash(token: &str) -> u64 {
    xxh3_64(token.as_bytes())
}
