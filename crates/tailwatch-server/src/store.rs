//! Storage: the `Store` trait the API uses, and its SQLite implementation (one file, WAL).
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tailwatch_metrics::Profile;
use tailwatch_metrics::catalog::Direction;

use crate::error::{Conflict, Missing, StoreError, StoreResult};
use crate::profiles;
use crate::rules::{self, BaselineValues, Hysteresis, Transition};

use crate::types::{
    ALL_COHORTS, Alert, AlertState, Baseline, Delivery, Metrics, ModelSummary, PushKey, PushOutcome, Rule,
    RuleSpec, SeriesPoint, VersionSummary, Webhook, now,
};

/// `PRAGMA application_id` of a server database: "TWSV".
pub const APPLICATION_ID: i64 = 0x5457_5356;
/// Newest schema this build reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA_V1: &str = "
CREATE TABLE models (name TEXT PRIMARY KEY, created_at TEXT NOT NULL);
CREATE TABLE versions (
    model TEXT NOT NULL, version TEXT NOT NULL, cohort TEXT NOT NULL, seq INTEGER NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, n_docs INTEGER NOT NULL, n_tokens INTEGER NOT NULL,
    pushes INTEGER NOT NULL, config TEXT NOT NULL, profile BLOB, merged_through INTEGER NOT NULL DEFAULT 0,
    last_push INTEGER NOT NULL DEFAULT 0,
    metrics TEXT, PRIMARY KEY (model, version, cohort));
CREATE TABLE windows (
    model TEXT NOT NULL, version TEXT NOT NULL, cohort TEXT NOT NULL, window TEXT NOT NULL,
    n_docs INTEGER NOT NULL, pushes INTEGER NOT NULL, profile BLOB, merged_through INTEGER NOT NULL DEFAULT 0,
    last_push INTEGER NOT NULL DEFAULT 0,
    metrics TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (model, version, cohort, window));
CREATE TABLE pushes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, idempotency_key TEXT UNIQUE, model TEXT NOT NULL, version TEXT NOT NULL,
    cohort TEXT NOT NULL, window TEXT NOT NULL, n_docs INTEGER NOT NULL, n_tokens INTEGER NOT NULL,
    profile BLOB NOT NULL, metrics TEXT, received_at TEXT NOT NULL);
CREATE INDEX pushes_by_version ON pushes (model, version, id);
CREATE TABLE baselines (
    model TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('version', 'reference')), version TEXT,
    frozen INTEGER NOT NULL, profile BLOB, metrics TEXT, chunk_metrics TEXT, created_at TEXT NOT NULL);
CREATE TABLE rules (id INTEGER PRIMARY KEY, spec TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE rule_state (
    rule_id INTEGER NOT NULL, model TEXT NOT NULL, cohort TEXT NOT NULL, breaches INTEGER NOT NULL,
    clears INTEGER NOT NULL, PRIMARY KEY (rule_id, model, cohort));
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY, rule_id INTEGER NOT NULL, model TEXT NOT NULL, cohort TEXT NOT NULL,
    version TEXT NOT NULL, last_version TEXT NOT NULL, metric TEXT NOT NULL, direction TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    value REAL NOT NULL, threshold REAL NOT NULL, last_value REAL NOT NULL, opened_at TEXT NOT NULL,
    acknowledged_at TEXT, acknowledged_by TEXT, resolved_at TEXT);
CREATE INDEX alerts_by_scope ON alerts (rule_id, model, cohort, state);
CREATE TABLE webhooks (id INTEGER PRIMARY KEY, url TEXT NOT NULL, secret TEXT, created_at TEXT NOT NULL);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY, webhook_id INTEGER NOT NULL, alert_id INTEGER NOT NULL, event TEXT NOT NULL,
    payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    next_attempt_ms INTEGER NOT NULL, last_error TEXT, delivered_at TEXT);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_ms);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

/// Migrations: entry i takes a database from version i to i + 1.
const MIGRATIONS: &[&str] = &[SCHEMA_V1];

/// The server's kind of SQLite file.
const SCHEMA: tailwatch_sqlite::Schema =
    tailwatch_sqlite::Schema { application_id: APPLICATION_ID as i32, migrations: MIGRATIONS };

const _: () = assert!(SCHEMA_VERSION == MIGRATIONS.len() as i64);

/// What opening a file as the server's database says, in the store's terms.
fn open_error(error: tailwatch_sqlite::Error) -> StoreError {
    use tailwatch_sqlite::Error as E;
    match error {
        E::OtherApplication { path, found, .. } => {
            StoreError::NotOurs { path: path.display().to_string(), found: i64::from(found) }
        }
        E::NotSqlite { path } => StoreError::NotOurs { path: path.display().to_string(), found: 0 },
        E::Newer { path, found, supported } => {
            StoreError::TooNew { path: path.display().to_string(), found, supported }
        }
        E::Sqlite { source, .. } => StoreError::Sqlite(source),
        other => StoreError::Open(other),
    }
}

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

/// Everything the API needs from storage. SQLite implements it; a Postgres backend can follow.
pub trait Store: Send + Sync + 'static {
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
    /// A metric over versions (`by_window` false) or over the windows of each version.
    fn series(
        &self,
        model: &str,
        metric: &str,
        cohort: &str,
        by_window: bool,
    ) -> StoreResult<Vec<SeriesPoint>>;
    /// Make a version the model's baseline; `freeze` snapshots it now.
    fn set_baseline_version(&self, model: &str, version: &str, freeze: bool) -> StoreResult<Baseline>;
    /// Make a reference corpus profile the model's baseline (always frozen).
    fn set_baseline_reference(
        &self,
        model: &str,
        profile: Profile,
        chunks: Vec<Metrics>,
    ) -> StoreResult<Baseline>;
    /// Freeze a live version baseline.
    fn freeze_baseline(&self, model: &str) -> StoreResult<Baseline>;
    /// The model's baseline.
    fn baseline(&self, model: &str) -> StoreResult<Option<Baseline>>;
    /// The baseline's value and chunk values of one metric (what rules and charts use).
    fn baseline_values(&self, model: &str, metric: &str) -> StoreResult<Option<BaselineValues>>;
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
    /// A server setting.
    fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Set a server setting.
    fn set_setting(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Totals.
    fn totals(&self) -> StoreResult<Totals>;
    /// Background upkeep: merge at most `max_pushes` pending pushes into lagging aggregates and
    /// store them, so reads stay fast. Returns how many pushes it merged.
    fn compact(&self, max_pushes: usize) -> StoreResult<usize>;
}

/// The SQLite store.
///
/// Aggregates (a version, a cohort, a window) are merged lazily: a push stores its own profile and
/// bumps the aggregates' counters; an aggregate's profile is brought up to date (the pushes after
/// its `merged_through` merged in) when something needs it, kept decoded in a small in-memory
/// cache, and written back every [`PERSIST_EVERY`] merged pushes. The pushes are the source of
/// truth, so nothing is lost if the process dies with unwritten aggregates.
pub struct SqliteStore {
    /// Metrics of aggregates are computed on its pool.
    engine: tailwatch::Engine,
    conn: Mutex<Connection>,
    cache: Mutex<AggregateCache>,
    max_decoded: usize,
    /// When the latest push arrived (Unix ms): background compaction waits for quiet.
    last_push_ms: AtomicI64,
}

