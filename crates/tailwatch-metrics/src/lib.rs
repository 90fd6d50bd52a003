//! The mergeable [`Profile`] of tailwatch and every collapse metric as a pure function of it.
#![deny(missing_docs)]

pub mod accumulator;
pub mod distinct_estimate;
mod error;
pub mod grouped;
pub mod groups;
pub mod ngram_table;
pub mod numeric;
pub mod phrases;
pub mod profile;
pub mod richness;
pub mod sample;
pub mod score_columns;
pub mod selfbleu;
mod token_counts;

pub use accumulator::{Accumulator, MetricSet, Observer, ProfileKind};
pub use error::{Error, Result};
pub use profile::{ExactNgramEstimate, Profile, ProfileBuilder, ProfileConfig, ProfileParts};
pub use sample::SampleSize;
pub mod catalog;
pub mod compression;
pub mod lexical;
pub mod reference;

pub use lexical::{
    ItemListMetrics, LexicalMetrics, MetricSelection, MetricValues, item_metrics, lexical_metrics,
};
pub use reference::{Reference, ReferenceInfo, ReferenceOptions};
pub mod compare;
pub mod compat;
pub mod report;
