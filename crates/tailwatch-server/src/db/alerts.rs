//! Rule evaluation on a push, alert rows, and the webhook outbox (deliveries queued in the
//! push's transaction).

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tailwatch_metrics::catalog::Direction;

use crate::error::{Missing, StoreError, StoreResult};
use crate::rules::{self, Hysteresis, Transition};
use crate::types::{
    ALL_COHORTS, Alert, AlertState, BreachedVersion, Breaching, Metrics, NotEvaluated, PushKey, PushOutcome,
    Rule, RuleSpec,
};

use super::sqlite::{SqliteStore, from_json, now_ms, to_json};

pub(super) const ALERT_COLUMNS: &str = "id, rule_id, model, cohort, version, last_version, metric, direction, state, value, threshold, last_value, opened_at, acknowledged_at, acknowledged_by, resolved_at";

pub(super) fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
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
        breached_by: Vec::new(),
    })
}

/// Fill in the versions that breached each alert's rule.
pub(super) fn with_breached_by(tx: &Connection, mut alerts: Vec<Alert>) -> StoreResult<Vec<Alert>> {
    let mut stmt = tx.prepare_cached(
        "SELECT version, value, threshold, at FROM alert_versions WHERE alert_id = ?1 ORDER BY at, rowid",
    )?;
    for alert in &mut alerts {
        let rows = stmt.query_map([alert.id], |r| {
            Ok(BreachedVersion { version: r.get(0)?, value: r.get(1)?, threshold: r.get(2)?, at: r.get(3)? })
        })?;
        alert.breached_by = rows.collect::<rusqlite::Result<_>>()?;
    }
    Ok(alerts)
}

/// Record that `version` breached the rule of alert `alert_id` (again: its latest value).
fn record_breach(
    tx: &Connection,
    alert_id: i64,
    version: &str,
    value: f64,
    threshold: f64,
    at: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO alert_versions (alert_id, version, value, threshold, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (alert_id, version) DO UPDATE SET value = excluded.value, threshold = excluded.threshold, at = excluded.at",
        params![alert_id, version, value, threshold, at],
    )?;
    Ok(())
}

