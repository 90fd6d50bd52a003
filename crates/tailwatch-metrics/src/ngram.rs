//! N-gram keys and tables: exact counts keyed by a stable 64-bit hash, or an HLL sketch.
use std::hash::{BuildHasherDefault, Hasher};

use datasketches::hll::{HllSketch, HllType, HllUnion};
use xxhash_rust::xxh3::xxh3_64;

/// Highest n-gram order tracked corpus-wide (distinct_1..distinct_4, rep_2..rep_4).
pub const MAX_ORDER: usize = 4;

/// log2 of the number of HLL registers: relative standard error about 1.04/sqrt(2^14) = 0.8 %.
pub const HLL_LG_K: u8 = 14;

/// Combine the key of an (n-1)-gram with the hash of the next token into the n-gram's key.
///
/// Keys are stable across runs and machines (xxh3 over little-endian bytes), so profiles built
/// anywhere merge exactly. Distinct n-grams collide with probability about `d^2 / 2^65`.
#[inline]
pub fn extend_key(prefix: u64, token: u64) -> u64 {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&prefix.to_le_bytes());
    bytes[8..].copy_from_slice(&token.to_le_bytes());
    xxh3_64(&bytes)
}

/// Call `f(order, key)` for every n-gram of orders `1..=max_order` in a token-hash sequence.
/// Order-1 keys are the token hashes themselves.
pub fn for_each_ngram(hashes: &[u64], max_order: usize, mut f: impl FnMut(usize, u64)) {
    for start in 0..hashes.len() {
        let mut key = hashes[start];
        f(1, key);
        for (offset, &h) in hashes[start + 1..].iter().take(max_order.saturating_sub(1)).enumerate() {
            key = extend_key(key, h);
            f(offset + 2, key);
        }
    }
}

/// A hasher for keys that are already uniform 64-bit hashes.
#[derive(Default, Clone, Copy)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Hash map keyed by pre-hashed n-gram keys.
pub type KeyMap<V> = hashbrown::HashMap<u64, V, BuildHasherDefault<IdentityHasher>>;

/// Occurrences of one n-gram: total count and number of documents holding it (saturating).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NgramStat {
    /// Occurrences in the corpus.
    pub count: u32,
    /// Documents that contain it at least once.
    pub docs: u32,
}

/// The distinct n-grams of one order.
#[derive(Debug, Clone)]
pub enum NgramTable {
    /// Exact counts per n-gram key.
    Exact(KeyMap<NgramStat>),
    /// Distinct count only, estimated by an HLL sketch (after the memory budget was exceeded).
    Sketch(Box<HllSketch>),
}

impl Default for NgramTable {
    fn default() -> Self {
        NgramTable::Exact(KeyMap::default())
    }
}

fn new_sketch() -> HllSketch {
    HllSketch::new(HLL_LG_K, HllType::Hll8).expect("valid HLL parameters")
}

impl NgramTable {
    /// Record `count` occurrences of `key` in one document.
    #[inline]
    pub fn add(&mut self, key: u64, count: u32) {
        match self {
            NgramTable::Exact(map) => {
                let stat = map.entry(key).or_default();
                stat.count = stat.count.saturating_add(count);
                stat.docs = stat.docs.saturating_add(1);
            }
            NgramTable::Sketch(sketch) => sketch.update(key),
        }
    }

    /// Number of distinct n-grams (estimated for sketches).
    pub fn distinct(&self) -> f64 {
        match self {
            NgramTable::Exact(map) => map.len() as f64,
            NgramTable::Sketch(sketch) => sketch.estimate(),
        }
    }

    /// Whether the table is exact.
    pub fn is_exact(&self) -> bool {
        matches!(self, NgramTable::Exact(_))
    }

    /// The exact map, if exact.
    pub fn exact(&self) -> Option<&KeyMap<NgramStat>> {
        match self {
            NgramTable::Exact(map) => Some(map),
            NgramTable::Sketch(_) => None,
        }
    }

    /// Approximate heap bytes used.
    pub fn memory_bytes(&self) -> usize {
        match self {
            NgramTable::Exact(map) => map.capacity() * (std::mem::size_of::<(u64, NgramStat)>() + 1),
            NgramTable::Sketch(sketch) => sketch.estimated_size(),
        }
    }