/// An aggregate's profile is written back after this many pushes were merged into it.
pub const PERSIST_EVERY: u64 = 64;
/// Decoded aggregates kept in memory: at most this many...
const CACHED_AGGREGATES: usize = 32;
/// ...and at most this many bytes (by `Profile::memory_bytes`), the newest always kept.
const CACHE_BYTES: usize = 512 << 20;

/// One decoded aggregate.
struct CachedAggregate {
    profile: Option<Profile>,
    merged_through: i64,
    persisted_through: i64,
    merged_since_persist: u64,
    last_used: u64,
}

/// Decoded aggregates by (table, rowid), least recently used evicted.
#[derive(Default)]
struct AggregateCache {
    entries: std::collections::HashMap<(&'static str, i64), CachedAggregate>,
    clock: u64,
}

impl AggregateCache {
    fn take(&mut self, key: (&'static str, i64)) -> Option<CachedAggregate> {
        self.entries.remove(&key)
    }

    fn put(&mut self, key: (&'static str, i64), mut entry: CachedAggregate) {
        self.clock += 1;
        entry.last_used = self.clock;
        self.entries.insert(key, entry);
        let size = |e: &CachedAggregate| e.profile.as_ref().map_or(0, Profile::memory_bytes);
        while self.entries.len() > 1
            && (self.entries.len() > CACHED_AGGREGATES
                || self.entries.values().map(size).sum::<usize>() > CACHE_BYTES)
        {
            let oldest = self.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| *k);
            match oldest {
                Some(k) => self.entries.remove(&k),
                None => break,
            };
        }
    }
}

impl SqliteStore {
    /// Open (or create) a database file, migrating it to the current schema.
    pub fn open(path: &Path) -> StoreResult<Self> {
        Self::prepare(tailwatch_sqlite::Location::File { path, create: true })
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> StoreResult<Self> {
        Self::prepare(tailwatch_sqlite::Location::Memory)
    }

    fn prepare(location: tailwatch_sqlite::Location<'_>) -> StoreResult<Self> {
        let conn = tailwatch_sqlite::open(location, &SCHEMA).map_err(open_error)?.conn;
        Ok(Self {
            conn: Mutex::new(conn),
            cache: Mutex::new(AggregateCache::default()),
            max_decoded: usize::MAX,
            last_push_ms: AtomicI64::new(0),
            engine: tailwatch::Engine::new(None)?,
        })
    }

    /// Refuse stored profiles that decompress past this size (defaults to no limit).
    pub fn with_max_decoded(mut self, bytes: usize) -> Self {
        self.max_decoded = bytes;
        self
    }

    /// Compute metrics on `engine`'s pool (by default the store has an engine of its own).
    pub fn with_engine(mut self, engine: tailwatch::Engine) -> Self {
        self.engine = engine;
        self
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock rolls its transaction back on drop; the connection is
        // fine, but the aggregate cache may hold merges of the rolled-back push: drop it.
        self.conn.lock().unwrap_or_else(|poisoned| {
            self.clear_cache();
            poisoned.into_inner()
        })
    }

    fn cache(&self) -> MutexGuard<'_, AggregateCache> {
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forget every decoded aggregate (after a failed transaction).
    fn clear_cache(&self) {
        let mut cache = self.cache();
        cache.entries.clear();
    }

    fn decode(&self, bytes: &[u8]) -> StoreResult<Profile> {
        Profile::from_bytes_limited(bytes, Path::new("<stored profile>"), self.max_decoded)
            .map_err(StoreError::StoredProfile)
    }
}

fn encode(profile: &Profile) -> StoreResult<Vec<u8>> {
    profile.to_bytes().map_err(StoreError::EncodeProfile)
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    Ok(serde_json::to_string(value)?)
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    Ok(serde_json::from_str(text)?)
}

fn unknown_model(model: &str) -> StoreError {
    StoreError::NotFound(Missing::Model { model: model.to_string() })
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

const ALERT_COLUMNS: &str = "id, rule_id, model, cohort, version, last_version, metric, direction, state, value, threshold, last_value, opened_at, acknowledged_at, acknowledged_by, resolved_at";

fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    let direction: String = r.get(7)?;
    let state: String = r.get(8)?;
    Ok(Alert {
        id: r.get(0)?,
        rule_id: r.get(1)?,
        model: r.get(2)?,
        cohort: r.get(3)?,
        version: r.get(4)?,
        last_version: r.get(5)?,
        metric: r.get(6)?,
        direction: if direction == "above" { Direction::Higher } else { Direction::Lower },
        state: AlertState::parse(&state).unwrap_or(AlertState::Open),
        value: r.get(9)?,
        threshold: r.get(10)?,
        last_value: r.get(11)?,
        opened_at: r.get(12)?,
        acknowledged_at: r.get(13)?,
        acknowledged_by: r.get(14)?,
        resolved_at: r.get(15)?,
    })
}

fn rule_from(id: i64, spec: &str, created_at: String) -> StoreResult<Rule> {
    let spec: RuleSpec = from_json(spec)?;
    Ok(Rule {
        id,
        name: spec.name,
        model: spec.model,
        cohort: spec.cohort,
        metric: spec.metric,
        direction: spec.direction.unwrap_or(Direction::Higher),
        kind: spec.kind,
        threshold: spec.threshold,
        k: spec.k.unwrap_or(rules::DEFAULT_K),
        min_docs: spec.min_docs.unwrap_or(rules::DEFAULT_MIN_DOCS),
        open_after: spec.open_after.unwrap_or(rules::DEFAULT_HYSTERESIS),
        resolve_after: spec.resolve_after.unwrap_or(rules::DEFAULT_HYSTERESIS),
        enabled: spec.enabled.unwrap_or(true),
        created_at,
    })
}

/// (model, version, cohort, window, profile, merged_through) of an aggregate row.
type AggregateRow = (String, String, String, Option<String>, Option<Vec<u8>>, i64);

/// The stored baseline row.
struct BaselineRow {
    kind: String,
    version: Option<String>,
    frozen: bool,
    profile: Option<Vec<u8>>,
    metrics: Option<String>,
    chunk_metrics: Option<String>,
    created_at: String,
}

fn baseline_row(tx: &Connection, model: &str) -> StoreResult<Option<BaselineRow>> {
    Ok(tx
        .query_row(
            "SELECT kind, version, frozen, profile, metrics, chunk_metrics, created_at FROM baselines WHERE model = ?1",
            [model],
            |r| {
                Ok(BaselineRow {
                    kind: r.get(0)?,
                    version: r.get(1)?,
                    frozen: r.get::<_, i64>(2)? != 0,
                    profile: r.get(3)?,
                    metrics: r.get(4)?,
                    chunk_metrics: r.get(5)?,
                    created_at: r.get(6)?,
                })
            },
        )
        .optional()?)
}

/// The baseline profile of a model, loaded at most once per store call.
struct BaselineCache {
    loaded: Option<Option<Profile>>,
}

impl BaselineCache {
    fn new() -> Self {
        Self { loaded: None }
    }

