//! The dashboard pages over HTTP: content, escaping, sign-in and acknowledging from a form.
mod common;

use common::*;

#[test]
fn pages_show_models_trends_alerts_and_escape_names() {
    let server = start();
    let hostile = "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E";
    assert_eq!(server.push(hostile, "v1", "", &diverse_docs(50, 1), None).status, 201);
    server.push("chat", "v1", "", &diverse_docs(200, 1), None);
    server.push("chat", "v1", "", &diverse_docs(200, 2), None);
    server.send("PUT", "/api/v1/models/chat/baseline", r#"{"version": "v1"}"#);
    server.send(
        "POST",
        "/api/v1/rules",
        r#"{"model": "chat", "metric": "distinct_2", "kind": "relative", "threshold": 0.2}"#,
    );
    server.push("chat", "v2", "", &diverse_docs(200, 3), None);
    let overview = server.get("/");
    assert_eq!(overview.status, 200);
    assert!(overview.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!overview.body.contains("<img"), "names are escaped");
    assert!(overview.body.contains("data-model=\"chat\""));
    assert!(overview.body.contains("status-ok"));
    let page = server.get("/models/chat");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-metric=\"distinct_2\""));
    assert!(page.body.matches("class=\"point\"").count() >= 2);
    assert!(page.body.contains("class=baseline-band"), "two baseline pushes give a band");
    assert!(page.body.contains("class=threshold"));
    assert!(page.body.contains("form id=compare"));
    // collapse: the overview turns red and the chart marks the point
    let pushed = server.push("chat", "v3", "", &collapsed_docs(200), None).json();
    let alert_id = pushed["alerts_opened"][0]["id"].as_i64().expect("an alert opened");
    assert!(server.get("/").body.contains("status-alerting"));
    assert!(server.get("/models/chat").body.contains("alert-marker"));
    let compare = server.get("/models/chat/compare?baseline=v1&candidate=v3");
    assert!(compare.body.contains("<span id=verdict class=collapse>collapse</span>"), "{}", compare.body);
    // the alerts page: without the cookie, a sign-in link; with it, an Acknowledge button
    let alerts = server.get("/alerts");
    assert!(alerts.body.contains(&format!("data-alert=\"{alert_id}\" data-state=\"open\"")));
    assert!(alerts.body.contains("sign in to acknowledge"));
    let cookie = sign_in(&server);
    let signed = call("GET", &format!("{}/alerts", server.base), None, false, &[("cookie", &cookie)]);
    assert!(signed.body.contains("Acknowledge</button>"));
    // the cookie is a session, not the token: the token as a cookie signs nobody in
    let raw = format!("tailwatch_session={TOKEN}");
    let forged = call("GET", &format!("{}/alerts", server.base), None, false, &[("cookie", &raw)]);
    assert!(forged.body.contains("sign in to acknowledge"));
    // a wrong token is refused at the login form
    let refused = call(
        "POST",
        &format!("{}/login", server.base),
        Some(b"token=wrong&next=%2Falerts"),
        false,
        &[("content-type", "application/x-www-form-urlencoded")],
    );
    assert_eq!(refused.status, 401);
    // acknowledging from the form
    let acked = call(
        "POST",
        &format!("{}/alerts/{alert_id}/acknowledge", server.base),
        None,
        false,
        &[("cookie", &cookie)],
    );
    assert_eq!(acked.status, 200, "{}", acked.body);
    assert_eq!(server.get(&format!("/api/v1/alerts/{alert_id}")).json()["state"], "acknowledged");
    assert_eq!(server.get(&format!("/api/v1/alerts/{alert_id}")).json()["acknowledged_by"], "dashboard");
    // unknown pages and models
    assert_eq!(server.get("/models/nope").status, 404);
}

#[test]
fn login_redirects_only_to_local_pages() {
    let server = start();
    let reply = call(
        "POST",
        &format!("{}/login", server.base),
        Some(format!("token={TOKEN}&next=https%3A%2F%2Fevil.example").as_bytes()),
        false,
        &[("content-type", "application/x-www-form-urlencoded")],
    );
    // followed to `/`, not to the other site
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("<h1>Models</h1>"), "{}", reply.body);
}

/// Sign in at the login form; the session cookie (`name=value`) it sets.
fn sign_in(server: &TestServer) -> String {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{}/login", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={TOKEN}&next=%2Falerts").into_bytes())
        .unwrap();
    let response = agent.run(request).unwrap();
    assert_eq!(response.status().as_u16(), 303, "the login redirects");
    let set = response.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
    assert!(set.starts_with("tailwatch_session=tws_"), "{set}");
    assert!(!set.contains(TOKEN), "the cookie must not hold the token: {set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Max-Age=43200"),
        "{set}"
    );
    set.split(';').next().unwrap().to_string()
}

/// The model page's time axis: by version (the default) or by window, each point one version's
/// window; a bad axis is a 400 page.
#[test]
fn charts_run_by_version_or_by_window() {
    let server = start();
    server.push("chat", "v1", "?window=2026-11-01", &diverse_docs(80, 1), None);
    server.push("chat", "v1", "?window=2026-11-02", &diverse_docs(80, 2), None);
    server.push("chat", "v2", "?window=2026-11-02", &diverse_docs(80, 3), None);
    let by_version = server.get("/models/chat").body;
    assert!(by_version.contains("time axis: <strong>version</strong> · <a href=\"?by=window\">window</a>"));
    assert!(by_version.contains("data-version=\"v1\""));
    let by_window = server.get("/models/chat?by=window");
    assert_eq!(by_window.status, 200);
    for label in ["2026-11-01 v1", "2026-11-02 v1", "2026-11-02 v2"] {
        assert!(by_window.body.contains(&format!("data-version=\"{label}\"")), "{label}: {}", by_window.body);
    }
    let bad = server.get("/models/chat?by=month");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("parameter `by` must be `version` or `window`"), "{}", bad.body);
}
