//! tailwatch-sketch: MinHash signatures, LSH banding, exact Jaccard joins and clustering.
pub mod allpairs;
pub mod dedup;
mod error;
pub mod lsh;
pub mod minhash;
pub mod normalize;
pub mod planted;
pub mod shingle;
pub mod unionfind;

pub use error::{DedupWarning, Error};
