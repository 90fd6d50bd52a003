//! Profiles on the server, through the engine: decode pushed bytes, profile uploaded outputs,
//! merge, and compute what a version shows. Errors are [`ProfileError`]s; handlers give them a status.
use tailwatch::{Engine, ProfileSettings};
use tailwatch_core::TokenizerSpec;
use tailwatch_metrics::Profile;

use crate::error::ProfileError;
use crate::types::Metrics;

/// How far a body of `len` bytes may decompress: at most `max_decoded`, and at most
/// [`tailwatch::decoded_limit`] (64 times, at least 64 MiB), as in the CLI.
pub fn decoded_limit(len: usize, max_decoded: usize) -> usize {
    tailwatch::decoded_limit(len).min(max_decoded)
}

/// Decode a `.twp` body (at most [`decoded_limit`] bytes once decompressed) whose tokenizer the
/// server can rebuild.
pub fn decode(bytes: &[u8], max_decoded: usize) -> Result<Profile, ProfileError> {
    let limit = decoded_limit(bytes.len(), max_decoded);
    let profile = Profile::from_bytes_limited(bytes, std::path::Path::new("<request body>"), limit)
        .map_err(ProfileError::NotAProfile)?;
    tokenizer_check(&profile)?;
    Ok(profile)
}

/// The bytes all profile decodings at once may decompress to: each decoding holds its
/// [`decoded_limit`] of the budget while it runs, so concurrent bombs wait instead of adding up.
#[derive(Debug, Clone)]
pub struct DecodeBudget {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    megabytes: u32,
}

impl DecodeBudget {
    /// A budget of `bytes` (at least 1 MiB).
    pub fn new(bytes: usize) -> Self {
        let megabytes = u32::try_from(bytes >> 20).unwrap_or(u32::MAX).clamp(1, 1 << 24);
        Self { permits: std::sync::Arc::new(tokio::sync::Semaphore::new(megabytes as usize)), megabytes }
    }

    /// Wait until a body of `len` bytes may be decoded; the share is held until the permit drops.
    pub async fn reserve(&self, len: usize, max_decoded: usize) -> tokio::sync::OwnedSemaphorePermit {
        let share = decoded_limit(len, max_decoded).div_ceil(1 << 20);
        let share = u32::try_from(share).unwrap_or(u32::MAX).clamp(1, self.megabytes);
        self.permits.clone().acquire_many_owned(share).await.expect("the budget is never closed")
    }
}

