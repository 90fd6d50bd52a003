//! The SQLite implementation of [`Store`]: one file in WAL mode, or memory (tests).
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tailwatch_metrics::Profile;

use crate::error::{Conflict, Missing, StoreError, StoreResult};
use crate::profiles;
use crate::rules::{self, BaselineValues};
use crate::types::{
    ALL_COHORTS, Alert, AlertState, Baseline, Delivery, GroupState, Metrics, ModelSummary, PushKey,
    PushOutcome, Rule, RuleSpec, SeriesPoint, SizeLevel, StoredLevels, VersionGroup, VersionSummary, Webhook,
    now,
};

use super::aggregates::AggregateCache;
use super::alerts::{ALERT_COLUMNS, alert_in, alert_row, enqueue, rule_from, rules_in, with_breached_by};
use super::schema::{SCHEMA, open_error};
use super::{
    AlertFilter, Alerting, Baselines, DueDelivery, Profiles, PushRecord, Settings, Totals, VersionDetail,
    WebhookOutbox,
};

/// The SQLite store.
///
/// Aggregates (a version, a cohort, a window) are merged lazily: a push stores its own profile and
/// bumps the aggregates' counters; an aggregate's profile is brought up to date (the pushes after
/// its `merged_through` merged in) when something needs it, kept decoded in a small in-memory
/// cache, and written back every [`PERSIST_EVERY`](super::PERSIST_EVERY) merged pushes. The pushes are the source of
/// truth, so nothing is lost if the process dies with unwritten aggregates.
pub struct SqliteStore {
    /// Metrics of aggregates are computed on its pool.
    pub(super) engine: tailwatch::Engine,
    pub(super) conn: Mutex<Connection>,
    pub(super) cache: Mutex<AggregateCache>,
    pub(super) max_decoded: usize,
    /// When the latest push arrived (Unix ms): background compaction waits for quiet.
    pub(super) last_push_ms: AtomicI64,
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

    pub(super) fn prepare(location: tailwatch_sqlite::Location<'_>) -> StoreResult<Self> {
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

    pub(super) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock rolls its transaction back on drop; the connection is
        // fine, but the aggregate cache may hold merges of the rolled-back push: drop it.
        self.conn.lock().unwrap_or_else(|poisoned| {
            self.clear_cache();
            poisoned.into_inner()
        })
    }

    pub(super) fn cache(&self) -> MutexGuard<'_, AggregateCache> {
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forget every decoded aggregate (after a failed transaction).
    pub(super) fn clear_cache(&self) {
        let mut cache = self.cache();
        cache.entries.clear();
    }

    pub(super) fn decode(&self, bytes: &[u8]) -> StoreResult<Profile> {
        Profile::from_bytes_limited(bytes, Path::new("<stored profile>"), self.max_decoded)
            .map_err(StoreError::StoredProfile)
    }
}

pub(super) fn encode(profile: &Profile) -> StoreResult<Vec<u8>> {
    profile.to_bytes().map_err(StoreError::EncodeProfile)
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    Ok(serde_json::to_string(value)?)
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    Ok(serde_json::from_str(text)?)
}

pub(super) fn unknown_model(model: &str) -> StoreError {
    StoreError::NotFound(Missing::Model { model: model.to_string() })
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// (model, version, cohort, window, profile, merged_through) of an aggregate row.
pub(super) type AggregateRow = (String, String, String, Option<String>, Option<Vec<u8>>, i64);

/// The stored baseline row.
pub(super) struct BaselineRow {
    pub(super) kind: String,
    pub(super) version: Option<String>,
    pub(super) frozen: bool,
    pub(super) profile: Option<Vec<u8>>,
    pub(super) metrics: Option<String>,
    pub(super) chunk_metrics: Option<String>,
    pub(super) created_at: String,
    /// The held-out reference (frozen baselines of two chunks or more, since schema 3).
    pub(super) reference: Option<Vec<u8>>,
}

/// A model's baseline as rules and charts read it.
pub(super) struct ResolvedBaseline {
    /// The whole baseline.
    pub(super) profile: Profile,
    /// What versions' reference metrics are computed against: the held-out half, else the
    /// whole baseline.
    pub(super) reference: Option<Profile>,
    /// Its metrics.
    pub(super) metrics: Metrics,
    /// Its levels (all metrics) and, with a held-out reference, the reference metrics' levels.
    pub(super) levels: Vec<SizeLevel>,
    pub(super) held_out: Option<Vec<SizeLevel>>,
}

impl ResolvedBaseline {
    /// What versions' reference metrics are computed against.
    pub(super) fn reference(&self) -> &Profile {
        self.reference.as_ref().unwrap_or(&self.profile)
    }

    /// The values of one metric.
    pub(super) fn values(&self, metric: &str) -> BaselineValues {
        BaselineValues::of(metric, &self.profile, &self.metrics, &self.levels, self.held_out.as_deref())
    }
}

pub(super) fn baseline_row(tx: &Connection, model: &str) -> StoreResult<Option<BaselineRow>> {
    Ok(tx
        .query_row(
            "SELECT kind, version, frozen, profile, metrics, chunk_metrics, created_at, reference FROM baselines WHERE model = ?1",
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
                    reference: r.get(7)?,
                })
            },
        )
        .optional()?)
}

