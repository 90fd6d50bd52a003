//! The JSON API under `/api/v1`: handlers, request validation, and the authorization layer.
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tailwatch_metrics::compare::default_rules;

use crate::db::{AlertFilter, Store};
use crate::error::ApiError;
use crate::profiles::{self, RawOptions};
use crate::rules::{self, check_name};
use crate::types::{ALL_COHORTS, AlertState, PushKey, RuleSpec, today};
use crate::{AppState, openapi};

type ApiResult<T> = Result<T, ApiError>;

/// Run a store call on the blocking pool; a panic becomes a 500 and stores nothing.
pub async fn blocking<T, F>(state: &AppState, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, crate::error::StoreError> + Send + 'static,
{
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => Err(ApiError::internal("the request failed inside the server; nothing was stored")),
    }
}

/// The body, or 413 / 400.
pub fn body(bytes: Result<Bytes, BytesRejection>, limit: usize) -> ApiResult<Bytes> {
    bytes.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(limit)
        } else {
            ApiError::bad_request(format!("cannot read the body: {}", e.body_text()))
        }
    })
}

/// A `.twp` body sent as text (no `Content-Type: application/octet-stream`): it was read as
/// JSONL and failed with "invalid JSON at line 1".
fn profile_without_content_type() -> ApiError {
    ApiError {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "unsupported_media_type",
        message: "the body is a .twp profile: send it with `Content-Type: application/octet-stream` (without it, the body is read as JSONL outputs)".into(),
    }
}

/// Parse a JSON body into `T`, naming the field that is wrong.
pub fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the body is empty; a JSON object is expected"));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

pub(crate) fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(v)| v).map_err(|e| ApiError::bad_request(format!("invalid query: {}", e.body_text())))
}

pub(crate) fn path<T>(p: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    p.map(|Path(v)| v).map_err(|e| ApiError::bad_request(format!("invalid path: {}", e.body_text())))
}

/// The bearer token of a request (the `Authorization` header).
pub fn presented_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())?;
    value.strip_prefix("Bearer ").map(|token| token.trim().to_string())
}

/// Writes need the token; reads too unless `--public-reads`. Health and the OpenAPI document are public.
pub async fn authorize(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    // (inside the nested router the path has lost its `/api/v1` prefix)
    let path = request.uri().path().trim_start_matches("/api/v1");
    let public = matches!(path, "/health" | "/openapi.json");
    let write = !matches!(*request.method(), Method::GET | Method::HEAD);
    if !public && (write || !state.config.public_reads) {
        match presented_token(request.headers()) {
            None => {
                return ApiError::unauthorized(
                    "this request needs the server's token: send `Authorization: Bearer <token>`",
                )
                .into_response();
            }
            Some(token) if !state.token.accepts(&token) => {
                return ApiError::unauthorized("the token is not valid").into_response();
            }
            Some(_) => {}
        }
    }
    next.run(request).await
}

pub async fn health(State(state): State<Arc<AppState>>) -> ApiResult<Json<Value>> {
    let totals = blocking(&state, |s| s.totals()).await?;
    Ok(Json(json!({"status": "ok", "version": tailwatch_core::VERSION, "totals": totals})))
}

pub async fn openapi_document() -> Json<Value> {
    Json(openapi::document())
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint (see /api/v1/openapi.json)")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushQuery {
    cohort: Option<String>,
    window: Option<String>,
    field: Option<String>,
    tokenizer: Option<String>,
    lowercase: Option<bool>,
}

fn push_key(model: String, version: String, q: &PushQuery) -> ApiResult<PushKey> {
    let key = PushKey {
        model,
        version,
        cohort: q.cohort.clone().unwrap_or_else(|| "default".into()),
        window: q.window.clone().unwrap_or_else(today),
    };
    check_name("model", &key.model)?;
    check_name("version", &key.version)?;
    check_name("cohort", &key.cohort)?;
    check_name("window", &key.window)?;
    Ok(key)
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let k =
                v.to_str().map_err(|_| ApiError::bad_request("header `Idempotency-Key` must be ASCII"))?;
            if k.is_empty() || k.len() > 200 {
                return Err(ApiError::bad_request("header `Idempotency-Key` must be 1-200 characters"));
            }
            Ok(Some(k.to_string()))
        }
    }
}

