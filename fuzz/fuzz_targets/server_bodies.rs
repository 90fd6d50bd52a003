//! Request bodies of the watch server, through its whole router: byte 0 picks the route, the
//! rest is a query string up to the first `\n` and then the body (a pushed profile is framed
//! by `tailwatch_fuzz::twp_input`). No body may give a server error: a bad one is a 4xx.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailwatch_fuzz::server::{Server, assert_not_server_error, uri_text};

/// Method, path and content type of every route that takes a body.
const ROUTES: &[(&str, &str, &str)] = &[
    ("POST", "/api/v1/models/m/versions/v3/profiles", "application/octet-stream"),
    ("POST", "/api/v1/models/m/versions/v3/outputs", "application/x-ndjson"),
    ("POST", "/api/v1/models/m/versions/v1/outputs", "application/x-ndjson"),
    ("PUT", "/api/v1/models/m/baseline", "application/json"),
    ("POST", "/api/v1/models/m/baseline/freeze", "application/json"),
    ("PUT", "/api/v1/models/m/baseline/reference", "application/x-ndjson"),
    ("PUT", "/api/v1/models/m/baseline/reference", "application/octet-stream"),
    ("POST", "/api/v1/rules", "application/json"),
    ("PUT", "/api/v1/rules/1", "application/json"),
    ("POST", "/api/v1/alerts/1/acknowledge", "application/json"),
    ("POST", "/api/v1/webhooks", "application/json"),
    ("POST", "/login", "application/x-www-form-urlencoded"),
    ("POST", "/alerts/1/acknowledge", "application/x-www-form-urlencoded"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&route, rest)) = data.split_first() else { return };
    let (method, path, content_type) = ROUTES[usize::from(route) % ROUTES.len()];
    let (query, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (&rest[..0], rest),
    };
    let body = if content_type == "application/octet-stream" {
        tailwatch_fuzz::twp_input(body)
    } else {
        body.to_vec()
    };
    let uri = if query.is_empty() { path.to_string() } else { format!("{path}?{}", uri_text(query)) };
    let server = Server::new();
    let (status, reply) = server.call(method, &uri, &body, Some(content_type));
    assert_not_server_error(&format!("{method} {uri}"), status, &reply);
    // what was stored reads back
    for read in
        ["/api/v1/models/m", "/api/v1/models/m/versions", "/api/v1/rules", "/api/v1/alerts", "/models/m"]
    {
        let (status, reply) = server.call("GET", read, b"", None);
        assert_not_server_error(&format!("GET {read} after {method} {uri}"), status, &reply);
    }
});
