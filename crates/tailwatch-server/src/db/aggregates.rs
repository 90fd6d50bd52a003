//! Aggregates (a version, a cohort, a window): counted on push, merged from their pushes on
//! demand, kept decoded in a small LRU cache, written back every [`PERSIST_EVERY`] merges.

use rusqlite::{Connection, Transaction, params};
use tailwatch_metrics::Profile;

use crate::error::{StoreError, StoreResult};
use crate::profiles;
use crate::types::PushKey;

use super::sqlite::{AggregateRow, SqliteStore, encode};

/// An aggregate's profile is written back after this many pushes were merged into it.
pub const PERSIST_EVERY: u64 = 64;
/// Decoded aggregates kept in memory: at most this many...
pub(super) const CACHED_AGGREGATES: usize = 32;
/// ...and at most this many bytes (by `Profile::memory_bytes`), the newest always kept.
pub(super) const CACHE_BYTES: usize = 512 << 20;

/// One decoded aggregate.
pub(super) struct CachedAggregate {
    pub(super) profile: Option<Profile>,
    pub(super) merged_through: i64,
    pub(super) persisted_through: i64,
    pub(super) merged_since_persist: u64,
    pub(super) last_used: u64,
}

/// Decoded aggregates by (table, rowid), least recently used evicted.
#[derive(Default)]
pub(super) struct AggregateCache {
    pub(super) entries: std::collections::HashMap<(&'static str, i64), CachedAggregate>,
    pub(super) clock: u64,
}

impl AggregateCache {
    pub(super) fn take(&mut self, key: (&'static str, i64)) -> Option<CachedAggregate> {
        self.entries.remove(&key)
    }

    pub(super) fn put(&mut self, key: (&'static str, i64), mut entry: CachedAggregate) {
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
    /// Bring an aggregate (a row of `versions` or `windows`) up to date with its pushes and run
    /// `f` on its profile.
    pub(super) fn with_aggregate<R>(
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
    pub(super) fn merge_aggregate<R>(
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

    /// Count a push into one aggregate row (its profile is merged later, on demand); the row id.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn bump(
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
}