    fn get(&mut self, store: &SqliteStore, tx: &Connection, model: &str) -> StoreResult<Option<&Profile>> {
        if self.loaded.is_none() {
            self.loaded = Some(store.baseline_profile(tx, model)?);
        }
        Ok(self.loaded.as_ref().and_then(Option::as_ref))
    }
}

impl SqliteStore {
    /// Run `f` in a transaction; on failure the aggregate cache is dropped (it may hold merges
    /// of pushes the rollback removed).
    fn in_transaction<R>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<R>) -> StoreResult<R> {
        let mut conn = self.lock();
        let result = (|| {
            let tx = conn.transaction()?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        if result.is_err() {
            self.clear_cache();
        }
        result
    }

    /// Bring an aggregate (a row of `versions` or `windows`) up to date with its pushes and run
    /// `f` on its profile.
    fn with_aggregate<R>(
        &self,
        tx: &Connection,
        table: &'static str,
        rowid: i64,
        f: impl FnOnce(&Profile) -> StoreResult<R>,
    ) -> StoreResult<R> {
        self.merge_aggregate(tx, table, rowid, false, usize::MAX, f).map(|(r, _)| r)
    }

    /// [`Self::with_aggregate`], merging at most `max_pushes` pending pushes; `write_back` stores
    /// the merged profile even before [`PERSIST_EVERY`] merges. Also returns how many it merged.
    fn merge_aggregate<R>(
        &self,
        tx: &Connection,
        table: &'static str,
        rowid: i64,
        write_back: bool,
        max_pushes: usize,
        f: impl FnOnce(&Profile) -> StoreResult<R>,
    ) -> StoreResult<(R, usize)> {
        let window_column = if table == "windows" { "window" } else { "NULL" };
        let (model, version, cohort, window, blob, stored_through): AggregateRow = tx.query_row(
            &format!("SELECT model, version, cohort, {window_column}, profile, merged_through FROM {table} WHERE rowid = ?1"),
            [rowid],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )?;
        let cached = self.cache().take((table, rowid));
        let mut merged = 0usize;
        let mut entry = match cached {
            Some(e) if e.merged_through >= stored_through => e,
            _ => CachedAggregate {
                profile: blob.map(|b| self.decode(&b)).transpose()?,
                merged_through: stored_through,
                persisted_through: stored_through,
                merged_since_persist: 0,
                last_used: 0,
            },
        };
        {
            let mut stmt = tx.prepare_cached(
                "SELECT id, profile FROM pushes WHERE model = ?1 AND version = ?2 AND (?3 = '*' OR cohort = ?3)
                 AND (?4 IS NULL OR window = ?4) AND id > ?5 ORDER BY id LIMIT ?6",
            )?;
            let limit = i64::try_from(max_pushes).unwrap_or(i64::MAX);
            let rows = stmt
                .query_map(params![model, version, cohort, window, entry.merged_through, limit], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
                })?;
            for row in rows {
                let (id, bytes) = row?;
                merged += 1;
                let push = self.decode(&bytes)?;
                entry.profile = Some(profiles::merge(&self.engine, entry.profile.take(), push)?);
                entry.merged_through = id;
                entry.merged_since_persist += 1;
            }
        }
        if (entry.merged_since_persist >= PERSIST_EVERY || (write_back && entry.merged_since_persist > 0))
            && let Some(profile) = &entry.profile
        {
            tx.execute(
                &format!("UPDATE {table} SET profile = ?2, merged_through = ?3 WHERE rowid = ?1"),
                params![rowid, encode(profile)?, entry.merged_through],
            )?;
            entry.persisted_through = entry.merged_through;
            entry.merged_since_persist = 0;
        }
        let result = match &entry.profile {
            Some(profile) => f(profile),
            None => Err(StoreError::NoPushes { table, rowid }),
        };
        self.cache().put((table, rowid), entry);
        result.map(|r| (r, merged))
    }

    /// The profile of a model's baseline (a frozen snapshot, a reference, or a live version).
    fn baseline_profile(&self, tx: &Connection, model: &str) -> StoreResult<Option<Profile>> {
        let Some(row) = baseline_row(tx, model)? else { return Ok(None) };
        if row.frozen || row.kind == "reference" {
            return row.profile.as_deref().map(|b| self.decode(b)).transpose();
        }
        let rowid = version_rowid(tx, model, row.version.as_deref().unwrap_or_default(), ALL_COHORTS)?;
        rowid.map(|id| self.with_aggregate(tx, "versions", id, |p| Ok(p.clone()))).transpose()
    }

    /// The metrics of one aggregate: cached, or computed now (and cached) when a push or a new
    /// baseline made them stale.
    fn row_metrics(
        &self,
        tx: &Connection,
        table: &'static str,
        rowid: i64,
        baseline: Option<&Profile>,
    ) -> StoreResult<Metrics> {
        let cached: Option<String> =
            tx.query_row(&format!("SELECT metrics FROM {table} WHERE rowid = ?1"), [rowid], |r| r.get(0))?;
        if let Some(text) = cached {
            return from_json(&text);
        }
        let metrics =
            self.with_aggregate(tx, table, rowid, |p| Ok(profiles::metrics(&self.engine, p, baseline)?))?;
        tx.execute(
            &format!("UPDATE {table} SET metrics = ?2 WHERE rowid = ?1"),
            params![rowid, to_json(&metrics)?],
        )?;
        Ok(metrics)
    }

    /// The metrics of every push of a version (the chunks of a version baseline), in order.
    fn push_metrics(
        &self,
        tx: &Connection,
        model: &str,
        version: &str,
        baseline: Option<&Profile>,
    ) -> StoreResult<Vec<Metrics>> {
        let rows: Vec<(i64, Option<String>)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, metrics FROM pushes WHERE model = ?1 AND version = ?2 ORDER BY id",
            )?;
            let rows = stmt.query_map([model, version], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (id, cached) in rows {
            if let Some(text) = cached {
                out.push(from_json(&text)?);
                continue;
            }
            let bytes: Vec<u8> =
                tx.query_row("SELECT profile FROM pushes WHERE id = ?1", [id], |r| r.get(0))?;
            let metrics = profiles::metrics(&self.engine, &self.decode(&bytes)?, baseline)?;
            tx.execute("UPDATE pushes SET metrics = ?2 WHERE id = ?1", params![id, to_json(&metrics)?])?;
            out.push(metrics);
        }
        Ok(out)
    }

    /// The baseline profile, metrics and (with `with_chunks`; they cost one scoring per push of a
    /// live baseline version) chunks of a model, as they are now.
    fn resolved_baseline(
        &self,
        tx: &Connection,
        model: &str,
        with_chunks: bool,
    ) -> StoreResult<Option<(Profile, Metrics, Vec<Metrics>)>> {
        let Some(row) = baseline_row(tx, model)? else { return Ok(None) };
        if row.frozen || row.kind == "reference" {
            let profile = match &row.profile {
                Some(bytes) => self.decode(bytes)?,
                None => return Ok(None),
            };
            let metrics = row.metrics.as_deref().map(from_json).transpose()?.unwrap_or_default();
            let chunks = row.chunk_metrics.as_deref().map(from_json).transpose()?.unwrap_or_default();
            return Ok(Some((profile, metrics, chunks)));
        }
        let version = row.version.unwrap_or_default();
        let rowid = version_rowid(tx, model, &version, ALL_COHORTS)?;
        let Some(rowid) = rowid else { return Ok(None) };
        let profile = self.with_aggregate(tx, "versions", rowid, |p| Ok(p.clone()))?;
        let metrics = self.row_metrics(tx, "versions", rowid, Some(&profile))?;
        let chunks =
            if with_chunks { self.push_metrics(tx, model, &version, Some(&profile))? } else { Vec::new() };
        Ok(Some((profile, metrics, chunks)))
    }

    /// Mark every cached metric of `model` stale (its baseline changed).
    fn invalidate_metrics(&self, tx: &Connection, model: &str) -> StoreResult<()> {
        for table in ["versions", "windows", "pushes"] {
            tx.execute(&format!("UPDATE {table} SET metrics = NULL WHERE model = ?1"), [model])?;
        }
        Ok(())
    }

    /// Count a push into one aggregate row (its profile is merged later, on demand); the row id.
    #[allow(clippy::too_many_arguments)]
    fn bump(
        &self,
        tx: &Transaction<'_>,
        key: &PushKey,
        cohort: &str,
        window: Option<&str>,
        profile: &Profile,
        config: &str,
        at: &str,
        push_id: i64,
    ) -> StoreResult<i64> {
        let (n_docs, n_tokens) = (profile.n_docs() as i64, profile.n_tokens() as i64);
        Ok(match window {
            Some(w) => tx.query_row(
                "INSERT INTO windows (model, version, cohort, window, n_docs, pushes, profile, metrics, updated_at, last_push)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, NULL, NULL, ?6, ?7)
                 ON CONFLICT (model, version, cohort, window) DO UPDATE SET
                   n_docs = n_docs + excluded.n_docs, pushes = pushes + 1, metrics = NULL,
                   updated_at = excluded.updated_at, last_push = excluded.last_push
                 RETURNING rowid",
                params![key.model, key.version, cohort, w, n_docs, at, push_id],
                |r| r.get(0),
            )?,
            None => {
                let seq: i64 = tx.query_row(
                    "SELECT coalesce((SELECT seq FROM versions WHERE model = ?1 AND version = ?2 LIMIT 1),
                                     (SELECT coalesce(max(seq), 0) + 1 FROM versions WHERE model = ?1))",
                    params![key.model, key.version],
                    |r| r.get(0),
                )?;
                tx.query_row(
                    "INSERT INTO versions (model, version, cohort, seq, first_seen, last_seen, n_docs, n_tokens, pushes, config, profile, metrics, last_push)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, 1, ?8, NULL, NULL, ?9)
                     ON CONFLICT (model, version, cohort) DO UPDATE SET
                       last_seen = excluded.last_seen, n_docs = n_docs + excluded.n_docs,
                       n_tokens = n_tokens + excluded.n_tokens, pushes = pushes + 1, metrics = NULL,
                       last_push = excluded.last_push
                     RETURNING rowid",
                    params![key.model, key.version, cohort, seq, at, n_docs, n_tokens, config, push_id],
                    |r| r.get(0),
                )?
            }
        })
    }

