//! Per-prompt routes: a version's groups of answers, worst first, and one prompt across versions.
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use tailwatch_core::Tokenizer;
use tailwatch_metrics::grouped::{GROUP_IDS, GroupOptions, GroupRow, equivalence_name, group_row};

use crate::AppState;
use crate::api::{blocking, path, query};
use crate::error::ApiError;
use crate::types::{ALL_COHORTS, GroupState};

type ApiResult<T> = Result<T, ApiError>;

/// Rows a version's group list returns unless `limit` says otherwise.
const DEFAULT_ROWS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupsQuery {
    cohort: Option<String>,
    equivalence: Option<String>,
    limit: Option<usize>,
}

impl GroupsQuery {
    /// The `limit` worst prompts over all cohorts, under the default rule.
    pub fn worst(limit: usize) -> Self {
        Self { cohort: None, equivalence: None, limit: Some(limit) }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSeriesQuery {
    group: Option<String>,
    metric: Option<String>,
    cohort: Option<String>,
    equivalence: Option<String>,
}

impl GroupSeriesQuery {
    /// One prompt's series of `metric` over versions (all cohorts, the default rule).
    pub fn for_group(group: &str, metric: &str) -> Self {
        Self { group: Some(group.into()), metric: Some(metric.into()), cohort: None, equivalence: None }
    }
}

/// The scoring options of a query's `equivalence` (NoveltyBench's `unigram` by default), read
/// as every front end reads them.
fn group_options(equivalence: Option<&str>) -> ApiResult<GroupOptions> {
    let defaults = GroupOptions::default();
    let rule = equivalence.map_or_else(|| equivalence_name(defaults.equivalence), str::to_string);
    tailwatch::scoring::group_options(&rule, defaults.patience, defaults.pass_threshold)
        .map_err(|e| ApiError::bad_request(format!("parameter {e}")))
}

/// Run engine work off the async threads.
async fn computing<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&AppState) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state))
        .await
        .map_err(|_| ApiError::internal("the request failed inside the server; nothing was stored"))?
}

/// A version's prompts, worst first: each sampled group's within-group metrics (the rows
/// `tailwatch score --per-group` writes, at most `limit`), their spread and means.
pub async fn version_groups_value(
    state: &Arc<AppState>,
    model: String,
    version: String,
    q: GroupsQuery,
) -> ApiResult<Value> {
    let options = group_options(q.equivalence.as_deref())?;
    let limit = q.limit.unwrap_or(DEFAULT_ROWS);
    let cohort = q.cohort.unwrap_or_else(|| ALL_COHORTS.into());
    let (m, v, c) = (model.clone(), version.clone(), cohort.clone());
    let profile = blocking(state, move |s| s.version_profile(&m, &v, &c)).await?;
    let scored = computing(state, move |state| {
        tailwatch::scoring::profile_groups(&state.engine, &profile, &options)
            .map_err(|e| ApiError::unprocessable(e.to_string()))
    })
    .await?;
    let Some((metrics, mut summary)) = scored else {
        return Err(ApiError::not_found(format!(
            "version `{version}` of model `{model}` (cohort `{cohort}`) holds no groups of answers: push profiles made with `--group-field` (or `--group-by record`)"
        )));
    };
    let rows: Vec<GroupRow> = std::mem::take(&mut summary.rows).into_iter().take(limit).collect();
    Ok(json!({
        "model": model,
        "version": version,
        "cohort": cohort,
        "summary": summary,
        "metrics": metrics.values,
        "notes": metrics.notes,
        "rows": rows,
    }))
}

pub async fn version_groups(
    State(state): State<Arc<AppState>>,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<GroupsQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let (model, version) = path(p)?;
    let q = query(q)?;
    Ok(Json(version_groups_value(&state, model, version, q).await?))
}

/// One prompt's within-group metrics in every version of a model: a point per version, with
/// what its merged sample holds of the prompt (`held`, `unanswered`, `not_sampled`: its sample
/// keeps other prompts, or `ungrouped`), and the group's whole row where held.
pub async fn group_series_value(
    state: &Arc<AppState>,
    model: String,
    q: GroupSeriesQuery,
) -> ApiResult<Value> {
    let key = q.group.ok_or_else(|| ApiError::bad_request("parameter `group` (a group key) is required"))?;
    let metric = q.metric.unwrap_or_else(|| "distinct_at_k".into());
    if !GROUP_IDS.contains(&metric.as_str()) {
        return Err(ApiError::bad_request(format!(
            "parameter `metric`: `{metric}` is not a within-group metric (one of {})",
            GROUP_IDS.join(", ")
        )));
    }
    let options = group_options(q.equivalence.as_deref())?;
    let cohort = q.cohort.unwrap_or_else(|| ALL_COHORTS.into());
    let (m, c, k) = (model.clone(), cohort.clone(), key.clone());
    let versions = blocking(state, move |s| s.group_across_versions(&m, &c, &k)).await?;
    let id = metric.clone();
    let points = computing(state, move |state| {
        let mut points = Vec::with_capacity(versions.len());
        for v in versions {
            let row = match &v.state {
                GroupState::Held(group) => {
                    let tokenizer = Tokenizer::from_spec(&v.tokenizer)
                        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
                    let row = state.engine.install(|| group_row(group, &tokenizer, &options));
                    Some(row.map_err(|e| ApiError::unprocessable(e.to_string()))?)
                }
                _ => None,
            };
            points.push(json!({
                "version": v.version,
                "n_docs": v.n_docs,
                "state": v.state.name(),
                "answers": row.as_ref().map(|r| r.answers),
                "value": row.as_ref().and_then(|r| r.value(&id)),
                "row": row,
            }));
        }
        Ok(points)
    })
    .await?;
    Ok(json!({
        "model": model,
        "group": key,
        "metric": metric,
        "cohort": cohort,
        "equivalence": equivalence_name(options.equivalence),
        "points": points,
    }))
}

pub async fn group_series(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<GroupSeriesQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let model = path(p)?;
    let q = query(q)?;
    Ok(Json(group_series_value(&state, model, q).await?))
}
