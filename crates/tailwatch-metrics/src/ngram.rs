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

/// What an [`ExactTable`] stores per distinct key: the key alone (a set) or the key with its
/// [`NgramStat`].
pub trait TableEntry: Copy + Default + Send + Sync + std::fmt::Debug {
    /// The 64-bit n-gram key.
    fn key(&self) -> u64;
    /// `self` with the statistics of `other` (same key) added when `both`; else `self`.
    /// Branch-free in the merge loops.
    fn absorb(self, other: Self, both: bool) -> Self;
    /// A new entry for one document holding `key` `count` times.
    fn new(key: u64, count: u32) -> Self;
}

impl TableEntry for (u64, NgramStat) {
    #[inline]
    fn key(&self) -> u64 {
        self.0
    }
    #[inline]
    fn absorb(self, other: Self, both: bool) -> Self {
        let extra = if both { other.1 } else { NgramStat::default() };
        (self.0, combine(self.1, extra))
    }
    #[inline]
    fn new(key: u64, count: u32) -> Self {
        (key, NgramStat { count, docs: 1 })
    }
}

impl TableEntry for u64 {
    #[inline]
    fn key(&self) -> u64 {
        *self
    }
    #[inline]
    fn absorb(self, _: Self, _: bool) -> Self {
        self
    }
    #[inline]
    fn new(key: u64, _: u32) -> Self {
        key
    }
}

/// Smallest append buffer before it is sorted and merged (16 MiB of entries).
const MIN_PENDING: usize = 1 << 20;

/// Exact n-gram statistics as a key-sorted array, fed through an unsorted append buffer.
///
/// Adding is a push; when the buffer reaches the size of the sorted part (at least 2^20
/// entries) it is radix-sorted in place, collapsed and merged into the sorted part in place
/// with a branch-free merge. Inserts stay sequential in memory (a hash table of tens of
/// millions of n-grams misses the cache on every insert), keys are uniform hashes so two
/// radix passes leave in-cache buckets of a few hundred entries, distinct n-grams cost 16
/// bytes each (8 in a [`KeySet`], for orders whose statistics no metric reads), and merging
/// two tables is one linear pass. Reads need a [`ExactTable::compact`]ed table
/// ([`crate::Profile::seal`]).
#[derive(Debug, Clone)]
pub struct ExactTable<E: TableEntry = (u64, NgramStat)> {
    sorted: Vec<E>,
    pending: Vec<E>,
}

impl<E: TableEntry> Default for ExactTable<E> {
    fn default() -> Self {
        Self { sorted: Vec::new(), pending: Vec::new() }
    }
}

/// The distinct keys of one order, without statistics.
pub type KeySet = ExactTable<u64>;

#[inline]
fn combine(a: NgramStat, b: NgramStat) -> NgramStat {
    NgramStat { count: a.count.saturating_add(b.count), docs: a.docs.saturating_add(b.docs) }
}

/// Sort entries by key in place: an in-place MSD radix sort (American flag sort) on the top
/// byte, then on the next byte, then comparison sorts of the small buckets. Keys are uniform
/// hashes, so the buckets are even and, two levels down, fit in L1.
fn radix_sort<E: TableEntry>(entries: &mut [E], shift: u32) {
    if entries.len() <= 512 || shift < 48 {
        entries.sort_unstable_by_key(TableEntry::key);
        return;
    }
    let bucket = |key: u64| ((key >> shift) & 0xff) as usize;
    let mut ends = [0usize; 256];
    for e in entries.iter() {
        ends[bucket(e.key())] += 1;
    }
    let mut starts = [0usize; 256];
    let mut sum = 0;
    for b in 0..256 {
        starts[b] = sum;
        sum += ends[b];
        ends[b] = sum;
    }
    let mut next = starts;
    for b in 0..256 {
        while next[b] < ends[b] {
            let mut e = entries[next[b]];
            loop {
                let target = bucket(e.key());
                if target == b {
                    break;
                }
                std::mem::swap(&mut e, &mut entries[next[target]]);
                next[target] += 1;
            }
            entries[next[b]] = e;
            next[b] += 1;
        }
    }
    for b in 0..256 {
        radix_sort(&mut entries[starts[b]..ends[b]], shift - 8);
    }
}

