//! Storage: the [`Store`] repository trait the API uses (one method per question or change,
//! in the API's terms), and its SQLite implementation: [`schema`] (tables and migrations),
//! `aggregates` (lazily merged version, cohort and window profiles and their cache),
//! `alerts` (rule evaluation, alert rows, the webhook outbox) and the rest of the SQL.
mod aggregates;
mod alerts;
pub mod schema;
mod sqlite;

pub use aggregates::PERSIST_EVERY;
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};
pub use sqlite::SqliteStore;

use tailwatch_metrics::Profile;

use crate::error::StoreResult;
use crate::rules::BaselineValues;
use crate::types::{
    Alert, AlertState, Baseline, Delivery, ModelSummary, PushKey, PushOutcome, Rule, RuleSpec, SeriesPoint,
    SizeLevel, VersionGroup, VersionSummary, Webhook,
};

/// Filters of the alert list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only this state.
    pub state: Option<AlertState>,
    /// Only this model.
    pub model: Option<String>,
}

/// A delivery that is due, with what is needed to send it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// Delivery id.
    pub id: i64,
    /// Target URL.
    pub url: String,
    /// Signing secret.
    pub secret: Option<String>,
    /// The JSON body.
    pub payload: String,
    /// Attempts so far.
    pub attempts: u32,
}

/// A stored push, found by its idempotency key.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PushRecord {
    /// Push id.
    pub push_id: i64,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
    /// Where it went.
    #[serde(flatten)]
    pub key: PushKey,
    /// Documents.
    pub n_docs: u64,
    /// Arrival time.
    pub received_at: String,
}

/// Per-cohort and per-window breakdown of one version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionDetail {
    /// The all-cohorts summary.
    #[serde(flatten)]
    pub summary: VersionSummary,
    /// One summary per cohort.
    pub cohorts: Vec<serde_json::Value>,
    /// One entry per (cohort, window).
    pub windows: Vec<serde_json::Value>,
}

/// Totals for health checks and load tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    /// Models.
    pub models: u64,
    /// Accepted (non-duplicate) pushes.
    pub pushes: u64,
    /// Documents over all versions (all-cohorts aggregates).
    pub docs: u64,
    /// Alerts in any state.
    pub alerts: u64,
}

/// Everything the API needs from storage, in five roles: [`Profiles`], [`Baselines`],
/// [`Alerting`], [`WebhookOutbox`] and [`Settings`]. A part of the server that needs one role
/// takes that trait alone (the webhook sender takes a [`WebhookOutbox`], the token check
/// [`Settings`]). SQLite implements them all; a Postgres backend can follow.
pub trait Store: Profiles + Baselines + Alerting + WebhookOutbox + Settings + Send + Sync + 'static {}

impl<T: Profiles + Baselines + Alerting + WebhookOutbox + Settings + Send + Sync + 'static> Store for T {}

/// Pushed profiles and what is merged from them: models, versions, series.
pub trait Profiles: Send + Sync {
    /// Store a push: merge it into its window, cohort and version aggregates, evaluate the rules.
    /// A repeated idempotency key adds nothing and returns the first push.
    fn push(
        &self,
        key: &PushKey,
        idempotency_key: Option<&str>,
        profile: Profile,
    ) -> StoreResult<PushOutcome>;
    /// A push by idempotency key.
    fn push_by_key(&self, idempotency_key: &str) -> StoreResult<Option<PushRecord>>;
    /// All models with status.
    fn models(&self) -> StoreResult<Vec<ModelSummary>>;
    /// The versions of a model in arrival order (all-cohorts aggregates).
    fn versions(&self, model: &str) -> StoreResult<Vec<VersionSummary>>;
    /// One version with its cohorts and windows.
    fn version(&self, model: &str, version: &str) -> StoreResult<VersionDetail>;
    /// The merged profile of a version (cohort `*` for all).
    fn version_profile(&self, model: &str, version: &str, cohort: &str) -> StoreResult<Profile>;
    /// The profiles of a version's pushes (cohort `*` for all), in order, merged into at most
    /// `groups` consecutive groups.
    fn push_groups(
        &self,
        model: &str,
        version: &str,
        cohort: &str,
        groups: usize,
    ) -> StoreResult<Vec<Profile>>;
    /// A metric over versions (`by_window` false) or over the windows of each version.
    fn series(
        &self,
        model: &str,
        metric: &str,
        cohort: &str,
        by_window: bool,
    ) -> StoreResult<Vec<SeriesPoint>>;
    /// One prompt's group (by its key) in every version of a model, in arrival order (cohort
    /// `*` for all): what each version's merged sample holds of it.
    fn group_across_versions(&self, model: &str, cohort: &str, key: &str) -> StoreResult<Vec<VersionGroup>>;
    /// Totals.
    fn totals(&self) -> StoreResult<Totals>;
    /// Background upkeep: merge at most `max_pushes` pending pushes into lagging aggregates and
    /// store them, so reads stay fast. Returns how many pushes it merged.
    fn compact(&self, max_pushes: usize) -> StoreResult<usize>;
}