pub(super) fn rule_from(id: i64, spec: &str, created_at: String) -> StoreResult<Rule> {
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

impl SqliteStore {
    /// Evaluate every matching rule on the version's aggregates; open and resolve alerts.
    /// `all` and `cohort` are the (row id, documents) of the all-cohorts and the pushed cohort's
    /// version aggregates.
    pub(super) fn evaluate_rules(
        &self,
        tx: &Transaction<'_>,
        key: &PushKey,
        all: (i64, u64),
        cohort: (i64, u64),
        at: &str,
        outcome: &mut PushOutcome,
    ) -> StoreResult<()> {
        self.apply_rules(tx, key, all, cohort, Some(at), outcome)
    }

    /// Which rules the version's aggregates breach now, without changing any state (for a
    /// repeated push: the same exit code as the first time).
    pub(super) fn breaching_rules(
        &self,
        tx: &Transaction<'_>,
        key: &PushKey,
        outcome: &mut PushOutcome,
    ) -> StoreResult<()> {
        let row = |cohort: &str| -> StoreResult<Option<(i64, u64)>> {
            Ok(tx
                .query_row(
                    "SELECT rowid, n_docs FROM versions WHERE model = ?1 AND version = ?2 AND cohort = ?3",
                    params![key.model, key.version, cohort],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64)),
                )
                .optional()?)
        };
        let (Some(all), Some(cohort)) = (row(ALL_COHORTS)?, row(&key.cohort)?) else { return Ok(()) };
        self.apply_rules(tx, key, all, cohort, None, outcome)
    }

    /// Evaluate every matching rule; with `at`, step the rules' state and open and resolve
    /// alerts, else only list the breaches.
    fn apply_rules(
        &self,
        tx: &Transaction<'_>,
        key: &PushKey,
        all: (i64, u64),
        cohort: (i64, u64),
        at: Option<&str>,
        outcome: &mut PushOutcome,
    ) -> StoreResult<()> {
        let rules: Vec<Rule> = rules_in(tx)?
            .into_iter()
            .filter(|r| r.enabled && rules::watches(r.model.as_deref(), &key.model))
            .filter(|r| r.cohort.as_ref().is_none_or(|c| *c == key.cohort))
            .collect();
        if rules.is_empty() {
            return Ok(());
        }
        // relative and adaptive rules read the baseline at the version's size: they need its chunks
        let against_baseline = rules.iter().any(|r| r.kind != crate::types::RuleKind::Fixed);
        let baseline = self.resolved_baseline(tx, &key.model, against_baseline)?;
        let base_profile = baseline.as_ref().map(|b| b.reference());
        let mut metrics_of: std::collections::HashMap<i64, Metrics> = std::collections::HashMap::new();
        for rule in &rules {
            let (scope, (rowid, n_docs)) = match &rule.cohort {
                None => (ALL_COHORTS, all),
                Some(c) => (c.as_str(), cohort),
            };
            let skip = |outcome: &mut PushOutcome, reason: String| {
                outcome.not_evaluated.push(NotEvaluated {
                    rule_id: rule.id,
                    metric: rule.metric.clone(),
                    cohort: scope.to_string(),
                    reason,
                });
            };
            if n_docs < rule.min_docs {
                skip(
                    outcome,
                    format!("insufficient data: {n_docs} documents, the rule needs {}", rule.min_docs),
                );
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = metrics_of.entry(rowid) {
                slot.insert(self.row_metrics(tx, "versions", rowid, base_profile)?);
            }
            let Some(value) = metrics_of[&rowid].get(&rule.metric).copied().flatten() else { continue };
            let baseline_values = baseline.as_ref().map(|b| b.values(&rule.metric));
            let threshold = match rules::threshold(rule, baseline_values.as_ref(), n_docs) {
                Ok(threshold) => threshold,
                Err(reason) => {
                    skip(outcome, reason);
                    continue;
                }
            };
            let breached = rules::breaches(rule.direction, value, threshold);
            let active: Option<i64> = tx
                .query_row(
                    "SELECT id FROM alerts WHERE rule_id = ?1 AND model = ?2 AND cohort = ?3 AND state != 'resolved'",
                    params![rule.id, key.model, scope],
                    |r| r.get(0),
                )
                .optional()?;
            let mut breaching = breached.then(|| Breaching {
                rule_id: rule.id,
                metric: rule.metric.clone(),
                cohort: scope.to_string(),
                value,
                threshold,
                alert_id: active,
            });
            let Some(at) = at else {
                outcome.breaching.extend(breaching);
                continue;
            };
            let state: Hysteresis = tx
                .query_row(
                    "SELECT breaches, clears FROM rule_state WHERE rule_id = ?1 AND model = ?2 AND cohort = ?3",
                    params![rule.id, key.model, scope],
                    |r| Ok(Hysteresis { breaches: r.get(0)?, clears: r.get(1)? }),
                )
                .optional()?
                .unwrap_or_default();
            let (next, transition) = rules::step(state, breached, active.is_some(), rule);
            tx.execute(
                "INSERT INTO rule_state (rule_id, model, cohort, breaches, clears) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (rule_id, model, cohort) DO UPDATE SET breaches = excluded.breaches, clears = excluded.clears",
                params![rule.id, key.model, scope, next.breaches, next.clears],
            )?;
            let mut alert_id = active;
            match (transition, active) {
                (Transition::Open, _) => {
                    let direction = if rule.direction == Direction::Lower { "below" } else { "above" };
                    tx.execute(
                        "INSERT INTO alerts (rule_id, model, cohort, version, last_version, metric, direction, state, value, threshold, last_value, opened_at)
                         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, 'open', ?7, ?8, ?7, ?9)",
                        params![rule.id, key.model, scope, key.version, rule.metric, direction, value, threshold, at],
                    )?;
                    let id = tx.last_insert_rowid();
                    record_breach(tx, id, &key.version, value, threshold, at)?;
                    let alert = alert_in(tx, id)?;
                    alert_id = Some(alert.id);
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
                    if breached {
                        record_breach(tx, id, &key.version, value, threshold, at)?;
                    }
                }
                _ => {}
            }
            if let Some(breaching) = breaching.as_mut() {
                breaching.alert_id = alert_id;
            }
            outcome.breaching.extend(breaching);
        }
        Ok(())
    }
}

pub(super) fn rules_in(tx: &Connection) -> StoreResult<Vec<Rule>> {
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

pub(super) fn alert_in(tx: &Connection, id: i64) -> StoreResult<Alert> {
    let alert = tx
        .query_row(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"), [id], alert_row)
        .optional()?
        .ok_or(StoreError::NotFound(Missing::Alert(id)))?;
    Ok(with_breached_by(tx, vec![alert])?.remove(0))
}

/// Queue one delivery of `event` per webhook (in the caller's transaction: an outbox).
pub(super) fn enqueue(tx: &Connection, alert: &Alert, event: &str) -> StoreResult<()> {
    let payload = to_json(&serde_json::json!({"event": event, "alert": alert, "sent_by": "tailwatch"}))?;
    tx.execute(
        "INSERT INTO deliveries (webhook_id, alert_id, event, payload, next_attempt_ms)
         SELECT id, ?1, ?2, ?3, ?4 FROM webhooks",
        params![alert.id, event, payload, now_ms()],
    )?;
    Ok(())
}
