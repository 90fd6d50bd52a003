//! The ledger's files: an export with its manifest, a mix with its manifest, a review sample to
//! fill in, and the verdicts read back.
use std::path::{Path, PathBuf};

use serde_json::json;
use tailwatch_ledger::export::ExportSummary;
use tailwatch_ledger::mix::Manifest;
use tailwatch_ledger::review::Sample;
use tailwatch_ledger::store::{Ledger, RecordRow};

use crate::{Error, Result};
use tailwatch_io::OutputFile;
use tailwatch_io::output::write_json_lines;

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).expect("serializable");
    Ok(tailwatch_io::output::write_file(path, &bytes)?)
}

/// Every record of `ledger` as JSONL with its provenance at `output`, and a Croissant-style
/// JSON-LD manifest at `manifest` (default: `output` with `.croissant.json`).
pub fn export(
    ledger: &Ledger,
    output: &Path,
    manifest: Option<&Path>,
    name: &str,
) -> Result<(ExportSummary, PathBuf)> {
    let mut file = std::io::BufWriter::new(OutputFile::create(output)?);
    let summary = tailwatch_ledger::export::export_jsonl(ledger, &mut file)?;
    file.into_inner().map_err(|e| Error::file(output, e.into_error()))?.finish()?;
    let file_name =
        output.file_name().map_or_else(|| "records.jsonl".into(), |n| n.to_string_lossy().into_owned());
    let manifest_path = manifest.map_or_else(|| output.with_extension("croissant.json"), Path::to_path_buf);
    let document = tailwatch_ledger::export::manifest(ledger, &file_name, &summary, name)?;
    write_json(&manifest_path, &document)?;
    Ok((summary, manifest_path))
}

/// A review sample as JSONL to fill in (`verdict`: accept or reject).
pub fn write_review_sample(sample: &Sample, output: &Path) -> Result<()> {
    let lines = sample.records.iter().map(|r| {
        json!({
            "id": r.id, "key": r.key, "generator": r.generator, "generation": r.generation,
            "origin": r.origin, "text": r.text, "verdict": null, "reviewer": null, "note": null,
        })
    });
    Ok(write_json_lines(output, lines)?)
}

/// One verdict of a filled-in review sample.
#[derive(Debug, Clone)]
pub struct ReviewVerdict {
    /// The record (key, content id or prefix).
    pub id: String,
    /// Accepted or rejected.
    pub accept: bool,
    /// Who judged.
    pub reviewer: String,
    /// Why.
    pub note: Option<String>,
    /// `file: line N`, for errors.
    pub location: String,
}

/// The verdicts of a filled-in review sample (JSONL `{"id", "verdict", "reviewer", "note"}`),
/// and how many records have no verdict yet.
pub fn read_verdicts(path: &Path) -> Result<(Vec<ReviewVerdict>, usize)> {
    // a review sample is a few thousand records at most
    let bytes = tailwatch_io::read_file_limited(path, 1 << 30)?;
    let mut verdicts = Vec::new();
    let mut undecided = 0usize;
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let location = format!("{}: line {}", path.display(), i + 1);
        let bad = |message: String| {
            Error::Ledger(tailwatch_ledger::Error::InvalidRecord { location: location.clone(), message })
        };
        let line = std::str::from_utf8(line).map_err(|e| bad(format!("invalid UTF-8 ({e})")))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        let id = v["id"].as_str().ok_or_else(|| bad("missing string field `id`".into()))?;
        let accept = match v["verdict"].as_str() {
            Some("accept") => true,
            Some("reject") => false,
            Some(other) => {
                return Err(bad(format!("field `verdict` must be accept or reject, found `{other}`")));
            }
            None if v["verdict"].is_null() => {
                undecided += 1;
                continue;
            }
            None => return Err(bad("field `verdict` must be a string (accept or reject)".into())),
        };
        verdicts.push(ReviewVerdict {
            id: id.to_string(),
            accept,
            reviewer: v["reviewer"].as_str().unwrap_or("").to_string(),
            note: v["note"].as_str().map(str::to_string),
            location,
        });
    }
    Ok((verdicts, undecided))
}

/// One record of a mix, as a mix's JSONL line holds it: its text with its provenance.
pub fn mix_record(r: &RecordRow) -> serde_json::Value {
    json!({
        "id": r.id, "key": r.key, "text": r.text, "origin": r.origin, "generator": r.generator,
        "generation": r.generation, "source": r.source, "license": r.license,
    })
}

/// A mix as JSONL (its records with their provenance) at `output`, and its manifest at
/// `manifest` (default: `output` with `.manifest.json`).
pub fn write_mix(
    members: &[RecordRow],
    manifest: &Manifest,
    output: &Path,
    manifest_path: Option<&Path>,
) -> Result<PathBuf> {
    write_json_lines(output, members.iter().map(mix_record))?;
    let manifest_path =
        manifest_path.map_or_else(|| output.with_extension("manifest.json"), Path::to_path_buf);
    write_json(&manifest_path, manifest)?;
    Ok(manifest_path)
}
