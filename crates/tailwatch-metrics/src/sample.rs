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

/// One sampled document and how many copies of it the sample holds: its token hashes, its
/// text, or both (never neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampledDoc {
    /// The document's text, when the profile keeps text (or its tokens were not hashed).
    pub text: Option<String>,
    /// The stable hashes of the document's tokens, in order, when they were hashed.
    pub tokens: Option<Vec<u64>>,
    /// Copies in the sample (at least 1).
    pub copies: u64,
}

impl SampledDoc {
    /// Approximate heap bytes.
    fn memory_bytes(&self) -> usize {
        self.text.as_ref().map_or(0, String::len) + self.tokens.as_ref().map_or(0, |t| t.len() * 8) + 64
    }
}

/// The bottom-k sample.
///
/// Conceptually every document copy `j` of a document with key `h` is the pair `(h, j)`, and the
/// sample keeps the `k` smallest pairs. Copies of one document are indistinguishable, so the
/// result does not depend on input order, and merging two samples then re-truncating gives the
/// sample of the union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BottomK {
    size: SampleSize,
    held: u64,
    docs: BTreeMap<u64, SampledDoc>,
}

/// The value either side knows, the smaller when both do: commutative and associative.
fn smaller_known<T: Ord>(mine: Option<T>, theirs: Option<T>) -> Option<T> {
    match (mine, theirs) {
        (Some(mine), Some(theirs)) => Some(mine.min(theirs)),
        (mine, theirs) => mine.or(theirs),
    }
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

    /// Offer one document with its key, its text (`None`: keep no text) and its token hashes
    /// (`None`: not hashed, then the text is kept whatever `text` says, as nothing else
    /// describes the document).
    pub fn offer(&mut self, key: u64, doc: &str, keep_text: bool, tokens: Option<&[u64]>) {
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
            let text = (keep_text || tokens.is_none()).then(|| doc.to_string());
            self.docs.insert(key, SampledDoc { text, tokens: tokens.map(<[u64]>::to_vec), copies: 1 });
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
            self.held += doc.copies;
            match self.docs.get_mut(&key) {
                Some(mine) => {
                    mine.copies += doc.copies;
                    // one document: whatever either side knew of it. Two sides that disagree
                    // (only crafted files can: the key hashes the document) keep the smaller
                    // value, so that the merge does not depend on the order (fuzzing, issue 16)
                    mine.text = smaller_known(mine.text.take(), doc.text);
                    mine.tokens = smaller_known(mine.tokens.take(), doc.tokens);
                }
                None => {
                    self.docs.insert(key, doc);
                }
            }
        }
        self.trim();
    }

    /// Drop the text of every document whose tokens are known (a profile that keeps no text).
    pub fn drop_text(&mut self) {
        for doc in self.docs.values_mut() {
            if doc.tokens.is_some() {
                doc.text = None;
            }
        }
    }

    /// Whether every sampled document's text is held (an empty sample holds all of none).
    pub fn has_text(&self) -> bool {
        self.docs.values().all(|d| d.text.is_some())
    }

    /// Whether any sampled document's text is held.
    pub fn holds_any_text(&self) -> bool {
        self.docs.values().any(|d| d.text.is_some())
    }

    /// The sampled documents in key order, each once, with their copies.
    pub fn docs(&self) -> impl Iterator<Item = (u64, &SampledDoc)> {
        self.docs.iter().map(|(k, d)| (*k, d))
    }

    /// Fill in the token hashes of documents held only as text, with `hash_tokens` (for samples
    /// of files written before samples kept tokens).
    pub fn fill_tokens<E>(
        &mut self,
        mut hash_tokens: impl FnMut(&str) -> Result<Vec<u64>, E>,
    ) -> Result<(), E> {
        for doc in self.docs.values_mut() {
            if let (None, Some(text)) = (&doc.tokens, &doc.text) {
                doc.tokens = Some(hash_tokens(text)?);
            }
        }
        Ok(())
    }

    /// Rebuild a sample from its parts (a `.twp` body); `held` must be the sum of the copies,
    /// at most the size, and every document must have text or tokens.
    pub(crate) fn from_parts(
        size: SampleSize,
        docs: impl IntoIterator<Item = (u64, SampledDoc)>,
    ) -> Result<Self, String> {
        let mut sample = Self::new(size);
        for (key, doc) in docs {
            if doc.copies == 0 || (doc.text.is_none() && doc.tokens.is_none()) {
                return Err("a sampled document without copies, text or tokens".into());
            }
            sample.held = sample.held.checked_add(doc.copies).ok_or("sample copies overflow")?;
            if sample.docs.insert(key, doc).is_some() {
                return Err("a sampled document twice".into());
            }
        }
        if sample.held > size.limit() {
            return Err(format!("the sample holds {} documents, more than its size {size}", sample.held));
        }
        Ok(sample)
    }

    /// The sampled documents' texts in key order, each repeated by its copies (those held).
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.docs
            .values()
            .filter_map(|d| d.text.as_deref().map(|t| std::iter::repeat_n(t, d.copies as usize)))
            .flatten()
    }

    /// Approximate heap bytes used.
    pub fn memory_bytes(&self) -> usize {
        self.docs.values().map(SampledDoc::memory_bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn build(size: SampleSize, items: &[(u64, &str)]) -> BottomK {
        let mut s = BottomK::new(size);
        for (k, t) in items {
            s.offer(*k, t, true, None);
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

    #[test]
    fn samples_that_disagree_about_a_document_merge_alike_in_either_order_issue_16() {
        // crafted: one key, different tokens and texts (a fuzz finding of profile_merge)
        let one = |text: &str, tokens: &[u64], keep_text| {
            let mut s = BottomK::new(SampleSize::Docs(4));
            s.offer(7, text, keep_text, Some(tokens));
            s
        };
        let sides = [one("b", &[2, 1], true), one("a", &[3], false), one("c", &[1, 9], true)];
        let merged = |order: [usize; 3]| {
            let mut s = sides[order[0]].clone();
            s.merge(sides[order[1]].clone());
            s.merge(sides[order[2]].clone());
            s
        };
        let first = merged([0, 1, 2]);
        for order in [[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            assert_eq!(merged(order), first, "{order:?}");
        }
        let (_, doc) = first.docs().next().expect("one document");
        assert_eq!(
            (doc.text.as_deref(), doc.tokens.as_deref(), doc.copies),
            (Some("b"), Some(&[1, 9][..]), 3)
        );
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
