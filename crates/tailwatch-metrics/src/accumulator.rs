//! The shape every profile kind shares: an [`Accumulator`] (observed by an [`Observer`], merged
//! exactly, sealed, serialized) and the [`MetricSet`]s computed from it.
//!
//! The text [`Profile`](crate::Profile) is one kind today; grouped (per-prompt) and embedding
//! profiles are the next, written against the same traits, as tantivy's collectors share one
//! `merge_fruits` shape.
use std::path::Path;

use crate::{MetricSelection, MetricValues, Result};

/// What a profile profiles: the kind tag of its `.twp` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileKind {
    /// Text documents.
    Text,
    /// Lists of item ids (recommendations; the `items` tokenizer).
    Items,
}

impl ProfileKind {
    /// The tag byte in a `.twp` header.
    pub fn tag(self) -> u8 {
        match self {
            ProfileKind::Text => 0,
            ProfileKind::Items => 1,
        }
    }

    /// The kind of a tag byte, if this build knows it.
    pub fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            0 => Some(ProfileKind::Text),
            1 => Some(ProfileKind::Items),
            _ => None,
        }
    }

    /// What it profiles, in words.
    pub fn name(self) -> &'static str {
        match self {
            ProfileKind::Text => "text",
            ProfileKind::Items => "item lists",
        }
    }
}

/// A mergeable summary of a corpus. Merging is exact, associative and commutative: the merge of
/// the accumulators of two corpora is the accumulator of both, whatever the split.
pub trait Accumulator: Sized + Send {
    /// The settings fixed for its life; two accumulators merge only when theirs agree.
    type Config: Clone + PartialEq;

    /// An empty accumulator: the identity of [`Accumulator::merge`].
    fn empty(config: Self::Config) -> Self;
    /// Its settings.
    fn config(&self) -> &Self::Config;
    /// Its kind (the `.twp` kind tag).
    fn kind(&self) -> ProfileKind;
    /// Take in `other`: the result summarizes both corpora.
    fn merge(&mut self, other: Self) -> Result<()>;
    /// Make it readable after observing or merging (sort buffers, canonicalize sketches).
    fn seal(&mut self);
    /// Its `.twp` bytes (sealed).
    fn to_bytes(&self) -> Result<Vec<u8>>;
    /// Read `.twp` bytes that decompress to at most `max_decoded` bytes; `path` names them in
    /// errors.
    fn from_bytes_limited(bytes: &[u8], path: &Path, max_decoded: usize) -> Result<Self>;
}

/// Builds an accumulator from records, one at a time.
pub trait Observer {
    /// One record as it observes it (a document's text, for a text profile).
    type Item: ?Sized;
    /// What it builds.
    type Output: Accumulator;
    /// Take in one record.
    fn observe(&mut self, item: &Self::Item) -> Result<()>;
    /// The sealed accumulator.
    fn finish(self) -> Self::Output;
}

/// A family of metrics computed from an accumulator.
pub trait MetricSet<A: Accumulator> {
    /// The catalog ids it computes.
    fn ids(&self) -> &'static [&'static str];
    /// Whether `selection` asks for any of them.
    fn wanted(&self, selection: &MetricSelection) -> bool {
        selection.wants_any(self.ids())
    }
    /// The values `selection` asks for (only those), with notes on undefined ones.
    fn compute(&self, accumulator: &A, selection: &MetricSelection) -> Result<MetricValues>;
}
