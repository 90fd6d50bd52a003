//! The OpenAPI 3.1 document of `/api/v1` (served at `/api/v1/openapi.json`).
use serde_json::{Value, json};

/// Every route of the API: (method, path, summary). Tests check the router serves each one.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("get", "/api/v1/health", "Server status and totals (public)"),
    ("get", "/api/v1/openapi.json", "This document (public)"),
    ("get", "/api/v1/models", "Models with status, latest version and active alerts"),
    ("get", "/api/v1/models/{model}", "A model: versions, baseline, active alerts"),
    ("get", "/api/v1/models/{model}/versions", "Versions in arrival order with their all-cohorts metrics"),
    (
        "get",
        "/api/v1/models/{model}/versions/{version}",
        "One version with per-cohort and per-window metrics",
    ),
    (
        "post",
        "/api/v1/models/{model}/versions/{version}/profiles",
        "Push a .twp profile (merged on arrival; Idempotency-Key header)",
    ),
    (
        "post",
        "/api/v1/models/{model}/versions/{version}/outputs",
        "Push raw outputs as JSONL (profiled on the server; Idempotency-Key header)",
    ),
    ("get", "/api/v1/models/{model}/versions/{version}/profile", "Download the merged profile (.twp)"),
    (
        "get",
        "/api/v1/models/{model}/series",
        "A metric over versions or windows, with the baseline band and rule thresholds",
    ),
    (
        "get",
        "/api/v1/models/{model}/versions/{version}/groups",
        "A version's prompts, worst first: within-group metrics of each sampled group of answers",
    ),
    (
        "get",
        "/api/v1/models/{model}/groups/series",
        "One prompt's within-group metrics over versions (?group=KEY&metric=distinct_at_k)",
    ),
    (
        "get",
        "/api/v1/models/{model}/compare",
        "Compare two versions under the default collapse rules (as `tailwatch compare`)",
    ),
    ("get", "/api/v1/models/{model}/baseline", "The model's baseline"),
    ("put", "/api/v1/models/{model}/baseline", "Make a version the baseline ({\"version\", \"freeze\"})"),
    ("post", "/api/v1/models/{model}/baseline/freeze", "Freeze a live version baseline"),
    (
        "put",
        "/api/v1/models/{model}/baseline/reference",
        "A reference corpus as the baseline (.twp, or JSONL split into chunks)",
    ),
    ("get", "/api/v1/pushes/{key}", "A push by its idempotency key"),
    ("get", "/api/v1/rules", "Alert rules"),
    ("post", "/api/v1/rules", "Create an alert rule"),
    ("get", "/api/v1/rules/{id}", "One rule"),
    ("put", "/api/v1/rules/{id}", "Replace a rule (resets its hysteresis)"),
    ("delete", "/api/v1/rules/{id}", "Delete a rule (its active alerts resolve)"),
    ("get", "/api/v1/alerts", "Alerts, newest first (?state=open|acknowledged|resolved&model=)"),
    ("get", "/api/v1/alerts/{id}", "One alert"),
    ("post", "/api/v1/alerts/{id}/acknowledge", "Acknowledge an open alert ({\"by\"})"),
    ("get", "/api/v1/webhooks", "Webhooks"),
    ("post", "/api/v1/webhooks", "Subscribe a webhook ({\"url\", \"secret\"})"),
    ("delete", "/api/v1/webhooks/{id}", "Delete a webhook"),
    ("get", "/api/v1/webhooks/{id}/deliveries", "Deliveries of a webhook with attempts and errors"),
];

fn parameters(path: &str, method: &str) -> Vec<Value> {
    let mut out: Vec<Value> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": if name == "id" { "integer" } else { "string" }}}))
        .collect();
    let query = |name: &str, description: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": description});
    if path.ends_with("/profiles") || path.ends_with("/outputs") {
        out.push(query("cohort", "user cohort (default `default`)"));
        out.push(query("window", "time window label (default: today's UTC date)"));
        out.push(json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string"}}));
    }
    if path.ends_with("/outputs") || path.ends_with("/reference") {
        out.push(query("field", "JSON field holding the text (default `text`)"));
        out.push(query("tokenizer", "words | whitespace | python-split | items"));
    }
    if path.ends_with("/groups") || path.ends_with("/groups/series") {
        out.push(query("cohort", "cohort (default: all cohorts)"));
        out.push(query("equivalence", "exact | unigram (default) | unigram:<t> | jaccard:<t>"));
    }
    if path.ends_with("/versions/{version}/groups") {
        out.push(query("limit", "rows returned, worst first (default 100)"));
    }
    if path.ends_with("/groups/series") {
        out.push(query("group", "the group key: the prompt (required)"));
        out.push(query("metric", "a within-group metric id (default distinct_at_k)"));
    } else if path.ends_with("/series") {
        out.push(query("metric", "metric id (required)"));
        out.push(query("cohort", "cohort (default: all cohorts)"));
        out.push(query("by", "version (default) or window"));
    }
    if path.ends_with("/compare") {
        out.push(query("baseline", "baseline version (required)"));
        out.push(query("candidate", "candidate version (required)"));
    }
    if path == "/api/v1/alerts" && method == "get" {
        out.push(query("state", "open | acknowledged | resolved"));
        out.push(query("model", "model name"));
    }
    out
}

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in ROUTES {
        let write = *method != "get";
        let mut operation = json!({
            "summary": summary,
            "parameters": parameters(path, method),
            "responses": {
                "200": {"description": "OK (JSON)"},
                "400": {"description": "invalid request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "token missing or wrong"},
                "404": {"description": "unknown model, version, rule, alert or webhook"},
                "413": {"description": "body over the size limit"}
            }
        });
        if write {
            operation["security"] = json!([{"bearer": []}]);
        }
        if path.ends_with("/profiles") {
            operation["requestBody"] = json!({"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}});
        } else if path.ends_with("/outputs") {
            operation["requestBody"] = json!({"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string"}}}});
        } else if write && *method != "delete" {
            operation["requestBody"] =
                json!({"content": {"application/json": {"schema": {"type": "object"}}}});
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "tailwatch watch API", "version": tailwatch_core::VERSION,
                 "description": "Profiles of generative-model outputs per model, version, cohort and window; baselines; alert rules; webhooks. Writes need `Authorization: Bearer <token>`."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}}
        }
    })
}
