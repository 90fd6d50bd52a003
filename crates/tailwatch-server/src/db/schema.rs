//! The server database's schema, its migrations, and how opening one is refused.
use crate::error::StoreError;

/// `PRAGMA application_id` of a server database: "TWSV".
pub const APPLICATION_ID: i64 = 0x5457_5356;
/// Newest schema this build reads and writes.
pub const SCHEMA_VERSION: i64 = 3;

pub(super) const SCHEMA_V1: &str = "
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

/// Version 2: every version that breached an alert's rule while it was open, not only the one
/// that opened it (the opener is carried over from version 1).
pub(super) const MIGRATION_V2: &str = "
CREATE TABLE alert_versions (
    alert_id INTEGER NOT NULL, version TEXT NOT NULL, value REAL NOT NULL, threshold REAL NOT NULL,
    at TEXT NOT NULL, PRIMARY KEY (alert_id, version));
INSERT INTO alert_versions (alert_id, version, value, threshold, at)
    SELECT id, version, value, threshold, opened_at FROM alerts;
";

/// Version 3: a frozen baseline's held-out reference (half of its chunks), against which
/// reference metrics are computed, so the baseline is never its own reference.
pub(super) const MIGRATION_V3: &str = "
ALTER TABLE baselines ADD COLUMN reference BLOB;
";

/// Migrations: entry i takes a database from version i to i + 1.
pub(super) const MIGRATIONS: &[&str] = &[SCHEMA_V1, MIGRATION_V2, MIGRATION_V3];

/// The server's kind of SQLite file.
pub(super) const SCHEMA: tailwatch_sqlite::Schema =
    tailwatch_sqlite::Schema { application_id: APPLICATION_ID as i32, migrations: MIGRATIONS };

const _: () = assert!(SCHEMA_VERSION == MIGRATIONS.len() as i64);

/// What opening a file as the server's database says, in the store's terms.
pub(super) fn open_error(error: tailwatch_sqlite::Error) -> StoreError {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{AlertFilter, Alerting as _, SqliteStore};

    /// A version-1 database with an open alert opens as version 2, the alert listing its opener.
    #[test]
    fn version_1_alerts_keep_their_opener() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            conn.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"
            ))
            .unwrap();
            conn.execute(
                "INSERT INTO alerts (id, rule_id, model, cohort, version, last_version, metric, direction, state, value, threshold, last_value, opened_at)
                 VALUES (7, 1, 'chat', '*', 'v3', 'v4', 'distinct_2', 'below', 'open', 0.2, 0.3, 0.25, '2026-12-01T00:00:00Z')",
                [],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let alerts = store.alerts(&AlertFilter::default()).unwrap();
        assert_eq!(alerts.len(), 1);
        let opener = &alerts[0].breached_by;
        assert_eq!(opener.len(), 1);
        assert_eq!((opener[0].version.as_str(), opener[0].value, opener[0].threshold), ("v3", 0.2, 0.3));
        drop(store);
        let version: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    /// A version-2 database with a frozen reference baseline opens as version 3: the baseline
    /// still reads (no held-out reference: its reference metrics are not judged, and say why),
    /// and its other metrics are read as before.
    #[test]
    fn version_2_baselines_read_without_a_held_out_reference() {
        use crate::db::Baselines as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        let profile = tailwatch_metrics::Profile::new(tailwatch_metrics::ProfileConfig::new(
            tailwatch_core::TokenizerSpec::words(),
        ));
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            conn.execute_batch(MIGRATION_V2).unwrap();
            conn.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 2;"
            ))
            .unwrap();
            conn.execute("INSERT INTO models (name, created_at) VALUES ('chat', '2026-12-01T00:00:00Z')", [])
                .unwrap();
            let levels = r#"{"levels": [{"docs": 100.0, "groups": [{"distinct_2": 0.5, "tail_coverage": 0.9}, {"distinct_2": 0.6, "tail_coverage": 0.95}]}]}"#;
            conn.execute(
                "INSERT INTO baselines (model, kind, version, frozen, profile, metrics, chunk_metrics, created_at)
                 VALUES ('chat', 'reference', NULL, 1, ?1, '{\"distinct_2\": 0.55, \"tail_coverage\": 1.0}', ?2, '2026-12-01T00:00:00Z')",
                rusqlite::params![profile.to_bytes().unwrap(), levels],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let tail = store.baseline_values("chat", "tail_coverage").unwrap().unwrap();
        assert!(tail.unjudged.as_deref().is_some_and(|r| r.contains("its own reference")), "{tail:?}");
        let d2 = store.baseline_values("chat", "distinct_2").unwrap().unwrap();
        assert_eq!((d2.value, d2.chunks().len(), d2.unjudged), (Some(0.55), 2, None));
        assert!(store.reference_profile("chat").unwrap().is_some());
    }
}