/// Collapse runs of equal keys in a key-sorted vector, in place.
fn collapse_runs<E: TableEntry>(entries: &mut Vec<E>) {
    if entries.is_empty() {
        return;
    }
    let mut write = 0;
    for read in 1..entries.len() {
        if entries[read].key() == entries[write].key() {
            entries[write] = entries[write].absorb(entries[read], true);
        } else {
            write += 1;
            entries[write] = entries[read];
        }
    }
    entries.truncate(write + 1);
}

/// One step of a branch-free merge of `x` and `y`: the entry to write next (the smaller key
/// when `ascending`, else the larger; both combined when the keys are equal) and whether it
/// consumed `x` and `y`.
#[inline]
fn merge_step<E: TableEntry>(x: E, y: E, ascending: bool) -> (E, bool, bool) {
    let (a, b) = if ascending { (x.key(), y.key()) } else { (y.key(), x.key()) };
    let take_x = a <= b;
    let take_y = b <= a;
    let (first, second) = if take_x { (x, y) } else { (y, x) };
    (first.absorb(second, take_x && take_y), take_x, take_y)
}

/// Merge the key-sorted, duplicate-free run `add` into the key-sorted, duplicate-free
/// `sorted`, in place: grow `sorted` by `add.len()`, merge from the back, then close the gap
/// that combined (shared) keys left at the front. The loop has no data-dependent branch (keys
/// are random, so a branchy merge mispredicts half the time), and nothing is allocated but
/// the growth of `sorted` itself.
fn merge_sorted_into<E: TableEntry>(sorted: &mut Vec<E>, add: &[E]) {
    if add.is_empty() {
        return;
    }
    let old = sorted.len();
    // exact growth: a large vector grows by remapping its pages, without copying
    sorted.reserve_exact(add.len());
    sorted.resize(old + add.len(), E::default());
    let (mut i, mut j, mut w) = (old, add.len(), old + add.len());
    while i > 0 && j > 0 {
        let (entry, take_x, take_y) = merge_step(sorted[i - 1], add[j - 1], false);
        w -= 1;
        sorted[w] = entry;
        i -= usize::from(take_x);
        j -= usize::from(take_y);
    }
    // the result is sorted[..i] ++ add[..j] ++ sorted[w..] (one of i, j is zero)
    if j > 0 {
        w -= j;
        sorted[w..w + j].copy_from_slice(&add[..j]);
    }
    if w > i {
        let gap = w - i;
        sorted.copy_within(w.., i);
        sorted.truncate(sorted.len() - gap);
    }
}

impl<E: TableEntry> ExactTable<E> {
    #[inline]
    fn add(&mut self, key: u64, count: u32) {
        self.pending.push(E::new(key, count));
        if self.pending.len() >= self.sorted.len().max(MIN_PENDING) {
            self.compact();
        }
    }

    /// Sort the buffered entries and merge them into the sorted part.
    pub fn compact(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        radix_sort(&mut self.pending, 56);
        collapse_runs(&mut self.pending);
        merge_sorted_into(&mut self.sorted, &self.pending);
        self.pending.clear();
    }

    fn assert_compacted(&self) {
        assert!(self.pending.is_empty(), "n-gram table read before Profile::seal()");
    }

    /// Distinct n-grams.
    pub fn len(&self) -> usize {
        self.assert_compacted();
        self.sorted.len()
    }

    /// Whether no n-gram was seen.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry in key order.
    pub fn entries(&self) -> &[E] {
        self.assert_compacted();
        &self.sorted
    }

    fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.sorted.iter().chain(&self.pending).map(TableEntry::key)
    }

    fn memory_bytes(&self) -> usize {
        (self.sorted.capacity() + self.pending.capacity()) * std::mem::size_of::<E>()
    }

    fn merge(&mut self, mut other: ExactTable<E>) {
        rayon::join(|| self.compact(), || other.compact());
        if self.sorted.len() < other.sorted.len() {
            std::mem::swap(self, &mut other);
        }
        merge_sorted_into_parallel(&mut self.sorted, &other.sorted);
    }

    fn from_sorted(entries: Vec<E>) -> Result<Self, String> {
        if let Some(w) = entries.windows(2).find(|w| w[0].key() >= w[1].key()) {
            return Err(format!("n-gram keys out of order ({:#x} then {:#x})", w[0].key(), w[1].key()));
        }
        Ok(Self { sorted: entries, pending: Vec::new() })
    }
}

impl ExactTable<(u64, NgramStat)> {
    /// The statistics of one n-gram key (binary search).
    pub fn get(&self, key: u64) -> Option<NgramStat> {
        self.assert_compacted();
        self.sorted.binary_search_by_key(&key, |e| e.0).ok().map(|i| self.sorted[i].1)
    }