/// Refuse a profile whose tokenizer the server cannot rebuild (a HuggingFace tokenizer file).
fn tokenizer_check(profile: &Profile) -> Result<(), ProfileError> {
    tailwatch::scoring::tokenizer_of(profile).map(|_| ()).map_err(|_| ProfileError::TokenizerUnavailable {
        tokenizer: profile.config().tokenizer.name().to_string(),
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

impl RawOptions {
    /// The profile settings of these options (the CLI's defaults otherwise).
    fn settings(&self) -> Result<ProfileSettings, ProfileError> {
        let spec = TokenizerSpec::parse_builtin(&self.tokenizer, self.lowercase)
            .ok_or_else(|| ProfileError::UnknownTokenizer { name: self.tokenizer.clone() })?;
        let tokenizer = tailwatch_core::Tokenizer::from_spec(&spec)
            .map_err(|e| ProfileError::Outputs(tailwatch::Error::Tokenizer(e)))?;
        Ok(ProfileSettings::new(tokenizer))
    }
}

/// The documents of a JSONL body, read by tailwatch-io exactly as the CLI reads a JSONL file
/// (`field`: a dotted path to a string or an array of strings), with their line numbers.
pub fn jsonl_texts(body: &[u8], field: &str) -> Result<Vec<(u64, String)>, ProfileError> {
    let read = tailwatch_io::ReadOptions {
        format: Some(tailwatch_io::Format::Jsonl),
        field: Some(field.to_string()),
        ..tailwatch_io::ReadOptions::default()
    };
    tailwatch::profiling::records_of_bytes("request body", body.to_vec(), &read)
        .map_err(ProfileError::Outputs)
}

/// Profile raw outputs: one JSON object per line holding a string (or array of strings) at
/// `field`; with `chunks`, also the profiles of that many contiguous slices of the documents
/// (for adaptive thresholds).
pub fn profile_jsonl(
    engine: &Engine,
    body: &[u8],
    options: &RawOptions,
    chunks: Option<usize>,
) -> Result<(Profile, Vec<Profile>), ProfileError> {
    let settings = options.settings()?;
    let docs = jsonl_texts(body, &options.field)?;
    if docs.is_empty() {
        return Err(ProfileError::NoRecords);
    }
    let texts: Vec<&str> = docs.iter().map(|(_, d)| d.as_str()).collect();
    let whole = engine.profile_texts(texts.iter().copied(), &settings).map_err(ProfileError::Outputs)?;
    let parts = match chunks {
        Some(n) => engine.profile_chunks(&texts, &settings, n).map_err(ProfileError::Outputs)?,
        None => Vec::new(),
    };
    Ok((whole, parts))
}

/// Merge `incoming` into `stored` (or start from it).
pub fn merge(engine: &Engine, stored: Option<Profile>, incoming: Profile) -> Result<Profile, ProfileError> {
    match stored {
        None => Ok(incoming),
        Some(mut profile) => {
            engine.install(|| profile.merge(incoming)).map_err(ProfileError::Unmergeable)?;
            Ok(profile)
        }
    }
}

/// Every lexical metric of a profile (exactly what `tailwatch score` computes without a
/// reference), plus, with a baseline profile, the metrics against it as the reference
/// (`js_to_reference`, `kl_to_reference`, `tail_coverage`, ...).
pub fn metrics(
    engine: &Engine,
    profile: &Profile,
    baseline: Option<&Profile>,
) -> Result<Metrics, ProfileError> {
    metrics_of(engine, profile, baseline, &tailwatch_metrics::MetricSelection::All)
}

/// [`metrics`], only those `selection` asks for.
pub fn metrics_of(
    engine: &Engine,
    profile: &Profile,
    baseline: Option<&Profile>,
    selection: &tailwatch_metrics::MetricSelection,
) -> Result<Metrics, ProfileError> {
    tokenizer_check(profile)?;
    tailwatch::scoring::profile_metrics(engine, profile, baseline, selection).map_err(ProfileError::Metrics)
}

/// A baseline's held-out reference: half of its chunks, merged, which versions' reference
/// metrics are computed against, and the levels of the other half against it.
#[derive(Debug)]
pub struct HeldOut {
    /// The reference: the chunks of even index, merged.
    pub reference: Profile,
    /// The chunks of odd index against the reference: at every level, then all merged.
    pub levels: Vec<crate::types::SizeLevel>,
}

/// Split a baseline's chunks once (even index: the reference; odd: the baseline's side), so
/// that neither the baseline nor any version is measured against a reference holding it: a
/// corpus covers all of its own tail (`tail_coverage` 1, `js_to_reference` 0), and measured
/// against itself every independent version of it looked collapsed. `None` under two chunks.
pub fn held_out(engine: &Engine, chunks: &[Profile]) -> Result<Option<HeldOut>, ProfileError> {
    if chunks.len() < 2 {
        return Ok(None);
    }
    let mut reference: Option<Profile> = None;
    let mut side = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        if i % 2 == 0 {
            reference = Some(merge(engine, reference, chunk.clone())?);
        } else {
            side.push(chunk.clone());
        }
    }
    let reference = reference.expect("two chunks or more");
    let whole = side.iter().cloned().try_fold(None, |acc, p| merge(engine, acc, p).map(Some))?;
    let mut levels = size_levels(engine, side.clone(), Some(&reference))?;
    if side.len() > 1
        && let Some(whole) = whole
    {
        let docs = whole.n_docs() as f64;
        levels
            .push(crate::types::SizeLevel { docs, groups: vec![metrics(engine, &whole, Some(&reference))?] });
    }
    Ok(Some(HeldOut { reference, levels }))
}

/// The metrics of `chunks` at every size the baseline can be read at: each chunk (level 0), then
/// consecutive pairs merged, fours, ... while a level holds at least two groups (the whole
/// baseline is read from its own profile). `reference` is what reference metrics are computed
/// against.
pub fn size_levels(
    engine: &Engine,
    chunks: Vec<Profile>,
    reference: Option<&Profile>,
) -> Result<Vec<crate::types::SizeLevel>, ProfileError> {
    let mut levels = Vec::new();
    let mut current = chunks;
    while !current.is_empty() {
        let groups = current.iter().map(|p| metrics(engine, p, reference)).collect::<Result<Vec<_>, _>>()?;
        let docs = current.iter().map(|p| p.n_docs() as f64).sum::<f64>() / current.len() as f64;
        levels.push(crate::types::SizeLevel { docs, groups });
        if current.len() < 4 {
            // the next level would hold one group
            break;
        }
        let mut next = Vec::with_capacity(current.len() / 2);
        let mut pairs = current.into_iter();
        while let (Some(a), Some(b)) = (pairs.next(), pairs.next()) {
            next.push(merge(engine, Some(a), b)?);
        }
        current = next;
    }
    Ok(levels)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six 134 KB bombs at once took the server to 6.3 GB: each decoding now holds its limit
    /// (64 MiB for a small body) of the budget, and the next waits.
    #[tokio::test]
    async fn decodings_past_the_budget_wait_for_a_share() {
        assert_eq!(decoded_limit(134_000, 1 << 30), 64 << 20);
        let budget = DecodeBudget::new(100 << 20);
        let first = budget.reserve(134_000, 1 << 30).await;
        let wait = std::time::Duration::from_millis(100);
        assert!(tokio::time::timeout(wait, budget.reserve(134_000, 1 << 30)).await.is_err());
        drop(first);
        let second =
            tokio::time::timeout(std::time::Duration::from_secs(5), budget.reserve(134_000, 1 << 30));
        assert!(second.await.is_ok());
    }
}
