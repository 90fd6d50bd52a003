//! Errors of the core crate.
use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong while building a tokenizer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tokenizer name is neither a built-in tokenizer nor a path to a `tokenizer.json`.
    #[error(
        "unknown tokenizer `{name}` (expected `words`, `whitespace`, `python-split`, `items` or a path to a HuggingFace `tokenizer.json`)"
    )]
    UnknownTokenizer {
        /// The name that was given.
        name: String,
    },
    /// A HuggingFace `tokenizer.json` could not be loaded.
    #[error("cannot load HuggingFace tokenizer `{path}`: {message}")]
    HuggingFace {
        /// The file.
        path: PathBuf,
        /// What the tokenizers crate said.
        message: String,
    },
    /// A HuggingFace tokenizer failed on a document.
    #[error("HuggingFace tokenizer failed: {message}")]
    Encode {
        /// What the tokenizers crate said.
        message: String,
    },
}
