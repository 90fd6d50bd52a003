//! The vocabulary of a [`crate::Profile`]: token types and their counts in one open-addressing table.
use tailwatch_core::stable_hash;

use crate::profile::TokenStat;

/// One type: its hash, counts and id, and the last document that held it. 32 bytes, so a
/// lookup that finds its type touches one cache line, where it also updates the counts.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
struct Slot {
    hash: u64,
    count: u64,
    docs: u64,
    /// Insertion-order id; [`EMPTY`] marks a free slot.
    id: u32,
    /// Stamp of the last document that held the type (0: none since the last stamp reset).
    stamp: u32,
}

const EMPTY: u32 = u32::MAX;
const FREE: Slot = Slot { hash: 0, count: 0, docs: 0, id: EMPTY, stamp: 0 };
const MIN_SLOTS: usize = 1 << 6;

/// Token types keyed by their stable 64-bit hash (like n-grams; two distinct types collide
/// with probability about `V^2 / 2^65`), with counts, document frequencies and their text.
///
/// Linear probing in a power-of-two table kept at most half full. Counting a document's
/// tokens first [`TokenCounts::prefetch`]es all their slots, so the cache misses of rare types
/// overlap instead of queueing one after another.
#[derive(Debug, Clone)]
pub(crate) struct TokenCounts {
    slots: Vec<Slot>,
    slot_of_id: Vec<u32>,
    /// The text of each type, concatenated; type `i` is `text[ends[i-1]..ends[i]]`.
    text: String,
    ends: Vec<usize>,
    /// Exposure (items tokenizer) by id; empty until first used.
    exposure: Vec<u64>,
    /// The current document's stamp.
    stamp: u32,
}

impl Default for TokenCounts {
    fn default() -> Self {
        Self {
            slots: vec![FREE; MIN_SLOTS],
            slot_of_id: Vec::new(),
            text: String::new(),
            ends: Vec::new(),
            exposure: Vec::new(),
            stamp: 0,
        }
    }
}

