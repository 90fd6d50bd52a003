//! Query strings and path segments of the watch server, through its whole router: byte 0 picks
//! a GET route, the rest is a path segment (for `{model}`, `{key}` or `{id}`) up to the first
//! `\n`, then the query string. No request may give a server error. Besides: a model name that
//! `check_name` accepts is served back at its percent-encoded path, and sign-in's `next` only
//! ever leads to a path of this site (`safe_next`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailwatch_fuzz::server::{Server, assert_not_server_error, key, uri_text};
use tailwatch_server::percent_encode;

const ROUTES: &[&str] = &[
    "/api/v1/models",
    "/api/v1/models/{}",
    "/api/v1/models/{}/versions",
    "/api/v1/models/{}/versions/v1",
    "/api/v1/models/m/versions/{}",
    "/api/v1/models/{}/versions/v2/profile",
    "/api/v1/models/{}/series",
    "/api/v1/models/{}/compare",
    "/api/v1/models/{}/baseline",
    "/api/v1/pushes/{}",
    "/api/v1/rules",
    "/api/v1/rules/{}",
    "/api/v1/alerts",
    "/api/v1/alerts/{}",
    "/api/v1/webhooks",
    "/api/v1/webhooks/{}/deliveries",
    "/",
    "/models/{}",
    "/models/{}/compare",
    "/alerts",
    "/login",
];

fn check_next(next: &str) {
    let safe = tailwatch_server::dashboard::safe_next(Some(next));
    assert!(safe == "/" || safe == next, "{next:?} became {safe:?}");
    assert!(safe.starts_with('/') && !safe.starts_with("//") && !safe.contains('\\'), "{next:?}: {safe:?}");
    let uri: axum::http::Uri = format!("http://here{safe}").parse().expect("a safe path is a URI path");
    assert_eq!(uri.host(), Some("here"), "{next:?} leaves the site");
    let decoded: Vec<u8> = {
        let b = safe.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            // both digits hex, as safe_next decodes (`u8::from_str_radix` alone takes a `+`)
            let hex = b.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
            match (b[i], hex.and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
                (b'%', Some(v)) => {
                    out.push(v);
                    i += 3;
                }
                (c, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        out
    };
    assert!(!decoded.starts_with(b"//") && !decoded.contains(&b'\\'), "{next:?} decodes to {decoded:?}");
    assert!(!decoded.iter().any(|&c| c < 0x20 || c == 0x7f), "{next:?} decodes to a control character");
}

fuzz_target!(|data: &[u8]| {
    let Some((&route, rest)) = data.split_first() else { return };
    let (segment, query) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &rest[..0]),
    };
    let name = String::from_utf8_lossy(segment);
    check_next(&name);
    let server = Server::new();
    let segment = if segment.is_empty() { "m".to_string() } else { percent_encode(&name) };
    let path = ROUTES[usize::from(route) % ROUTES.len()].replace("{}", &segment);
    let uri = if query.is_empty() { path } else { format!("{path}?{}", uri_text(query)) };
    let (status, reply) = server.call("GET", &uri, b"", None);
    assert_not_server_error(&format!("GET {uri}"), status, &reply);
    if tailwatch_server::rules::check_name("model", &name).is_ok() && name != "m" {
        server.push(&key(&name, "v1"), Server::profile(0));
        let path = format!("/api/v1/models/{}", percent_encode(&name));
        let (status, reply) = server.call("GET", &path, b"", None);
        assert_eq!(
            status,
            200,
            "model {name:?} was pushed but GET {path} is {status}: {}",
            String::from_utf8_lossy(&reply)
        );
    }
});
