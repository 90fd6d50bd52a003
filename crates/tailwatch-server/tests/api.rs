//! HTTP integration tests of every `/api/v1` endpoint, good and bad requests.
mod common;

use common::*;

#[test]
fn health_and_openapi_are_public() {
    let server = start();
    let health = server.get("/api/v1/health");
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.json()["status"], "ok");
    let doc = server.get("/api/v1/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/models/{model}/versions/{version}/profiles"]["post"].is_object());
}

fn docs_json(docs: &[String]) -> String {
    docs.iter().map(|d| serde_json::json!({"text": d}).to_string() + "\n").collect()
}

#[test]
fn every_documented_route_is_served() {
    let server = start();
    server.push("m", "v1", "", &diverse_docs(20, 1), None);
    for (method, path, _) in tailwatch_server::openapi::ROUTES {
        let concrete = path
            .replace("{model}", "m")
            .replace("{version}", "v1")
            .replace("{id}", "1")
            .replace("{key}", "k");
        let reply =
            call(&method.to_uppercase(), &format!("{}{concrete}", server.base), Some(b"{}"), true, &[]);
        assert_ne!(reply.status, 405, "{method} {path}: {}", reply.body);
        if reply.status == 404 {
            assert!(!reply.message().contains("no such endpoint"), "{method} {path} is not routed");
        }
    }
    let unknown = server.get("/api/v1/nothing-here");
    assert_eq!((unknown.status, unknown.json()["error"]["code"].as_str()), (404, Some("not_found")));
    let wrong_method = call("PATCH", &format!("{}/api/v1/models", server.base), None, true, &[]);
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.json()["error"]["code"], "method_not_allowed");
}

#[test]
fn the_client_reads_typed_answers() {
    use tailwatch_server::client::{Client, ClientError};
    use tailwatch_server::types::PushKey;
    let server = start();
    let client = Client::new(&server.base, Some(TOKEN.into()), std::time::Duration::from_secs(60));
    let key =
        PushKey { model: "chat".into(), version: "v1".into(), cohort: "eu".into(), window: "w1".into() };
    let bytes = profile_bytes(&diverse_docs(25, 3));
    let pushed = client.push_profile(&key, &bytes, "typed-1").unwrap();
    assert_eq!((pushed.duplicate, pushed.n_docs, pushed.version_docs, &pushed.key), (false, 25, 25, &key));
    let again = client.push_profile(&key, &bytes, "typed-1").unwrap();
    assert!(again.duplicate && again.version_docs == 25 && again.push_id == pushed.push_id);
    let health = client.health().unwrap();
    assert_eq!((health.status.as_str(), health.totals.pushes, health.totals.docs), ("ok", 1, 25));
    // a refusal carries the API's status, code and message
    let elsewhere = PushKey { version: "v2".into(), ..key.clone() };
    match client.push_profile(&elsewhere, &bytes, "typed-1") {
        Err(ClientError::Refused { status: 409, code, message }) => {
            assert_eq!(code, "conflict");
            assert!(message.contains("idempotency key `typed-1` was used for chat/v1"), "{message}");
        }
        other => panic!("expected a 409 refusal, got {other:?}"),
    }
    let anonymous = Client::new(&server.base, None, std::time::Duration::from_secs(60));
    assert!(matches!(
        anonymous.push_profile(&key, &bytes, "typed-2"),
        Err(ClientError::Refused { status: 401, .. })
    ));
}

#[test]
fn pushes_merge_on_arrival_and_idempotency_keys_prevent_double_counting() {
    let server = start();
    let a = diverse_docs(30, 1);
    let first = server.push("chat", "v1", "?cohort=eu&window=w1", &a, Some("k1"));
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.json()["duplicate"], false);
    let again = server.push("chat", "v1", "?cohort=eu&window=w1", &a, Some("k1"));
    assert_eq!(again.status, 200);
    let j = again.json();
    assert_eq!((j["duplicate"].as_bool(), j["version_docs"].as_u64()), (Some(true), Some(30)));
    // the same key for another destination is a conflict, not a silent duplicate
    let clash = server.push("chat", "v2", "?cohort=eu&window=w1", &a, Some("k1"));
    assert_eq!(clash.status, 409, "{}", clash.body);
    // same window, new key: merged into the window, the cohort and the version
    let b = diverse_docs(20, 2);
    assert_eq!(server.push("chat", "v1", "?cohort=eu&window=w1", &b, Some("k2")).status, 201);
    assert_eq!(server.push("chat", "v1", "?cohort=us&window=w2", &b, None).status, 201);
    let version = server.get("/api/v1/models/chat/versions/v1").json();
    assert_eq!((version["n_docs"].as_u64(), version["pushes"].as_u64()), (Some(70), Some(3)));
    let cohorts = version["cohorts"].as_array().unwrap();
    assert_eq!(cohorts.len(), 2);
    assert_eq!(cohorts[0]["cohort"], "eu");
    assert_eq!(cohorts[0]["n_docs"], 50);
    let w1_all = version["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["cohort"] == "*" && w["window"] == "w1")
        .unwrap();
    assert_eq!((w1_all["n_docs"].as_u64(), w1_all["pushes"].as_u64()), (Some(50), Some(2)));
    // the merged profile equals one profile of all the documents
    let merged =
        call("GET", &format!("{}/api/v1/models/chat/versions/v1/profile", server.base), None, false, &[]);
    assert_eq!(merged.status, 200);
    let stored = server.get("/api/v1/pushes/k1").json();
    assert_eq!((stored["model"].as_str(), stored["n_docs"].as_u64()), (Some("chat"), Some(30)));
    assert_eq!(server.get("/api/v1/pushes/nope").status, 404);
    assert_eq!(server.get("/api/v1/health").json()["totals"]["pushes"], 3);
    let listed = server.get("/api/v1/models").json();
    assert_eq!(listed["models"][0]["model"], "chat");
    assert_eq!(listed["models"][0]["status"], "ok");
    let model = server.get("/api/v1/models/chat").json();
    assert_eq!(model["versions"][0]["version"], "v1");
    assert_eq!(server.get("/api/v1/models/chat/versions").json()["versions"][0]["n_docs"], 70);
}

/// Raw outputs profiled on the server leave no text there: the stored profile, as served back,
/// holds none of the documents (searched in its decompressed body), and says so.
#[test]
fn raw_outputs_leave_no_text_on_the_server() {
    let server = start();
    let docs = diverse_docs(300, 11);
    let url = format!("{}/api/v1/models/m/versions/v1/outputs", server.base);
    let ok = call("POST", &url, Some(docs_json(&docs).as_bytes()), true, &[]);
    assert_eq!(ok.status, 201, "{}", ok.body);
    let request = ureq::http::Request::builder()
        .uri(format!("{}/api/v1/models/m/versions/v1/profile", server.base))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Vec::new())
        .unwrap();
    let mut response = agent().run(request).unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let bytes = response.body_mut().read_to_vec().unwrap();
    let profile = tailwatch_metrics::Profile::from_bytes(&bytes, std::path::Path::new("served.twp")).unwrap();
    assert_eq!(profile.n_docs(), 300);
    assert_eq!(profile.sample().held(), 300, "every document is sampled, as tokens");
    assert!(!profile.sample().holds_any_text() && !profile.config().keep_text);
    let body = zstd::decode_all(&bytes[20..]).unwrap();
    for doc in &docs {
        assert!(!body.windows(doc.len()).any(|w| w == doc.as_bytes()), "the served profile holds `{doc}`");
    }
}

