//! N-gram keys and tables: exact counts keyed by a stable 64-bit hash, or an HLL sketch.
use std::hash::{BuildHasherDefault, Hasher};

use datasketches::hll::{HllSketch, HllType, HllUnion};
use xxhash_rust::xxh3::xxh3_64;

use crate::distinct_estimate::DistinctRegisters;

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

/// What an [`ExactTable`] stores per distinct key: the key alone (a set) or a [`StatEntry`].
pub trait TableEntry: Copy + Default + Send + Sync + std::fmt::Debug {
    /// The 64-bit n-gram key.
    fn key(&self) -> u64;
    /// `self` with the statistics of `other` (same key) added when `both`; else `self`.
    /// Branch-free in the merge loops.
    fn absorb(self, other: Self, both: bool) -> Self;
    /// A new entry for one document holding `key` `count` times.
    fn new(key: u64, count: u32) -> Self;
}

/// A key with its statistics as `[count, docs]` (an [`NgramStat`]). Plain integers, so a
/// zeroed table of them is allocated as fresh zero pages rather than written.
pub type StatEntry = (u64, [u32; 2]);

impl TableEntry for StatEntry {
    #[inline]
    fn key(&self) -> u64 {
        self.0
    }
    #[inline]
    fn absorb(self, other: Self, both: bool) -> Self {
        let [count, docs] = if both { other.1 } else { [0, 0] };
        (self.0, [self.1[0].saturating_add(count), self.1[1].saturating_add(docs)])
    }
    #[inline]
    fn new(key: u64, count: u32) -> Self {
        (key, [count, 1])
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

/// Buckets of an [`ExactTable`], by the top 4 bits of the key.
const BUCKETS: usize = 16;
const BUCKET_SHIFT: u32 = 60;

/// Smallest append buffer of one bucket before it is sorted and merged (2^22 entries over a
/// table: the first compactions of a large table only cost merges, saving little memory).
#[cfg(not(test))]
const MIN_PENDING: usize = 1 << 18;
/// Small in unit tests, so that tables of a few thousand entries compact mid-stream.
#[cfg(test)]
const MIN_PENDING: usize = 1 << 8;

/// Exact n-gram statistics in 16 buckets by the top 4 bits of the key, each a key-sorted array
/// fed through an unsorted append buffer.
///
/// Adding is a push onto the key's bucket; when a bucket's buffer reaches the size of its
/// sorted part (at least 2^18 entries) it is radix-sorted through a scratch buffer, collapsed,
/// and merged with the sorted part into a new one by a branch-free merge. Inserts stay sequential in memory (a
/// hash table of tens of millions of n-grams misses the cache on every insert); keys are
/// uniform hashes, so buckets are even and a bucket of even a large table fits in the CPU
/// caches while it is sorted and merged; distinct n-grams cost 16 bytes each (8 in a
/// [`KeySet`], for orders whose statistics no metric reads); two tables merge bucket by
/// bucket on all threads. Reads need a [`ExactTable::compact`]ed table
/// ([`crate::Profile::seal`]).
#[derive(Debug, Clone)]
pub struct ExactTable<E: TableEntry = StatEntry> {
    /// [`BUCKETS`] buckets in key order, or none while the table is empty.
    buckets: Vec<Bucket<E>>,
    /// Room for sorting a bucket's append buffer, kept between compactions.
    scratch: Vec<E>,
    /// Registers of every key added, once [`ExactTable::track_distinct`] was called (for a
    /// memory budget that needs the size of a union of tables before merging them).
    registers: Option<DistinctRegisters>,
}

#[derive(Debug, Clone)]
struct Bucket<E> {
    sorted: Vec<E>,
    pending: Vec<E>,
}

impl<E> Default for Bucket<E> {
    fn default() -> Self {
        Self { sorted: Vec::new(), pending: Vec::new() }
    }
}

impl<E: TableEntry> Default for ExactTable<E> {
    fn default() -> Self {
        Self { buckets: Vec::new(), scratch: Vec::new(), registers: None }
    }
}

/// The distinct keys of one order, without statistics.
pub type KeySet = ExactTable<u64>;

/// Sort entries by a 64-bit key that is a uniform hash: an MSD radix sort on the key's byte at
/// `shift` into `scratch` (grown to `entries.len()` and kept for the next call), then, group by
/// group, on the next byte back into `entries`, then `small_sort` of the small groups that
/// leaves. Keys are uniform hashes, so groups are even: the first scatter writes 256 sequential
/// streams, and each group of the second fits in the CPU caches. The scatters are stable, so
/// the sort is stable when `small_sort` is.
pub(crate) fn radix_sort<E: Copy + Default>(
    entries: &mut [E],
    scratch: &mut Vec<E>,
    shift: u32,
    key: impl Fn(&E) -> u64 + Copy,
    small_sort: impl Fn(&mut [E]) + Copy,
) {
    let n = entries.len();
    if n <= 256 || shift < 8 {
        small_sort(entries);
        return;
    }
    if scratch.len() < n {
        scratch.resize(n, E::default());
    }
    let scratch = &mut scratch[..n];
    let bounds = scatter_by_byte(entries, scratch, shift, key);
    for group in bounds.windows(2) {
        let (src, dst) = (&scratch[group[0]..group[1]], &mut entries[group[0]..group[1]]);
        if src.len() <= 64 {
            dst.copy_from_slice(src);
            small_sort(dst);
            continue;
        }
        let inner = scatter_by_byte(src, dst, shift - 8, key);
        for small in inner.windows(2) {
            small_sort(&mut dst[small[0]..small[1]]);
        }
    }
}

/// Copy `src` into `dst` (same length) grouped by the byte of the key at `shift`, stably;
/// returns the 257 group bounds.
fn scatter_by_byte<E: Copy>(src: &[E], dst: &mut [E], shift: u32, key: impl Fn(&E) -> u64) -> [usize; 257] {
    let byte = |e: &E| ((key(e) >> shift) & 0xff) as usize;
    let mut bounds = [0usize; 257];
    for e in src {
        bounds[byte(e) + 1] += 1;
    }
    for b in 0..256 {
        bounds[b + 1] += bounds[b];
    }
    let mut next = bounds;
    for e in src {
        let b = byte(e);
        dst[next[b]] = *e;
        next[b] += 1;
    }
    bounds
}

/// [`radix_sort`] of table entries by key.
fn sort_entries<E: TableEntry>(entries: &mut [E], scratch: &mut Vec<E>, shift: u32) {
    radix_sort(entries, scratch, shift, TableEntry::key, |small| small.sort_unstable_by_key(TableEntry::key));
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

/// One step of a branch-free merge of `x` and `y`: the entry with the smaller key (both
/// combined when the keys are equal) and whether it consumed `x` and `y`.
#[inline]
fn merge_step<E: TableEntry>(x: E, y: E) -> (E, bool, bool) {
    let take_x = x.key() <= y.key();
    let take_y = y.key() <= x.key();
    let (first, second) = if take_x { (x, y) } else { (y, x) };
    (first.absorb(second, take_x && take_y), take_x, take_y)
}

impl<E: TableEntry> Bucket<E> {
    /// Sort and collapse the append buffer, leaving it beside the sorted part.
    fn sort_pending(&mut self, scratch: &mut Vec<E>) {
        // the top bits are the bucket's: sort from the next byte down
        sort_entries(&mut self.pending, scratch, BUCKET_SHIFT - 8);
        collapse_runs(&mut self.pending);
    }

    /// Sort the buffered entries and merge them into the sorted part.
    fn compact(&mut self, scratch: &mut Vec<E>) {
        if self.pending.is_empty() {
            return;
        }
        self.sort_pending(scratch);
        let mut merged = Vec::with_capacity(self.sorted.len() + self.pending.len());
        merge_forward(&mut merged, &self.sorted, &self.pending);
        self.sorted = merged;
        self.pending.clear();
    }

    /// This bucket of both tables: `acc` and `next` are scratch buffers.
    fn merge(mut self, mut other: Bucket<E>, acc: &mut Vec<E>, next: &mut Vec<E>) -> Bucket<E> {
        self.sort_pending(next);
        other.sort_pending(next);
        // smallest first: each entry is copied as few times as possible
        let mut runs = [&self.sorted[..], &self.pending[..], &other.sorted[..], &other.pending[..]];
        runs.sort_by_key(|run| run.len());
        let [a, b, c, largest] = runs;
        acc.clear();
        merge_forward(acc, a, b);
        next.clear();
        merge_forward(next, acc, c);
        let mut sorted = Vec::new();
        merge_forward(&mut sorted, largest, next);
        Bucket { sorted, pending: Vec::new() }
    }
}

impl<E: TableEntry> ExactTable<E> {
    #[inline]
    fn add(&mut self, key: u64, count: u32) {
        if self.buckets.is_empty() {
            self.buckets.resize_with(BUCKETS, Bucket::default);
        }
        if let Some(registers) = &mut self.registers {
            registers.insert(key);
        }
        let bucket = &mut self.buckets[(key >> BUCKET_SHIFT) as usize];
        bucket.pending.push(E::new(key, count));
        if bucket.pending.len() >= bucket.sorted.len().max(MIN_PENDING) {
            bucket.compact(&mut self.scratch);
            // the buffer (empty, its pages kept) fills up to the new size of the sorted part:
            // grow it to that, not a doubling past it
            bucket.pending.reserve_exact(bucket.sorted.len());
        }
    }

    /// Sort the buffered entries and merge them into the sorted parts; the sorting scratch
    /// space is released (a compacted table is usually read, not grown).
    pub fn compact(&mut self) {
        for bucket in &mut self.buckets {
            bucket.compact(&mut self.scratch);
        }
        self.scratch = Vec::new();
    }

    /// Keep [`DistinctRegisters`] of the keys from now on, starting with those already added.
    pub fn track_distinct(&mut self) {
        if self.registers.is_none() {
            let mut registers = DistinctRegisters::default();
            self.keys().for_each(|key| registers.insert(key));
            self.registers = Some(registers);
        }
    }

    /// The registers of every key added, if they are tracked.
    pub fn distinct_registers(&self) -> Option<&DistinctRegisters> {
        self.registers.as_ref()
    }

    /// An upper bound of [`ExactTable::content_bytes`] that needs no compaction: buffered
    /// entries count as distinct.
    pub fn content_bytes_bound(&self) -> usize {
        let entries: usize = self.buckets.iter().map(|b| b.sorted.len() + b.pending.len()).sum();
        entries * std::mem::size_of::<E>()
    }

    fn assert_compacted(&self) {
        assert!(
            self.buckets.iter().all(|b| b.pending.is_empty()),
            "n-gram table read before Profile::seal()"
        );
    }

    /// Distinct n-grams.
    pub fn len(&self) -> usize {
        self.assert_compacted();
        self.buckets.iter().map(|b| b.sorted.len()).sum()
    }

    /// Whether no n-gram was seen.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the distinct entries: a function of the table's content alone (unlike its
    /// memory use, which depends on how its buffers grew).
    pub fn content_bytes(&self) -> usize {
        self.len() * std::mem::size_of::<E>()
    }

    /// Every entry in key order.
    pub fn entries(&self) -> impl Iterator<Item = &E> {
        self.assert_compacted();
        self.buckets.iter().flat_map(|b| &b.sorted)
    }

    fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.buckets.iter().flat_map(|b| b.sorted.iter().chain(&b.pending)).map(TableEntry::key)
    }

    fn memory_bytes(&self) -> usize {
        let entries: usize =
            self.buckets.iter().map(|b| b.sorted.capacity() + b.pending.capacity()).sum::<usize>()
                + self.scratch.capacity();
        let registers = if self.registers.is_some() { 1 << 14 } else { 0 };
        entries * std::mem::size_of::<E>()
            + self.buckets.capacity() * std::mem::size_of::<Bucket<E>>()
            + registers
    }

    /// Merge `other` in, bucket by bucket on all threads.
    fn merge(&mut self, mut other: ExactTable<E>) {
        use rayon::prelude::*;
        // the union's registers, when both sides track them
        let registers = match (self.registers.take(), other.registers.take()) {
            (Some(mut mine), Some(theirs)) => {
                mine.merge(&theirs);
                Some(mine)
            }
            // a table that never saw a key has all-zero registers, tracked or not
            (Some(mine), None) if other.buckets.is_empty() => Some(mine),
            (None, Some(theirs)) if self.buckets.is_empty() => Some(theirs),
            _ => None,
        };
        self.registers = registers;
        if other.buckets.is_empty() {
            return;
        }
        if self.buckets.is_empty() {
            other.registers = self.registers.take();
            std::mem::swap(self, &mut other);
            self.compact();
            return;
        }
        let mine = std::mem::take(&mut self.buckets);
        self.buckets = mine
            .into_par_iter()
            .zip(other.buckets)
            .map_init(|| (Vec::new(), Vec::new()), |(acc, next), (a, b)| a.merge(b, acc, next))
            .collect();
    }

    /// A table of key-sorted entries (strictly increasing keys, else an error).
    fn from_sorted(entries: Vec<E>) -> Result<Self, String> {
        if let Some(w) = entries.windows(2).find(|w| w[0].key() >= w[1].key()) {
            return Err(format!("n-gram keys out of order ({:#x} then {:#x})", w[0].key(), w[1].key()));
        }
        let mut table = Self::default();
        if entries.is_empty() {
            return Ok(table);
        }
        table.buckets.resize_with(BUCKETS, Bucket::default);
        let mut rest = &entries[..];
        for (b, bucket) in table.buckets.iter_mut().enumerate() {
            let end = rest.partition_point(|e| (e.key() >> BUCKET_SHIFT) as usize <= b);
            bucket.sorted = rest[..end].to_vec();
            rest = &rest[end..];
        }
        Ok(table)
    }
}

impl ExactTable<StatEntry> {
    /// The statistics of one n-gram key (binary search).
    pub fn get(&self, key: u64) -> Option<NgramStat> {
        self.assert_compacted();
        let sorted = &self.buckets.get((key >> BUCKET_SHIFT) as usize)?.sorted;
        sorted.binary_search_by_key(&key, |e| e.0).ok().map(|i| {
            let [count, docs] = sorted[i].1;
            NgramStat { count, docs }
        })
    }

    /// The same keys without their statistics.
    fn into_keys(self) -> KeySet {
        let mut table = self;
        table.compact();
        let buckets = table
            .buckets
            .into_iter()
            .map(|b| Bucket { sorted: b.sorted.into_iter().map(|e| e.0).collect(), pending: Vec::new() })
            .collect();
        KeySet { buckets, scratch: Vec::new(), registers: table.registers }
    }
}

/// Append the merge of the key-sorted, duplicate-free `x` and `y` to `out`.
/// The loop has no data-dependent branch (keys are random, so a branchy merge mispredicts
/// half the time), and the output is not zeroed first.
fn merge_forward<E: TableEntry>(out: &mut Vec<E>, x: &[E], y: &[E]) {
    out.reserve(x.len() + y.len());
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        let (entry, take_x, take_y) = merge_step(x[i], y[j]);
        out.push(entry);
        i += usize::from(take_x);
        j += usize::from(take_y);
    }
    out.extend_from_slice(&x[i..]);
    out.extend_from_slice(&y[j..]);
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

/// `sketch` with the same registers and no record of its update order. A sketch updated key by
/// key keeps a HIP accumulator that depends on the order of the updates; a union of sketches
/// has none and estimates from the registers. Updating a union with the sketch twice merges it
/// into itself (the second update is a register-wise max of equal registers), which drops the
/// accumulator, whatever the sketch's history.
fn registers_only(sketch: &HllSketch) -> HllSketch {
    let mut union = HllUnion::new(HLL_LG_K).expect("valid HLL parameters");
    union.update(sketch);
    union.update(sketch);
    union.to_sketch(HllType::Hll8)
}

/// DataSketches' bytes of `sketch`, canonical. With few keys a sketch is in its list or set
/// mode, which it writes as its coupons in the order it holds them: the order of its updates,
/// or of a union's inputs (`a` merged with `b` and `b` with `a` gave different bytes, found by
/// fuzzing, issue 16). Sorted, equal sketches give equal bytes; reading them back does not
/// depend on the order (a list keeps it, a set hashes each coupon), nor does the estimate
/// (the count of coupons). The register array of the HLL mode is canonical already.
fn sketch_bytes(sketch: &HllSketch) -> Vec<u8> {
    let mut bytes = sketch.serialize();
    // byte 7: the current mode in its low two bits; the coupons follow the preamble
    let preamble = match bytes.get(7).map(|mode| mode & 0x3) {
        Some(0) => 8,  // list
        Some(1) => 12, // set: and the coupon count
        _ => return bytes,
    };
    if let Some(coupons) = bytes.get_mut(preamble..) {
        let mut sorted: Vec<u32> =
            coupons.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
        sorted.sort_unstable();
        for (chunk, coupon) in coupons.chunks_exact_mut(4).zip(sorted) {
            chunk.copy_from_slice(&coupon.to_le_bytes());
        }
    }
    bytes
}

/// Refuse a list- or set-mode sketch whose coupon array is not the size DataSketches gives its
/// coupons: a list always has 8 slots; a set has 32, doubled while more than 3/4 full. A crafted
/// larger array (fuzzing, issue 16) made unions depend on their order (the union keeps the
/// first sketch's array size, which its bytes record). The HLL mode has no such array.
fn check_coupon_array(bytes: &[u8]) -> Result<(), String> {
    const LIST_LG_ARR: u8 = 3;
    const SET_LG_ARR: u8 = 5;
    let (Some(&lg_arr), Some(&mode)) = (bytes.get(4), bytes.get(7)) else { return Ok(()) };
    let expected = match mode & 0x3 {
        0 => LIST_LG_ARR,
        1 => {
            let count = bytes.get(8..12).map_or(0, |c| u32::from_le_bytes(c.try_into().expect("4 bytes")));
            let mut lg = SET_LG_ARR;
            while 4 * u64::from(count) > 3 * (1u64 << lg) {
                lg += 1;
            }
            lg
        }
        _ => return Ok(()),
    };
    if lg_arr != expected {
        return Err(format!(
            "a sketch's coupon array of 2^{lg_arr} slots, where its coupons take 2^{expected}"
        ));
    }
    Ok(())
}

impl NgramTable {
    /// An empty exact table of keys only.
    pub fn keys_only() -> Self {
        NgramTable::Keys(KeySet::default())
    }

    /// Record `count` occurrences of `key` in one document. Always inlined: it runs once per
    /// n-gram of the input, and the builder's loop lost 8 % when the compiler stopped inlining it.
    #[inline(always)]
    pub fn add(&mut self, key: u64, count: u32) {
        match self {
            NgramTable::Exact(table) => table.add(key, count),
            NgramTable::Keys(table) => table.add(key, count),
            NgramTable::Sketch(sketch) => sketch.update(key),
        }
    }

    /// Make the table readable and canonical: an exact table sorts and merges its buffer; a
    /// sketch forgets the order of its updates, so that its estimate (DataSketches' composite
    /// estimator) depends only on its registers, which are the same however the keys were split
    /// among workers and merged.
    pub fn compact(&mut self) {
        match self {
            NgramTable::Exact(table) => table.compact(),
            NgramTable::Keys(table) => table.compact(),
            NgramTable::Sketch(sketch) => **sketch = registers_only(sketch),
        }
    }

    /// Bytes of an exact table's distinct entries (0 for a sketch); needs a compacted table.
    pub fn exact_bytes(&self) -> usize {
        match self {
            NgramTable::Exact(table) => table.content_bytes(),
            NgramTable::Keys(table) => table.content_bytes(),
            NgramTable::Sketch(_) => 0,
        }
    }

    /// An upper bound of [`NgramTable::exact_bytes`] that needs no compaction.
    pub fn exact_bytes_bound(&self) -> usize {
        match self {
            NgramTable::Exact(table) => table.content_bytes_bound(),
            NgramTable::Keys(table) => table.content_bytes_bound(),
            NgramTable::Sketch(_) => 0,
        }
    }

    /// Bytes one distinct n-gram takes in this table (0 for a sketch).
    pub fn entry_bytes(&self) -> usize {
        match self {
            NgramTable::Exact(_) => std::mem::size_of::<StatEntry>(),
            NgramTable::Keys(_) => std::mem::size_of::<u64>(),
            NgramTable::Sketch(_) => 0,
        }
    }

    /// Keep registers of the distinct keys of an exact table from now on (see
    /// [`ExactTable::track_distinct`]); a no-op for a sketch.
    pub fn track_distinct(&mut self) {
        match self {
            NgramTable::Exact(table) => table.track_distinct(),
            NgramTable::Keys(table) => table.track_distinct(),
            NgramTable::Sketch(_) => {}
        }
    }

    /// The registers of an exact table's keys, if they are tracked.
    pub fn distinct_registers(&self) -> Option<&DistinctRegisters> {
        match self {
            NgramTable::Exact(table) => table.distinct_registers(),
            NgramTable::Keys(table) => table.distinct_registers(),
            NgramTable::Sketch(_) => None,
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
                NgramWire::Exact(table.entries().map(|&(k, [count, docs])| (k, count, docs)).collect())
            }
            NgramTable::Keys(table) => NgramWire::Keys(table.entries().copied().collect()),
            NgramTable::Sketch(sketch) => NgramWire::Sketch(sketch_bytes(sketch)),
        }
    }

    /// Deserialize what [`NgramTable::to_wire`] wrote (exact keys must be strictly increasing).
    pub fn from_wire(wire: NgramWire) -> Result<Self, String> {
        Ok(match wire {
            NgramWire::Exact(entries) => {
                // an n-gram counted is in 1 to `count` documents (self_repetition subtracts 1
                // from the documents of each n-gram: a crafted 0 overflowed, issue 16)
                if let Some((key, count, docs)) =
                    entries.iter().find(|(_, count, docs)| *docs == 0 || docs > count)
                {
                    return Err(format!("n-gram {key:#x} counted {count} times in {docs} documents"));
                }
                NgramTable::Exact(ExactTable::from_sorted(
                    entries.into_iter().map(|(k, count, docs)| (k, [count, docs])).collect(),
                )?)
            }
            NgramWire::Sketch(bytes) => {
                let sketch = HllSketch::deserialize(&bytes).map_err(|e| e.to_string())?;
                // DataSketches reads a few sketches it cannot write back (a zero coupon: counted,
                // then not written; issue 16): a profile read must encode to one that reads
                HllSketch::deserialize(&sketch_bytes(&sketch))
                    .map_err(|e| format!("a sketch that does not read back once written: {e}"))?;
                check_coupon_array(&bytes)?;
                NgramTable::Sketch(Box::new(sketch))
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
        let mut want: std::collections::BTreeMap<u64, StatEntry> = Default::default();
        // enough adds that buckets compact mid-stream
        for i in 0..(3 * (BUCKETS * MIN_PENDING) as u64) {
            let key = extend_key(i % 1_500_000, 7);
            let count = (i % 3) as u32 + 1;
            if i % 2 == 0 {
                a.add(key, count)
            } else {
                b.add(key, count)
            }
            let e = want.entry(key).or_insert((key, [0, 0]));
            *e = e.absorb(StatEntry::new(key, count), true);
        }
        a.merge(b);
        a.compact();
        let want: Vec<StatEntry> = want.into_values().collect();
        assert_eq!(a.entries().copied().collect::<Vec<_>>(), want);
        let [count, docs] = want[17].1;
        assert_eq!(a.get(want[17].0), Some(NgramStat { count, docs }));
        assert_eq!(a.get(want[17].0 ^ 1), None);
    }

    /// Issue 16 (fuzzing): a decoded exact entry in no document (or in more documents than
    /// its count) made `self_repetition` subtract with overflow.
    #[test]
    fn impossible_document_counts_are_refused_issue_16() {
        for (count, docs) in [(1, 0), (0, 0), (2, 3)] {
            let wire = NgramWire::Exact(vec![(1, 1, 1), (7, count, docs)]);
            let err = NgramTable::from_wire(wire).map(|_| ()).unwrap_err();
            assert!(err.contains("documents"), "{err}");
        }
        assert!(NgramTable::from_wire(NgramWire::Exact(vec![(1, 1, 1), (7, 5, 2)])).is_ok());
    }

    /// Issue 16 (fuzzing): a sketch holding a zero coupon was read, then written with one
    /// coupon fewer than its count, which no longer read: a stored profile that cannot be
    /// loaded again.
    #[test]
    fn sketches_that_do_not_read_back_are_refused_issue_16() {
        for n in [5u64, 200] {
            let mut table = NgramTable::default().into_sketch();
            for key in 0..n {
                table.add(extend_key(key, 3), 1);
            }
            table.compact();
            let NgramWire::Sketch(mut bytes) = table.to_wire() else { unreachable!("a sketch") };
            let preamble = if bytes[7] & 0x3 == 0 { 8 } else { 12 };
            bytes[preamble..preamble + 4].copy_from_slice(&0u32.to_le_bytes());
            if let Ok(read) = NgramTable::from_wire(NgramWire::Sketch(bytes)) {
                // (a mode that refuses or drops the coupon is fine too, if it reads back)
                let NgramWire::Sketch(again) = read.to_wire() else { unreachable!("a sketch") };
                NgramTable::from_wire(NgramWire::Sketch(again)).expect("what was read writes back");
            }
        }
    }

    /// Issue 16 (fuzzing): a sketch of few keys, in its list or set mode, wrote its coupons in
    /// update order, so equal sketches (and `a + b` against `b + a`) gave different bytes.
    #[test]
    fn sketches_of_few_keys_encode_canonically_issue_16() {
        let sketch_of = |keys: &mut dyn Iterator<Item = u64>| {
            let mut table = NgramTable::default().into_sketch();
            for key in keys {
                table.add(extend_key(key, 7), 1);
            }
            table.compact();
            table
        };
        let bytes = |table: &NgramTable| match table.to_wire() {
            NgramWire::Sketch(bytes) => bytes,
            _ => unreachable!("a sketch"),
        };
        // 5 keys: list mode; 200: set mode; 5,000: the register array
        for n in [5u64, 200, 5_000] {
            let forward = sketch_of(&mut (0..n));
            let backward = sketch_of(&mut (0..n).rev());
            assert_eq!(bytes(&forward), bytes(&backward), "{n} keys");
            let (mut ab, mut ba) = (sketch_of(&mut (0..n / 2)), sketch_of(&mut (n / 2..n)));
            ab.merge(sketch_of(&mut (n / 2..n)));
            ba.merge(sketch_of(&mut (0..n / 2)));
            assert_eq!(bytes(&ab), bytes(&ba), "{n} keys merged");
            let read = NgramTable::from_wire(NgramWire::Sketch(bytes(&ab))).unwrap();
            assert_eq!(bytes(&read), bytes(&ab), "{n} keys read back");
            assert_eq!(read.distinct(), ab.distinct());
        }
    }

    #[test]
    fn merge_combines_shared_keys() {
        let stat = |count| [count, 1];
        for (a, b) in [
            (vec![1u64, 3, 5], vec![2u64, 3, 6]),
            (vec![4, 5, 6], vec![1, 2, 3]),
            (vec![1, 2, 3], vec![4, 5, 6]),
            (vec![1, 2, 3], vec![1, 2, 3]),
            (vec![2, 9], vec![1, 2, 3, 4, 5, 9, 10]),
            (vec![], vec![7]),
            (vec![7], vec![]),
        ] {
            let mut sorted = vec![(0, [9, 9])];
            let x: Vec<StatEntry> = a.iter().map(|&k| (k, stat(1))).collect();
            let add: Vec<StatEntry> = b.iter().map(|&k| (k, stat(2))).collect();
            merge_forward(&mut sorted, &x, &add);
            assert_eq!(sorted.remove(0), (0, [9, 9]), "appends");
            let mut want: std::collections::BTreeMap<u64, StatEntry> = Default::default();
            for e in a.iter().map(|&k| (k, stat(1))).chain(add.iter().copied()) {
                let w = want.entry(e.0).or_insert((e.0, [0, 0]));
                *w = w.absorb(e, true);
            }
            assert_eq!(sorted, want.into_values().collect::<Vec<_>>(), "{a:?} + {b:?}");
        }
    }

    #[test]
    fn bucket_merge_equals_serial_merges() {
        let stat = |count| [count, 1];
        // overlapping key sets in one bucket (top byte 0), one run empty; unsorted buffers on
        // both sides
        let run = |n: u64, salt: u64, count: u32| -> Vec<StatEntry> {
            let key = |i: u64| extend_key(i, if i.is_multiple_of(3) { 1 } else { salt }) >> 8;
            let mut run: Vec<StatEntry> = (0..n).map(|i| (key(i), stat(count))).collect();
            run.sort_unstable_by_key(|e| e.0);
            run
        };
        let runs = [run(3_000, 1, 1), run(2_000, 2, 2), Vec::new(), run(100, 3, 3)];
        let mut serial: Vec<StatEntry> = Vec::new();
        for r in &runs {
            let mut next = Vec::new();
            merge_forward(&mut next, &serial, r);
            serial = next;
        }
        let pending = |r: &Vec<StatEntry>| {
            let mut shuffled = r.clone();
            shuffled.reverse();
            shuffled
        };
        let a = Bucket { sorted: runs[0].clone(), pending: pending(&runs[1]) };
        let b = Bucket { sorted: runs[2].clone(), pending: pending(&runs[3]) };
        let merged = a.merge(b, &mut Vec::new(), &mut Vec::new());
        assert!(merged.sorted.len() < runs.iter().map(Vec::len).sum(), "some keys are shared");
        assert!(merged.sorted.iter().any(|e| e.1[0] == 6), "a key in three runs adds up");
        assert_eq!(merged.sorted, serial);
        assert!(merged.pending.is_empty());
    }

    #[test]
    fn radix_sort_sorts() {
        // a skewed byte (one value of byte 5 never occurs), repeated keys, one big group, and
        // sizes on both sides of the comparison-sort cut-offs
        let mut scratch = Vec::new();
        for n in [0, 3, 257, 5_000, 200_000] {
            let mut entries: Vec<StatEntry> = (0..n as u64)
                .map(|i| (extend_key(i % 150_000, 3) & !0xff00_0000_0000, [i as u32, 0]))
                .chain((0..n as u64 / 10).map(|i| (0x1234 << 40 | i, [0, 0])))
                .collect();
            let mut want = entries.clone();
            want.sort_by_key(|e| e.0);
            sort_entries(&mut entries, &mut scratch, 56);
            let keys = |v: &[StatEntry]| v.iter().map(|e| e.0).collect::<Vec<_>>();
            assert_eq!(keys(&entries), keys(&want), "n = {n}");
            let mut sorted_entries = entries.clone();
            sorted_entries.sort();
            want.sort();
            assert_eq!(sorted_entries, want, "same entries, n = {n}");
        }
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
