//! tailwatch-ledger: provenance of every training record and capped training mixes.
mod error;
pub mod export;
pub mod mix;
pub mod review;
pub mod store;

pub use error::{Error, Result};
pub use store::{DetectorStats, Ledger, NewRecord, Origin};