/// The baseline each model is compared with.
pub trait Baselines: Send + Sync {
    /// Make a version the model's baseline; `freeze` snapshots it now.
    fn set_baseline_version(&self, model: &str, version: &str, freeze: bool) -> StoreResult<Baseline>;
    /// Make a reference corpus profile the model's baseline (always frozen).
    fn set_baseline_reference(
        &self,
        model: &str,
        profile: Profile,
        levels: Vec<SizeLevel>,
        held: Option<crate::profiles::HeldOut>,
    ) -> StoreResult<Baseline>;
    /// Freeze a live version baseline.
    fn freeze_baseline(&self, model: &str) -> StoreResult<Baseline>;
    /// The model's baseline.
    fn baseline(&self, model: &str) -> StoreResult<Option<Baseline>>;
    /// What versions' reference metrics are computed against: a frozen baseline's held-out
    /// reference, else the baseline's profile; `None` without a baseline.
    fn reference_profile(&self, model: &str) -> StoreResult<Option<Profile>>;
    /// The baseline's value and chunk values of one metric (what rules and charts use).
    fn baseline_values(&self, model: &str, metric: &str) -> StoreResult<Option<BaselineValues>>;
}

/// Alert rules and the alerts they open.
pub trait Alerting: Send + Sync {
    /// Create a rule.
    fn create_rule(&self, spec: &RuleSpec) -> StoreResult<Rule>;
    /// All rules.
    fn rules(&self) -> StoreResult<Vec<Rule>>;
    /// One rule.
    fn rule(&self, id: i64) -> StoreResult<Rule>;
    /// Replace a rule.
    fn update_rule(&self, id: i64, spec: &RuleSpec) -> StoreResult<Rule>;
    /// Delete a rule (its alerts stay, resolved).
    fn delete_rule(&self, id: i64) -> StoreResult<()>;
    /// Alerts, newest first.
    fn alerts(&self, filter: &AlertFilter) -> StoreResult<Vec<Alert>>;
    /// One alert.
    fn alert(&self, id: i64) -> StoreResult<Alert>;
    /// Acknowledge an open alert.
    fn acknowledge(&self, id: i64, by: &str) -> StoreResult<Alert>;
}

/// Webhooks and the outbox of their deliveries.
pub trait WebhookOutbox: Send + Sync {
    /// Subscribe a webhook.
    fn create_webhook(&self, url: &str, secret: Option<&str>) -> StoreResult<Webhook>;
    /// All webhooks.
    fn webhooks(&self) -> StoreResult<Vec<Webhook>>;
    /// Delete a webhook and its pending deliveries.
    fn delete_webhook(&self, id: i64) -> StoreResult<()>;
    /// Deliveries of a webhook, newest first.
    fn deliveries(&self, webhook_id: i64) -> StoreResult<Vec<Delivery>>;
    /// Deliveries due at `now_ms`.
    fn due_deliveries(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<DueDelivery>>;
    /// Record an attempt: delivered, or retry at `retry_at_ms` (`None`: give up).
    fn record_attempt(&self, id: i64, error: Option<&str>, retry_at_ms: Option<i64>) -> StoreResult<()>;
}

/// Server settings (the write token's hash, ...).
pub trait Settings: Send + Sync {
    /// A server setting.
    fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Set a server setting.
    fn set_setting(&self, key: &str, value: &str) -> StoreResult<()>;
}
