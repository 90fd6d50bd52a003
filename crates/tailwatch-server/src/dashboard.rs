//! The dashboard: server-rendered HTML with inline SVG charts (no scripts, no external requests).
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use tailwatch_html::escape;
use tailwatch_html::trend::{ThresholdLine, Trend, TrendPoint, trend_chart};
use tailwatch_metrics::catalog::metric_info;

use crate::api::{self, CompareQuery, SeriesQuery, blocking, presented_token};
use crate::db::AlertFilter;
use crate::error::ApiError;
use crate::groups::{self, GroupSeriesQuery, GroupsQuery};
use crate::types::{ALL_COHORTS, Alert, AlertState};
use crate::{AppState, percent_encode};

/// Cookie that carries the dashboard session (a random id, never the write token).
pub const COOKIE_NAME: &str = "tailwatch_session";

/// Metrics charted for every model (those it has), before the metrics its rules watch.
const CHARTED: &[&str] =
    &["distinct_2", "entropy_1", "self_bleu_4", "js_to_reference", "tail_coverage", "rep_4"];

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header a{color:#cfe1ff;text-decoration:none}header strong{font-size:16px}
main{padding:20px 24px;max-width:1200px}
table{border-collapse:collapse;background:#fff;margin:8px 0 20px}
th,td{padding:6px 12px;border-bottom:1px solid #e3e6ea;text-align:left}th{background:#eef1f5}
.status{padding:2px 8px;border-radius:10px;font-weight:600;font-size:12px}
.status-ok{background:#dcf5e3;color:#176b34}.status-alerting{background:#fde2e1;color:#a11d16}
.status-acknowledged{background:#fff1d6;color:#8a5a00}.status-resolved{background:#e8eaee;color:#4b5360}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{background:#fff;border:1px solid #e3e6ea;padding:8px}
.chart h3{margin:0 0 4px;font-size:14px}.legend{font-size:11px;color:#4b5360;max-width:520px;display:flex;flex-wrap:wrap;gap:4px 12px}.legend svg{vertical-align:middle;margin-right:4px}.muted{color:#6b7280}
button{background:#2456c7;color:#fff;border:0;border-radius:4px;padding:4px 10px;cursor:pointer}
.collapse{color:#a11d16;font-weight:700}.ok{color:#176b34;font-weight:700}
";

use tailwatch_html::trend::format_short as fmt;

fn page(title: &str, body: &str, signed_in: bool) -> Html<String> {
    let login = if signed_in {
        "<span class=muted>signed in</span>".to_string()
    } else {
        "<a href=\"/login\">sign in</a>".to_string()
    };
    Html(format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>{} · tailwatch</title><style>{STYLE}</style></head><body>\
         <header><strong>tailwatch</strong><a href=\"/\">Models</a><a href=\"/alerts\">Alerts</a><span style=\"flex:1\"></span>{login}</header>\
         <main>{body}</main></body></html>",
        escape(title)
    ))
}

/// Signed in: a live session cookie, or the write token as a bearer header.
fn signed_in(state: &AppState, headers: &HeaderMap) -> bool {
    if presented_token(headers).is_some_and(|t| state.token.accepts(&t)) {
        return true;
    }
    session_cookie(headers).is_some_and(|id| state.sessions.is_live(&id))
}

/// The session id in the request's cookies.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("").split(';'))
        .find_map(|part| part.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('=').map(str::to_string))
}

fn error_page(error: ApiError, signed: bool) -> Response {
    let body = format!("<h1>{}</h1><p>{}</p>", error.status.as_u16(), escape(&error.message));
    (error.status, page("error", &body, signed)).into_response()
}

/// Unless `--public-reads`, pages need the cookie too (the login page excepted).
pub async fn authorize(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let login = path == "/login";
    let write = request.method() == Method::POST && !login;
    if (write || (!state.config.public_reads && !login)) && !signed_in(&state, request.headers()) {
        let next_page = if write { "/alerts".to_string() } else { path.to_string() };
        return Redirect::to(&format!("/login?next={}", percent_encode(&next_page))).into_response();
    }
    next.run(request).await
}

pub async fn overview(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let signed = signed_in(&state, &headers);
    let models = match blocking(&state, |s| s.models()).await {
        Ok(m) => m,
        Err(e) => return error_page(e, signed),
    };
    let mut body = String::from("<h1>Models</h1>");
    if models.is_empty() {
        body.push_str("<p class=muted>No model has pushed anything yet: <code>tailwatch push outputs.jsonl --server URL --model M --version V</code>.</p>");
    } else {
        body.push_str("<table id=models><tr><th>model</th><th>status</th><th>versions</th><th>latest version</th><th>last push</th><th>active alerts</th><th>baseline</th></tr>");
        for m in &models {
            let _ = write!(
                body,
                "<tr data-model=\"{}\"><td><a href=\"/models/{}\">{}</a></td><td><span class=\"status status-{}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&m.model),
                percent_encode(&m.model),
                escape(&m.model),
                escape(&m.status),
                escape(&m.status),
                m.versions,
                escape(m.latest_version.as_deref().unwrap_or("–")),
                escape(m.last_seen.as_deref().unwrap_or("–")),
                m.active_alerts,
                if m.has_baseline { "set" } else { "none" }
            );
        }
        body.push_str("</table>");
    }
    page("Models", &body, signed).into_response()
}

/// One trend chart: the metric over versions, the baseline band (± 3σ) and value read at each
/// version's size, rule thresholds at each version's size, and alert markers.
fn chart(series: &Value, metric: &str) -> String {
    let points = series["points"].as_array().map(Vec::as_slice).unwrap_or_default();
    let baseline = &series["baseline"];
    let band_label = format!(
        "baseline ± {}σ at each version's size ({} chunks of about {:.0} docs)",
        baseline["band_k"].as_f64().unwrap_or(api::BAND_K),
        baseline["chunks"].as_u64().unwrap_or(0),
        baseline["chunk_docs"].as_f64().unwrap_or(0.0)
    );
    let arrow = metric_info(metric).map(|i| i.collapse.arrow()).unwrap_or("");
    let pair = |v: &Value| Some((v.get(0)?.as_f64()?, v.get(1)?.as_f64()?));
    // by window, a point is one version's window: labelled `window version`
    let labels: Vec<String> = points
        .iter()
        .map(|p| {
            let version = p["version"].as_str().unwrap_or("");
            match p["window"].as_str() {
                Some(window) => format!("{window} {version}"),
                None => version.to_string(),
            }
        })
        .collect();
    trend_chart(&Trend {
        metric,
        title: format!("{arrow} {metric}"),
        points: points
            .iter()
            .zip(&labels)
            .map(|(p, label)| TrendPoint {
                version: label,
                value: p["value"].as_f64(),
                n_docs: p["n_docs"].as_u64().unwrap_or(0),
                alerted: p["alerts"].as_array().is_some_and(|a| !a.is_empty()),
                baseline: p["baseline"].as_f64(),
                band: pair(&p["band"]),
            })
            .collect(),
        band_label,
        thresholds: series["rules"]
            .as_array()
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| ThresholdLine {
                        label: match r["rule"]["name"].as_str() {
                            Some(name) => name.to_string(),
                            None => {
                                format!("#{} {}", r["rule"]["id"], r["rule"]["kind"].as_str().unwrap_or(""))
                            }
                        },
                        values: r["thresholds"]
                            .as_array()
                            .map(|t| t.iter().map(Value::as_f64).collect())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// `?by=version` (the default) or `?by=window`: the model page's time axis.
#[derive(Deserialize)]
pub struct ChartsBy {
    by: Option<String>,
}

pub async fn model_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<ChartsBy>, QueryRejection>,
) -> Response {
    let signed = signed_in(&state, &headers);
    let Ok(Path(model)) = p else { return error_page(ApiError::bad_request("bad model name"), signed) };
    let by_window = match q.ok().and_then(|Query(q)| q.by).as_deref() {
        None | Some("version") => false,
        Some("window") => true,
        Some(other) => {
            let message = format!("parameter `by` must be `version` or `window`, found `{other}`");
            return error_page(ApiError::bad_request(message), signed);
        }
    };
    let m = model.clone();
    let loaded = blocking(&state, move |s| Ok((s.versions(&m)?, s.baseline(&m)?, s.rules()?))).await;
    let (versions, baseline, rules) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(e, signed),
    };
    let mut metrics: Vec<String> = Vec::new();
    let has = |id: &str| versions.iter().any(|v| v.metrics.get(id).copied().flatten().is_some());
    for id in CHARTED {
        if has(id) {
            metrics.push(id.to_string());
        }
    }
    for r in rules.iter().filter(|r| crate::rules::watches(r.model.as_deref(), &model) && r.cohort.is_none())
    {
        if !metrics.contains(&r.metric) {
            metrics.push(r.metric.clone());
        }
    }
    let mut body = format!("<h1>{}</h1>", escape(&model));
    match &baseline {
        Some(b) => {
            let _ = write!(
                body,
                "<p>Baseline: {} {}{} · {} docs · {} chunk{}{}</p>",
                escape(&b.kind),
                escape(b.version.as_deref().unwrap_or("corpus")),
                if b.frozen { " (frozen)" } else { " (live)" },
                b.n_docs,
                b.chunks,
                if b.chunks == 1 { "" } else { "s" },
                if b.chunks < 2 { " (the band and adaptive rules need ≥ 2: push the baseline version in several pushes)" } else { "" }
            );
        }
        None => body.push_str("<p class=muted>No baseline: relative and adaptive rules wait for one (PUT /api/v1/models/{model}/baseline).</p>"),
    }
    let link = |by: &str, on: bool| {
        if on { format!("<strong>{by}</strong>") } else { format!("<a href=\"?by={by}\">{by}</a>") }
    };
    let _ = write!(
        body,
        "<p id=axis class=muted>time axis: {} · {}</p><div class=charts>",
        link("version", !by_window),
        link("window", by_window)
    );
    for metric in &metrics {
        let q = if by_window {
            SeriesQuery::for_metric(metric).by_window()
        } else {
            SeriesQuery::for_metric(metric)
        };
        match api::series_value(&state, model.clone(), q).await {
            Ok(series) => body.push_str(&chart(&series, metric)),
            Err(e) => {
                let _ = write!(body, "<p>{}: {}</p>", escape(metric), escape(&e.message));
            }
        }
    }
    body.push_str("</div><h2>Versions</h2><table id=versions><tr><th>#</th><th>version</th><th>docs</th><th>pushes</th><th>first push</th>");
    for metric in &metrics {
        let _ = write!(body, "<th>{}</th>", escape(metric));
    }
    body.push_str("</tr>");
    for v in &versions {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            v.seq,
            escape(&v.version),
            v.n_docs,
            v.pushes,
            escape(&v.first_seen)
        );
        for metric in &metrics {
            let _ = write!(body, "<td>{}</td>", fmt(v.metrics.get(metric).copied().flatten()));
        }
        body.push_str("</tr>");
    }
    body.push_str("</table>");
    if let Some(latest) =
        versions.iter().rev().find(|v| v.metrics.get("distinct_at_k").copied().flatten().is_some())
    {
        body.push_str(&worst_prompts(&state, &model, &latest.version).await);
    }
    if versions.len() >= 2 {
        let options = |selected: usize| -> String {
            versions
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    format!(
                        "<option value=\"{}\"{}>{}</option>",
                        escape(&v.version),
                        if i == selected { " selected" } else { "" },
                        escape(&v.version)
                    )
                })
                .collect()
        };
        let _ = write!(
            body,
            "<h2>Compare versions</h2><form id=compare method=get action=\"/models/{}/compare\">baseline <select name=baseline>{}</select> candidate <select name=candidate>{}</select> <button type=submit>Compare</button></form>",
            percent_encode(&model),
            options(0),
            options(versions.len() - 1)
        );
    }
    page(&model, &body, signed).into_response()
}

/// Prompts of the worst groups the model page lists, and versions it shows them in.
const WORST_PROMPTS: usize = 10;
const PROMPT_VERSIONS: usize = 8;

/// The model page's table of the latest grouped version's most collapsed prompts, with each
/// one's classes among its answers (`distinct_at_k`) in the last versions.
async fn worst_prompts(state: &Arc<AppState>, model: &str, latest: &str) -> String {
    let worst =
        groups::version_groups_value(state, model.into(), latest.into(), GroupsQuery::worst(WORST_PROMPTS));
    let worst = match worst.await {
        Ok(w) => w,
        Err(e) => return format!("<p>prompts: {}</p>", escape(&e.message)),
    };
    let rows = worst["rows"].as_array().cloned().unwrap_or_default();
    let mut series = Vec::new();
    for row in &rows {
        let key = row["group"].as_str().unwrap_or_default();
        let q = GroupSeriesQuery::for_group(key, "distinct_at_k");
        match groups::group_series_value(state, model.into(), q).await {
            Ok(s) => series.push(s["points"].as_array().cloned().unwrap_or_default()),
            Err(e) => return format!("<p>prompts: {}</p>", escape(&e.message)),
        }
    }
    let shown = series.first().map_or(0, |p| p.len().min(PROMPT_VERSIONS));
    let skip = series.first().map_or(0, |p| p.len() - shown);
    let mut out = format!(
        "<h2>Most collapsed prompts</h2><p class=muted>version {}: {} prompts sampled; classes among each prompt's answers ({}), by version</p><table id=prompts><tr><th>prompt</th><th>answers</th>",
        escape(latest),
        worst["summary"]["groups"],
        escape(worst["summary"]["equivalence"].as_str().unwrap_or_default()),
    );
    for p in series.first().into_iter().flatten().skip(skip) {
        let _ = write!(out, "<th>{}</th>", escape(p["version"].as_str().unwrap_or_default()));
    }
    out.push_str("</tr>");
    for (row, points) in rows.iter().zip(&series) {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td>",
            escape(row["group"].as_str().unwrap_or_default()),
            row["answers"]
        );
        for p in points.iter().skip(skip) {
            let state = p["state"].as_str().unwrap_or_default();
            let classes = match p["value"].as_f64() {
                Some(k) if k.fract() == 0.0 => format!("{k}"),
                other => fmt(other),
            };
            let _ = write!(out, "<td title=\"{state}\">{classes}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

pub async fn compare_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<CompareQuery>, QueryRejection>,
) -> Response {
    let signed = signed_in(&state, &headers);
    let (Ok(Path(model)), Ok(Query(q))) = (p, q) else {
        return error_page(ApiError::bad_request("bad model or query"), signed);
    };
    let result = match api::compare_value(&state, model.clone(), q).await {
        Ok(r) => r,
        Err(e) => return error_page(e, signed),
    };
    let verdict = result["verdict"].as_str().unwrap_or("?");
    let mut body = format!(
        "<h1><a href=\"/models/{}\">{}</a>: {} → {}</h1><p>verdict: <span id=verdict class={}>{}</span></p>",
        percent_encode(&model),
        escape(&model),
        escape(result["baseline"]["version"].as_str().unwrap_or("")),
        escape(result["candidate"]["version"].as_str().unwrap_or("")),
        if verdict == "collapse" { "collapse" } else { "ok" },
        escape(verdict)
    );
    body.push_str("<table><tr><th>metric</th><th>baseline</th><th>candidate</th><th>change</th><th>threshold</th><th>breached</th></tr>");
    for c in result["checks"].as_array().into_iter().flatten() {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td></tr>",
            escape(c["metric"].as_str().unwrap_or("")),
            fmt(c["baseline"].as_f64()),
            fmt(c["candidate"].as_f64()),
            c["relative_change"].as_f64().map_or("–".into(), |r| format!("{:+.1} %", 100.0 * r)),
            escape(&c["threshold"].to_string()),
            escape(c["threshold_kind"].as_str().unwrap_or("")),
            if c["breached"].as_bool() == Some(true) { "<span class=collapse>yes</span>" } else { "no" }
        );
    }
    body.push_str("</table>");
    for note in result["notes"].as_array().into_iter().flatten() {
        let _ = write!(body, "<p class=muted>note: {}</p>", escape(note.as_str().unwrap_or("")));
    }
    page("compare", &body, signed).into_response()
}

/// One alert as a table row; `rule` names its rule.
fn alert_row(a: &Alert, rule: &str, signed: bool) -> String {
    let action = if a.state == AlertState::Open {
        if signed {
            format!(
                "<form method=post action=\"/alerts/{}/acknowledge\"><button type=submit>Acknowledge</button></form>",
                a.id
            )
        } else {
            "<a href=\"/login?next=%2Falerts\">sign in to acknowledge</a>".into()
        }
    } else {
        a.acknowledged_by.as_deref().map(|b| format!("by {}", escape(b))).unwrap_or_default()
    };
    format!(
        "<tr class=alert data-alert=\"{}\" data-state=\"{}\"><td>{}</td><td class=rule>{}</td><td><a href=\"/models/{}\">{}</a></td><td>{}</td><td>{}</td><td class=versions>{}</td><td>{} {} {}</td><td><span class=\"status status-{}\">{}</span></td><td>{}</td><td>{}</td></tr>",
        a.id,
        a.state.as_str(),
        a.id,
        escape(rule),
        percent_encode(&a.model),
        escape(&a.model),
        escape(if a.cohort == ALL_COHORTS { "all" } else { &a.cohort }),
        escape(&a.metric),
        escape(&breached_by(a)),
        fmt(Some(a.value)),
        if a.direction == tailwatch_metrics::catalog::Direction::Lower { "&lt;" } else { "&gt;" },
        fmt(Some(a.threshold)),
        match a.state {
            AlertState::Open => "alerting",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        },
        a.state.as_str(),
        escape(&a.opened_at),
        action
    )
}

/// The versions that breached an alert's rule, the opener first (`v2, v3`).
fn breached_by(a: &Alert) -> String {
    if a.breached_by.is_empty() {
        return a.version.clone();
    }
    a.breached_by.iter().map(|b| b.version.as_str()).collect::<Vec<_>>().join(", ")
}

pub async fn alerts_page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let signed = signed_in(&state, &headers);
    let (alerts, rules) =
        match blocking(&state, |s| Ok((s.alerts(&AlertFilter::default())?, s.rules()?))).await {
            Ok(a) => a,
            Err(e) => return error_page(e, signed),
        };
    let rule_name = |id: i64| -> String {
        match rules.iter().find(|r| r.id == id) {
            Some(r) => r.name.clone().unwrap_or_else(|| format!("#{id} {}", r.metric)),
            None => format!("#{id} (deleted)"),
        }
    };
    let mut body = String::from("<h1>Alerts</h1>");
    if alerts.is_empty() {
        body.push_str("<p class=muted>No alerts.</p>");
    } else {
        body.push_str("<table id=alerts><tr><th>#</th><th>rule</th><th>model</th><th>cohort</th><th>metric</th><th>versions</th><th>value vs threshold</th><th>state</th><th>opened</th><th></th></tr>");
        for a in &alerts {
            body.push_str(&alert_row(a, &rule_name(a.rule_id), signed));
        }
        body.push_str("</table>");
    }
    page("Alerts", &body, signed).into_response()
}

pub async fn acknowledge_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    p: Result<Path<i64>, PathRejection>,
) -> Response {
    let signed = signed_in(&state, &headers);
    let Ok(Path(id)) = p else { return error_page(ApiError::bad_request("bad alert id"), signed) };
    match blocking(&state, move |s| s.acknowledge(id, "dashboard")).await {
        Ok(_) => Redirect::to("/alerts").into_response(),
        Err(e) => error_page(e, signed),
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

/// Where sign-in goes next: a path of this site, else `/`. Never another site: the path must be
/// printable ASCII without spaces or backslashes, parse as a URI path, and, percent-decoded
/// (`/%09/evil.com` is `/<tab>/evil.com`, which browsers read as `//evil.com`), still start with
/// one `/` and hold no control character, whitespace but the space, or backslash. Public for
/// the fuzz targets (`fuzz/`), not part of the API.
#[doc(hidden)]
pub fn safe_next(next: Option<&str>) -> String {
    let local = |n: &str| {
        let printable = n.bytes().all(|b| b.is_ascii_graphic());
        let decoded = percent_decode(n);
        printable
            && !n.contains('\\')
            && n.parse::<axum::http::uri::PathAndQuery>().is_ok()
            && decoded.starts_with('/')
            && !decoded.starts_with("//")
            && !decoded.chars().any(|c| c.is_control() || (c.is_whitespace() && c != ' ') || c == '\\')
    };
    match next {
        Some(n) if local(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

/// `text` with `%XX` escapes decoded (invalid ones kept), lossily as UTF-8.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) =
                (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub async fn login_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    q: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let next = q.ok().and_then(|Query(q)| q.next);
    let body = format!(
        "<h1>Sign in</h1><p>Paste the server's token (printed at its first start, or <code>TAILWATCH_TOKEN</code>).</p>\
         <form id=login method=post action=\"/login\"><input type=password name=token size=50 autocomplete=off>\
         <input type=hidden name=next value=\"{}\"> <button type=submit>Sign in</button></form>",
        escape(&safe_next(next.as_deref()))
    );
    page("Sign in", &body, signed_in(&state, &headers)).into_response()
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return error_page(ApiError::bad_request("the form needs a `token` field"), false);
    };
    if !state.token.accepts(form.token.trim()) {
        let body = "<h1>Sign in</h1><p class=collapse>That token is not valid.</p><p><a href=\"/login\">Try again</a></p>";
        return (StatusCode::UNAUTHORIZED, page("Sign in", body, false)).into_response();
    }
    // Behind a TLS-terminating proxy the cookie is also `Secure`.
    let https = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let cookie = format!(
        "{COOKIE_NAME}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
        state.sessions.start(),
        state.sessions.lifetime().as_secs(),
        if https { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(&safe_next(form.next.as_deref())).into_response();
    if let Ok(value) = cookie.parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sign-in goes only to a path of this site: the probes' open redirects and control
    /// characters go to `/`.
    #[test]
    fn sign_in_redirects_only_to_local_paths() {
        for good in ["/", "/alerts", "/models/chat?metric=distinct_2", "/models/a%20b"] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "//evil.com",
            "/%09/evil.com",
            "/%2F/evil.com",
            "/\\evil.com",
            "/%5Cevil.com",
            "https://evil.com",
            "evil.com",
            "/\tfoo",
            "/a b",
            "/a\u{7f}",
            "/caf\u{e9}",
            "/%0d%0aSet-Cookie:x=1",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
