//! The server's records: pushes, rules, alerts, baselines, webhooks (their JSON shapes in the API).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tailwatch_metrics::catalog::{Direction, direction_words};

/// Metric id → value (`null` when undefined), as in `tailwatch score --json`.
pub type Metrics = BTreeMap<String, Option<f64>>;

/// The aggregate over every cohort of a version is stored under this cohort name.
pub const ALL_COHORTS: &str = "*";

/// Where a pushed profile belongs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushKey {
    /// Model name.
    pub model: String,
    /// Model version.
    pub version: String,
    /// User cohort (`default` when not given).
    pub cohort: String,
    /// Time window label (the UTC date of arrival when not given).
    pub window: String,
}

/// What one accepted push did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushOutcome {
    /// Id of the push.
    pub push_id: i64,
    /// True when the idempotency key was seen before: nothing was added.
    pub duplicate: bool,
    /// Where it went.
    #[serde(flatten)]
    pub key: PushKey,
    /// Documents in this push.
    pub n_docs: u64,
    /// Documents of the version (all cohorts) after the push.
    pub version_docs: u64,
    /// Pushes of the version (all cohorts) after the push.
    pub version_pushes: u64,
    /// Alerts this push opened.
    pub alerts_opened: Vec<Alert>,
    /// Alerts this push resolved.
    pub alerts_resolved: Vec<Alert>,
    /// Every rule the pushed version's aggregates breach now, whether its alert was opened by
    /// this push, is already open, or is not open yet (a rule that waits for several breaches):
    /// what a CI gate fails on. A repeated push lists the same.
    #[serde(default)]
    pub breaching: Vec<Breaching>,
    /// Rules that watch the version but could not judge it, and why (too few documents, no
    /// baseline, a version far larger or smaller than the baseline): a gate that passes
    /// without them says so.
    #[serde(default)]
    pub not_evaluated: Vec<NotEvaluated>,
}

/// A rule that could not judge the pushed version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotEvaluated {
    /// The rule.
    pub rule_id: i64,
    /// Its metric.
    pub metric: String,
    /// The cohort it watches (`*` for all).
    pub cohort: String,
    /// Why.
    pub reason: String,
}

/// A rule the pushed version breaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breaching {
    /// The rule.
    pub rule_id: i64,
    /// Its metric.
    pub metric: String,
    /// The cohort it was evaluated on (`*` for all).
    pub cohort: String,
    /// The version's value.
    pub value: f64,
    /// The threshold it passed.
    pub threshold: f64,
    /// The rule's open or acknowledged alert, if there is one.
    pub alert_id: Option<i64>,
}

/// How a rule's threshold is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// `threshold` in the metric's units.
    Fixed,
    /// The baseline's value moved by `threshold` × |baseline| in the rule's direction.
    Relative,
    /// mean ± `k`·σ of the metric over the baseline's chunks (its pushes; NannyML-style).
    Adaptive,
}

/// An alert rule as sent by a client (POST / PUT).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// A name for people.
    #[serde(default)]
    pub name: Option<String>,
    /// The model it watches, or `*` for every model (required when a rule is created; a rule
    /// stored without one, by an older server, watches every model).
    #[serde(default)]
    pub model: Option<String>,
    /// Only this cohort (the all-cohorts aggregate when absent).
    #[serde(default)]
    pub cohort: Option<String>,
    /// Metric id (see `tailwatch metrics`).
    pub metric: String,
    /// `above` or `below`; defaults to the metric's collapse direction.
    #[serde(default, with = "direction_words::bound::option")]
    pub direction: Option<Direction>,
    /// `fixed`, `relative` or `adaptive`.
    pub kind: RuleKind,
    /// Fixed: the limit; relative: the share of |baseline| (0.1 = 10 %). Unused for adaptive.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Adaptive: how many standard deviations (default 3).
    #[serde(default)]
    pub k: Option<f64>,
    /// Do not evaluate until the version holds this many documents (default 1).
    #[serde(default)]
    pub min_docs: Option<u64>,
    /// Consecutive breaching evaluations that open an alert (default 1).
    #[serde(default)]
    pub open_after: Option<u32>,
    /// Consecutive clean evaluations that resolve it (default 1).
    #[serde(default)]
    pub resolve_after: Option<u32>,
    /// Whether the rule is evaluated (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A stored rule, defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: Option<String>,
    /// Model filter.
    pub model: Option<String>,
    /// Cohort filter.
    pub cohort: Option<String>,
    /// Metric id.
    pub metric: String,
    /// Breach direction: `above` (collapse raises the metric) or `below`.
    #[serde(with = "direction_words::bound")]
    pub direction: Direction,
    /// Threshold kind.
    pub kind: RuleKind,
    /// Fixed limit or relative share.
    pub threshold: Option<f64>,
    /// Adaptive: σ multiple.
    pub k: f64,
    /// Minimum documents.
    pub min_docs: u64,
    /// Breaches to open.
    pub open_after: u32,
    /// Clean evaluations to resolve.
    pub resolve_after: u32,
    /// Evaluated?
    pub enabled: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// State of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Breaching, nobody has looked.
    Open,
    /// A person acknowledged it; still breaching.
    Acknowledged,
    /// The metric came back within the threshold.
    Resolved,
}

impl AlertState {
    /// Its name in the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }
    /// Parse a stored or requested state.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(AlertState::Open),
            "acknowledged" => Some(AlertState::Acknowledged),
            "resolved" => Some(AlertState::Resolved),
            _ => None,
        }
    }
}