    /// The same keys without their statistics.
    fn into_keys(self) -> KeySet {
        let mut table = self;
        table.compact();
        KeySet { sorted: table.sorted.into_iter().map(|e| e.0).collect(), pending: Vec::new() }
    }
}

/// Key ranges (by the top 6 bits) of [`merge_sorted_into_parallel`].
const MERGE_RANGES: usize = 64;

/// [`merge_sorted_into`] on all threads: `sorted` grows by `add.len()`; each key range of
/// `sorted` is moved (last range first) to the tail of its output region, the ranges are
/// merged forward in place in parallel, then the regions are closed up. Same result.
fn merge_sorted_into_parallel<E: TableEntry>(sorted: &mut Vec<E>, add: &[E]) {
    use rayon::prelude::*;
    if add.len() < MIN_PENDING || sorted.len() < MIN_PENDING {
        merge_sorted_into(sorted, add);
        return;
    }
    let range_of = |key: u64| (key >> 58) as usize;
    let bounds = |entries: &[E]| -> Vec<usize> {
        (0..=MERGE_RANGES).map(|r| entries.partition_point(|e| range_of(e.key()) < r)).collect()
    };
    let old = sorted.len();
    let a = bounds(sorted);
    let b = bounds(add);
    sorted.reserve_exact(add.len());
    sorted.resize(old + add.len(), E::default());
    for r in (0..MERGE_RANGES).rev() {
        let a_len = a[r + 1] - a[r];
        sorted.copy_within(a[r]..a[r + 1], a[r + 1] + b[r + 1] - a_len);
    }
    let mut regions = Vec::with_capacity(MERGE_RANGES);
    let mut rest = sorted.as_mut_slice();
    for r in 0..MERGE_RANGES {
        let len = (a[r + 1] - a[r]) + (b[r + 1] - b[r]);
        let (region, tail) = rest.split_at_mut(len);
        regions.push((region, &add[b[r]..b[r + 1]]));
        rest = tail;
    }
    let written: Vec<usize> =
        regions.into_par_iter().map(|(region, add)| merge_forward_in_place(region, add)).collect();
    let mut write = 0;
    for r in 0..MERGE_RANGES {
        let start = a[r] + b[r];
        sorted.copy_within(start..start + written[r], write);
        write += written[r];
    }
    sorted.truncate(write);
}

/// Merge `add` with the sorted run at the tail of `region` (its last `region.len() -
/// add.len()` entries) into the front of `region`; returns the entries written. Writes never
/// overtake the unread tail: before each step, written + unread of `add` ≤ read position.
fn merge_forward_in_place<E: TableEntry>(region: &mut [E], add: &[E]) -> usize {
    let (mut i, mut j, mut w) = (add.len(), 0, 0);
    while i < region.len() && j < add.len() {
        let (entry, take_x, take_y) = merge_step(region[i], add[j], true);
        region[w] = entry;
        w += 1;
        i += usize::from(take_x);
        j += usize::from(take_y);
    }
    let rest = add.len() - j;
    region[w..w + rest].copy_from_slice(&add[j..]);
    w += rest;
    let rest = region.len() - i;
    region.copy_within(i.., w);
    w + rest
}

/// The distinct n-grams of one order.
#[derive(Debug, Clone)]
pub enum NgramTable {
    /// Exact counts and document frequencies per n-gram key.
    Exact(ExactTable),
    /// Exact distinct keys only (orders whose statistics no metric reads).
    Keys(KeySet),
    /// Distinct count only, estimated by an HLL sketch (after the memory budget was exceeded).
    Sketch(Box<HllSketch>),
}

impl Default for NgramTable {
    fn default() -> Self {
        NgramTable::Exact(ExactTable::default())
    }
}

fn new_sketch() -> HllSketch {
    HllSketch::new(HLL_LG_K, HllType::Hll8).expect("valid HLL parameters")
}

impl NgramTable {
    /// An empty exact table of keys only.
    pub fn keys_only() -> Self {
        NgramTable::Keys(KeySet::default())
    }

    /// Record `count` occurrences of `key` in one document.
    #[inline]
    pub fn add(&mut self, key: u64, count: u32) {
        match self {
            NgramTable::Exact(table) => table.add(key, count),
            NgramTable::Keys(table) => table.add(key, count),
            NgramTable::Sketch(sketch) => sketch.update(key),
        }
    }

