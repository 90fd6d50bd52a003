//! The score report: the JSON document `tailwatch score --json` prints and `compare` reads back.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Sample description in a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleInfo {
    /// Configured size (`1000`, `all`).
    pub size: String,
    /// Documents actually in the sample.
    pub docs: u64,
    /// Seed of the content hash.
    pub seed: u64,
    /// Whether the sample held its documents' text (else their tokens only); reports written
    /// before profiles could keep none always did.
    #[serde(default = "held_text")]
    pub text_kept: bool,
}

fn held_text() -> bool {
    true
}

fn documents() -> String {
    "documents".to_string()
}

/// One scored input (or several inputs scored together).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    /// Version of tailwatch that wrote it.
    pub tailwatch_version: String,
    /// The inputs.
    pub inputs: Vec<String>,
    /// Documents.
    pub n_docs: u64,
    /// Tokens.
    pub n_tokens: u64,
    /// Value per metric id (`null` when undefined).
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Ids whose values are estimates.
    #[serde(default)]
    pub approximate: Vec<String>,
    /// The reference and its tail, when one was given.
    #[serde(default)]
    pub reference: Option<serde_json::Value>,
    /// Tokenizer name.
    #[serde(default)]
    pub tokenizer: String,
    /// The document sample used by pairwise metrics.
    #[serde(default)]
    pub sample: SampleInfo,
    /// `--compat` mode, if any.
    #[serde(default)]
    pub compat: Option<String>,
    /// Records skipped by `--skip-invalid`.
    #[serde(default)]
    pub skipped_records: u64,
    /// zlib version used for compression_ratio.
    #[serde(default)]
    pub zlib_version: String,
    /// Notes on undefined or approximate values.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Confidence intervals of the metrics, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<MetricIntervals>,
    /// The groups of answers to one prompt, when the answers were grouped: how, how many, and
    /// the spread of each within-group metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<crate::grouped::GroupSummary>,
    /// Each score column's moments, under its `score_<field>_mean` and `_rate` ids (what
    /// `compare` tests their rules with); not in the JSON report.
    #[serde(skip)]
    pub score_moments: BTreeMap<String, crate::score_columns::ColumnMoments>,
}

/// Confidence intervals of a report's metrics: a delete-a-group jackknife over seeded groups
/// of documents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricIntervals {
    /// Confidence level, in (0, 1).
    pub confidence: f64,
    /// How the intervals were computed (`jackknife`).
    pub method: String,
    /// Groups of documents left out in turn.
    pub groups: usize,
    /// What was dealt into the groups: `documents`, or `records` when a record holds several
    /// documents (an array field), so that a record's documents stay together.
    #[serde(default = "documents")]
    pub dealt: String,
    /// Seed of the deal into groups.
    pub seed: u64,
    /// Per metric id: `[low, high]`; a metric without one (undefined, or too few documents)
    /// is absent.
    pub values: BTreeMap<String, [f64; 2]>,
}

/// A metric value as reports print it: 4 decimals, scientific notation below 1e-3 and from 1e5,
/// `-` when undefined, and 0 for −0.
pub fn format_value(v: Option<f64>) -> String {
    // -0.0 prints as 0
    match v.map(|x| if x == 0.0 { 0.0 } else { x }) {
        None => "-".to_string(),
        Some(x) if x != 0.0 && (x.abs() >= 1e5 || x.abs() < 1e-3) => format!("{x:.3e}"),
        Some(x) => format!("{x:.4}"),
    }
}

/// A metric a report holds, as the tables list it: its id and its catalog entry (for a score
/// column's id, the template's).
#[derive(Debug, Clone)]
pub struct ListedMetric {
    /// The id.
    pub id: String,
    /// Its catalog entry.
    pub info: &'static crate::catalog::MetricInfo,
}

/// The metrics that any of `reports` holds, grouped by family, in catalog order, then the
/// score columns' ids in name order (empty families left out): the sections of the text table
/// and of the HTML report.
pub fn metrics_by_family(reports: &[ScoreReport]) -> Vec<(crate::catalog::MetricFamily, Vec<ListedMetric>)> {
    let mut groups: Vec<(crate::catalog::MetricFamily, Vec<ListedMetric>)> = Vec::new();
    let mut push = |info: &'static crate::catalog::MetricInfo, id: String| match groups.last_mut() {
        Some((family, members)) if *family == info.family => members.push(ListedMetric { id, info }),
        _ => groups.push((info.family, vec![ListedMetric { id, info }])),
    };
    for m in crate::catalog::METRICS {
        if reports.iter().any(|r| r.metrics.contains_key(m.id)) {
            push(m, m.id.to_string());
        }
    }
    let columns: std::collections::BTreeSet<&String> = reports
        .iter()
        .flat_map(|r| r.metrics.keys())
        .filter(|id| crate::catalog::METRICS.iter().all(|m| m.id != id.as_str()))
        .collect();
    for id in columns {
        if let Some(info) = crate::catalog::metric_info(id) {
            push(info, id.clone());
        }
    }
    groups
}