#[test]
fn raw_outputs_are_profiled_and_bad_lines_are_named() {
    let server = start();
    let url = |q: &str| format!("{}/api/v1/models/m/versions/v1/outputs{q}", server.base);
    let post = |q: &str, body: &[u8]| call("POST", &url(q), Some(body), true, &[]);
    let ok = post("", docs_json(&diverse_docs(10, 3)).as_bytes());
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.json()["n_docs"], 10);
    let nested = post("?field=out.texts", b"{\"out\": {\"texts\": [\"a b c\", \"d e f\"]}}\n");
    assert_eq!((nested.status, nested.json()["n_docs"].as_u64()), (201, Some(2)));
    let cases: Vec<(&str, &[u8], &str)> = vec![
        ("", b"{\"text\": \"fine\"}\n{broken\n", "line 2: invalid JSON"),
        ("", b"{\"other\": \"x\"}\n", "line 1: missing field `text`"),
        (
            "",
            b"{\"text\": 5}\n",
            "line 1: field `text` holds a number, expected a string or an array of strings",
        ),
        ("", b"{\"text\": [\"a\", 1]}\n", "line 1: field `text` holds a number at index 1"),
        ("", b"{\"text\": \"ok\"}\n\xff\xfe\n", "line 2: invalid UTF-8"),
        ("", b"", "no records"),
        ("?tokenizer=klingon", b"{\"text\": \"a\"}\n", "parameter `tokenizer`"),
        ("?colour=red", b"{\"text\": \"a\"}\n", "invalid query"),
        ("?lowercase=maybe", b"{\"text\": \"a\"}\n", "invalid query"),
    ];
    for (q, body, needle) in cases {
        let reply = post(q, body);
        assert_eq!(reply.status, 400, "{q} {:?}: {}", String::from_utf8_lossy(body), reply.body);
        assert!(reply.message().contains(needle), "expected `{needle}` in {}", reply.body);
    }
    // names: not `*`, no control characters, at most 200 bytes
    let star = call(
        "POST",
        &format!("{}/api/v1/models/m/versions/v1/outputs?cohort=*", server.base),
        Some(b"{\"text\":\"a\"}"),
        true,
        &[],
    );
    assert_eq!(star.status, 400);
    assert!(star.message().contains("field `cohort`"), "{}", star.body);
    let long = "x".repeat(201);
    let too_long = call(
        "POST",
        &format!("{}/api/v1/models/{long}/versions/v1/outputs", server.base),
        Some(b"{\"text\":\"a\"}"),
        true,
        &[],
    );
    assert_eq!(too_long.status, 400);
    let bad_key = call("POST", &url(""), Some(b"{\"text\":\"a\"}"), true, &[("idempotency-key", "")]);
    assert_eq!(bad_key.status, 400);
    // nothing bad was stored
    assert_eq!(server.get("/api/v1/models/m/versions/v1").json()["n_docs"], 12);
}

#[test]
fn profiles_that_are_not_profiles_are_refused() {
    let server = start();
    let post = |body: &[u8]| {
        call("POST", &format!("{}/api/v1/models/m/versions/v1/profiles", server.base), Some(body), true, &[])
    };
    let garbage = post(b"not a profile at all");
    assert_eq!(garbage.status, 400);
    assert!(garbage.message().contains("not a tailwatch profile"), "{}", garbage.body);
    let mut truncated = profile_bytes(&diverse_docs(10, 4));
    truncated.truncate(truncated.len() / 2);
    assert_eq!(post(&truncated).status, 400);
    // one flipped bit in the body: its checksum fails, nothing is stored
    let mut flipped = profile_bytes(&diverse_docs(10, 4));
    let last = flipped.len() - 1;
    flipped[last] ^= 0x10;
    let refused = post(&flipped);
    assert_eq!(refused.status, 400);
    assert!(refused.message().contains("checksum does not match"), "{}", refused.body);
    let empty = profile_bytes(&[]);
    let reply = post(&empty);
    assert_eq!(reply.status, 400);
    assert!(reply.message().contains("no documents"), "{}", reply.body);
    let wrong_options = call(
        "POST",
        &format!("{}/api/v1/models/m/versions/v1/profiles?tokenizer=words", server.base),
        Some(&profile_bytes(&diverse_docs(3, 1))),
        true,
        &[],
    );
    assert_eq!(wrong_options.status, 400);
    assert_eq!(server.get("/api/v1/models").json()["models"].as_array().unwrap().len(), 0);
}

#[test]
fn oversized_bodies_get_413_and_decompression_bombs_are_refused() {
    let server = start_with(tailwatch_server::ServerConfig {
        max_body: 64 * 1024,
        max_decoded: 2048,
        ..tailwatch_server::ServerConfig::default()
    });
    let big = vec![b'{'; 100_000];
    let reply = call("POST", &format!("{}/api/v1/rules", server.base), Some(&big), true, &[]);
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert_eq!(reply.json()["error"]["code"], "payload_too_large");
    // a body under the limit that decompresses past the decoded limit
    let bytes = profile_bytes(&diverse_docs(20, 1));
    assert!(bytes.len() < 64 * 1024);
    let reply = call(
        "POST",
        &format!("{}/api/v1/models/m/versions/v/profiles", server.base),
        Some(&bytes),
        true,
        &[],
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.message().contains("decompresses to more than 2048 bytes"), "{}", reply.body);
}

#[test]
fn writes_need_the_token_and_reads_need_it_unless_public() {
    let server = start();
    let body = docs_json(&diverse_docs(3, 1));
    let url = format!("{}/api/v1/models/m/versions/v1/outputs", server.base);
    let none = call("POST", &url, Some(body.as_bytes()), false, &[]);
    assert_eq!(none.status, 401);
    assert!(none.message().contains("Authorization: Bearer"), "{}", none.body);
    let wrong = call("POST", &url, Some(body.as_bytes()), false, &[("authorization", "Bearer nope")]);
    assert_eq!((wrong.status, wrong.message().as_str()), (401, "the token is not valid"));
    for (method, path) in [
        ("POST", "/api/v1/rules"),
        ("PUT", "/api/v1/models/m/baseline"),
        ("DELETE", "/api/v1/rules/1"),
        ("POST", "/api/v1/webhooks"),
        ("POST", "/api/v1/alerts/1/acknowledge"),
    ] {
        assert_eq!(
            call(method, &format!("{}{path}", server.base), Some(b"{}"), false, &[]).status,
            401,
            "{method} {path}"
        );
    }
    assert_eq!(server.get("/api/v1/models").status, 200);
    // the dashboard's form needs the cookie: without it, a redirect to the login page
    let form = call("POST", &format!("{}/alerts/1/acknowledge", server.base), None, false, &[]);
    assert!(form.body.contains("Sign in") || form.status == 303, "{} {}", form.status, form.body);

    // the default: reads need the token too
    let private = start_with(tailwatch_server::ServerConfig::default());
    assert_eq!(private.get("/api/v1/models").status, 401);
    assert_eq!(private.get("/api/v1/health").status, 200);
    assert_eq!(call("GET", &format!("{}/api/v1/models", private.base), None, true, &[]).status, 200);
    let page = private.get("/");
    assert!(page.body.contains("form id=login"), "{}", page.body);
}