/// An alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Id.
    pub id: i64,
    /// The rule that opened it.
    pub rule_id: i64,
    /// Model.
    pub model: String,
    /// Cohort scope (`*` for all cohorts).
    pub cohort: String,
    /// The version whose value opened it.
    pub version: String,
    /// The latest version evaluated while it was open.
    pub last_version: String,
    /// Metric id.
    pub metric: String,
    /// State.
    pub state: AlertState,
    /// The value that opened it.
    pub value: f64,
    /// The threshold it crossed.
    pub threshold: f64,
    /// The latest evaluated value.
    pub last_value: f64,
    /// Breach direction: `above` (collapse raises the metric) or `below`.
    #[serde(with = "direction_words::bound")]
    pub direction: Direction,
    /// When it opened (RFC 3339).
    pub opened_at: String,
    /// When it was acknowledged.
    pub acknowledged_at: Option<String>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When it resolved.
    pub resolved_at: Option<String>,
    /// Every version that breached the rule while the alert was open, the opener first.
    #[serde(default)]
    pub breached_by: Vec<BreachedVersion>,
}

/// A version that breached an alert's rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreachedVersion {
    /// The version.
    pub version: String,
    /// Its value (at its latest push).
    pub value: f64,
    /// The threshold it passed.
    pub threshold: f64,
    /// When it breached (its latest push, RFC 3339).
    pub at: String,
}

/// A baseline's metrics at one size: its chunks (level 0), or consecutive pairs of them merged
/// (level 1), fours (level 2), ...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeLevel {
    /// Mean documents per group.
    pub docs: f64,
    /// The metrics of each group, in order.
    pub groups: Vec<Metrics>,
}

/// What a baseline row stores as its chunks: levels (since schema 2), or the metrics of each
/// chunk (a single level, as version 1 wrote them).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StoredLevels {
    /// `{"levels": [...], "held_out": [...]}`.
    Levels {
        /// The levels, smallest first.
        levels: Vec<SizeLevel>,
        /// The reference metrics' levels: the chunks outside the held-out reference, against
        /// it, smallest first, ending with all of them merged (since schema 3).
        #[serde(default)]
        held_out: Option<Vec<SizeLevel>>,
    },
    /// `[metrics, ...]`: the chunks alone.
    Chunks(Vec<Metrics>),
}

/// A model's baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Model.
    pub model: String,
    /// `version` or `reference`.
    pub kind: String,
    /// The version, for `version` baselines.
    pub version: Option<String>,
    /// Frozen: a snapshot that later pushes do not change.
    pub frozen: bool,
    /// Documents in the baseline profile.
    pub n_docs: u64,
    /// Chunks (pushes, or slices of a reference corpus) behind adaptive thresholds.
    pub chunks: usize,
    /// The baseline's metrics.
    pub metrics: Metrics,
    /// When it was set (RFC 3339).
    pub created_at: String,
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// Id.
    pub id: i64,
    /// Where to POST.
    pub url: String,
    /// Whether payloads are signed (the secret itself is never returned).
    pub signed: bool,
    /// Creation time.
    pub created_at: String,
}

/// One delivery of an event to a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// Webhook.
    pub webhook_id: i64,
    /// `alert.opened`, `alert.acknowledged`, `alert.resolved`.
    pub event: String,
    /// The alert.
    pub alert_id: i64,
    /// `pending`, `delivered` or `failed` (gave up).
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// Last error, if any.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<String>,
}

/// A version of a model, with its all-cohorts metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSummary {
    /// Version name.
    pub version: String,
    /// Arrival order within the model (1 = first).
    pub seq: i64,
    /// Documents.
    pub n_docs: u64,
    /// Tokens.
    pub n_tokens: u64,
    /// Pushes.
    pub pushes: u64,
    /// First push (RFC 3339).
    pub first_seen: String,
    /// Latest push.
    pub last_seen: String,
    /// Metrics of the all-cohorts aggregate.
    pub metrics: Metrics,
}

/// A model in the overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// Name.
    pub model: String,
    /// Versions.
    pub versions: u64,
    /// The latest version to arrive.
    pub latest_version: Option<String>,
    /// Latest push.
    pub last_seen: Option<String>,
    /// Alerts open or acknowledged.
    pub active_alerts: u64,
    /// `ok`, `alerting` (an open alert) or `acknowledged` (only acknowledged ones).
    pub status: String,
    /// Whether a baseline is set.
    pub has_baseline: bool,
}

/// One point of a metric series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// Version.
    pub version: String,
    /// Window (for window series), else absent.
    pub window: Option<String>,
    /// Documents behind the point.
    pub n_docs: u64,
    /// The value.
    pub value: Option<f64>,
    /// Ids of alerts opened at this point.
    pub alerts: Vec<i64>,
}

/// What one version's merged profile holds of one prompt's group of answers.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupState {
    /// The group, as its sample holds it.
    Held(tailwatch_metrics::grouped::Group),
    /// The sample would hold it, but no answer had this key.
    Unanswered,
    /// The sample is full and keeps other groups (bottom-k by the key's hash): not known.
    NotSampled,
    /// The version's profiles do not group answers.
    Ungrouped,
}

impl GroupState {
    /// The state's name in the API.
    pub fn name(&self) -> &'static str {
        match self {
            GroupState::Held(_) => "held",
            GroupState::Unanswered => "unanswered",
            GroupState::NotSampled => "not_sampled",
            GroupState::Ungrouped => "ungrouped",
        }
    }
}

/// One prompt's group in one version (a point of a per-prompt series, before scoring).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionGroup {
    /// Version.
    pub version: String,
    /// Documents of the version.
    pub n_docs: u64,
    /// The version's tokenizer (the group's answers are scored with it).
    pub tokenizer: tailwatch_core::TokenizerSpec,
    /// What the version holds of the group.
    pub state: GroupState,
}

/// Current time as RFC 3339 (UTC, milliseconds).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Today's UTC date, the default window.
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}
