//! A deterministic bottom-k sample of documents, ordered by a seeded content hash; it merges.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many documents the sample keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SampleSize {
    /// At most this many documents (copies of a duplicated document count separately).
    Docs(u64),
    /// Every document.
    All,
}

impl SampleSize {
    fn limit(self) -> u64 {
        match self {
            SampleSize::Docs(k) => k,
            SampleSize::All => u64::MAX,
        }
    }
}

impl std::fmt::Display for SampleSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SampleSize::Docs(k) => write!(f, "{k}"),
            SampleSize::All => f.write_str("all"),
        }
    }
}

/// One sampled document and how many copies of it the sample holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampledDoc {
    /// The document's text.
    pub text: String,
    /// Copies in the sample (at least 1).
    pub copies: u64,
}

/// The bottom-k sample.
///
/// Conceptually every document copy `j` of a document with key `h` is the pair `(h, j)`, and the
/// sample keeps the `k` smallest pairs. Copies of one document are indistinguishable, so the
/// result does not depend on input order, and merging two samples then re-truncating gives the
/// sample of the union.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BottomK {
    size: SampleSize,
    held: u64,
    docs: BTreeMap<u64, SampledDoc>,
}

impl BottomK {
    /// An empty sample.
    pub fn new(size: SampleSize) -> Self {
        Self { size, held: 0, docs: BTreeMap::new() }
    }

    /// The configured size.
    pub fn size(&self) -> SampleSize {
        self.size
    }

    /// Document copies held.
    pub fn held(&self) -> u64 {
        self.held
    }

    /// Offer one document with its key.
    pub fn offer(&mut self, key: u64, text: &str) {
        let limit = self.size.limit();
        if limit == 0 {
            return;
        }
        if let Some(doc) = self.docs.get_mut(&key) {
            doc.copies += 1;
        } else {
            if self.held >= limit && self.docs.last_key_value().is_some_and(|(max, _)| key > *max) {
                return;
            }
            self.docs.insert(key, SampledDoc { text: text.to_string(), copies: 1 });
        }
        self.held += 1;
        self.trim();
    }

    fn trim(&mut self) {
        let limit = self.size.limit();
        while self.held > limit {
            let mut last = self.docs.last_entry().expect("held > 0 implies entries");
            let excess = self.held - limit;
            if last.get().copies > excess {
                last.get_mut().copies -= excess;
                self.held = limit;
            } else {
                self.held -= last.get().copies;
                last.remove();
            }
        }
    }

    /// Merge another sample of the same size into this one.
    pub fn merge(&mut self, other: BottomK) {
        for (key, doc) in other.docs {
            match self.docs.get_mut(&key) {
                Some(mine) => mine.copies += doc.copies,
                None => {
                    self.docs.insert(key, doc.clone());
                }
            }
            self.held += doc.copies;
        }
        self.trim();
    }

    /// The sampled documents in key order, each repeated by its copies.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.docs.values().flat_map(|d| std::iter::repeat_n(d.text.as_str(), d.copies as usize))
    }

    /// Approximate heap bytes used.
    pub fn memory_bytes(&self) -> usize {
        self.docs.values().map(|d| d.text.len() + 64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn build(size: SampleSize, items: &[(u64, &str)]) -> BottomK {
        let mut s = BottomK::new(size);
        for (k, t) in items {
            s.offer(*k, t);
        }
        s
    }

    #[test]
    fn keeps_smallest_with_copies() {
        let s = build(SampleSize::Docs(3), &[(5, "e"), (1, "a"), (1, "a"), (3, "c"), (2, "b"), (1, "a")]);
        assert_eq!(s.texts().collect::<Vec<_>>(), ["a", "a", "a"]);
        let s = build(SampleSize::Docs(4), &[(5, "e"), (1, "a"), (3, "c"), (2, "b"), (1, "a")]);
        assert_eq!(s.texts().collect::<Vec<_>>(), ["a", "a", "b", "c"]);
    }

    proptest! {
        #[test]
        fn merge_equals_union_and_order_free(keys in proptest::collection::vec(0u64..40, 0..60), split in 0usize..60, k in 0u64..10) {
            let items: Vec<(u64, String)> = keys.iter().map(|k| (*k, format!("d{k}"))).collect();
            let refs: Vec<(u64, &str)> = items.iter().map(|(k, t)| (*k, t.as_str())).collect();
            let split = split.min(refs.len());
            let size = SampleSize::Docs(k);
            let whole = build(size, &refs);
            let mut left = build(size, &refs[..split]);
            left.merge(build(size, &refs[split..]));
            prop_assert_eq!(&left, &whole);
            let mut reversed = refs.clone();
            reversed.reverse();
            prop_assert_eq!(&build(size, &reversed), &whole);
        }
    }
}
