//! tailwatch-detect: machine-text detection (stylometric and language-model features, logistic
//! and boosted-stump detectors, ROC metrics) and watermark z-tests.
//!
//! * [`FeatureExtractor`] turns a text into a fixed, versioned vector of model-free features
//!   ([`FEATURE_SET_VERSION`]; formulas and sources in [`features`]), optionally extended with the
//!   log-probability statistics of a human reference Kneser-Ney model ([`ReferenceLm`]).
//! * [`DetectorModel`] standardises the features and applies an L2-regularised logistic regression
//!   fitted by damped Newton ([`classifier`], the default), or a gradient-boosted stump ensemble
//!   ([`stumps`], [`ClassifierKind::Stumps`]); it serialises to JSON and loads back bit-identically.
//! * [`auroc`], [`tpr_at_fpr`] and [`threshold_at_fpr`] measure detectors; [`evaluate`] trains on one
//!   labelled set and reports them on another; [`hash_split`] makes deterministic splits.
//! * [`watermark_score`] is the green-list z-test of Kirchenbauer et al. (2023) under a documented
//!   self-hash scheme ([`watermark`]), with [`sample_watermarked`] / [`generate_toy`] on the
//!   generator side.
//!
//! Labels are `true` for machine-generated text (the positive class) and `false` for human text.
//!
//! ```
//! use tailwatch_detect::{DetectorModel, TrainOptions};
//! let data: Vec<(String, bool)> = (0..20)
//!     .flat_map(|i| {
//!         let human = format!("Rain fell on {i} old roofs; nobody minded, least of all Tom.");
//!         let machine = "It is important to note that it is important. ".repeat(3);
//!         [(human, false), (machine, true)]
//!     })
//!     .collect();
//! let model = DetectorModel::train(&data, &TrainOptions::default()).unwrap();
//! let loaded = DetectorModel::from_json(&model.to_json().unwrap()).unwrap();
//! let text = "It is important to note that it is important.";
//! assert_eq!(model.score(text).unwrap(), loaded.score(text).unwrap());
//! ```
use std::path::PathBuf;

pub mod classifier;
mod eval;
pub mod features;
mod model;
mod reference;
mod roc;
pub mod stumps;
pub mod watermark;

pub use classifier::LogisticOptions;
pub use eval::{EvalReport, evaluate, evaluate_model, hash_split};
pub use features::{FEATURE_SET_VERSION, FUNCTION_WORDS, FeatureExtractor, base_feature_names};
pub use model::{
    ClassifierKind, DetectorModel, LinearParameters, MAX_MODEL_BYTES, MODEL_FORMAT_VERSION, TrainOptions,
    TrainingSummary, json_exact,
};
pub use reference::{ReferenceLm, ReferenceLmOptions};
pub use roc::{auroc, threshold_at_fpr, tpr_at_fpr};
pub use stumps::{Stump, StumpOptions};
pub use watermark::{WatermarkConfig, WatermarkScore, generate_toy, sample_watermarked, watermark_score};

/// Result alias of the detector.
pub type Result<T> = std::result::Result<T, DetectError>;

/// What can go wrong while training, loading, scoring or evaluating a detector.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// A parameter outside its valid range.
    #[error("{name} must be {expected}, found {found}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The valid range, in words.
        expected: String,
        /// The value given.
        found: String,
    },
    /// Scores and labels (or rows and labels) of different lengths.
    #[error("{what}: {scores} scores/rows but {labels} labels")]
    LengthMismatch {
        /// Which computation.
        what: &'static str,
        /// Number of scores or feature rows.
        scores: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A NaN score.
    #[error("{what}: score {index} is {value}; scores must not be NaN")]
    NanScore {
        /// Which computation.
        what: &'static str,
        /// Position of the score.
        index: usize,
        /// The score.
        value: f64,
    },
    /// A set that needs both classes lacks one.
    #[error("{what} needs both classes, found {positives} machine and {negatives} human texts")]
    MissingClass {
        /// Which set or computation.
        what: &'static str,
        /// Machine (positive) texts.
        positives: usize,
        /// Human (negative) texts.
        negatives: usize,
    },
    /// Malformed model JSON.
    #[error("detector model `{source_name}`: invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// The file (or `<memory>`).
        source_name: String,
        /// Line of the error (1-based; 0 when not applicable).
        line: usize,
        /// Column of the error (1-based; 0 when not applicable).
        column: usize,
        /// What serde_json said.
        message: String,
    },
    /// Well-formed JSON with an inconsistent or unsupported field.
    #[error("detector model field `{field}`: {reason}")]
    InvalidModel {
        /// The field (with its index where relevant).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a model file failed.
    #[error("detector model file `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A reference corpus the language model cannot be trained on.
    #[error("reference corpus: {reason}")]
    ReferenceCorpus {
        /// Why it is unusable.
        reason: String,
    },
    /// The tokenizer failed.
    #[error(transparent)]
    Tokenizer(#[from] tailwatch_core::Error),
}

impl DetectError {
    /// An [`DetectError::InvalidParameter`].
    pub fn invalid(name: &'static str, expected: impl Into<String>, found: impl ToString) -> Self {
        DetectError::InvalidParameter { name, expected: expected.into(), found: found.to_string() }
    }

    fn json(source_name: &str, error: &serde_json::Error) -> Self {
        DetectError::Json {
            source_name: source_name.to_owned(),
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        }
    }
}