async fn store_push(
    state: &AppState,
    key: PushKey,
    idempotency: Option<String>,
    profile: tailwatch_metrics::Profile,
) -> ApiResult<Response> {
    if profile.n_docs() == 0 {
        return Err(ApiError::bad_request("the profile holds no documents"));
    }
    let outcome = blocking(state, move |s| s.push(&key, idempotency.as_deref(), profile)).await?;
    let status = if outcome.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(outcome)).into_response())
}

pub async fn push_profile(
    State(state): State<Arc<AppState>>,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<PushQuery>, QueryRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let (model, version) = path(p)?;
    let q = query(q)?;
    if q.field.is_some() || q.tokenizer.is_some() || q.lowercase.is_some() {
        return Err(ApiError::bad_request(
            "`field`, `tokenizer` and `lowercase` apply to raw outputs (POST .../outputs), not to profiles",
        ));
    }
    let key = push_key(model, version, &q)?;
    let idempotency = idempotency_key(&headers)?;
    let bytes = body(bytes, state.config.max_body)?;
    let max_decoded = state.config.max_decoded;
    let share = state.decoding.reserve(bytes.len(), max_decoded).await;
    let profile = tokio::task::spawn_blocking(move || {
        let decoded = profiles::decode(&bytes, max_decoded);
        drop(share);
        decoded
    })
    .await
    .map_err(|_| ApiError::unprocessable("the profile could not be decoded"))??;
    store_push(&state, key, idempotency, profile).await
}

pub async fn push_outputs(
    State(state): State<Arc<AppState>>,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<PushQuery>, QueryRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let (model, version) = path(p)?;
    let q = query(q)?;
    let key = push_key(model, version, &q)?;
    let idempotency = idempotency_key(&headers)?;
    let bytes = body(bytes, state.config.max_body)?;
    if bytes.starts_with(&tailwatch_metrics::profile::wire::PROFILE_MAGIC[..6]) {
        return Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message:
                "the body is a .twp profile: POST it to .../profiles, not .../outputs (which takes JSONL)"
                    .into(),
        });
    }
    let options = RawOptions {
        field: q.field.clone().unwrap_or_else(|| "text".into()),
        tokenizer: q.tokenizer.clone().unwrap_or_else(|| "words".into()),
        lowercase: q.lowercase.unwrap_or(false),
    };
    let engine = state.engine.clone();
    let (profile, _) =
        tokio::task::spawn_blocking(move || profiles::profile_jsonl(&engine, &bytes, &options, None))
            .await
            .map_err(|_| ApiError::unprocessable("the outputs could not be profiled"))??;
    store_push(&state, key, idempotency, profile).await
}

pub async fn push_by_key(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let key = path(p)?;
    let record = blocking(&state, move |s| s.push_by_key(&key)).await?;
    match record {
        Some(r) => Ok(Json(serde_json::to_value(r).map_err(|e| ApiError::internal(e.to_string()))?)),
        None => Err(ApiError::not_found("no push with this idempotency key")),
    }
}

pub async fn models(State(state): State<Arc<AppState>>) -> ApiResult<Json<Value>> {
    let models = blocking(&state, |s| s.models()).await?;
    Ok(Json(json!({"models": models})))
}

pub async fn model(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let model = path(p)?;
    let (versions, baseline, alerts) = blocking(&state, move |s| {
        let versions = s.versions(&model)?;
        let baseline = s.baseline(&model)?;
        let alerts = s.alerts(&AlertFilter { state: None, model: Some(model.clone()) })?;
        Ok((versions, baseline, alerts))
    })
    .await?;
    let active: Vec<_> = alerts.into_iter().filter(|a| a.state != AlertState::Resolved).collect();
    let versions: Vec<Value> = versions
        .into_iter()
        .map(|v| json!({"version": v.version, "seq": v.seq, "n_docs": v.n_docs, "pushes": v.pushes, "first_seen": v.first_seen, "last_seen": v.last_seen}))
        .collect();
    Ok(Json(json!({"versions": versions, "baseline": baseline, "active_alerts": active})))
}