    /// Make an exact table readable (sort and merge its buffer); a no-op for sketches.
    pub fn compact(&mut self) {
        match self {
            NgramTable::Exact(table) => table.compact(),
            NgramTable::Keys(table) => table.compact(),
            NgramTable::Sketch(_) => {}
        }
    }

    /// Number of distinct n-grams (estimated for sketches).
    pub fn distinct(&self) -> f64 {
        match self {
            NgramTable::Exact(table) => table.len() as f64,
            NgramTable::Keys(table) => table.len() as f64,
            NgramTable::Sketch(sketch) => sketch.estimate(),
        }
    }

    /// Whether the distinct count is exact.
    pub fn is_exact(&self) -> bool {
        !matches!(self, NgramTable::Sketch(_))
    }

    /// The exact table with statistics, if this is one.
    pub fn exact(&self) -> Option<&ExactTable> {
        match self {
            NgramTable::Exact(table) => Some(table),
            NgramTable::Keys(_) | NgramTable::Sketch(_) => None,
        }
    }

    /// Approximate heap bytes used.
    pub fn memory_bytes(&self) -> usize {
        match self {
            NgramTable::Exact(table) => table.memory_bytes(),
            NgramTable::Keys(table) => table.memory_bytes(),
            NgramTable::Sketch(sketch) => sketch.estimated_size(),
        }
    }

    /// Drop the statistics of an exact table, keeping its keys (a no-op for the other kinds).
    pub fn into_keys_only(self) -> Self {
        match self {
            NgramTable::Exact(table) => NgramTable::Keys(table.into_keys()),
            other => other,
        }
    }

    /// Switch to a sketch, keeping the distinct count (approximately) and dropping the counts.
    pub fn into_sketch(self) -> Self {
        let keys: Box<dyn Iterator<Item = u64>> = match &self {
            NgramTable::Exact(table) => Box::new(table.keys()),
            NgramTable::Keys(table) => Box::new(table.keys()),
            NgramTable::Sketch(_) => return self,
        };
        let mut sketch = new_sketch();
        for key in keys {
            sketch.update(key);
        }
        NgramTable::Sketch(Box::new(sketch))
    }