impl TokenCounts {
    /// Number of types.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    fn text_of(&self, id: usize) -> &str {
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        // the top bits: token hashes are uniform, and n-gram keys mix the low ones
        (hash >> 32) as usize & (self.slots.len() - 1)
    }

    /// The slot holding `hash`, or the free slot where it belongs.
    #[inline]
    fn find(&self, hash: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            let slot = &self.slots[i];
            if slot.id == EMPTY || slot.hash == hash {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot of `hash`, inserting the type `token` there if it is new.
    #[inline]
    fn entry(&mut self, hash: u64, token: &str) -> usize {
        let i = self.find(hash);
        if self.slots[i].id != EMPTY {
            return i;
        }
        if 2 * (self.len() + 1) > self.slots.len() {
            self.grow();
            return self.entry(hash, token);
        }
        let id = self.len() as u32;
        self.slots[i] = Slot { hash, id, ..FREE };
        self.slot_of_id.push(i as u32);
        self.text.push_str(token);
        self.ends.push(self.text.len());
        i
    }

    fn grow(&mut self) {
        let doubled = vec![FREE; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        for slot in old.into_iter().filter(|s| s.id != EMPTY) {
            let i = self.find(slot.hash);
            self.slots[i] = slot;
            self.slot_of_id[slot.id as usize] = i as u32;
        }
    }

    /// Load the home slots of `hashes` into the cache, all at once (the loads are
    /// independent, so the CPU overlaps their misses).
    #[inline]
    pub(crate) fn prefetch(&self, hashes: &[u64]) {
        let mut touched = 0u64;
        for &hash in hashes {
            touched ^= self.slots[self.home(hash)].hash;
        }
        std::hint::black_box(touched);
    }

    /// Start a new document: the next [`TokenCounts::count`]s are its tokens.
    pub(crate) fn begin_doc(&mut self) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // 2^32 documents: forget the old stamps (0 means "not in the current document")
            for slot in &mut self.slots {
                slot.stamp = 0;
            }
            self.stamp = 1;
        }
    }

    /// Count one occurrence of `token` (with its stable `hash`) in the current document.
    /// Returns the type's id and whether this is its first occurrence in the document.
    #[inline]
    pub(crate) fn count(&mut self, hash: u64, token: &str) -> (u32, bool) {
        let i = self.entry(hash, token);
        let stamp = self.stamp;
        let slot = &mut self.slots[i];
        slot.count += 1;
        let first = slot.stamp != stamp;
        slot.stamp = stamp;
        slot.docs += u64::from(first);
        (slot.id, first)
    }

    /// The exposure counter of type `id`.
    fn exposure_mut(&mut self, id: u32) -> &mut u64 {
        if self.exposure.len() < self.len() {
            self.exposure.resize(self.len(), 0);
        }
        &mut self.exposure[id as usize]
    }

    /// One more exposure of type `id`.
    pub(crate) fn expose(&mut self, id: u32) {
        *self.exposure_mut(id) += 1;
    }

    /// Add `stat` (the hash field is ignored) to the counts of `token`.
    pub(crate) fn add(&mut self, token: &str, stat: TokenStat) {
        let i = self.entry(stable_hash(token), token);
        let slot = &mut self.slots[i];
        slot.count += stat.count;
        slot.docs += stat.docs;
        if stat.exposure > 0 {
            let id = slot.id;
            *self.exposure_mut(id) += stat.exposure;
        }
    }

    fn stat(&self, id: usize) -> TokenStat {
        let slot = &self.slots[self.slot_of_id[id] as usize];
        TokenStat {
            hash: slot.hash,
            count: slot.count,
            docs: slot.docs,
            exposure: self.exposure.get(id).copied().unwrap_or(0),
        }
    }

    /// Every type with its counts, in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, TokenStat)> {
        (0..self.len()).map(|id| (self.text_of(id), self.stat(id)))
    }

    /// The text of the type whose hash is `hash`, if it was seen.
    pub(crate) fn text_of_hash(&self, hash: u64) -> Option<&str> {
        let slot = &self.slots[self.find(hash)];
        (slot.id != EMPTY).then(|| self.text_of(slot.id as usize))
    }

    /// The counts of `token`, if it was seen.
    pub(crate) fn get(&self, token: &str) -> Option<TokenStat> {
        let slot = &self.slots[self.find(stable_hash(token))];
        if slot.id == EMPTY || self.text_of(slot.id as usize) != token {
            return None;
        }
        Some(self.stat(slot.id as usize))
    }

    /// Approximate heap bytes held.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.slot_of_id.capacity() * 4
            + self.text.capacity()
            + self.ends.capacity() * std::mem::size_of::<usize>()
            + self.exposure.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_doc(vocab: &mut TokenCounts, tokens: &[&str]) -> Vec<(u32, bool)> {
        let hashes: Vec<u64> = tokens.iter().map(|t| stable_hash(t)).collect();
        vocab.prefetch(&hashes);
        vocab.begin_doc();
        tokens.iter().zip(&hashes).map(|(t, &h)| vocab.count(h, t)).collect()
    }

    #[test]
    fn counts_documents_and_occurrences_through_growth() {
        let mut vocab = TokenCounts::default();
        assert_eq!(count_doc(&mut vocab, &["a", "b", "a"]), vec![(0, true), (1, true), (0, false)]);
        assert_eq!(count_doc(&mut vocab, &["b"]), vec![(1, true)]);
        // past several growths, ids and counts survive
        let many: Vec<String> = (0..5000).map(|i| format!("w{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        count_doc(&mut vocab, &refs);
        count_doc(&mut vocab, &refs[..10]);
        assert_eq!(vocab.len(), 5002);
        let a = vocab.get("a").expect("seen");
        assert_eq!((a.count, a.docs), (2, 1));
        let b = vocab.get("b").expect("seen");
        assert_eq!((b.count, b.docs), (2, 2));
        let w3 = vocab.get("w3").expect("seen");
        assert_eq!((w3.count, w3.docs), (2, 2));
        assert_eq!(vocab.get("w4999").map(|s| s.docs), Some(1));
        assert!(vocab.get("zzz").is_none());
        let order: Vec<&str> = vocab.iter().map(|(t, _)| t).take(3).collect();
        assert_eq!(order, vec!["a", "b", "w0"]);
    }

    #[test]
    fn stamps_reset_when_they_wrap() {
        let mut vocab = TokenCounts::default();
        count_doc(&mut vocab, &["x"]);
        vocab.stamp = u32::MAX;
        assert_eq!(count_doc(&mut vocab, &["x", "x"]), vec![(0, true), (0, false)]);
        assert_eq!(vocab.get("x").map(|s| (s.count, s.docs)), Some((3, 2)));
    }

    #[test]
    fn added_stats_and_exposure_accumulate() {
        let mut vocab = TokenCounts::default();
        vocab.add("t", TokenStat { hash: 0, count: 5, docs: 3, exposure: 2 });
        vocab.add("t", TokenStat { hash: 0, count: 1, docs: 1, exposure: 0 });
        vocab.expose(0);
        let t = vocab.get("t").expect("added");
        assert_eq!((t.hash, t.count, t.docs, t.exposure), (stable_hash("t"), 6, 4, 3));
    }
}