pub async fn versions(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let model = path(p)?;
    let versions = blocking(&state, move |s| s.versions(&model)).await?;
    Ok(Json(json!({"versions": versions})))
}

pub async fn version(
    State(state): State<Arc<AppState>>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let (model, version) = path(p)?;
    let detail = blocking(&state, move |s| s.version(&model, &version)).await?;
    Ok(Json(serde_json::to_value(detail).map_err(|e| ApiError::internal(e.to_string()))?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortQuery {
    cohort: Option<String>,
}

pub async fn version_profile(
    State(state): State<Arc<AppState>>,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<CohortQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let (model, version) = path(p)?;
    let cohort = query(q)?.cohort.unwrap_or_else(|| ALL_COHORTS.into());
    let profile = blocking(&state, move |s| s.version_profile(&model, &version, &cohort)).await?;
    let bytes = profile.to_bytes().map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    metric: Option<String>,
    cohort: Option<String>,
    by: Option<String>,
}

impl SeriesQuery {
    /// The by-version, all-cohorts series of one metric.
    pub fn for_metric(metric: &str) -> Self {
        Self { metric: Some(metric.to_string()), cohort: None, by: None }
    }

    /// The same series by window (each version's windows in time order).
    pub fn by_window(self) -> Self {
        Self { by: Some("window".into()), ..self }
    }
}

/// A series with its baseline band and the rules on the metric.
pub async fn series_value(state: &AppState, model: String, q: SeriesQuery) -> ApiResult<Value> {
    let metric = q.metric.ok_or_else(|| ApiError::bad_request("parameter `metric` is required"))?;
    if tailwatch_metrics::catalog::metric_info(&metric).is_none() {
        return Err(ApiError::bad_request(format!("parameter `metric`: unknown metric id `{metric}`")));
    }
    let by_window = match q.by.as_deref() {
        None | Some("version") => false,
        Some("window") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "parameter `by` must be `version` or `window`, found `{other}`"
            )));
        }
    };
    let cohort = q.cohort.unwrap_or_else(|| ALL_COHORTS.into());
    let (points, baseline, rules) = {
        let (model, metric, cohort) = (model.clone(), metric.clone(), cohort.clone());
        blocking(state, move |s| {
            let points = s.series(&model, &metric, &cohort, by_window)?;
            let baseline = s.baseline_values(&model, &metric)?;
            let rules: Vec<_> = s
                .rules()?
                .into_iter()
                .filter(|r| r.metric == metric && rules::watches(r.model.as_deref(), &model))
                .filter(|r| r.cohort.as_deref().unwrap_or(ALL_COHORTS) == cohort)
                .collect();
            Ok((points, baseline, rules))
        })
        .await?
    };
    // each point is judged against the baseline read at its own size
    let at_points: Vec<Value> = points
        .iter()
        .map(|p| {
            let mut point = serde_json::to_value(p).expect("serializable");
            let read = baseline.as_ref().and_then(|b| b.at_size(p.n_docs));
            point["baseline"] = json!(read.map(|r| r.0));
            point["band"] = json!(baseline.as_ref().and_then(|b| rules::band(b, p.n_docs, BAND_K)));
            point
        })
        .collect();
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            let at = |n: u64| rules::threshold(r, baseline.as_ref(), n);
            let latest = at(points.last().map_or(baseline.as_ref().map_or(0, |b| b.docs), |p| p.n_docs));
            let thresholds: Vec<Option<f64>> = points.iter().map(|p| at(p.n_docs).ok()).collect();
            json!({"rule": r, "threshold": latest.as_ref().ok(), "thresholds": thresholds, "not_evaluable": latest.err()})
        })
        .collect();
    let spread = baseline.as_ref().and_then(|b| rules::mean_sd(b.chunks()));
    Ok(json!({
        "model": model, "metric": metric, "cohort": cohort, "by": if by_window { "window" } else { "version" },
        "points": at_points,
        "baseline": baseline.map(|b| json!({
            "value": b.value, "docs": b.docs, "chunks": b.chunks().len(), "chunk_docs": b.chunk_docs(),
            "levels": b.levels.iter().map(|l| json!({"docs": l.0, "groups": l.1.len()})).collect::<Vec<_>>(),
            "mean": spread.map(|x| x.0), "sd": spread.map(|x| x.1), "band_k": BAND_K,
        })),
        "rules": rules,
    }))
}