/// The baseline profile of a model, loaded at most once per store call.
pub(super) struct BaselineCache {
    pub(super) loaded: Option<Option<Profile>>,
}

impl BaselineCache {
    pub(super) fn new() -> Self {
        Self { loaded: None }
    }

    pub(super) fn get(
        &mut self,
        store: &SqliteStore,
        tx: &Connection,
        model: &str,
    ) -> StoreResult<Option<&Profile>> {
        if self.loaded.is_none() {
            self.loaded = Some(store.baseline_profile(tx, model)?);
        }
        Ok(self.loaded.as_ref().and_then(Option::as_ref))
    }
}

impl SqliteStore {
    /// Run `f` in a transaction; on failure the aggregate cache is dropped (it may hold merges
    /// of pushes the rollback removed).
    pub(super) fn in_transaction<R>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> StoreResult<R>,
    ) -> StoreResult<R> {
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

    /// The profile versions' reference metrics are computed against: a frozen baseline's
    /// held-out reference, else the baseline (a frozen snapshot, a reference, or a live version).
    pub(super) fn baseline_profile(&self, tx: &Connection, model: &str) -> StoreResult<Option<Profile>> {
        let Some(row) = baseline_row(tx, model)? else { return Ok(None) };
        if row.frozen || row.kind == "reference" {
            return row.reference.as_deref().or(row.profile.as_deref()).map(|b| self.decode(b)).transpose();
        }
        let rowid = version_rowid(tx, model, row.version.as_deref().unwrap_or_default(), ALL_COHORTS)?;
        rowid.map(|id| self.with_aggregate(tx, "versions", id, |p| Ok(p.clone()))).transpose()
    }

    /// The metrics of one aggregate: cached, or computed now (and cached) when a push or a new
    /// baseline made them stale.
    pub(super) fn row_metrics(
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
    pub(super) fn push_metrics(
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
    pub(super) fn resolved_baseline(
        &self,
        tx: &Connection,
        model: &str,
        with_chunks: bool,
    ) -> StoreResult<Option<ResolvedBaseline>> {
        let Some(row) = baseline_row(tx, model)? else { return Ok(None) };
        if row.frozen || row.kind == "reference" {
            let profile = match &row.profile {
                Some(bytes) => self.decode(bytes)?,
                None => return Ok(None),
            };
            let reference = row.reference.as_deref().map(|b| self.decode(b)).transpose()?;
            let metrics = row.metrics.as_deref().map(from_json).transpose()?.unwrap_or_default();
            let (levels, held_out) =
                match row.chunk_metrics.as_deref().map(from_json::<StoredLevels>).transpose()? {
                    None => (Vec::new(), None),
                    Some(StoredLevels::Levels { levels, held_out }) => (levels, held_out),
                    // as schema version 1 stored them: the chunks alone
                    Some(StoredLevels::Chunks(chunks)) if chunks.is_empty() => (Vec::new(), None),
                    Some(StoredLevels::Chunks(chunks)) => {
                        let docs = profile.n_docs() as f64 / chunks.len() as f64;
                        (vec![SizeLevel { docs, groups: chunks }], None)
                    }
                };
            return Ok(Some(ResolvedBaseline { profile, reference, metrics, levels, held_out }));
        }
        let version = row.version.unwrap_or_default();
        let rowid = version_rowid(tx, model, &version, ALL_COHORTS)?;
        let Some(rowid) = rowid else { return Ok(None) };
        let profile = self.with_aggregate(tx, "versions", rowid, |p| Ok(p.clone()))?;
        let metrics = self.row_metrics(tx, "versions", rowid, Some(&profile))?;
        // a live baseline is read at its pushes' size and its own (freezing it adds the levels
        // of merged pushes)
        let levels = if with_chunks {
            let chunks = self.push_metrics(tx, model, &version, Some(&profile))?;
            if chunks.is_empty() {
                Vec::new()
            } else {
                vec![SizeLevel { docs: profile.n_docs() as f64 / chunks.len() as f64, groups: chunks }]
            }
        } else {
            Vec::new()
        };
        Ok(Some(ResolvedBaseline { profile, reference: None, metrics, levels, held_out: None }))
    }

    /// The profiles of every push of a version to `cohort` (`*`: every cohort), in order.
    pub(super) fn push_profiles(
        &self,
        tx: &Connection,
        model: &str,
        version: &str,
        cohort: &str,
    ) -> StoreResult<Vec<Profile>> {
        let mut stmt = tx.prepare_cached(
            "SELECT profile FROM pushes WHERE model = ?1 AND version = ?2 AND (?3 = '*' OR cohort = ?3) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![model, version, cohort], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for bytes in rows {
            out.push(self.decode(&bytes?)?);
        }
        Ok(out)
    }

    /// Mark every cached metric of `model` stale (its baseline changed).
    pub(super) fn invalidate_metrics(&self, tx: &Connection, model: &str) -> StoreResult<()> {
        for table in ["versions", "windows", "pushes"] {
            tx.execute(&format!("UPDATE {table} SET metrics = NULL WHERE model = ?1"), [model])?;
        }
        Ok(())
    }

    /// Refuse a push whose profile cannot merge with what its version already holds.
    pub(super) fn check_mergeable(
        &self,
        tx: &Connection,
        key: &PushKey,
        profile: &Profile,
    ) -> StoreResult<String> {
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
}

/// A version row and its rowid (column 7), for [`SqliteStore::row_metrics`].
pub(super) fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(VersionSummary, i64)> {
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
pub(super) fn version_rowid(
    tx: &Connection,
    model: &str,
    version: &str,
    cohort: &str,
) -> StoreResult<Option<i64>> {
    Ok(tx
        .query_row(
            "SELECT rowid FROM versions WHERE model = ?1 AND version = ?2 AND cohort = ?3",
            params![model, version, cohort],
            |r| r.get(0),
        )
        .optional()?)
}

pub(super) fn model_exists(tx: &Connection, model: &str) -> StoreResult<()> {
    let found: Option<i64> =
        tx.query_row("SELECT 1 FROM models WHERE name = ?1", [model], |r| r.get(0)).optional()?;
    found.map(|_| ()).ok_or_else(|| unknown_model(model))
}

impl Profiles for SqliteStore {
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
                let mut outcome = PushOutcome {
                    push_id,
                    duplicate: true,
                    key: key.clone(),
                    n_docs: n_docs as u64,
                    version_docs,
                    version_pushes,
                    alerts_opened: Vec::new(),
                    alerts_resolved: Vec::new(),
                    breaching: Vec::new(),
                    not_evaluated: Vec::new(),
                };
                // a repeated push changes nothing, and gates the same
                self.breaching_rules(tx, key, &mut outcome)?;
                return Ok(outcome);
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
            breaching: Vec::new(),
            not_evaluated: Vec::new(),
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

    fn push_groups(
        &self,
        model: &str,
        version: &str,
        cohort: &str,
        groups: usize,
    ) -> StoreResult<Vec<Profile>> {
        let conn = self.lock();
        model_exists(&conn, model)?;
        let pushes = self.push_profiles(&conn, model, version, cohort)?;
        let per_group = pushes.len().div_ceil(groups.max(1)).max(1);
        let mut out = Vec::new();
        let mut pushes = pushes.into_iter().peekable();
        while pushes.peek().is_some() {
            let mut merged = None;
            for push in pushes.by_ref().take(per_group) {
                merged = Some(profiles::merge(&self.engine, merged, push)?);
            }
            out.extend(merged);
        }
        Ok(out)
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
            "SELECT a.id FROM alerts a JOIN alert_versions b ON b.alert_id = a.id
             WHERE a.model = ?1 AND a.cohort = ?2 AND a.metric = ?3 AND b.version = ?4 ORDER BY a.id",
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

    fn group_across_versions(&self, model: &str, cohort: &str, key: &str) -> StoreResult<Vec<VersionGroup>> {
        let conn = self.lock();
        model_exists(&conn, model)?;
        let rows: Vec<(String, i64, i64)> = {
            let mut stmt = conn.prepare(
                "SELECT version, n_docs, rowid FROM versions WHERE model = ?1 AND cohort = ?2 ORDER BY seq",
            )?;
            let rows = stmt.query_map([model, cohort], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (version, n_docs, rowid) in rows {
            let (tokenizer, state) = self.with_aggregate(&conn, "versions", rowid, |p| {
                let state = match p.groups() {
                    None => GroupState::Ungrouped,
                    Some(sample) => match sample.get(key) {
                        Some(group) => GroupState::Held(group.clone()),
                        None if sample.would_hold(key) => GroupState::Unanswered,
                        None => GroupState::NotSampled,
                    },
                };
                Ok((p.config().tokenizer.clone(), state))
            })?;
            out.push(VersionGroup { version, n_docs: n_docs as u64, tokenizer, state });
        }
        Ok(out)
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

impl Baselines for SqliteStore {
    fn set_baseline_version(&self, model: &str, version: &str, freeze: bool) -> StoreResult<Baseline> {
        self.in_transaction(|tx| {
            model_exists(tx, model)?;
            let rowid = version_rowid(tx, model, version, ALL_COHORTS)?;
            let Some(rowid) = rowid else {
                return Err(Missing::version(model, version, None));
            };
            self.invalidate_metrics(tx, model)?;
            let (profile, metrics, chunks, reference) = if freeze {
                // a snapshot: the version's profile, its metrics, its pushes' metrics against it,
                // and half of its pushes held out as the reference metrics' reference
                let base = self.with_aggregate(tx, "versions", rowid, |p| Ok(p.clone()))?;
                let metrics = profiles::metrics(&self.engine, &base, Some(&base))?;
                let pushes = self.push_profiles(tx, model, version, ALL_COHORTS)?;
                let held = profiles::held_out(&self.engine, &pushes)?;
                let levels = profiles::size_levels(&self.engine, pushes, Some(&base))?;
                let stored = serde_json::json!({ "levels": levels, "held_out": held.as_ref().map(|h| &h.levels) });
                let reference = held.map(|h| encode(&h.reference)).transpose()?;
                (Some(encode(&base)?), Some(to_json(&metrics)?), Some(to_json(&stored)?), reference)
            } else {
                (None, None, None, None)
            };
            tx.execute(
                "INSERT OR REPLACE INTO baselines (model, kind, version, frozen, profile, metrics, chunk_metrics, created_at, reference)
                 VALUES (?1, 'version', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![model, version, freeze as i64, profile, metrics, chunks, now(), reference],
            )?;
            Ok(())
        })?;
        self.baseline(model)?.ok_or_else(|| StoreError::BaselineMissing { model: model.to_string() })
    }

    fn set_baseline_reference(
        &self,
        model: &str,
        profile: Profile,
        levels: Vec<SizeLevel>,
        held: Option<profiles::HeldOut>,
    ) -> StoreResult<Baseline> {
        let metrics = profiles::metrics(&self.engine, &profile, Some(&profile))?;
        let stored = serde_json::json!({ "levels": levels, "held_out": held.as_ref().map(|h| &h.levels) });
        let reference = held.map(|h| encode(&h.reference)).transpose()?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute("INSERT OR IGNORE INTO models (name, created_at) VALUES (?1, ?2)", params![model, now()])?;
        self.invalidate_metrics(&tx, model)?;
        tx.execute(
            "INSERT OR REPLACE INTO baselines (model, kind, version, frozen, profile, metrics, chunk_metrics, created_at, reference)
             VALUES (?1, 'reference', NULL, 1, ?2, ?3, ?4, ?5, ?6)",
            params![model, encode(&profile)?, to_json(&metrics)?, to_json(&stored)?, now(), reference],
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
        let Some(ResolvedBaseline { profile, metrics, levels: chunks, .. }) =
            self.resolved_baseline(&conn, model, false)?
        else {
            return Err(StoreError::BaselineMissing { model: model.to_string() });
        };
        let chunks = if row.frozen || row.kind == "reference" {
            chunks.first().map_or(0, |l| l.groups.len())
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

    fn reference_profile(&self, model: &str) -> StoreResult<Option<Profile>> {
        let conn = self.lock();
        model_exists(&conn, model)?;
        self.baseline_profile(&conn, model)
    }

    fn baseline_values(&self, model: &str, metric: &str) -> StoreResult<Option<BaselineValues>> {
        let conn = self.lock();
        Ok(self.resolved_baseline(&conn, model, true)?.map(|baseline| baseline.values(metric)))
    }
}

impl Alerting for SqliteStore {
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
        let alerts = rows.collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        with_breached_by(&conn, alerts)
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
}

impl WebhookOutbox for SqliteStore {
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
}

impl Settings for SqliteStore {
    fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let conn = self.lock();
        Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        let conn = self.lock();
        conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)", params![key, value])?;
        Ok(())
    }
}
