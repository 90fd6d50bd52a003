//! Behaviour frozen as snapshots: the JSON response of every route on one fixed scenario (two
//! models, versions, cohorts and windows, a reference baseline, rules that open and resolve
//! alerts, a webhook). Only times and the database path are filtered out. Update with
//! `cargo insta test --review` and read every changed line.
mod common;

use common::*;

/// One request and its answer, as text: method, path, status and the body (pretty JSON).
fn exchange(method: &str, path: &str, reply: &Reply) -> String {
    let body = match serde_json::from_str::<serde_json::Value>(&reply.body) {
        Ok(value) => {
            let mut ids = Vec::new();
            metric_ids(&value, &mut ids);
            for id in &ids {
                assert!(
                    tailwatch_metrics::catalog::metric_info(id).is_some(),
                    "{method} {path}: metric `{id}` is not in the catalog"
                );
            }
            serde_json::to_string_pretty(&value).expect("serializable")
        }
        Err(_) => format!("({} bytes, not JSON)", reply.body.len()),
    };
    format!("{method} {path}\n{}\n{body}\n", reply.status)
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    for (pattern, replacement) in [
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", "[time]"),
        (r#""([a-z_]*_at|at|time|next_attempt)": \d{9,}"#, r#""$1": "[time]""#),
        (r#""uptime_s": [0-9.]+"#, r#""uptime_s": "[seconds]""#),
        (r#""database": "[^"]*""#, r#""database": "[path]""#),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings
}

/// Every metric id in a response: the keys of `metrics` objects and the values of `metric` fields.
fn metric_ids(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("metrics", serde_json::Value::Object(m)) => out.extend(m.keys().cloned()),
                    ("metric", serde_json::Value::String(id)) => out.push(id.clone()),
                    _ => {}
                }
                metric_ids(inner, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| metric_ids(v, out)),
        _ => {}
    }
}

fn docs_jsonl(docs: &[String]) -> String {
    docs.iter().map(|d| serde_json::json!({"text": d}).to_string() + "\n").collect()
}

#[test]
fn every_route_answers_as_before() {
    let server = start();
    let mut log = Vec::new();
    let get = |log: &mut Vec<String>, path: &str| {
        let reply = server.get(path);
        log.push(exchange("GET", path, &reply));
    };
    let record = |log: &mut Vec<String>, method: &str, path: &str, reply: Reply| {
        log.push(exchange(method, path, &reply));
    };
    get(&mut log, "/api/v1/health");
    get(&mut log, "/api/v1/openapi.json");
    get(&mut log, "/api/v1/models");
    // rules before any data: a fixed, a relative and an adaptive one
    record(
        &mut log,
        "POST",
        "/api/v1/rules",
        server.send(
            "POST",
            "/api/v1/rules",
            r#"{"name": "bigram floor", "model": "*", "metric": "distinct_2", "kind": "fixed", "threshold": 0.5}"#,
        ),
    );
    record(&mut log,
"POST",
        "/api/v1/rules",
        server.send(
            "POST",
            "/api/v1/rules",
            r#"{"model": "chat", "metric": "self_bleu_4", "kind": "relative", "threshold": 0.2, "min_docs": 50, "resolve_after": 2}"#,
        ),
    );
    record(
        &mut log,
        "POST",
        "/api/v1/rules",
        server.send(
            "POST",
            "/api/v1/rules",
            r#"{"model": "chat", "metric": "entropy_1", "kind": "adaptive", "k": 3}"#,
        ),
    );
    // a reference baseline from JSONL, split into chunks
    let reference = docs_jsonl(&diverse_docs(120, 9));
    let path = "/api/v1/models/chat/baseline/reference?chunks=4";
    record(
        &mut log,
        "PUT",
        path,
        call("PUT", &format!("{}{path}", server.base), Some(reference.as_bytes()), true, &[]),
    );
    // pushes: profiles and raw outputs, two cohorts and two windows, a repeat
    for (version, query, docs, key) in [
        ("v1", "?cohort=eu&window=w1", diverse_docs(60, 1), Some("k1")),
        ("v1", "?cohort=us&window=w1", diverse_docs(40, 2), Some("k2")),
        ("v1", "?cohort=eu&window=w2", diverse_docs(30, 3), None),
        ("v1", "?cohort=eu&window=w1", diverse_docs(60, 1), Some("k1")),
        ("v2", "?cohort=eu&window=w2", collapsed_docs(80), Some("k3")),
    ] {
        let path = format!("/api/v1/models/chat/versions/{version}/profiles{query}");
        record(&mut log, "POST", &path, server.push("chat", version, query, &docs, key));
    }
    let outputs = docs_jsonl(&diverse_docs(50, 4));
    let path = "/api/v1/models/chat/versions/v3/outputs?cohort=eu&window=w3&tokenizer=whitespace";
    record(
        &mut log,
        "POST",
        path,
        call(
            "POST",
            &format!("{}{path}", server.base),
            Some(outputs.as_bytes()),
            true,
            &[("idempotency-key", "k4")],
        ),
    );
    let path = "/api/v1/models/other/versions/a/outputs?window=w1&field=response.text";
    let nested: String = diverse_docs(20, 5)
        .iter()
        .map(|d| serde_json::json!({"response": {"text": d}}).to_string() + "\n")
        .collect();
    record(
        &mut log,
        "POST",
        path,
        call("POST", &format!("{}{path}", server.base), Some(nested.as_bytes()), true, &[]),
    );
    get(&mut log, "/api/v1/models");
    get(&mut log, "/api/v1/models/chat");
    get(&mut log, "/api/v1/models/chat/versions");
    get(&mut log, "/api/v1/models/chat/versions/v1");
    get(&mut log, "/api/v1/models/chat/versions/v1/profile");
    get(&mut log, "/api/v1/models/chat/series?metric=distinct_2");
    get(&mut log, "/api/v1/models/chat/series?metric=self_bleu_4&by=window&cohort=eu");
    get(&mut log, "/api/v1/models/chat/compare?baseline=v1&candidate=v2");
    get(&mut log, "/api/v1/models/chat/baseline");
    get(&mut log, "/api/v1/pushes/k1");
    get(&mut log, "/api/v1/rules");
    get(&mut log, "/api/v1/rules/2");
    get(&mut log, "/api/v1/alerts");
    get(&mut log, "/api/v1/alerts?state=open&model=chat");
    get(&mut log, "/api/v1/alerts/1");
    for id in [1, 2] {
        let path = format!("/api/v1/alerts/{id}/acknowledge");
        record(&mut log, "POST", &path, server.send("POST", &path, r#"{"by": "ana"}"#));
    }
    record(
        &mut log,
        "PUT",
        "/api/v1/rules/2",
        server.send(
            "PUT",
            "/api/v1/rules/2",
            r#"{"model": "chat", "metric": "self_bleu_4", "kind": "relative", "threshold": 0.9}"#,
        ),
    );
    // the version baseline, frozen
    record(
        &mut log,
        "PUT",
        "/api/v1/models/chat/baseline",
        server.send("PUT", "/api/v1/models/chat/baseline", r#"{"version": "v1"}"#),
    );
    record(
        &mut log,
        "POST",
        "/api/v1/models/chat/baseline/freeze",
        server.send("POST", "/api/v1/models/chat/baseline/freeze", ""),
    );
    // a healthy version resolves what the collapsed one opened
    let path = "/api/v1/models/chat/versions/v4/profiles?cohort=eu&window=w4";
    record(
        &mut log,
        "POST",
        path,
        server.push("chat", "v4", "?cohort=eu&window=w4", &diverse_docs(90, 6), Some("k5")),
    );
    record(
        &mut log,
        "POST",
        path,
        server.push("chat", "v4", "?cohort=eu&window=w4", &diverse_docs(90, 7), Some("k6")),
    );
    // a webhook nobody answers
    record(
        &mut log,
        "POST",
        "/api/v1/webhooks",
        server.send("POST", "/api/v1/webhooks", r#"{"url": "http://127.0.0.1:9/hook", "secret": "s3cret"}"#),
    );
    record(&mut log, "GET", "/api/v1/webhooks", server.get("/api/v1/webhooks"));
    record(&mut log, "DELETE", "/api/v1/rules/3", server.send("DELETE", "/api/v1/rules/3", ""));
    record(&mut log, "DELETE", "/api/v1/webhooks/1", server.send("DELETE", "/api/v1/webhooks/1", ""));
    record(&mut log, "GET", "/api/v1/alerts", server.get("/api/v1/alerts"));
    record(
        &mut log,
        "GET",
        "/api/v1/models/chat/series?metric=entropy_1",
        server.get("/api/v1/models/chat/series?metric=entropy_1"),
    );
    record(&mut log, "GET", "/api/v1/health", server.get("/api/v1/health"));
    // errors keep their shape
    record(&mut log, "GET", "/api/v1/nothing-here", server.get("/api/v1/nothing-here"));
    record(&mut log, "GET", "/api/v1/models/nobody", server.get("/api/v1/models/nobody"));
    record(
        &mut log,
        "POST",
        "/api/v1/rules",
        server.send("POST", "/api/v1/rules", r#"{"metric": "nope", "kind": "fixed", "threshold": 1}"#),
    );

    settings().bind(|| insta::assert_snapshot!("every_route", log.join("\n")));
    // the dashboard's pages over the same data
    for (name, path) in [
        ("dashboard_overview", "/"),
        ("dashboard_model", "/models/chat"),
        ("dashboard_compare", "/models/chat/compare?baseline=v1&candidate=v2"),
        ("dashboard_alerts", "/alerts"),
        ("dashboard_login", "/login"),
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        settings().bind(|| insta::assert_snapshot!(name, reply.body));
    }
    let merged =
        call("GET", &format!("{}/api/v1/models/chat/versions/v1/profile", server.base), None, false, &[]);
    assert_eq!(merged.status, 200);
}