    /// Merge `other` into `self`. Two exact tables stay exact (keys only if either is); anything
    /// else becomes a sketch.
    pub fn merge(&mut self, other: NgramTable) {
        match (&mut *self, other) {
            (NgramTable::Exact(a), NgramTable::Exact(b)) => a.merge(b),
            (NgramTable::Keys(a), NgramTable::Keys(b)) => a.merge(b),
            (NgramTable::Keys(a), NgramTable::Exact(b)) => a.merge(b.into_keys()),
            (NgramTable::Exact(_), NgramTable::Keys(b)) => {
                let NgramTable::Keys(mut a) = std::mem::take(self).into_keys_only() else { unreachable!() };
                a.merge(b);
                *self = NgramTable::Keys(a);
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

    /// Serialize: exact tables as key-sorted triples or keys, sketches as DataSketches bytes.
    pub fn to_wire(&self) -> NgramWire {
        match self {
            NgramTable::Exact(table) => {
                NgramWire::Exact(table.entries().iter().map(|(k, s)| (*k, s.count, s.docs)).collect())
            }
            NgramTable::Keys(table) => NgramWire::Keys(table.entries().to_vec()),
            NgramTable::Sketch(sketch) => NgramWire::Sketch(sketch.serialize()),
        }
    }

    /// Deserialize what [`NgramTable::to_wire`] wrote (exact keys must be strictly increasing).
    pub fn from_wire(wire: NgramWire) -> Result<Self, String> {
        Ok(match wire {
            NgramWire::Exact(entries) => NgramTable::Exact(ExactTable::from_sorted(
                entries.into_iter().map(|(k, count, docs)| (k, NgramStat { count, docs })).collect(),
            )?),
            NgramWire::Sketch(bytes) => {
                NgramTable::Sketch(Box::new(HllSketch::deserialize(&bytes).map_err(|e| e.to_string())?))
            }
            NgramWire::Keys(keys) => NgramTable::Keys(KeySet::from_sorted(keys)?),
        })
    }
}

/// Serialized form of an [`NgramTable`]. New variants go at the end (postcard encodes the
/// variant index).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum NgramWire {
    /// `(key, count, docs)` sorted by key.
    Exact(Vec<(u64, u32, u32)>),
    /// DataSketches HLL bytes.
    Sketch(Vec<u8>),
    /// Keys only, sorted (since `.twp` format 2).
    Keys(Vec<u64>),
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
    fn exact_table_counts_and_merges() {
        let mut a = ExactTable::default();
        let mut b = ExactTable::default();
        let mut want: std::collections::BTreeMap<u64, NgramStat> = Default::default();
        // more than MIN_PENDING adds so that compaction runs mid-stream
        for i in 0..(3 * MIN_PENDING as u64) {
            let key = extend_key(i % 1_500_000, 7);
            let count = (i % 3) as u32 + 1;
            if i % 2 == 0 {
                a.add(key, count)
            } else {
                b.add(key, count)
            }
            let e = want.entry(key).or_default();
            *e = combine(*e, NgramStat { count, docs: 1 });
        }
        a.merge(b);
        a.compact();
        let got: Vec<(u64, NgramStat)> = a.entries().to_vec();
        let want: Vec<(u64, NgramStat)> = want.into_iter().collect();
        assert_eq!(got, want);
        assert_eq!(a.get(want[17].0), Some(want[17].1));
        assert_eq!(a.get(want[17].0 ^ 1), None);
    }

    #[test]
    fn in_place_merge_combines_shared_keys() {
        let stat = |count| NgramStat { count, docs: 1 };
        for (a, b) in [
            (vec![1u64, 3, 5], vec![2u64, 3, 6]),
            (vec![4, 5, 6], vec![1, 2, 3]),
            (vec![1, 2, 3], vec![4, 5, 6]),
            (vec![1, 2, 3], vec![1, 2, 3]),
            (vec![2, 9], vec![1, 2, 3, 4, 5, 9, 10]),
            (vec![], vec![7]),
            (vec![7], vec![]),
        ] {
            let mut sorted: Vec<(u64, NgramStat)> = a.iter().map(|&k| (k, stat(1))).collect();
            let add: Vec<(u64, NgramStat)> = b.iter().map(|&k| (k, stat(2))).collect();
            merge_sorted_into(&mut sorted, &add);
            let mut want: std::collections::BTreeMap<u64, NgramStat> = Default::default();
            for (k, s) in a.iter().map(|&k| (k, stat(1))).chain(add.iter().copied()) {
                let e = want.entry(k).or_default();
                *e = combine(*e, s);
            }
            assert_eq!(sorted, want.into_iter().collect::<Vec<_>>(), "{a:?} + {b:?}");
        }
    }

    #[test]
    fn parallel_merge_equals_serial_merge() {
        let stat = |count| NgramStat { count, docs: 1 };
        // every third key shared, some ranges empty on one side
        let a: Vec<(u64, NgramStat)> = (0..3 * MIN_PENDING as u64)
            .map(|i| (extend_key(i, 1), stat(1)))
            .filter(|e| e.0 >> 62 != 1)
            .collect();
        let b: Vec<(u64, NgramStat)> = (0..2 * MIN_PENDING as u64)
            .map(|i| if i % 3 == 0 { (extend_key(i, 1), stat(2)) } else { (extend_key(i, 2), stat(2)) })
            .filter(|e| e.0 >> 62 != 2)
            .collect();
        let (mut a, mut b) = (a, b);
        a.sort_unstable_by_key(|e| e.0);
        b.sort_unstable_by_key(|e| e.0);
        let mut serial = a.clone();
        merge_sorted_into(&mut serial, &b);
        let mut parallel = a.clone();
        merge_sorted_into_parallel(&mut parallel, &b);
        assert!(serial.len() < a.len() + b.len(), "some keys are shared");
        assert_eq!(parallel, serial);
    }

    #[test]
    fn radix_sort_sorts() {
        let mut entries: Vec<(u64, NgramStat)> = (0..200_000u64)
            .map(|i| (extend_key(i % 150_000, 3) & !0xff00_0000_0000, NgramStat::default()))
            .collect();
        let mut want = entries.clone();
        want.sort_by_key(|e| e.0);
        radix_sort(&mut entries, 56);
        assert_eq!(entries, want);
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
        exact.compact();
        assert_eq!(exact.distinct(), 30_000.0);
        let mut sketched = a.into_sketch();
        sketched.merge(b);
        let est = sketched.distinct();
        assert!((est - 30_000.0).abs() / 30_000.0 < 0.03, "{est}");
    }
}