/// The dashboard's band: the baseline ± this many standard deviations, at each point's size.
pub const BAND_K: f64 = 3.0;

pub async fn series(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<SeriesQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let model = path(p)?;
    let q = query(q)?;
    Ok(Json(series_value(&state, model, q).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareQuery {
    baseline: Option<String>,
    candidate: Option<String>,
    cohort: Option<String>,
}

/// How many consecutive groups of its pushes the larger side of a comparison is read in.
const COMPARE_GROUPS: usize = 16;

/// Compare two versions under the default collapse rules (what `tailwatch compare A.twp B.twp` says),
/// the reference metrics of both against the model's baseline reference (its held-out half when
/// frozen), unless a side is the baseline version, which holds its own reference. At matched
/// sizes: a side more than 1.25 times the other's documents is read at the other's size from its
/// pushes (in at most 16 groups: each, pairs, ..., and the whole, as rules read a baseline).
pub async fn compare_value(state: &AppState, model: String, q: CompareQuery) -> ApiResult<Value> {
    let base =
        q.baseline.ok_or_else(|| ApiError::bad_request("parameter `baseline` (a version) is required"))?;
    let cand =
        q.candidate.ok_or_else(|| ApiError::bad_request("parameter `candidate` (a version) is required"))?;
    let cohort = q.cohort.unwrap_or_else(|| ALL_COHORTS.into());
    let (b, c) = (base.clone(), cand.clone());
    let (bp, cp, reference, baseline_version, larger) = blocking(state, move |s| {
        let baseline_version = s.baseline(&model)?.and_then(|b| b.version);
        let (bp, cp) = (s.version_profile(&model, &b, &cohort)?, s.version_profile(&model, &c, &cohort)?);
        // the larger side's pushes, when the sizes differ past what counts as one size
        let (small, large) = if bp.n_docs() <= cp.n_docs() { (&bp, 1) } else { (&cp, 0) };
        let large_docs = if large == 0 { bp.n_docs() } else { cp.n_docs() };
        let larger = if large_docs as f64 > small.n_docs() as f64 * rules::EXTRAPOLATION {
            let version = if large == 0 { &b } else { &c };
            Some((large, s.push_groups(&model, version, &cohort, COMPARE_GROUPS)?))
        } else {
            None
        };
        Ok((bp, cp, s.reference_profile(&model)?, baseline_version, larger))
    })
    .await?;
    let mut notes = Vec::new();
    let own = [&base, &cand].into_iter().find(|v| baseline_version.as_deref() == Some(v.as_str()));
    let reference = match (reference, own) {
        (Some(_), Some(own)) => {
            notes.push(format!(
                "`{own}` is the model's baseline version and holds its reference, so reference metrics are not compared (compare two other versions)"
            ));
            None
        }
        (reference, _) => reference,
    };
    if let Some(reference) = &reference {
        for (name, profile) in [(&base, &bp), (&cand, &cp)] {
            let shared = profile.shared_documents(reference);
            if shared > 0 {
                notes.push(format!(
                    "{shared} of `{name}`'s {} documents are also in the reference: its reference metrics are flattered",
                    profile.n_docs()
                ));
            }
        }
    }
    let engine = state.engine.clone();
    let mut rules = default_rules();
    if bp.groups().is_none() && cp.groups().is_none() {
        // the built-in rule on groups of answers only for versions that group them
        rules.retain(|r| !tailwatch_metrics::grouped::GROUP_IDS.contains(&r.metric.as_str()));
    }
    let selection = tailwatch::comparing::rule_metrics(&rules);
    let names = [base.clone(), cand.clone()];
    let tested = rules.clone();
    let (bm, cm, sides, matched, evidence) = tokio::task::spawn_blocking(move || -> ApiResult<_> {
        let side = |p: &tailwatch_metrics::Profile| tailwatch::comparing::Side {
            n_docs: p.n_docs(),
            n_tokens: p.n_tokens(),
            tokenizer: p.config().tokenizer.name(),
        };
        let metrics = |p| profiles::metrics_of(&engine, p, reference.as_ref(), &selection);
        let mut values = [metrics(&bp)?, metrics(&cp)?];
        let whole_values = values.clone();
        let mut matched = None;
        if let Some((large, groups)) = larger {
            let (profile, small) = if large == 0 { (&bp, &cp) } else { (&cp, &bp) };
            let n_groups = groups.len();
            let levels = profiles::size_levels(&engine, groups, reference.as_ref())?;
            let mut unread = Vec::new();
            let whole = values[large].clone();
            for (id, value) in values[large].iter_mut() {
                let read = rules::BaselineValues::of_version(id, profile, &whole, &levels);
                *value = match read.at_size(small.n_docs()) {
                    Some((at, _)) => Some(at),
                    None => {
                        if value.is_some() {
                            unread.push(id.clone());
                        }
                        None
                    }
                };
            }
            matched = Some((large, profile.n_docs(), small.n_docs(), n_groups, unread));
        }
        // within-group metrics (over prompts) and score means and rates are tested from the
        // profiles themselves, on the sides' whole values (they are not read at a size)
        let resampling = tailwatch::matching::Resampling::default();
        let evidence = tailwatch::comparing::profile_evidence(&engine, &tested, &bp, &cp, &resampling)
            .map_err(|e| ApiError::unprocessable(e.to_string()))?;
        for id in evidence.keys() {
            for (side, whole) in values.iter_mut().zip(&whole_values) {
                side.insert(id.clone(), whole.get(id).copied().flatten());
            }
        }
        let [bm, cm] = values;
        Ok((bm, cm, [side(&bp), side(&cp)], matched, evidence))
    })
    .await
    .map_err(|_| ApiError::internal("comparison failed"))??;
    let compared =
        tailwatch::comparing::compare_sides_with((&sides[0], &bm), (&sides[1], &cm), &rules, &evidence);
    let comparison = compared.comparison;
    match matched {
        Some((large, large_docs, small_docs, groups, unread)) => {
            let (large, small) = (&names[large], &names[1 - large]);
            notes.push(format!(
                "matched sizes: `{large}` ({large_docs} documents) is read at `{small}`'s {small_docs} from {groups} groups of its pushes, as rules read a baseline"
            ));
            if !unread.is_empty() {
                notes.push(format!(
                    "`{large}` cannot be read at {small_docs} documents (its smallest groups of pushes are more than 1.25 times that), so {} {} skipped: push it in smaller parts, or compare versions of about one size",
                    unread.join(", "),
                    if unread.len() == 1 { "is" } else { "are" }
                ));
            }
            // the sizes were matched: the size note of unmatched values does not apply
            notes.extend(compared.notes.into_iter().filter(|n| !n.starts_with("the sides differ in size")));
        }
        None => notes.extend(compared.notes),
    }
    let sizes = [(sides[0].n_docs, sides[0].n_tokens), (sides[1].n_docs, sides[1].n_tokens)];
    Ok(json!({
        "verdict": comparison.verdict,
        "checks": comparison.checks,
        "baseline": {"version": base, "n_docs": sizes[0].0, "n_tokens": sizes[0].1},
        "candidate": {"version": cand, "n_docs": sizes[1].0, "n_tokens": sizes[1].1},
        "notes": notes,
    }))
}

pub async fn compare_versions(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<CompareQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let model = path(p)?;
    Ok(Json(compare_value(&state, model, query(q)?).await?))
}

pub async fn get_baseline(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let model = path(p)?;
    let baseline = blocking(&state, move |s| s.baseline(&model)).await?;
    Ok(Json(json!({"baseline": baseline})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineRequest {
    version: String,
    #[serde(default)]
    freeze: bool,
}

pub async fn put_baseline(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let model = path(p)?;
    let request: BaselineRequest = json_body(&body(bytes, state.config.max_body)?)?;
    let baseline =
        blocking(&state, move |s| s.set_baseline_version(&model, &request.version, request.freeze)).await?;
    Ok(Json(json!({"baseline": baseline})))
}

pub async fn freeze_baseline(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let model = path(p)?;
    let baseline = blocking(&state, move |s| s.freeze_baseline(&model)).await?;
    Ok(Json(json!({"baseline": baseline})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceQuery {
    field: Option<String>,
    tokenizer: Option<String>,
    lowercase: Option<bool>,
    chunks: Option<usize>,
}

/// A reference corpus as the baseline: a `.twp` profile, or JSONL texts (split into chunks for
/// adaptive thresholds).
pub async fn put_reference(
    State(state): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<ReferenceQuery>, QueryRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let model = path(p)?;
    check_name("model", &model)?;
    let q = query(q)?;
    let bytes = body(bytes, state.config.max_body)?;
    let is_profile = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/octet-stream"));
    let chunks = q.chunks.unwrap_or(10);
    if !(2..=1000).contains(&chunks) {
        return Err(ApiError::bad_request("parameter `chunks` must be in 2..=1000"));
    }
    if !is_profile && bytes.starts_with(&tailwatch_metrics::profile::wire::PROFILE_MAGIC[..6]) {
        return Err(profile_without_content_type());
    }
    let max_decoded = state.config.max_decoded;
    let engine = state.engine.clone();
    let share = if is_profile { Some(state.decoding.reserve(bytes.len(), max_decoded).await) } else { None };
    let (profile, levels, held) = tokio::task::spawn_blocking(move || -> ApiResult<_> {
        if is_profile {
            let decoded = profiles::decode(&bytes, max_decoded);
            drop(share);
            return Ok((decoded?, Vec::new(), None));
        }
        let options = RawOptions {
            field: q.field.unwrap_or_else(|| "text".into()),
            tokenizer: q.tokenizer.unwrap_or_else(|| "words".into()),
            lowercase: q.lowercase.unwrap_or(false),
        };
        let (whole, parts) = profiles::profile_jsonl(&engine, &bytes, &options, Some(chunks))?;
        let held = profiles::held_out(&engine, &parts)?;
        let levels = profiles::size_levels(&engine, parts, Some(&whole))?;
        Ok((whole, levels, held))
    })
    .await
    .map_err(|_| ApiError::unprocessable("the reference could not be profiled"))??;
    let baseline = blocking(&state, move |s| s.set_baseline_reference(&model, profile, levels, held)).await?;
    Ok(Json(json!({"baseline": baseline})))
}

pub async fn list_rules(State(state): State<Arc<AppState>>) -> ApiResult<Json<Value>> {
    let rules = blocking(&state, |s| s.rules()).await?;
    Ok(Json(json!({"rules": rules})))
}

pub async fn create_rule(
    State(state): State<Arc<AppState>>,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let spec: RuleSpec = json_body(&body(bytes, state.config.max_body)?)?;
    let rule = blocking(&state, move |s| s.create_rule(&spec)).await?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

pub async fn get_rule(
    State(state): State<Arc<AppState>>,
    p: Result<Path<i64>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let id = path(p)?;
    let rule = blocking(&state, move |s| s.rule(id)).await?;
    Ok(Json(serde_json::to_value(rule).map_err(|e| ApiError::internal(e.to_string()))?))
}

pub async fn update_rule(
    State(state): State<Arc<AppState>>,
    p: Result<Path<i64>, PathRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let id = path(p)?;
    let spec: RuleSpec = json_body(&body(bytes, state.config.max_body)?)?;
    let rule = blocking(&state, move |s| s.update_rule(id, &spec)).await?;
    Ok(Json(serde_json::to_value(rule).map_err(|e| ApiError::internal(e.to_string()))?))
}

pub async fn delete_rule(
    State(state): State<Arc<AppState>>,
    p: Result<Path<i64>, PathRejection>,
) -> ApiResult<StatusCode> {
    let id = path(p)?;
    blocking(&state, move |s| s.delete_rule(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    state: Option<String>,
    model: Option<String>,
}

pub async fn list_alerts(
    State(state): State<Arc<AppState>>,
    q: Result<Query<AlertQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let q = query(q)?;
    let wanted = match q.state.as_deref() {
        None => None,
        Some(s) => Some(AlertState::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "parameter `state` must be open, acknowledged or resolved, found `{s}`"
            ))
        })?),
    };
    let filter = AlertFilter { state: wanted, model: q.model };
    let alerts = blocking(&state, move |s| s.alerts(&filter)).await?;
    Ok(Json(json!({"alerts": alerts})))
}

pub async fn get_alert(
    State(state): State<Arc<AppState>>,
    p: Result<Path<i64>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let id = path(p)?;
    let alert = blocking(&state, move |s| s.alert(id)).await?;
    Ok(Json(serde_json::to_value(alert).map_err(|e| ApiError::internal(e.to_string()))?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckRequest {
    by: Option<String>,
}

pub async fn acknowledge(
    State(state): State<Arc<AppState>>,
    p: Result<Path<i64>, PathRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let id = path(p)?;
    let bytes = body(bytes, state.config.max_body)?;
    let request: AckRequest =
        if bytes.iter().all(u8::is_ascii_whitespace) { AckRequest::default() } else { json_body(&bytes)? };
    let by = request.by.unwrap_or_else(|| "api".into());
    if by.len() > 200 {
        return Err(ApiError::bad_request("field `by` must be at most 200 bytes"));
    }
    let alert = blocking(&state, move |s| s.acknowledge(id, &by)).await?;
    Ok(Json(serde_json::to_value(alert).map_err(|e| ApiError::internal(e.to_string()))?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookRequest {
    url: String,
    secret: Option<String>,
}

pub async fn list_webhooks(State(state): State<Arc<AppState>>) -> ApiResult<Json<Value>> {
    let hooks = blocking(&state, |s| s.webhooks()).await?;
    Ok(Json(json!({"webhooks": hooks})))
}

pub async fn create_webhook(
    State(state): State<Arc<AppState>>,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let request: WebhookRequest = json_body(&body(bytes, state.config.max_body)?)?;
    let url = request.url.trim().to_string();
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.len() > 2000
        || url.contains(char::is_whitespace)
    {
        return Err(ApiError::bad_request(format!(
            "field `url` must be an http:// or https:// URL, found `{url}`"
        )));
    }
    let hook = blocking(&state, move |s| s.create_webhook(&url, request.secret.as_deref())).await?;
    Ok((StatusCode::CREATED, Json(hook)).into_response())
}

pub async fn delete_webhook(
    State(state): State<Arc<AppState>>,
    p: Result<Path<i64>, PathRejection>,
) -> ApiResult<StatusCode> {
    let id = path(p)?;
    blocking(&state, move |s| s.delete_webhook(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn deliveries(
    State(state): State<Arc<AppState>>,
    p: Result<Path<i64>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let id = path(p)?;
    let list = blocking(&state, move |s| s.deliveries(id)).await?;
    Ok(Json(json!({"deliveries": list})))
}
