//! Profiles on the server: decode pushed bytes or raw outputs, merge, and compute metrics.
use tailwatch_core::{Tokenizer, TokenizerSpec};
use tailwatch_metrics::{Profile, ProfileConfig, Reference, ReferenceOptions, item_metrics, lexical_metrics};

use crate::error::ApiError;
use crate::types::Metrics;

/// Decode a `.twp` body.
pub fn decode(bytes: &[u8], max_decoded: usize) -> Result<Profile, ApiError> {
    let profile = Profile::from_bytes_limited(bytes, std::path::Path::new("<request body>"), max_decoded)
        .map_err(|e| ApiError::bad_request(format!("the body is not a tailwatch profile: {e}")))?;
    tokenizer_of(&profile)?;
    Ok(profile)
}

/// The tokenizer a profile was built with, if the server can rebuild it.
pub fn tokenizer_of(profile: &Profile) -> Result<Tokenizer, ApiError> {
    Tokenizer::from_spec(&profile.config().tokenizer).map_err(|_| {
        ApiError::unprocessable(format!(
            "profiles tokenized with `{}` cannot be scored on the server (it does not have the tokenizer file); push with a built-in tokenizer (words, whitespace, python-split, items)",
            profile.config().tokenizer.name()
        ))
    })
}

/// Options for raw outputs pushed as JSONL.
#[derive(Debug, Clone)]
pub struct RawOptions {
    /// The text field (dotted path); default `text`.
    pub field: String,
    /// Built-in tokenizer name; default `words`.
    pub tokenizer: String,
    /// Lowercase tokens.
    pub lowercase: bool,
}

/// Profile raw outputs: one JSON object per line holding a string (or array of strings) at `field`.
pub fn profile_jsonl(body: &[u8], options: &RawOptions) -> Result<Profile, ApiError> {
    let spec = TokenizerSpec::parse_builtin(&options.tokenizer, options.lowercase).ok_or_else(|| {
        ApiError::bad_request(format!(
            "parameter `tokenizer`: `{}` is not a built-in tokenizer (words, whitespace, python-split, items)",
            options.tokenizer
        ))
    })?;
    let tokenizer = Tokenizer::from_spec(&spec).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let docs = jsonl_texts(body, &options.field)?;
    if docs.is_empty() {
        return Err(ApiError::bad_request("the body holds no records"));
    }
    let mut profile = Profile::new(ProfileConfig::new(spec));
    for (line, doc) in docs {
        profile
            .observe(&tokenizer, &doc)
            .map_err(|e| ApiError::bad_request(format!("line {line}: field `{}`: {e}", options.field)))?;
    }
    Ok(profile.sealed())
}

/// The texts of a JSONL body with their line numbers, read by tailwatch-io exactly as the CLI
/// reads a JSONL file (`field`: a dotted path to a string or an array of strings).
pub fn jsonl_texts(body: &[u8], field: &str) -> Result<Vec<(u64, String)>, ApiError> {
    let options = tailwatch_io::ReadOptions {
        format: Some(tailwatch_io::Format::Jsonl),
        field: Some(field.to_string()),
        ..tailwatch_io::ReadOptions::default()
    };
    let bad = |e: tailwatch_io::Error| ApiError::bad_request(e.to_string());
    let mut reader =
        tailwatch_io::DocReader::from_bytes("request body", body.to_vec(), &options).map_err(bad)?;
    let mut docs = Vec::new();
    while let Some(batch) = reader.next_batch().map_err(bad)? {
        for record in batch.records {
            docs.extend(record.texts.into_iter().map(|text| (record.number, text)));
        }
    }
    Ok(docs)
}

/// Merge `incoming` into `stored` (or start from it).
pub fn merge(stored: Option<Profile>, incoming: Profile) -> Result<Profile, ApiError> {
    match stored {
        None => Ok(incoming),
        Some(mut profile) => {
            profile.merge(incoming).map_err(|e| {
                ApiError::conflict(format!(
                    "the profile cannot be merged with what this key already holds: {e} (push with the same tokenizer and sample settings)"
                ))
            })?;
            Ok(profile)
        }
    }
}

/// The lexical metrics of a profile (exactly what `tailwatch score` computes without a reference).
pub fn lexical(profile: &Profile) -> Result<Metrics, ApiError> {
    if profile.n_docs() == 0 {
        return Ok(Metrics::new());
    }
    let tokenizer = tokenizer_of(profile)?;
    let mut values = lexical_metrics(profile, &tokenizer, &tailwatch_metrics::MetricSelection::All)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if profile.config().tokenizer.kind == tailwatch_core::TokenizerKind::Items {
        values.extend(item_metrics(profile, None));
    }
    Ok(values.values)
}

/// Lexical metrics plus, with a baseline profile, the metrics against it as the reference
/// (`js_to_reference`, `kl_to_reference`, `tail_coverage`, ...).
pub fn metrics(profile: &Profile, baseline: Option<&Profile>) -> Result<Metrics, ApiError> {
    let mut values = lexical(profile)?;
    if let Some(base) = baseline
        && base.n_docs() > 0
        && profile.n_docs() > 0
    {
        let reference = Reference::from_profile(base, "baseline", "profile");
        let (reference_values, _) = reference.metrics(profile, ReferenceOptions::default());
        values.extend(reference_values.values);
    }
    Ok(values)
}

/// Split raw documents into `chunks` contiguous slices and profile each (for adaptive thresholds).
pub fn chunk_profiles(
    docs: &[String],
    spec: &TokenizerSpec,
    chunks: usize,
) -> Result<Vec<Profile>, ApiError> {
    let tokenizer = Tokenizer::from_spec(spec).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let size = docs.len().div_ceil(chunks.max(1)).max(1);
    docs.chunks(size)
        .map(|slice| {
            let mut p = Profile::new(ProfileConfig::new(spec.clone()));
            for doc in slice {
                p.observe(&tokenizer, doc).map_err(|e| ApiError::bad_request(e.to_string()))?;
            }
            Ok(p.sealed())
        })
        .collect()
}