    /// Refuse a push whose profile cannot merge with what its version already holds.
    fn check_mergeable(&self, tx: &Connection, key: &PushKey, profile: &Profile) -> StoreResult<String> {
        let config = to_json(profile.config())?;
        let stored: Option<String> = tx
            .query_row(
                "SELECT config FROM versions WHERE model = ?1 AND version = ?2 AND cohort = ?3",
                params![key.model, key.version, ALL_COHORTS],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(stored) = stored
            && stored != config
        {
            let theirs: tailwatch_metrics::ProfileConfig = from_json(&stored)?;
            let mut trial = Profile::new(theirs);
            trial.merge(Profile::new(profile.config().clone())).map_err(|source| {
                StoreError::Conflict(Conflict::Unmergeable {
                    model: key.model.clone(),
                    version: key.version.clone(),
                    reason: source.to_string(),
                })
            })?;
        }
        Ok(config)
    }

    /// Evaluate every matching rule on the version's aggregates; open and resolve alerts.
    /// `all` and `cohort` are the (row id, documents) of the all-cohorts and the pushed cohort's
    /// version aggregates.
    fn evaluate_rules(
        &self,
        tx: &Transaction<'_>,
        key: &PushKey,
        all: (i64, u64),
        cohort: (i64, u64),
        at: &str,
        outcome: &mut PushOutcome,
    ) -> StoreResult<()> {
        let rules: Vec<Rule> = rules_in(tx)?
            .into_iter()
            .filter(|r| r.enabled && r.model.as_ref().is_none_or(|m| *m == key.model))
            .filter(|r| r.cohort.as_ref().is_none_or(|c| *c == key.cohort))
            .collect();
        if rules.is_empty() {
            return Ok(());
        }
        let adaptive = rules.iter().any(|r| r.kind == crate::types::RuleKind::Adaptive);
        let baseline = self.resolved_baseline(tx, &key.model, adaptive)?;
        let base_profile = baseline.as_ref().map(|b| &b.0);
        let mut metrics_of: std::collections::HashMap<i64, Metrics> = std::collections::HashMap::new();
        for rule in &rules {
            let (scope, (rowid, n_docs)) = match &rule.cohort {
                None => (ALL_COHORTS, all),
                Some(c) => (c.as_str(), cohort),
            };
            if n_docs < rule.min_docs {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = metrics_of.entry(rowid) {
                slot.insert(self.row_metrics(tx, "versions", rowid, base_profile)?);
            }
            let Some(value) = metrics_of[&rowid].get(&rule.metric).copied().flatten() else { continue };
            let baseline_values = baseline.as_ref().map(|(_, m, chunks)| BaselineValues {
                value: m.get(&rule.metric).copied().flatten(),
                chunks: chunks.iter().filter_map(|c| c.get(&rule.metric).copied().flatten()).collect(),
            });
            let Ok(threshold) = rules::threshold(rule, baseline_values.as_ref()) else { continue };
            let breached = rules::breaches(rule.direction, value, threshold);
            let state: Hysteresis = tx
                .query_row(
                    "SELECT breaches, clears FROM rule_state WHERE rule_id = ?1 AND model = ?2 AND cohort = ?3",
                    params![rule.id, key.model, scope],
                    |r| Ok(Hysteresis { breaches: r.get(0)?, clears: r.get(1)? }),
                )
                .optional()?
                .unwrap_or_default();
            let active: Option<i64> = tx
                .query_row(
                    "SELECT id FROM alerts WHERE rule_id = ?1 AND model = ?2 AND cohort = ?3 AND state != 'resolved'",
                    params![rule.id, key.model, scope],
                    |r| r.get(0),
                )
                .optional()?;
            let (next, transition) = rules::step(state, breached, active.is_some(), rule);
            tx.execute(
                "INSERT INTO rule_state (rule_id, model, cohort, breaches, clears) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (rule_id, model, cohort) DO UPDATE SET breaches = excluded.breaches, clears = excluded.clears",
                params![rule.id, key.model, scope, next.breaches, next.clears],
            )?;
            match (transition, active) {
                (Transition::Open, _) => {
                    let direction = if rule.direction == Direction::Lower { "below" } else { "above" };
                    tx.execute(
                        "INSERT INTO alerts (rule_id, model, cohort, version, last_version, metric, direction, state, value, threshold, last_value, opened_at)
                         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, 'open', ?7, ?8, ?7, ?9)",
                        params![rule.id, key.model, scope, key.version, rule.metric, direction, value, threshold, at],
                    )?;
                    let alert = alert_in(tx, tx.last_insert_rowid())?;
                    enqueue(tx, &alert, "alert.opened")?;
                    outcome.alerts_opened.push(alert);
                }
                (Transition::Resolve, Some(id)) => {
                    tx.execute(
                        "UPDATE alerts SET state = 'resolved', resolved_at = ?2, last_value = ?3, last_version = ?4 WHERE id = ?1",
                        params![id, at, value, key.version],
                    )?;
                    let alert = alert_in(tx, id)?;
                    enqueue(tx, &alert, "alert.resolved")?;
                    outcome.alerts_resolved.push(alert);
                }
                (_, Some(id)) => {
                    tx.execute(
                        "UPDATE alerts SET last_value = ?2, last_version = ?3 WHERE id = ?1",
                        params![id, value, key.version],
                    )?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn rules_in(tx: &Connection) -> StoreResult<Vec<Rule>> {
    let mut stmt = tx.prepare_cached("SELECT id, spec, created_at FROM rules ORDER BY id")?;
    let rows =
        stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, spec, created_at) = row?;
        out.push(rule_from(id, &spec, created_at)?);
    }
    Ok(out)
}

fn alert_in(tx: &Connection, id: i64) -> StoreResult<Alert> {
    tx.query_row(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"), [id], alert_row)
        .optional()?
        .ok_or(StoreError::NotFound(Missing::Alert(id)))
}

/// Queue one delivery of `event` per webhook (in the caller's transaction: an outbox).
fn enqueue(tx: &Connection, alert: &Alert, event: &str) -> StoreResult<()> {
    let payload = to_json(&serde_json::json!({"event": event, "alert": alert, "sent_by": "tailwatch"}))?;
    tx.execute(
        "INSERT INTO deliveries (webhook_id, alert_id, event, payload, next_attempt_ms)
         SELECT id, ?1, ?2, ?3, ?4 FROM webhooks",
        params![alert.id, event, payload, now_ms()],
    )?;
    Ok(())
}

/// A version row and its rowid (column 7), for [`SqliteStore::row_metrics`].
fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(VersionSummary, i64)> {
    Ok((
        VersionSummary {
            version: r.get(0)?,
            seq: r.get(1)?,
            n_docs: r.get::<_, i64>(2)? as u64,
            n_tokens: r.get::<_, i64>(3)? as u64,
            pushes: r.get::<_, i64>(4)? as u64,
            first_seen: r.get(5)?,
            last_seen: r.get(6)?,
            metrics: Metrics::new(),
        },
        r.get(7)?,
    ))
}

/// The row id of a version aggregate (`cohort` `*` for all cohorts).
fn version_rowid(tx: &Connection, model: &str, version: &str, cohort: &str) -> StoreResult<Option<i64>> {
    Ok(tx
        .query_row(
            "SELECT rowid FROM versions WHERE model = ?1 AND version = ?2 AND cohort = ?3",
            params![model, version, cohort],
            |r| r.get(0),
        )
        .optional()?)
}

fn model_exists(tx: &Connection, model: &str) -> StoreResult<()> {
    let found: Option<i64> =
        tx.query_row("SELECT 1 FROM models WHERE name = ?1", [model], |r| r.get(0)).optional()?;
    found.map(|_| ()).ok_or_else(|| unknown_model(model))
}

impl Store for SqliteStore {
    fn push(
        &self,
        key: &PushKey,
        idempotency_key: Option<&str>,
        profile: Profile,
    ) -> StoreResult<PushOutcome> {
        self.last_push_ms.store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
        // compress before taking the store's lock: pushes are serialized, encoding need not be
        let encoded = encode(&profile)?;
        self.in_transaction(|tx| {
        let at = now();
        let version_totals = |tx: &Transaction<'_>| -> StoreResult<(u64, u64)> {
            Ok(tx
                .query_row(
                    "SELECT n_docs, pushes FROM versions WHERE model = ?1 AND version = ?2 AND cohort = ?3",
                    params![key.model, key.version, ALL_COHORTS],
                    |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
                )
                .optional()?
                .unwrap_or((0, 0)))
        };
        if let Some(k) = idempotency_key {
            let seen: Option<(i64, PushKey, i64)> = tx
                .query_row(
                    "SELECT id, model, version, cohort, window, n_docs FROM pushes WHERE idempotency_key = ?1",
                    [k],
                    |r| {
                        Ok((
                            r.get(0)?,
                            PushKey { model: r.get(1)?, version: r.get(2)?, cohort: r.get(3)?, window: r.get(4)? },
                            r.get(5)?,
                        ))
                    },
                )
                .optional()?;
            if let Some((push_id, seen_key, n_docs)) = seen {
                if seen_key != *key {
                    return Err(StoreError::Conflict(Conflict::KeyReused { key: k.to_string(), used_for: seen_key }));
                }
                let (version_docs, version_pushes) = version_totals(tx)?;
                return Ok(PushOutcome {
                    push_id,
                    duplicate: true,
                    key: key.clone(),
                    n_docs: n_docs as u64,
                    version_docs,
                    version_pushes,
                    alerts_opened: Vec::new(),
                    alerts_resolved: Vec::new(),
                });
            }
        }
        let config = self.check_mergeable(tx, key, &profile)?;
        tx.execute(
            "INSERT OR IGNORE INTO models (name, created_at) VALUES (?1, ?2)",
            params![key.model, at],
        )?;
        // the push itself is kept (its metrics, the chunks of a baseline, are computed on demand)
        tx.execute(
            "INSERT INTO pushes (idempotency_key, model, version, cohort, window, n_docs, n_tokens, profile, metrics, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9)",
            params![
                idempotency_key,
                key.model,
                key.version,
                key.cohort,
                key.window,
                profile.n_docs() as i64,
                profile.n_tokens() as i64,
                encoded,
                at
            ],
        )?;
        let push_id = tx.last_insert_rowid();
        self.bump(tx, key, &key.cohort, Some(&key.window), &profile, &config, &at, push_id)?;
        self.bump(tx, key, ALL_COHORTS, Some(&key.window), &profile, &config, &at, push_id)?;
        let cohort_row = self.bump(tx, key, &key.cohort, None, &profile, &config, &at, push_id)?;
        let all_row = self.bump(tx, key, ALL_COHORTS, None, &profile, &config, &at, push_id)?;
        let docs_of = |rowid: i64| -> StoreResult<u64> {
            Ok(tx.query_row("SELECT n_docs FROM versions WHERE rowid = ?1", [rowid], |r| r.get::<_, i64>(0))? as u64)
        };
        let (cohort, all) = ((cohort_row, docs_of(cohort_row)?), (all_row, docs_of(all_row)?));
        // a push to a live baseline version moves the reference of every other aggregate
        if let Some(row) = baseline_row(tx, &key.model)?
            && !row.frozen
            && row.kind == "version"
            && row.version.as_deref() == Some(key.version.as_str())
        {
            self.invalidate_metrics(tx, &key.model)?;
        }
        let (version_docs, version_pushes) = version_totals(tx)?;
        let mut outcome = PushOutcome {
            push_id,
            duplicate: false,
            key: key.clone(),
            n_docs: profile.n_docs(),
            version_docs,
            version_pushes,
            alerts_opened: Vec::new(),
            alerts_resolved: Vec::new(),
        };
        self.evaluate_rules(tx, key, all, cohort, &at, &mut outcome)?;
        Ok(outcome)
        })
    }

    fn push_by_key(&self, idempotency_key: &str) -> StoreResult<Option<PushRecord>> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT id, idempotency_key, model, version, cohort, window, n_docs, received_at FROM pushes WHERE idempotency_key = ?1",
                [idempotency_key],
                |r| {
                    Ok(PushRecord {
                        push_id: r.get(0)?,
                        idempotency_key: r.get(1)?,
                        key: PushKey { model: r.get(2)?, version: r.get(3)?, cohort: r.get(4)?, window: r.get(5)? },
                        n_docs: r.get::<_, i64>(6)? as u64,
                        received_at: r.get(7)?,
                    })
                },
            )
            .optional()?)
    }

    fn models(&self) -> StoreResult<Vec<ModelSummary>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT m.name,
                    (SELECT count(*) FROM versions v WHERE v.model = m.name AND v.cohort = '*'),
                    (SELECT version FROM versions v WHERE v.model = m.name AND v.cohort = '*' ORDER BY seq DESC LIMIT 1),
                    (SELECT max(last_seen) FROM versions v WHERE v.model = m.name AND v.cohort = '*'),
                    (SELECT count(*) FROM alerts a WHERE a.model = m.name AND a.state = 'open'),
                    (SELECT count(*) FROM alerts a WHERE a.model = m.name AND a.state = 'acknowledged'),
                    EXISTS (SELECT 1 FROM baselines b WHERE b.model = m.name)
             FROM models m ORDER BY m.name",
        )?;
        let rows = stmt.query_map([], |r| {
            let open: i64 = r.get(4)?;
            let acknowledged: i64 = r.get(5)?;
            Ok(ModelSummary {
                model: r.get(0)?,
                versions: r.get::<_, i64>(1)? as u64,
                latest_version: r.get(2)?,
                last_seen: r.get(3)?,
                active_alerts: (open + acknowledged) as u64,
                status: if open > 0 {
                    "alerting"
                } else if acknowledged > 0 {
                    "acknowledged"
                } else {
                    "ok"
                }
                .to_string(),
                has_baseline: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn versions(&self, model: &str) -> StoreResult<Vec<VersionSummary>> {
        let conn = self.lock();
        model_exists(&conn, model)?;
        let rows: Vec<(VersionSummary, i64)> = {
            let mut stmt = conn.prepare(
                "SELECT version, seq, n_docs, n_tokens, pushes, first_seen, last_seen, rowid FROM versions
                 WHERE model = ?1 AND cohort = '*' ORDER BY seq",
            )?;
            let rows = stmt.query_map([model], summary_row)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut baseline = BaselineCache::new();
        let mut out = Vec::new();
        for (mut summary, rowid) in rows {
            summary.metrics =
                self.row_metrics(&conn, "versions", rowid, baseline.get(self, &conn, model)?)?;
            out.push(summary);
        }
        Ok(out)
    }

    fn version(&self, model: &str, version: &str) -> StoreResult<VersionDetail> {
        let conn = self.lock();
        model_exists(&conn, model)?;
        let rows: Vec<((VersionSummary, i64), String)> = {
            let mut stmt = conn.prepare(
                "SELECT version, seq, n_docs, n_tokens, pushes, first_seen, last_seen, rowid, cohort FROM versions
                 WHERE model = ?1 AND version = ?2 ORDER BY cohort",
            )?;
            let rows = stmt.query_map([model, version], |r| Ok((summary_row(r)?, r.get::<_, String>(8)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut baseline = BaselineCache::new();
        let mut summary = None;
        let mut cohorts = Vec::new();
        for ((mut s, rowid), cohort) in rows {
            s.metrics = self.row_metrics(&conn, "versions", rowid, baseline.get(self, &conn, model)?)?;
            if cohort == ALL_COHORTS {
                summary = Some(s);
            } else {
                cohorts.push(serde_json::json!({"cohort": cohort, "n_docs": s.n_docs, "pushes": s.pushes, "metrics": s.metrics}));
            }
        }
        let summary = summary.ok_or_else(|| Missing::version(model, version, None))?;
        let rows: Vec<(String, String, i64, i64, i64)> = {
            let mut stmt = conn.prepare(
                "SELECT cohort, window, n_docs, pushes, rowid FROM windows WHERE model = ?1 AND version = ?2 ORDER BY window, cohort",
            )?;
            let rows = stmt.query_map([model, version], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut windows = Vec::new();
        for (cohort, window, n_docs, pushes, rowid) in rows {
            let metrics = self.row_metrics(&conn, "windows", rowid, baseline.get(self, &conn, model)?)?;
            windows.push(serde_json::json!({"cohort": cohort, "window": window, "n_docs": n_docs, "pushes": pushes, "metrics": metrics}));
        }
        Ok(VersionDetail { summary, cohorts, windows })
    }

    fn version_profile(&self, model: &str, version: &str, cohort: &str) -> StoreResult<Profile> {
        let conn = self.lock();
        model_exists(&conn, model)?;
        let rowid = version_rowid(&conn, model, version, cohort)?;
        let rowid = rowid.ok_or_else(|| Missing::version(model, version, Some(cohort)))?;
        self.with_aggregate(&conn, "versions", rowid, |p| Ok(p.clone()))
    }

    fn series(
        &self,
        model: &str,
        metric: &str,
        cohort: &str,
        by_window: bool,
    ) -> StoreResult<Vec<SeriesPoint>> {
        let conn = self.lock();
        model_exists(&conn, model)?;
        let sql = if by_window {
            "SELECT w.version, w.window, w.n_docs, w.rowid FROM windows w
             JOIN versions v ON v.model = w.model AND v.version = w.version AND v.cohort = '*'
             WHERE w.model = ?1 AND w.cohort = ?2 ORDER BY w.window, v.seq"
        } else {
            "SELECT version, NULL, n_docs, rowid FROM versions WHERE model = ?1 AND cohort = ?2 ORDER BY seq"
        };
        let rows: Vec<(String, Option<String>, i64, i64)> = {
            let mut stmt = conn.prepare(sql)?;
            let rows =
                stmt.query_map([model, cohort], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let table = if by_window { "windows" } else { "versions" };
        let mut baseline = BaselineCache::new();
        let mut alerts_of = conn.prepare_cached(
            "SELECT id FROM alerts WHERE model = ?1 AND cohort = ?2 AND metric = ?3 AND version = ?4 ORDER BY id",
        )?;
        let mut out = Vec::new();
        for (version, window, n_docs, rowid) in rows {
            let metrics = self.row_metrics(&conn, table, rowid, baseline.get(self, &conn, model)?)?;
            let alerts = if by_window {
                Vec::new()
            } else {
                alerts_of
                    .query_map(params![model, cohort, metric, version], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?
            };
            out.push(SeriesPoint {
                version,
                window,
                n_docs: n_docs as u64,
                value: metrics.get(metric).copied().flatten(),
                alerts,
            });
        }
        Ok(out)
    }

    fn set_baseline_version(&self, model: &str, version: &str, freeze: bool) -> StoreResult<Baseline> {
        self.in_transaction(|tx| {
            model_exists(tx, model)?;
            let rowid = version_rowid(tx, model, version, ALL_COHORTS)?;
            let Some(rowid) = rowid else {
                return Err(Missing::version(model, version, None));
            };
            self.invalidate_metrics(tx, model)?;
            let (profile, metrics, chunks) = if freeze {
                // a snapshot: the version's profile, its metrics and its pushes' metrics against it
                let base = self.with_aggregate(tx, "versions", rowid, |p| Ok(p.clone()))?;
                let metrics = profiles::metrics(&self.engine, &base, Some(&base))?;
                let chunks = self.push_metrics(tx, model, version, Some(&base))?;
                (Some(encode(&base)?), Some(to_json(&metrics)?), Some(to_json(&chunks)?))
            } else {
                (None, None, None)
            };
            tx.execute(
                "INSERT OR REPLACE INTO baselines (model, kind, version, frozen, profile, metrics, chunk_metrics, created_at)
                 VALUES (?1, 'version', ?2, ?3, ?4, ?5, ?6, ?7)",
                params![model, version, freeze as i64, profile, metrics, chunks, now()],
            )?;
            Ok(())
        })?;
        self.baseline(model)?.ok_or_else(|| StoreError::BaselineMissing { model: model.to_string() })
    }

    fn set_baseline_reference(
        &self,
        model: &str,
        profile: Profile,
        chunks: Vec<Metrics>,
    ) -> StoreResult<Baseline> {
        let metrics = profiles::metrics(&self.engine, &profile, Some(&profile))?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute("INSERT OR IGNORE INTO models (name, created_at) VALUES (?1, ?2)", params![model, now()])?;
        self.invalidate_metrics(&tx, model)?;
        tx.execute(
            "INSERT OR REPLACE INTO baselines (model, kind, version, frozen, profile, metrics, chunk_metrics, created_at)
             VALUES (?1, 'reference', NULL, 1, ?2, ?3, ?4, ?5)",
            params![model, encode(&profile)?, to_json(&metrics)?, to_json(&chunks)?, now()],
        )?;
        tx.commit()?;
        drop(conn);
        self.baseline(model)?.ok_or_else(|| StoreError::BaselineMissing { model: model.to_string() })
    }

    fn freeze_baseline(&self, model: &str) -> StoreResult<Baseline> {
        let version = {
            let conn = self.lock();
            model_exists(&conn, model)?;
            let row = baseline_row(&conn, model)?
                .ok_or_else(|| StoreError::NotFound(Missing::Baseline { model: model.to_string() }))?;
            if row.frozen {
                return Err(StoreError::Conflict(Conflict::BaselineFrozen { model: model.to_string() }));
            }
            row.version.unwrap_or_default()
        };
        self.set_baseline_version(model, &version, true)
    }

    fn baseline(&self, model: &str) -> StoreResult<Option<Baseline>> {
        let conn = self.lock();
        model_exists(&conn, model)?;
        let Some(row) = baseline_row(&conn, model)? else { return Ok(None) };
        let Some((profile, metrics, chunks)) = self.resolved_baseline(&conn, model, false)? else {
            return Err(StoreError::BaselineMissing { model: model.to_string() });
        };
        let chunks = if row.frozen || row.kind == "reference" {
            chunks.len()
        } else {
            conn.query_row(
                "SELECT count(*) FROM pushes WHERE model = ?1 AND version = ?2",
                params![model, row.version],
                |r| r.get::<_, i64>(0),
            )? as usize
        };
        Ok(Some(Baseline {
            model: model.to_string(),
            kind: row.kind,
            version: row.version,
            frozen: row.frozen,
            n_docs: profile.n_docs(),
            chunks,
            metrics,
            created_at: row.created_at,
        }))
    }

    fn baseline_values(&self, model: &str, metric: &str) -> StoreResult<Option<BaselineValues>> {
        let conn = self.lock();
        Ok(self.resolved_baseline(&conn, model, true)?.map(|(_, metrics, chunks)| BaselineValues {
            value: metrics.get(metric).copied().flatten(),
            chunks: chunks.iter().filter_map(|c| c.get(metric).copied().flatten()).collect(),
        }))
    }

    fn create_rule(&self, spec: &RuleSpec) -> StoreResult<Rule> {
        let spec = rules::validate(spec)?;
        let conn = self.lock();
        conn.execute(
            "INSERT INTO rules (spec, created_at) VALUES (?1, ?2)",
            params![to_json(&spec)?, now()],
        )?;
        let id = conn.last_insert_rowid();
        drop(conn);
        self.rule(id)
    }

    fn rules(&self) -> StoreResult<Vec<Rule>> {
        rules_in(&self.lock())
    }

    fn rule(&self, id: i64) -> StoreResult<Rule> {
        let conn = self.lock();
        let row: Option<(String, String)> = conn
            .query_row("SELECT spec, created_at FROM rules WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (spec, created_at) = row.ok_or(StoreError::NotFound(Missing::Rule(id)))?;
        rule_from(id, &spec, created_at)
    }

    fn update_rule(&self, id: i64, spec: &RuleSpec) -> StoreResult<Rule> {
        let spec = rules::validate(spec)?;
        let conn = self.lock();
        let changed =
            conn.execute("UPDATE rules SET spec = ?2 WHERE id = ?1", params![id, to_json(&spec)?])?;
        if changed == 0 {
            return Err(StoreError::NotFound(Missing::Rule(id)));
        }
        conn.execute("DELETE FROM rule_state WHERE rule_id = ?1", [id])?;
        drop(conn);
        self.rule(id)
    }

    fn delete_rule(&self, id: i64) -> StoreResult<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        if tx.execute("DELETE FROM rules WHERE id = ?1", [id])? == 0 {
            return Err(StoreError::NotFound(Missing::Rule(id)));
        }
        tx.execute("DELETE FROM rule_state WHERE rule_id = ?1", [id])?;
        tx.execute(
            "UPDATE alerts SET state = 'resolved', resolved_at = ?2 WHERE rule_id = ?1 AND state != 'resolved'",
            params![id, now()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn alerts(&self, filter: &AlertFilter) -> StoreResult<Vec<Alert>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR model = ?2) ORDER BY id DESC"
        ))?;
        let rows = stmt.query_map(params![filter.state.map(AlertState::as_str), filter.model], alert_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn alert(&self, id: i64) -> StoreResult<Alert> {
        alert_in(&self.lock(), id)
    }

    fn acknowledge(&self, id: i64, by: &str) -> StoreResult<Alert> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let alert = alert_in(&tx, id)?;
        match alert.state {
            AlertState::Open => {}
            AlertState::Acknowledged => return Ok(alert),
            AlertState::Resolved => {
                return Err(StoreError::Conflict(Conflict::AlertResolved(id)));
            }
        }
        tx.execute(
            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?2, acknowledged_by = ?3 WHERE id = ?1",
            params![id, now(), by],
        )?;
        let alert = alert_in(&tx, id)?;
        enqueue(&tx, &alert, "alert.acknowledged")?;
        tx.commit()?;
        Ok(alert)
    }

    fn create_webhook(&self, url: &str, secret: Option<&str>) -> StoreResult<Webhook> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO webhooks (url, secret, created_at) VALUES (?1, ?2, ?3)",
            params![url, secret, now()],
        )?;
        let id = conn.last_insert_rowid();
        Ok(Webhook { id, url: url.to_string(), signed: secret.is_some(), created_at: now() })
    }

    fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare("SELECT id, url, secret IS NOT NULL, created_at FROM webhooks ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Webhook { id: r.get(0)?, url: r.get(1)?, signed: r.get(2)?, created_at: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn delete_webhook(&self, id: i64) -> StoreResult<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        if tx.execute("DELETE FROM webhooks WHERE id = ?1", [id])? == 0 {
            return Err(StoreError::NotFound(Missing::Webhook(id)));
        }
        tx.execute("DELETE FROM deliveries WHERE webhook_id = ?1 AND state = 'pending'", [id])?;
        tx.commit()?;
        Ok(())
    }

    fn deliveries(&self, webhook_id: i64) -> StoreResult<Vec<Delivery>> {
        let conn = self.lock();
        let exists: Option<i64> =
            conn.query_row("SELECT 1 FROM webhooks WHERE id = ?1", [webhook_id], |r| r.get(0)).optional()?;
        if exists.is_none() {
            return Err(StoreError::NotFound(Missing::Webhook(webhook_id)));
        }
        let mut stmt = conn.prepare(
            "SELECT id, webhook_id, event, alert_id, state, attempts, last_error, delivered_at FROM deliveries
             WHERE webhook_id = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([webhook_id], |r| {
            Ok(Delivery {
                id: r.get(0)?,
                webhook_id: r.get(1)?,
                event: r.get(2)?,
                alert_id: r.get(3)?,
                state: r.get(4)?,
                attempts: r.get(5)?,
                last_error: r.get(6)?,
                delivered_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn due_deliveries(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<DueDelivery>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT d.id, w.url, w.secret, d.payload, d.attempts FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.state = 'pending' AND d.next_attempt_ms <= ?1 ORDER BY d.next_attempt_ms, d.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now_ms, limit as i64], |r| {
            Ok(DueDelivery {
                id: r.get(0)?,
                url: r.get(1)?,
                secret: r.get(2)?,
                payload: r.get(3)?,
                attempts: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn record_attempt(&self, id: i64, error: Option<&str>, retry_at_ms: Option<i64>) -> StoreResult<()> {
        let conn = self.lock();
        match (error, retry_at_ms) {
            (None, _) => conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, state = 'delivered', delivered_at = ?2, last_error = NULL WHERE id = ?1",
                params![id, now()],
            )?,
            (Some(e), Some(at)) => conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3 WHERE id = ?1",
                params![id, e, at],
            )?,
            (Some(e), None) => conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2, state = 'failed' WHERE id = ?1",
                params![id, e],
            )?,
        };
        Ok(())
    }

    fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let conn = self.lock();
        Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        let conn = self.lock();
        conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)", params![key, value])?;
        Ok(())
    }

    fn totals(&self) -> StoreResult<Totals> {
        let conn = self.lock();
        Ok(conn.query_row(
            "SELECT (SELECT count(*) FROM models), (SELECT count(*) FROM pushes),
                    (SELECT coalesce(sum(n_docs), 0) FROM versions WHERE cohort = '*'), (SELECT count(*) FROM alerts)",
            [],
            |r| {
                Ok(Totals {
                    models: r.get::<_, i64>(0)? as u64,
                    pushes: r.get::<_, i64>(1)? as u64,
                    docs: r.get::<_, i64>(2)? as u64,
                    alerts: r.get::<_, i64>(3)? as u64,
                })
            },
        )?)
    }

    fn compact(&self, max_pushes: usize) -> StoreResult<usize> {
        // only when idle: under load, merging would compete with pushes for the lock
        let since_push = chrono::Utc::now().timestamp_millis() - self.last_push_ms.load(Ordering::Relaxed);
        if since_push < 1000 {
            return Ok(0);
        }
        let conn = self.lock();
        // aggregates whose profile lags their pushes, versions first (rules and charts read them)
        let lagging: Vec<(&'static str, i64)> = {
            let mut out = Vec::new();
            for table in ["versions", "windows"] {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT rowid FROM {table} WHERE merged_through < last_push ORDER BY cohort != '*' LIMIT 16"
                ))?;
                let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
                for rowid in rows {
                    out.push((table, rowid?));
                }
            }
            out
        };
        // at most `max_pushes` and ~40 ms per call; a caught-up aggregate is written back
        let started = std::time::Instant::now();
        let mut budget = max_pushes;
        'rows: for &(table, rowid) in &lagging {
            loop {
                if budget == 0 || started.elapsed() > std::time::Duration::from_millis(40) {
                    break 'rows;
                }
                let step = budget.min(4);
                let ((), merged) = self.merge_aggregate(&conn, table, rowid, false, step, |_| Ok(()))?;
                budget -= merged;
                if merged < step {
                    self.merge_aggregate(&conn, table, rowid, true, 0, |_| Ok(()))?;
                    break;
                }
            }
        }
        Ok(max_pushes - budget)
    }
}
