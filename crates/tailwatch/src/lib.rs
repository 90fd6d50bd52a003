//! tailwatch as a library: the operations the CLI, the watch server and the Python package call,
//! each on an [`Engine`] (a thread pool of its own) and reporting progress through a
//! [`Reporter`](tailwatch_core::Reporter).
//!
//! As ripgrep's `grep` crate is "ripgrep, as a library", this crate is tailwatch: front ends turn
//! their flags, query parameters or keyword arguments into the option structs here, call one
//! operation, and render what it returns.
//!
//! * measure: [`Engine::profile_inputs`], [`Scorer::score`], [`comparing::compare_sides`],
//!   [`Engine::matched_evidence`], [`scoring::profile_metrics`];
//! * simulate: [`Engine::simulate`], [`Engine::demo`];
//! * dedup: [`Engine::dedup`];
//! * govern: [`Engine::ingest`], [`ledger_files`], [`detecting`].
//!
//! ```
//! use tailwatch::{Engine, ProfileSettings, Scorer, ScoreOptions, tokenizer_by_name};
//! let engine = Engine::new(Some(2))?;
//! let settings = ProfileSettings::new(tokenizer_by_name("words", false)?);
//! let profile = engine.profile_texts(["the cat sat", "the dog sat", "the cat sat"], &settings)?;
//! let scorer = Scorer::new(settings, ScoreOptions::default())?;
//! let (values, _) = scorer.metrics(&engine, &profile)?;
//! assert_eq!(values.get("duplicate_rate"), Some(2.0 / 3.0));
//! # Ok::<(), tailwatch::Error>(())
//! ```
#![deny(missing_docs)]

pub mod comparing;
pub mod compat;
pub mod dedup;
pub mod detecting;
mod engine;
mod error;
pub mod explaining;
pub mod ingest;
pub mod intervals;
pub mod ledger_files;
pub mod matching;
pub mod per_document;
pub mod profiling;
pub mod scoring;
pub mod simulating;

pub use compat::Compat;
pub use engine::{Engine, MAX_THREADS};
pub use error::{Error, Result};
pub use profiling::{
    MAX_PROFILE_EXPANSION, ProfileSettings, decoded_limit, is_profile_path, load_profile, save_profile,
    tokenizer_by_name,
};
pub use scoring::{ScoreOptions, Scorer};