#[test]
fn unknown_models_versions_and_ids_are_404() {
    let server = start();
    server.push("m", "v1", "", &diverse_docs(10, 1), None);
    for path in [
        "/api/v1/models/nope",
        "/api/v1/models/nope/versions",
        "/api/v1/models/m/versions/v9",
        "/api/v1/models/m/versions/v9/profile",
        "/api/v1/models/nope/series?metric=distinct_2",
        "/api/v1/models/nope/baseline",
        "/api/v1/models/m/compare?baseline=v1&candidate=v9",
        "/api/v1/rules/42",
        "/api/v1/alerts/42",
        "/api/v1/webhooks/42/deliveries",
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
        assert_eq!(reply.json()["error"]["code"], "not_found", "{path}");
    }
    assert_eq!(server.get("/api/v1/rules/abc").status, 400);
    assert_eq!(server.send("PUT", "/api/v1/models/m/baseline", r#"{"version": "v9"}"#).status, 404);
    assert_eq!(server.send("DELETE", "/api/v1/rules/42", "").status, 404);
    assert_eq!(server.send("DELETE", "/api/v1/webhooks/42", "").status, 404);
    assert_eq!(server.send("POST", "/api/v1/alerts/42/acknowledge", "").status, 404);
    assert_eq!(server.send("POST", "/api/v1/models/m/baseline/freeze", "").status, 404);
}

#[test]
fn series_and_compare() {
    let server = start();
    server.push("m", "v1", "?window=d1", &diverse_docs(200, 1), None);
    server.push("m", "v1", "?window=d2", &diverse_docs(200, 2), None);
    server.push("m", "v2", "?window=d3", &collapsed_docs(200), None);
    let series = server.get("/api/v1/models/m/series?metric=distinct_2").json();
    let points = series["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    assert!(points[0]["value"].as_f64().unwrap() > points[1]["value"].as_f64().unwrap());
    let by_window = server.get("/api/v1/models/m/series?metric=distinct_2&by=window").json();
    assert_eq!(by_window["points"].as_array().unwrap().len(), 3);
    assert_eq!(by_window["points"][0]["window"], "d1");
    for (q, needle) in [
        ("", "parameter `metric` is required"),
        ("?metric=nope", "unknown metric id `nope`"),
        ("?metric=distinct_2&by=day", "parameter `by`"),
    ] {
        let reply = server.get(&format!("/api/v1/models/m/series{q}"));
        assert_eq!(reply.status, 400);
        assert!(reply.message().contains(needle), "{}", reply.body);
    }
    let compare = server.get("/api/v1/models/m/compare?baseline=v1&candidate=v2").json();
    assert_eq!(compare["verdict"], "collapse");
    assert_eq!(server.get("/api/v1/models/m/compare?baseline=v1&candidate=v1").json()["verdict"], "ok");
    assert_eq!(server.get("/api/v1/models/m/compare?baseline=v1").status, 400);

    // with a frozen baseline, both sides' reference metrics are against its held-out reference;
    // a side that is the baseline version holds that reference, so they are not compared
    let frozen = server.send("PUT", "/api/v1/models/m/baseline", r#"{"version": "v1", "freeze": true}"#);
    assert_eq!(frozen.status, 200, "{}", frozen.body);
    server.push("m", "v3", "?window=d4", &diverse_docs(200, 3), None);
    let check = |compare: &serde_json::Value, metric: &str| {
        compare["checks"].as_array().unwrap().iter().find(|c| c["metric"] == metric).unwrap().clone()
    };
    let fresh = server.get("/api/v1/models/m/compare?baseline=v3&candidate=v2").json();
    assert!(!fresh["notes"].to_string().contains("also in the reference"), "{fresh}");
    // a version that repeats the baseline's documents is measured against a reference holding
    // them, and the comparison says so
    server.push("m", "v1again", "?window=d1", &diverse_docs(200, 1), None);
    let again = server.get("/api/v1/models/m/compare?baseline=v3&candidate=v1again").json();
    assert!(
        again["notes"].to_string().contains("of `v1again`'s 200 documents are also in the reference"),
        "{again}"
    );
    let tail = check(&fresh, "tail_coverage");
    assert!(tail["baseline"].as_f64().unwrap() > tail["candidate"].as_f64().unwrap(), "{fresh}");
    assert_eq!(fresh["verdict"], "collapse");
    let own = server.get("/api/v1/models/m/compare?baseline=v1&candidate=v3").json();
    assert!(check(&own, "tail_coverage")["baseline"].is_null(), "{own}");
    assert!(own["notes"].to_string().contains("holds its reference"), "{own}");

    // sizes are matched: a version of 4 × 200 documents of the same kind as v3's 200 is read at
    // 200 from its pushes (at 800, distinct_2 alone would fall by half and say collapse)
    for i in 0..4 {
        server.push("m", "v4", &format!("?window=e{i}"), &diverse_docs(200, 10 + i), None);
    }
    let matched = server.get("/api/v1/models/m/compare?baseline=v3&candidate=v4").json();
    assert_eq!(matched["verdict"], "ok", "{matched}");
    assert!(matched["notes"].to_string().contains("matched sizes: `v4` (800 documents)"), "{matched}");
    assert!(!matched["notes"].to_string().contains("the sides differ in size"), "{matched}");
    let d2 = check(&matched, "distinct_2");
    let change = d2["relative_change"].as_f64().unwrap();
    assert!(change.abs() < 0.1, "{d2}");
    let whole = server.get("/api/v1/models/m/versions/v4").json();
    let at_800 = whole["metrics"]["distinct_2"].as_f64().unwrap();
    assert!(at_800 < d2["candidate"].as_f64().unwrap() * 0.9, "{at_800} vs {d2}");
}

#[test]
fn baselines_of_versions_and_reference_corpora() {
    let server = start();
    server.push("m", "v1", "", &diverse_docs(50, 1), None);
    server.push("m", "v1", "", &diverse_docs(50, 2), None);
    assert_eq!(server.get("/api/v1/models/m/baseline").json()["baseline"], serde_json::Value::Null);
    let before = server.get("/api/v1/models/m/versions").json();
    assert!(before["versions"][0]["metrics"].get("js_to_reference").is_none());
    let live = server.send("PUT", "/api/v1/models/m/baseline", r#"{"version": "v1"}"#).json();
    assert_eq!(
        (live["baseline"]["frozen"].as_bool(), live["baseline"]["chunks"].as_u64()),
        (Some(false), Some(2))
    );
    // setting a baseline gives the versions pushed before it their reference metrics
    let after = server.get("/api/v1/models/m/versions").json();
    assert!(after["versions"][0]["metrics"]["js_to_reference"].as_f64().unwrap().abs() < 1e-12);
    server.push("m", "v1", "", &diverse_docs(50, 3), None);
    assert_eq!(server.get("/api/v1/models/m/baseline").json()["baseline"]["n_docs"], 150);
    let frozen = server.send("POST", "/api/v1/models/m/baseline/freeze", "").json();
    assert_eq!(
        (frozen["baseline"]["frozen"].as_bool(), frozen["baseline"]["chunks"].as_u64()),
        (Some(true), Some(3))
    );
    server.push("m", "v1", "", &diverse_docs(50, 4), None);
    assert_eq!(server.get("/api/v1/models/m/baseline").json()["baseline"]["n_docs"], 150, "frozen");
    assert_eq!(server.send("POST", "/api/v1/models/m/baseline/freeze", "").status, 409);
    for (body, needle) in [
        ("", "body is empty"),
        ("{\"version\": 3}", "invalid type"),
        ("{\"versoin\": \"v1\"}", "unknown field `versoin`"),
        ("[1,2]", "invalid type"),
    ] {
        let reply = server.send("PUT", "/api/v1/models/m/baseline", body);
        assert_eq!(reply.status, 400, "{body}");
        assert!(reply.message().contains(needle), "{}", reply.body);
    }
    // a reference corpus, split into chunks for adaptive thresholds
    let reference = docs_json(&diverse_docs(100, 9));
    let reply = call(
        "PUT",
        &format!("{}/api/v1/models/fresh/baseline/reference?chunks=5", server.base),
        Some(reference.as_bytes()),
        true,
        &[],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let b = &reply.json()["baseline"];
    assert_eq!(
        (b["kind"].as_str(), b["chunks"].as_u64(), b["n_docs"].as_u64()),
        (Some("reference"), Some(5), Some(100))
    );
    let as_profile = call(
        "PUT",
        &format!("{}/api/v1/models/fresh/baseline/reference", server.base),
        Some(&profile_bytes(&diverse_docs(30, 1))),
        true,
        &[("content-type", "application/octet-stream")],
    );
    assert_eq!(as_profile.status, 200, "{}", as_profile.body);
    assert_eq!(as_profile.json()["baseline"]["chunks"], 0);
    let bad_chunks = call(
        "PUT",
        &format!("{}/api/v1/models/fresh/baseline/reference?chunks=1", server.base),
        Some(reference.as_bytes()),
        true,
        &[],
    );
    assert_eq!(bad_chunks.status, 400);
}

#[test]
fn rules_crud_and_validation() {
    let server = start();
    let created = server.send(
        "POST",
        "/api/v1/rules",
        r#"{"name": "diversity", "model": "*", "metric": "distinct_2", "kind": "fixed", "threshold": 0.5}"#,
    );
    assert!(created.status < 300, "{}", created.body);
    let rule = created.json();
    assert_eq!((rule["direction"].as_str(), rule["open_after"].as_u64()), (Some("below"), Some(1)));
    let id = rule["id"].as_i64().unwrap();
    assert_eq!(server.get("/api/v1/rules").json()["rules"].as_array().unwrap().len(), 1);
    assert_eq!(server.get(&format!("/api/v1/rules/{id}")).json()["name"], "diversity");
    let updated = server.send(
        "PUT",
        &format!("/api/v1/rules/{id}"),
        r#"{"model": "*", "metric": "self_bleu_4", "kind": "adaptive", "k": 2}"#,
    );
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        (updated.json()["direction"].as_str(), updated.json()["k"].as_f64()),
        (Some("above"), Some(2.0))
    );
    for (body, needle) in [
        (r#"{"metric": "nope", "kind": "fixed", "threshold": 1}"#, "field `metric`"),
        (r#"{"model": "*", "metric": "distinct_2", "kind": "fixed"}"#, "field `threshold` is required"),
        (
            r#"{"model": "*", "metric": "distinct_2", "kind": "sometimes", "threshold": 1}"#,
            "unknown variant `sometimes`",
        ),
        (r#"{"model": "*", "metric": "distinct_2", "kind": "fixed", "threshold": "high"}"#, "invalid type"),
        (r#"{"model": "*", "metric": "distinct_2", "kind": "adaptive", "k": -1}"#, "field `k` must be > 0"),
        (
            r#"{"model": "*", "metric": "distinct_2", "kind": "fixed", "threshold": 1, "open_after": 0}"#,
            "field `open_after`",
        ),
        (
            r#"{"model": "*", "metric": "distinct_2", "kind": "fixed", "threshold": 1, "colour": "red"}"#,
            "unknown field `colour`",
        ),
        (r#"{"kind": "fixed", "threshold": 1}"#, "missing field `metric`"),
        (r#"{"model": "*", "metric": "distinct_2", "kind": "fixed", "threshold": 1e999}"#, "invalid JSON"),
        (r#"{"metric": "distinct_2", "kind": "fixed", "threshold": 1, "model": "a/b"}"#, "field `model`"),
        (r#"{"metric": "distinct_2", "kind": "fixed", "threshold": 1}"#, "field `model` is required"),
    ] {
        let reply = server.send("POST", "/api/v1/rules", body);
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert!(reply.message().contains(needle), "expected `{needle}`: {}", reply.body);
    }
    assert_eq!(server.send("DELETE", &format!("/api/v1/rules/{id}"), "").status, 204);
    assert_eq!(server.get(&format!("/api/v1/rules/{id}")).status, 404);
}

#[test]
fn alerts_open_on_collapse_are_acknowledged_and_resolve_with_hysteresis() {
    let server = start();
    server.push("m", "v1", "", &diverse_docs(300, 1), None);
    server.push("m", "v1", "", &diverse_docs(300, 2), None);
    server.send("PUT", "/api/v1/models/m/baseline", r#"{"version": "v1", "freeze": true}"#);
    let rule = server
        .send("POST", "/api/v1/rules", r#"{"model": "m", "metric": "distinct_2", "kind": "relative", "threshold": 0.2, "min_docs": 100, "resolve_after": 2}"#)
        .json();
    // too few documents: not evaluated
    let small = server.push("m", "v2", "", &collapsed_docs(50), None).json();
    assert!(small["alerts_opened"].as_array().unwrap().is_empty());
    let big = server.push("m", "v2", "", &collapsed_docs(200), None).json();
    let opened = big["alerts_opened"].as_array().unwrap();
    assert_eq!(opened.len(), 1, "{big}");
    let alert = &opened[0];
    assert_eq!((alert["rule_id"].as_i64(), alert["state"].as_str()), (rule["id"].as_i64(), Some("open")));
    assert!(alert["value"].as_f64().unwrap() < alert["threshold"].as_f64().unwrap());
    let id = alert["id"].as_i64().unwrap();
    assert_eq!(server.get("/api/v1/models").json()["models"][0]["status"], "alerting");
    assert_eq!(server.get("/api/v1/alerts?state=open").json()["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(server.get("/api/v1/alerts?state=resolved").json()["alerts"].as_array().unwrap().len(), 0);
    assert_eq!(server.get("/api/v1/alerts?state=sleeping").status, 400);
    let series = server.get("/api/v1/models/m/series?metric=distinct_2").json();
    assert_eq!(series["points"][1]["alerts"][0].as_i64(), Some(id));
    // still breaching: no second alert
    let more = server.push("m", "v3", "", &collapsed_docs(150), None).json();
    assert!(more["alerts_opened"].as_array().unwrap().is_empty());
    let acked = server.send("POST", &format!("/api/v1/alerts/{id}/acknowledge"), r#"{"by": "ana"}"#);
    assert_eq!(acked.status, 200, "{}", acked.body);
    assert_eq!(
        (acked.json()["state"].as_str(), acked.json()["acknowledged_by"].as_str()),
        (Some("acknowledged"), Some("ana"))
    );
    assert_eq!(
        server.send("POST", &format!("/api/v1/alerts/{id}/acknowledge"), "").status,
        200,
        "idempotent"
    );
    assert_eq!(server.send("POST", &format!("/api/v1/alerts/{id}/acknowledge"), r#"{"by": 7}"#).status, 400);
    assert_eq!(server.get("/api/v1/models").json()["models"][0]["status"], "acknowledged");
    // recovery: two clean evaluations resolve it (resolve_after = 2)
    let first = server.push("m", "v4", "", &diverse_docs(300, 5), None).json();
    assert!(first["alerts_resolved"].as_array().unwrap().is_empty());
    let second = server.push("m", "v4", "", &diverse_docs(300, 6), None).json();
    assert_eq!(second["alerts_resolved"][0]["id"].as_i64(), Some(id), "{second}");
    assert_eq!(server.get(&format!("/api/v1/alerts/{id}")).json()["state"], "resolved");
    assert_eq!(server.send("POST", &format!("/api/v1/alerts/{id}/acknowledge"), "").status, 409);
    assert_eq!(server.get("/api/v1/models").json()["models"][0]["status"], "ok");
}

/// A rule watches the model it names; only `"model": "*"` watches every model.
#[test]
fn rules_watch_their_model_or_every_model_when_asked() {
    let server = start();
    // distinct_2 of any text is below 2: both rules breach wherever they apply
    let chat = r#"{"model": "chat", "metric": "distinct_2", "kind": "fixed", "threshold": 2}"#;
    let chat_id = server.send("POST", "/api/v1/rules", chat).json()["id"].as_i64().unwrap();
    let rules_hit = |model: &str, version: &str| -> Vec<i64> {
        let reply = server.push(model, version, "", &diverse_docs(60, 3), None).json();
        reply["breaching"].as_array().unwrap().iter().map(|b| b["rule_id"].as_i64().unwrap()).collect()
    };
    assert_eq!(rules_hit("chat", "v1"), vec![chat_id]);
    assert_eq!(rules_hit("code", "v1"), Vec::<i64>::new());
    let every = r#"{"model": "*", "metric": "distinct_2", "kind": "fixed", "threshold": 2}"#;
    let every_id = server.send("POST", "/api/v1/rules", every).json()["id"].as_i64().unwrap();
    assert_eq!(rules_hit("code", "v2"), vec![every_id]);
    assert_eq!(rules_hit("chat", "v2"), vec![chat_id, every_id]);
}

/// An open alert lists every version that breached its rule, not only the one that opened it;
/// each of them is told it breaches (the gate of `push --fail-on-alert`).
#[test]
fn an_alert_lists_every_version_that_breached_it() {
    let server = start();
    let rule = r#"{"name": "bigram floor", "model": "m", "metric": "distinct_2", "kind": "fixed", "threshold": 0.3, "resolve_after": 2}"#;
    server.send("POST", "/api/v1/rules", rule);
    let opened = server.push("m", "v1", "", &collapsed_docs(60), None).json();
    let alert_id = opened["alerts_opened"][0]["id"].as_i64().unwrap();
    assert_eq!(opened["alerts_opened"][0]["breached_by"][0]["version"], "v1");
    let again = server.push("m", "v2", "", &collapsed_docs(90), None).json();
    assert!(again["alerts_opened"].as_array().unwrap().is_empty(), "{again}");
    assert_eq!(again["breaching"][0]["alert_id"], alert_id);
    // a clean version counts towards resolving but is not listed
    let clean = server.push("m", "v3", "", &diverse_docs(60, 5), None).json();
    assert!(clean["breaching"].as_array().unwrap().is_empty(), "{clean}");
    server.push("m", "v4", "", &collapsed_docs(30), None);
    let alert = server.get(&format!("/api/v1/alerts/{alert_id}")).json();
    let listed: Vec<&str> =
        alert["breached_by"].as_array().unwrap().iter().map(|b| b["version"].as_str().unwrap()).collect();
    assert_eq!(listed, ["v1", "v2", "v4"], "{alert}");
    assert!(alert["breached_by"][1]["value"].as_f64().unwrap() < 0.3);
    assert_eq!(alert["version"], "v1");
    assert_eq!(alert["last_version"], "v4");
    // the alerts page names the rule and the versions
    let page = server.get("/alerts").body;
    assert!(page.contains("<td class=rule>bigram floor</td>"), "{page}");
    assert!(page.contains("<td class=versions>v1, v2, v4</td>"), "{page}");
    // and each breaching version is marked on the model's chart series
    let series = server.get("/api/v1/models/m/series?metric=distinct_2").json();
    let marked: Vec<bool> = series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| !p["alerts"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(marked, [true, true, false, true], "{series}");
}

#[test]
fn adaptive_rules_use_the_baseline_chunks_and_wait_without_a_baseline() {
    let server = start();
    server.send(
        "POST",
        "/api/v1/rules",
        r#"{"model": "*", "metric": "self_bleu_4", "kind": "adaptive", "k": 3}"#,
    );
    // no baseline yet: not evaluable, no alert, and the series says why
    let reply = server.push("m", "v0", "", &collapsed_docs(100), None).json();
    assert!(reply["alerts_opened"].as_array().unwrap().is_empty());
    let series = server.get("/api/v1/models/m/series?metric=self_bleu_4").json();
    assert!(series["rules"][0]["not_evaluable"].as_str().unwrap().contains("≥ 2 chunks"), "{series}");
    let reference = docs_json(&diverse_docs(500, 11));
    call(
        "PUT",
        &format!("{}/api/v1/models/m/baseline/reference?chunks=5", server.base),
        Some(reference.as_bytes()),
        true,
        &[],
    );
    let healthy = server.push("m", "v1", "", &diverse_docs(100, 12), None).json();
    assert!(healthy["alerts_opened"].as_array().unwrap().is_empty(), "{healthy}");
    let collapsed = server.push("m", "v2", "", &collapsed_docs(100), None).json();
    assert_eq!(collapsed["alerts_opened"].as_array().unwrap().len(), 1, "{collapsed}");
    let series = server.get("/api/v1/models/m/series?metric=self_bleu_4").json();
    assert_eq!(series["baseline"]["chunks"], 5);
    assert!(series["rules"][0]["threshold"].as_f64().is_some());
}

/// A webhook receiver on a loopback port: fails the first `failures` requests with 500, then
/// answers 200; records every (signature header, body) it got.
/// What a receiver got: (signature header, body) per request.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

fn receiver(failures: usize) -> (String, Received) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut signature) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("x-tailwatch-signature:") {
                    signature = line.split_once(':').unwrap().1.trim().to_string();
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            log.lock().unwrap().push((signature, String::from_utf8_lossy(&body).into_owned()));
            let status = if n < failures { "500 Internal Server Error" } else { "200 OK" };
            let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, seen)
}

#[test]
fn webhooks_are_retried_until_delivered_and_signed() {
    let server = start();
    let (url, seen) = receiver(2);
    for (body, needle) in [
        (r#"{"url": "ftp://x"}"#.to_string(), "field `url`"),
        (r#"{"secret": "s"}"#.to_string(), "missing field `url`"),
    ] {
        let reply = server.send("POST", "/api/v1/webhooks", &body);
        assert_eq!(reply.status, 400);
        assert!(reply.message().contains(needle), "{}", reply.body);
    }
    let hook = server.send("POST", "/api/v1/webhooks", &format!(r#"{{"url": "{url}", "secret": "s3cret"}}"#));
    assert_eq!(hook.status, 201, "{}", hook.body);
    let hook = hook.json();
    assert_eq!(hook["signed"], true);
    assert!(hook.get("secret").is_none(), "the secret is never returned");
    let id = hook["id"].as_i64().unwrap();
    assert_eq!(server.get("/api/v1/webhooks").json()["webhooks"].as_array().unwrap().len(), 1);
    server.send(
        "POST",
        "/api/v1/rules",
        r#"{"model": "*", "metric": "distinct_2", "kind": "fixed", "threshold": 0.5}"#,
    );
    let pushed = server.push("m", "v1", "", &collapsed_docs(100), None).json();
    assert_eq!(pushed["alerts_opened"].as_array().unwrap().len(), 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let deliveries = loop {
        let d = server.get(&format!("/api/v1/webhooks/{id}/deliveries")).json();
        if d["deliveries"][0]["state"] == "delivered" || std::time::Instant::now() > deadline {
            break d;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let d = &deliveries["deliveries"][0];
    assert_eq!(
        (d["state"].as_str(), d["attempts"].as_u64(), d["event"].as_str()),
        (Some("delivered"), Some(3), Some("alert.opened")),
        "{deliveries}"
    );
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    let (signature, body) = &got[2];
    assert_eq!(*signature, tailwatch_server::webhooks::signature("s3cret", body.as_bytes()));
    let payload: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (payload["event"].as_str(), payload["alert"]["metric"].as_str()),
        (Some("alert.opened"), Some("distinct_2"))
    );
    assert_eq!(server.send("DELETE", &format!("/api/v1/webhooks/{id}"), "").status, 204);
    assert_eq!(server.get(&format!("/api/v1/webhooks/{id}/deliveries")).status, 404);
}

#[test]
fn a_webhook_that_never_answers_is_marked_failed_after_the_last_attempt() {
    let server = start();
    let (url, seen) = receiver(usize::MAX);
    let hook = server.send("POST", "/api/v1/webhooks", &format!(r#"{{"url": "{url}"}}"#)).json();
    let id = hook["id"].as_i64().unwrap();
    server.send(
        "POST",
        "/api/v1/rules",
        r#"{"model": "*", "metric": "distinct_2", "kind": "fixed", "threshold": 0.5}"#,
    );
    server.push("m", "v1", "", &collapsed_docs(100), None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let d = loop {
        let d = server.get(&format!("/api/v1/webhooks/{id}/deliveries")).json();
        if d["deliveries"][0]["state"] != "pending" || std::time::Instant::now() > deadline {
            break d;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let d = &d["deliveries"][0];
    assert_eq!((d["state"].as_str(), d["attempts"].as_u64()), (Some("failed"), Some(4)), "{d}");
    assert_eq!(d["last_error"], "HTTP 500 Internal Server Error");
    assert_eq!(seen.lock().unwrap().len(), 4);
}

#[test]
fn incompatible_profiles_are_refused_before_anything_is_stored() {
    use tailwatch_core::{Tokenizer, TokenizerSpec};
    use tailwatch_metrics::{ProfileBuilder, ProfileConfig};
    let server = start();
    assert_eq!(server.push("m", "v1", "", &diverse_docs(5, 1), None).status, 201);
    let spec = TokenizerSpec::python_split();
    let tokenizer = Tokenizer::from_spec(&spec).unwrap();
    let mut other = ProfileBuilder::new(&tokenizer, ProfileConfig::new(spec));
    other.observe("a b c").unwrap();
    let bytes = other.finish().to_bytes().unwrap();
    let reply = call(
        "POST",
        &format!("{}/api/v1/models/m/versions/v1/profiles", server.base),
        Some(&bytes),
        true,
        &[],
    );
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert!(reply.message().contains("cannot be merged"), "{}", reply.body);
    // another version may use another tokenizer
    let reply = call(
        "POST",
        &format!("{}/api/v1/models/m/versions/v2/profiles", server.base),
        Some(&bytes),
        true,
        &[],
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(server.get("/api/v1/health").json()["totals"]["pushes"], 2);
}

#[test]
fn aggregates_merged_lazily_survive_a_restart_exactly() {
    use tailwatch_server::SqliteStore;
    use tailwatch_server::db::PERSIST_EVERY;
    use tailwatch_server::db::Profiles;
    use tailwatch_server::types::PushKey;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let n = PERSIST_EVERY as usize + 10;
    let mut all_docs = Vec::new();
    {
        let store = SqliteStore::open(&path).unwrap();
        for i in 0..n {
            let docs = diverse_docs(3, i as u64);
            let profile =
                tailwatch_metrics::Profile::from_bytes(&profile_bytes(&docs), std::path::Path::new("p"))
                    .unwrap();
            let key = PushKey {
                model: "m".into(),
                version: "v".into(),
                cohort: "c".into(),
                window: format!("w{}", i % 2),
            };
            store.push(&key, Some(&format!("k{i}")), profile).unwrap();
            all_docs.extend(docs);
            if i == 5 {
                // read in between: the aggregate is merged and cached, then pushes continue
                assert_eq!(store.version_profile("m", "v", "*").unwrap().n_docs(), 18);
            }
        }
        // the cached aggregate (written back after PERSIST_EVERY merges, the rest in memory)
        let cached = store.version_profile("m", "v", "*").unwrap();
        assert_eq!(cached.n_docs(), 3 * n as u64);
    }
    // a new process: the stored aggregate plus the pushes after it
    let store = SqliteStore::open(&path).unwrap();
    let reopened = store.version_profile("m", "v", "*").unwrap();
    let direct =
        tailwatch_metrics::Profile::from_bytes(&profile_bytes(&all_docs), std::path::Path::new("p")).unwrap();
    assert!(reopened.same_content(&direct), "merging pushes lazily equals profiling everything at once");
    assert_eq!(store.version_profile("m", "v", "c").unwrap().n_docs(), 3 * n as u64);
    let detail = store.version("m", "v").unwrap();
    let windows: u64 =
        detail.windows.iter().filter(|w| w["cohort"] == "*").map(|w| w["n_docs"].as_u64().unwrap()).sum();
    assert_eq!(windows, 3 * n as u64);
}

#[test]
fn background_compaction_brings_aggregates_up_to_date() {
    use tailwatch_server::SqliteStore;
    use tailwatch_server::db::Profiles;
    use tailwatch_server::types::PushKey;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("w.db")).unwrap();
    for i in 0..10 {
        let profile = tailwatch_metrics::Profile::from_bytes(
            &profile_bytes(&diverse_docs(2, i)),
            std::path::Path::new("p"),
        )
        .unwrap();
        let key = PushKey { model: "m".into(), version: "v".into(), cohort: "c".into(), window: "w".into() };
        store.push(&key, None, profile).unwrap();
    }
    // busy: compaction waits for a quiet second
    assert_eq!(store.compact(16).unwrap(), 0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // 10 pushes × 4 aggregates (version, cohort, and their window) = 40 merges, 16 at a time
    let mut total = 0;
    loop {
        let merged = store.compact(16).unwrap();
        assert!(merged <= 16);
        if merged == 0 {
            break;
        }
        total += merged;
    }
    assert_eq!(total, 40);
    assert_eq!(store.version_profile("m", "v", "*").unwrap().n_docs(), 20);
}

/// A `.twp` profile of answers grouped by prompt: `groups` prompts of five answers each, the
/// first `collapsed` of them answering five times the same.
fn grouped_profile_bytes(groups: usize, collapsed: usize, seed: u64) -> Vec<u8> {
    sampled_grouped_profile_bytes(groups, collapsed, seed, tailwatch_metrics::grouped::DEFAULT_GROUP_SAMPLE)
}

/// [`grouped_profile_bytes`], keeping a sample of `sample` groups.
fn sampled_grouped_profile_bytes(groups: usize, collapsed: usize, seed: u64, sample: u64) -> Vec<u8> {
    use tailwatch_metrics::grouped::{GroupBy, Grouping};
    let spec = tailwatch_core::TokenizerSpec::words();
    let tokenizer = tailwatch_core::Tokenizer::from_spec(&spec).unwrap();
    let mut config = tailwatch_metrics::ProfileConfig::new(spec);
    config.grouping = Some(Grouping {
        groups: tailwatch_metrics::SampleSize::Docs(sample),
        ..Grouping::new(GroupBy::Field("prompt".into()))
    });
    let mut builder = tailwatch_metrics::ProfileBuilder::new(&tokenizer, config);
    let docs = common::diverse_docs(groups * 5, seed);
    for (g, answers) in docs.chunks(5).enumerate() {
        let answers: Vec<String> = if g < collapsed { vec![answers[0].clone(); 5] } else { answers.to_vec() };
        builder.observe_group(&format!("prompt {g}"), &answers).unwrap();
    }
    builder.finish().to_bytes().unwrap()
}

/// Grouped profiles push like any other; a rule on `collapsed_group_share` reads their groups,
/// its series has a point per version, and a version with collapsed prompts opens an alert.
#[test]
fn a_rule_on_collapsed_prompts_alerts_on_grouped_pushes() {
    let server = start();
    let rule = r#"{"model": "m", "metric": "collapsed_group_share", "kind": "fixed", "threshold": 0.1, "direction": "above"}"#;
    let created = server.send("POST", "/api/v1/rules", rule);
    assert!(created.status < 300, "{}", created.body);
    let push = |version: &str, bytes: Vec<u8>| {
        let reply = common::call(
            "POST",
            &format!("{}/api/v1/models/m/versions/{version}/profiles", server.base),
            Some(&bytes),
            true,
            &[("content-type", "application/octet-stream")],
        );
        assert!(reply.status < 300, "{}", reply.body);
        reply.json()
    };
    let healthy = push("v1", grouped_profile_bytes(100, 0, 1));
    assert!(healthy["alerts_opened"].as_array().unwrap().is_empty(), "{healthy}");
    let collapsed = push("v2", grouped_profile_bytes(100, 30, 2));
    assert_eq!(collapsed["alerts_opened"].as_array().unwrap().len(), 1, "{collapsed}");
    let series = server.get("/api/v1/models/m/series?metric=collapsed_group_share").json();
    let values: Vec<f64> =
        series["points"].as_array().unwrap().iter().map(|p| p["value"].as_f64().unwrap()).collect();
    assert_eq!(values, vec![0.0, 0.3], "{series}");
}

fn push_bytes(server: &common::TestServer, model: &str, version: &str, bytes: &[u8]) {
    let url = format!("{}/api/v1/models/{model}/versions/{version}/profiles", server.base);
    let reply =
        common::call("POST", &url, Some(bytes), true, &[("content-type", "application/octet-stream")]);
    assert!(reply.status < 300, "{}", reply.body);
}

/// A version's prompts list worst first, and one prompt has a series over versions that says
/// where it collapsed, where it was not asked, and where the version does not group answers.
#[test]
fn prompts_list_worst_first_and_have_series_over_versions() {
    let server = start();
    push_bytes(&server, "m", "v1", &grouped_profile_bytes(100, 0, 1));
    push_bytes(&server, "m", "v2", &grouped_profile_bytes(100, 30, 2));
    server.push("m", "v3", "", &common::diverse_docs(50, 3), None);
    let worst = server.get("/api/v1/models/m/versions/v2/groups?limit=31").json();
    let rows = worst["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 31, "{worst}");
    let collapsed: Vec<&str> =
        rows.iter().filter(|r| r["collapsed"] == true).map(|r| r["group"].as_str().unwrap()).collect();
    let mut expected: Vec<String> = (0..30).map(|g| format!("prompt {g}")).collect();
    expected.sort();
    let mut found: Vec<String> = collapsed.iter().map(|s| s.to_string()).collect();
    found.sort();
    assert_eq!(found, expected, "the 30 collapsed prompts come first");
    assert_eq!(rows[30]["collapsed"], false);
    assert_eq!(worst["summary"]["groups"], 100);
    assert_eq!(worst["metrics"]["collapsed_group_share"], 0.3);
    assert_eq!(worst["summary"]["equivalence"], "unigram");
    let exact = server.get("/api/v1/models/m/versions/v2/groups?equivalence=exact&limit=0").json();
    assert_eq!(
        (exact["summary"]["equivalence"].as_str(), exact["rows"].as_array().unwrap().len()),
        (Some("exact"), 0)
    );

    let series = server.get("/api/v1/models/m/groups/series?group=prompt%203").json();
    let points = series["points"].as_array().unwrap();
    let states: Vec<&str> = points.iter().map(|p| p["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["held", "held", "ungrouped"], "{series}");
    assert_eq!(points[0]["value"], 5.0, "five different answers in v1: {series}");
    assert_eq!(
        (points[1]["value"].as_f64(), points[1]["row"]["collapsed"].as_bool()),
        (Some(1.0), Some(true))
    );
    assert!(points[2]["value"].is_null() && points[2]["row"].is_null());
    assert_eq!(points[1]["answers"], 5);
    let entropy = server.get("/api/v1/models/m/groups/series?group=prompt%203&metric=class_entropy").json();
    assert_eq!(entropy["points"][1]["value"], 0.0);
    let never = server.get("/api/v1/models/m/groups/series?group=never%20asked").json();
    assert_eq!(never["points"][0]["state"], "unanswered", "{never}");

    // a full sample keeps 10 of 100 prompts: the others are not sampled, not unanswered
    push_bytes(&server, "small", "v1", &sampled_grouped_profile_bytes(100, 0, 1, 10));
    let held = server.get("/api/v1/models/small/versions/v1/groups").json();
    let kept: Vec<&str> =
        held["rows"].as_array().unwrap().iter().map(|r| r["group"].as_str().unwrap()).collect();
    assert_eq!(kept.len(), 10);
    let dropped = (0..100).map(|g| format!("prompt {g}")).find(|k| !kept.contains(&k.as_str())).unwrap();
    let url = format!("/api/v1/models/small/groups/series?group={}", dropped.replace(' ', "%20"));
    assert_eq!(server.get(&url).json()["points"][0]["state"], "not_sampled");
    let url = format!("/api/v1/models/small/groups/series?group={}", kept[0].replace(' ', "%20"));
    assert_eq!(server.get(&url).json()["points"][0]["state"], "held");

    // the model page lists the latest grouped version's worst prompts, by version
    let page = server.get("/models/m");
    assert_eq!(page.status, 200);
    let table = &page.body[page.body.find("<table id=prompts>").expect("a prompts table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr><td>prompt ").count(), 10, "{table}");
    assert_eq!(table.matches("<td title=\"held\">1</td>").count(), 10, "collapsed in v2: {table}");
    assert_eq!(table.matches("<td title=\"ungrouped\">").count(), 10, "v3 groups nothing: {table}");
    // group keys are escaped
    let spec = tailwatch_core::TokenizerSpec::words();
    let tokenizer = tailwatch_core::Tokenizer::from_spec(&spec).unwrap();
    let mut config = tailwatch_metrics::ProfileConfig::new(spec);
    config.grouping = Some(tailwatch_metrics::grouped::Grouping::new(
        tailwatch_metrics::grouped::GroupBy::Field("p".into()),
    ));
    let mut builder = tailwatch_metrics::ProfileBuilder::new(&tokenizer, config);
    builder.observe_group("<img src=x onerror=alert(1)>", &["same", "same"]).unwrap();
    push_bytes(&server, "hostile", "v1", &builder.finish().to_bytes().unwrap());
    let page = server.get("/models/hostile").body;
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;") && !page.contains("<img"), "{page}");

    for (url, status, says) in [
        ("/api/v1/models/m/versions/v3/groups", 404, "holds no groups"),
        ("/api/v1/models/m/versions/v2/groups?equivalence=cosine", 400, "equivalence must be `unigram`"),
        ("/api/v1/models/m/versions/v2/groups?limit=-1", 400, "invalid query"),
        ("/api/v1/models/m/versions/v9/groups", 404, "v9"),
        ("/api/v1/models/m/groups/series", 400, "`group`"),
        ("/api/v1/models/m/groups/series?group=x&metric=distinct_2", 400, "not a within-group metric"),
        ("/api/v1/models/m/groups/series?group=x&equivalence=jaccard:2", 400, "jaccard:2"),
        ("/api/v1/models/nobody/groups/series?group=x", 404, "nobody"),
    ] {
        let reply = server.get(url);
        assert_eq!(reply.status, status, "{url}: {}", reply.body);
        assert!(reply.body.contains(says), "{url}: {}", reply.body);
    }
}

/// A rule on `refusal_rate` (counted in every pushed profile) opens an alert on a version
/// that refuses a third of its requests.
#[test]
fn a_rule_on_refusals_alerts() {
    let server = start();
    let rule = r#"{"model": "m", "metric": "refusal_rate", "kind": "fixed", "threshold": 0.2, "direction": "above"}"#;
    assert!(server.send("POST", "/api/v1/rules", rule).status < 300);
    let helpful = common::diverse_docs(90, 1);
    let first = server.push("m", "v1", "", &helpful, None).json();
    assert!(first["alerts_opened"].as_array().unwrap().is_empty(), "{first}");
    let mut refusing = common::diverse_docs(60, 2);
    refusing.extend((0..30).map(|i| format!("I'm sorry, but I can't help with that request number {i}.")));
    let second = server.push("m", "v2", "", &refusing, None).json();
    assert_eq!(second["alerts_opened"].as_array().unwrap().len(), 1, "{second}");
    let series = server.get("/api/v1/models/m/series?metric=refusal_rate").json();
    let values: Vec<f64> =
        series["points"].as_array().unwrap().iter().map(|p| p["value"].as_f64().unwrap()).collect();
    assert_eq!(values.len(), 2);
    assert!(values[0] < 0.05 && (values[1] - 1.0 / 3.0).abs() < 0.02, "{values:?}");
}

/// The compare route tests the rule on collapsed prompts over the versions' sampled groups:
/// 30 planted collapsed prompts of 100 breach with a small p-value, another sample of the same
/// kind is `ok`, and both checks carry a p-value and an interval.
#[test]
fn compare_tests_collapsed_prompts_over_the_groups() {
    let server = start();
    push_bytes(&server, "m", "v1", &grouped_profile_bytes(100, 0, 1));
    push_bytes(&server, "m", "v2", &grouped_profile_bytes(100, 30, 2));
    push_bytes(&server, "m", "v3", &grouped_profile_bytes(100, 0, 3));
    let check = |candidate: &str| {
        let compared =
            server.get(&format!("/api/v1/models/m/compare?baseline=v1&candidate={candidate}")).json();
        let checks = compared["checks"].as_array().unwrap_or_else(|| panic!("{compared}"));
        checks
            .iter()
            .find(|c| c["metric"] == "collapsed_group_share")
            .cloned()
            .unwrap_or_else(|| panic!("{compared}"))
    };
    let collapsed = check("v2");
    assert_eq!(collapsed["status"], "breach", "{collapsed}");
    assert!(collapsed["p_value"].as_f64().unwrap() <= 0.01, "{collapsed}");
    assert!(collapsed["interval"].is_array(), "{collapsed}");
    let same = check("v3");
    assert_eq!(same["status"], "ok", "{same}");
    assert!(same["p_value"].is_number(), "{same}");
}
