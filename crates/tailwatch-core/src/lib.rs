//! Shared vocabulary of tailwatch: tokenizers, content hashes and the [`Reporter`] progress trait.
//!
//! This crate does no file I/O. The principal types are [`Tokenizer`] (how a document becomes
//! tokens), [`TokenizerSpec`] (its serializable description, stored in profiles) and
//! [`Reporter`] (how long-running library work reports progress without printing).
//!
//! ```
//! use tailwatch_core::{Tokenizer, TokenizerSpec};
//! let tok = Tokenizer::from_spec(&TokenizerSpec::python_split()).unwrap();
//! let mut tokens = Vec::new();
//! tok.tokenize("a\u{1c}b  c", |t| tokens.push(t.to_string()));
//! assert_eq!(tokens, ["a", "b", "c"]);
//! ```
#![deny(missing_docs)]

pub mod ascii;
mod error;
mod hash;
mod reporter;
mod tokenize;

pub use error::{Error, Result};
pub use hash::{DocHash, content_hash, sample_key, stable_hash};
pub use reporter::{NoReporter, Reporter};
pub use tokenize::{Tokenizer, TokenizerKind, TokenizerSpec, is_python_whitespace};

/// Version of tailwatch, recorded in reports and profiles.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
