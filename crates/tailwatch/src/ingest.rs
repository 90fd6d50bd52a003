//! Ingesting inputs into the provenance ledger: each record with its origin, generator,
//! generation, source, license, key and parents, given for the whole input or read per record
//! from fields.
use std::path::PathBuf;

use serde::Serialize;
use tailwatch_core::Reporter;
use tailwatch_io::{DocReader, Format, ReadOptions};
use tailwatch_ledger::store::{IngestSummary, Ledger, NewRecord, Origin};

use crate::detecting::Detector;
use crate::{Engine, Error, Result};

/// Provenance given for every record of an ingest (a field of the record overrides it).
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// Origin.
    pub origin: Option<Origin>,
    /// The model that generated the records.
    pub generator: Option<String>,
    /// Recursion depth.
    pub generation: Option<u32>,
    /// Source or dataset.
    pub source: Option<String>,
    /// License.
    pub license: Option<String>,
}

/// Fields (dotted JSON paths, or CSV and Parquet columns) holding each record's provenance.
#[derive(Debug, Clone, Default)]
pub struct ProvenanceFields {
    /// Origin: `human`, `synthetic` or `unknown`.
    pub origin: Option<String>,
    /// Generator.
    pub generator: Option<String>,
    /// Generation: a non-negative integer.
    pub generation: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// License.
    pub license: Option<String>,
    /// Parent reference(s): a key or content id, or an array of them.
    pub parents: Option<String>,
    /// The record's own unique key.
    pub key: Option<String>,
}

impl ProvenanceFields {
    /// The fields, in the order they are read as extra fields.
    fn all(&self) -> [&Option<String>; 7] {
        [
            &self.origin,
            &self.generator,
            &self.generation,
            &self.source,
            &self.license,
            &self.parents,
            &self.key,
        ]
    }
}

/// An ingest: inputs, how to read them, the provenance they carry, and an optional detector
/// that scores records of unknown origin.
pub struct IngestJob<'a> {
    /// Inputs.
    pub inputs: Vec<PathBuf>,
    /// How they are read.
    pub read: ReadOptions,
    /// Provenance of every record.
    pub provenance: Provenance,
    /// Provenance fields of each record.
    pub fields: ProvenanceFields,
    /// Scores records of unknown origin.
    pub detector: Option<&'a Detector>,
    /// Records per transaction.
    pub batch_size: usize,
}

/// What an ingest did.
#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    /// The ledger's summary.
    #[serde(flatten)]
    pub summary: IngestSummary,
    /// With a detector: how many unknown-origin records it scored, and how many it thinks are
    /// machine text (probability ≥ 0.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detector: Option<DetectorCounts>,
}

/// Unknown-origin records a detector scored.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DetectorCounts {
    /// Scored.
    pub scored: usize,
    /// Of those, probability ≥ 0.5.
    pub likely_machine: usize,
}

/// A record's place, as ledger errors name it.
fn location(path: &std::path::Path, format: Format, record: u64) -> String {
    match format {
        Format::Text | Format::Jsonl => format!("{}: line {record}", path.display()),
        Format::Csv | Format::Parquet => format!("{}: row {record}", path.display()),
        Format::Json => format!("{}: record {record}", path.display()),
    }
}

fn parse_parents(value: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string).or_else(|| (!v.is_null()).then(|| v.to_string())))
            .collect(),
        _ => vec![value.to_string()],
    }
}

fn invalid(location: &str, message: String) -> Error {
    Error::Ledger(tailwatch_ledger::Error::InvalidRecord { location: location.to_string(), message })
}

impl Engine {
    /// Read every record of the job's inputs (all of them are checked before anything is
    /// written: a bad record changes nothing) and ingest them in batched transactions.
    pub fn ingest(
        &self,
        ledger: &mut Ledger,
        job: &IngestJob<'_>,
        reporter: &dyn Reporter,
    ) -> Result<IngestReport> {
        let fields = &job.fields;
        if job.provenance.origin.is_none() && fields.origin.is_none() {
            return Err(Error::NoOrigin);
        }
        // each provenance field read as an extra field, at its index
        let mut read = job.read.clone();
        read.extra_fields.clear();
        let mut index = [None; 7];
        for (slot, field) in index.iter_mut().zip(fields.all()) {
            if let Some(f) = field {
                read.extra_fields.push(f.clone());
                *slot = Some(read.extra_fields.len() - 1);
            }
        }
        let [origin_at, generator_at, generation_at, source_at, license_at, parents_at, key_at] = index;
        let mut records: Vec<NewRecord> = Vec::new();
        let mut scored = Vec::new();
        for input in &job.inputs {
            let format = read.format.unwrap_or_else(|| Format::from_path(input));
            let mut reader = DocReader::open(input, &read)?;
            while let Some(batch) = reader.next_batch()? {
                for mut record in batch.records {
                    let loc = location(input, format, record.number);
                    let extras = std::mem::take(&mut record.extras);
                    let text = record.into_joined();
                    let field = |at: Option<usize>| at.and_then(|k| extras.get(k).cloned().flatten());
                    let origin = match field(origin_at) {
                        Some(o) => o.parse::<Origin>().map_err(|e| {
                            invalid(
                                &loc,
                                format!("field `{}`: {e}", fields.origin.as_deref().unwrap_or("origin")),
                            )
                        })?,
                        None => job.provenance.origin.ok_or_else(|| {
                            invalid(
                                &loc,
                                format!(
                                    "missing field `{}` (origin) and no origin for the input",
                                    fields.origin.as_deref().unwrap_or("origin")
                                ),
                            )
                        })?,
                    };
                    let generation = match field(generation_at) {
                        Some(g) => Some(g.trim().parse::<u32>().map_err(|_| {
                            invalid(
                                &loc,
                                format!(
                                    "field `{}` must be a non-negative integer, found `{g}`",
                                    fields.generation.as_deref().unwrap_or("generation")
                                ),
                            )
                        })?),
                        None => job.provenance.generation,
                    };
                    let (detector_score, detector_model) = match (job.detector, origin) {
                        (Some(detector), Origin::Unknown) => {
                            let p = detector.score(&text);
                            scored.push(p);
                            (Some(p), Some(detector.name.clone()))
                        }
                        _ => (None, None),
                    };
                    records.push(NewRecord {
                        text,
                        origin,
                        generator: field(generator_at).or_else(|| job.provenance.generator.clone()),
                        generation,
                        source: field(source_at).or_else(|| job.provenance.source.clone()),
                        license: field(license_at).or_else(|| job.provenance.license.clone()),
                        key: field(key_at),
                        parents: field(parents_at).map(|p| parse_parents(&p)).unwrap_or_default(),
                        detector_score,
                        detector_model,
                        location: loc,
                    });
                }
            }
        }
        if records.is_empty() {
            return Err(Error::NoDocuments { inputs: job.inputs.clone() });
        }
        let name = job.inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ");
        let summary = self.install(|| ledger.ingest(&name, records, job.batch_size, reporter))?;
        let detector = job.detector.map(|_| DetectorCounts {
            scored: scored.len(),
            likely_machine: scored.iter().filter(|&&p| p >= 0.5).count(),
        });
        Ok(IngestReport { summary, detector })
    }
}
