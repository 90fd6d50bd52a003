//! A watch server in memory for the server targets: a fresh in-memory store per input (so a
//! crash reproduces from its input alone) holding two pushed versions of model `m` and a rule,
//! and requests sent through the whole router (extractors, auth, handlers, panic catching).
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tailwatch_metrics::Profile;
use tailwatch_server::db::Profiles as _;
use tailwatch_server::profiles::{RawOptions, profile_jsonl};
use tailwatch_server::types::PushKey;
use tailwatch_server::{AppState, ServerConfig, Sessions, SqliteStore, TokenCheck};
use tower::ServiceExt as _;

/// The server's token; every request carries it.
pub const TOKEN: &str = "fuzz-token";

static ENGINE: LazyLock<tailwatch::Engine> =
    LazyLock::new(|| tailwatch::Engine::new(Some(1)).expect("an engine"));

static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime"));

fn profile_of(lines: &str) -> Profile {
    let options = RawOptions { field: "text".into(), tokenizer: "words".into(), lowercase: false };
    profile_jsonl(&ENGINE, lines.as_bytes(), &options, None).expect("the seed outputs profile").0
}

static PROFILES: LazyLock<[Profile; 2]> = LazyLock::new(|| {
    [
        profile_of(
            "{\"text\": \"the cat sat on the mat\"}\n{\"text\": \"a dog ran after the cat\"}\n{\"text\": \"birds sing at dawn\"}\n",
        ),
        profile_of(
            "{\"text\": \"the the the cat\"}\n{\"text\": \"the the the cat\"}\n{\"text\": \"cat cat cat\"}\n",
        ),
    ]
});

/// The key of a push of `model`, version `version`.
pub fn key(model: &str, version: &str) -> PushKey {
    PushKey { model: model.into(), version: version.into(), cohort: "default".into(), window: "w1".into() }
}

/// A server with its dashboard session cookie.
pub struct Server {
    /// The whole application.
    pub router: Router,
    /// `Cookie` header of a signed-in dashboard session.
    pub cookie: String,
    state: Arc<AppState>,
}

impl Server {
    /// A fresh server: versions `v1` and `v2` of model `m`, and rule 1.
    pub fn new() -> Self {
        let store = SqliteStore::in_memory().expect("an in-memory store");
        for (version, profile) in ["v1", "v2"].into_iter().zip(PROFILES.iter()) {
            store.push(&key("m", version), None, profile.clone()).expect("the seed push");
        }
        let sessions = Sessions::new(Duration::from_secs(3600));
        let cookie = format!("{}={}", tailwatch_server::dashboard::COOKIE_NAME, sessions.start());
        let config = ServerConfig { max_body: 1 << 20, max_decoded: 16 << 20, ..ServerConfig::default() };
        let state = Arc::new(AppState {
            engine: ENGINE.clone(),
            store: Arc::new(store),
            token: TokenCheck::new(TOKEN),
            sessions,
            decoding: tailwatch_server::profiles::DecodeBudget::new(config.limits.decode_budget),
            config,
        });
        let server = Self { router: tailwatch_server::router(state.clone()), cookie, state };
        let rule = br#"{"model": "m", "metric": "distinct_2", "kind": "fixed", "threshold": 0.5}"#;
        let (status, body) = server.call("POST", "/api/v1/rules", rule, Some("application/json"));
        assert_eq!(status, StatusCode::CREATED, "the seed rule: {}", String::from_utf8_lossy(&body));
        server
    }

    /// Push `profile` straight into the store.
    pub fn push(&self, key: &PushKey, profile: Profile) {
        self.state.store.push(key, None, profile).expect("a push into the store");
    }

    /// A seed profile (0 or 1), for pushes.
    pub fn profile(index: usize) -> Profile {
        PROFILES[index].clone()
    }

    /// Send one request (with the token and the session cookie); its status and body. A `uri`
    /// that is not one is a 400, as the HTTP layer answers it before any handler.
    pub fn call(
        &self,
        method: &str,
        uri: &str,
        body: &[u8],
        content_type: Option<&str>,
    ) -> (StatusCode, Vec<u8>) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::COOKIE, &self.cookie);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let Ok(request) = request.body(Body::from(body.to_vec())) else {
            return (StatusCode::BAD_REQUEST, b"not a URI".to_vec());
        };
        RUNTIME.block_on(async {
            let response = self.router.clone().oneshot(request).await.expect("the router is infallible");
            let status = response.status();
            let bytes =
                axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body in memory");
            (status, bytes.to_vec())
        })
    }
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

/// `bytes` as the path-and-query of a URI: printable ASCII is kept as is (so `&`, `=` and
/// `%` escapes stay the fuzzer's), everything else, and `#`, is percent-encoded.
pub fn uri_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_graphic() && b != b'#' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Assert that a response is not a server error: a request that fails must be the client's
/// fault (4xx), never a panic or an unexpected failure (500).
pub fn assert_not_server_error(what: &str, status: StatusCode, body: &[u8]) {
    assert!(
        !status.is_server_error(),
        "{what}: {status} {}",
        String::from_utf8_lossy(&body[..body.len().min(2000)])
    );
}