    /// Switch to a sketch, keeping the distinct count (approximately) and dropping the counts.
    pub fn into_sketch(self) -> Self {
        match self {
            NgramTable::Exact(map) => {
                let mut sketch = new_sketch();
                for key in map.keys() {
                    sketch.update(*key);
                }
                NgramTable::Sketch(Box::new(sketch))
            }
            sketch => sketch,
        }
    }

    /// Merge `other` into `self`. Exact + exact stays exact; anything else becomes a sketch.
    pub fn merge(&mut self, other: NgramTable) {
        match (&mut *self, other) {
            (NgramTable::Exact(a), NgramTable::Exact(b)) => {
                if a.len() < b.len() {
                    let small = std::mem::replace(a, b);
                    merge_maps(a, small);
                } else {
                    merge_maps(a, b);
                }
            }
            (_, other) => {
                let mine = std::mem::take(self).into_sketch();
                let theirs = other.into_sketch();
                let (NgramTable::Sketch(a), NgramTable::Sketch(b)) = (mine, theirs) else { unreachable!() };
                let mut union = HllUnion::new(HLL_LG_K).expect("valid HLL parameters");
                union.update(&a);
                union.update(&b);
                *self = NgramTable::Sketch(Box::new(union.to_sketch(HllType::Hll8)));
            }
        }
    }

    /// Serialize: exact tables as key-sorted triples, sketches as DataSketches bytes.
    pub fn to_wire(&self) -> NgramWire {
        match self {
            NgramTable::Exact(map) => {
                let mut entries: Vec<(u64, u32, u32)> =
                    map.iter().map(|(k, s)| (*k, s.count, s.docs)).collect();
                entries.sort_unstable_by_key(|e| e.0);
                NgramWire::Exact(entries)
            }
            NgramTable::Sketch(sketch) => NgramWire::Sketch(sketch.serialize()),
        }
    }

    /// Deserialize what [`NgramTable::to_wire`] wrote.
    pub fn from_wire(wire: NgramWire) -> Result<Self, String> {
        Ok(match wire {
            NgramWire::Exact(entries) => {
                let mut map = KeyMap::with_capacity_and_hasher(entries.len(), Default::default());
                for (k, count, docs) in entries {
                    map.insert(k, NgramStat { count, docs });
                }
                NgramTable::Exact(map)
            }
            NgramWire::Sketch(bytes) => {
                NgramTable::Sketch(Box::new(HllSketch::deserialize(&bytes).map_err(|e| e.to_string())?))
            }
        })
    }
}

fn merge_maps(into: &mut KeyMap<NgramStat>, from: KeyMap<NgramStat>) {
    for (key, stat) in from {
        let entry = into.entry(key).or_default();
        entry.count = entry.count.saturating_add(stat.count);
        entry.docs = entry.docs.saturating_add(stat.docs);
    }
}

/// Serialized form of an [`NgramTable`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum NgramWire {
    /// `(key, count, docs)` sorted by key.
    Exact(Vec<(u64, u32, u32)>),
    /// DataSketches HLL bytes.
    Sketch(Vec<u8>),
}

/// Sort `keys` and call `f(key, run_length)` for each distinct key.
pub fn for_each_run(keys: &mut [u64], mut f: impl FnMut(u64, u32)) {
    keys.sort_unstable();
    let mut i = 0;
    while i < keys.len() {
        let mut j = i + 1;
        while j < keys.len() && keys[j] == keys[i] {
            j += 1;
        }
        f(keys[i], (j - i) as u32);
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngrams_enumerated_in_order() {
        let mut seen = Vec::new();
        for_each_ngram(&[1, 2, 3], 2, |n, k| seen.push((n, k)));
        assert_eq!(seen, vec![(1, 1), (2, extend_key(1, 2)), (1, 2), (2, extend_key(2, 3)), (1, 3)]);
    }

    #[test]
    fn sketch_merge_estimates_union() {
        let mut a = NgramTable::default();
        let mut b = NgramTable::default();
        for k in 0..20_000u64 {
            a.add(extend_key(k, 0), 1);
            b.add(extend_key(k + 10_000, 0), 1);
        }
        let mut exact = a.clone();
        exact.merge(b.clone());
        assert_eq!(exact.distinct(), 30_000.0);
        let mut sketched = a.into_sketch();
        sketched.merge(b);
        let est = sketched.distinct();
        assert!((est - 30_000.0).abs() / 30_000.0 < 0.03, "{est}");
    }
}
