//! Test harness: a server on a loopback port with a temporary database, and a small HTTP client.
#![allow(dead_code)]
use std::sync::Arc;
use std::time::Duration;

use tailwatch_core::{Tokenizer, TokenizerSpec};
use tailwatch_metrics::{ProfileBuilder, ProfileConfig};
use tailwatch_server::{AppState, RetryPolicy, ServerConfig, SqliteStore, TokenCheck};

pub const TOKEN: &str = "test-token-0123";

/// A running server; dropping it stops the server.
pub struct TestServer {
    pub base: String,
    pub dir: tempfile::TempDir,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// Start a server with `config` (fast webhook retries by default).
pub fn start_with(config: ServerConfig) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("watch.db")).unwrap().with_max_decoded(config.max_decoded);
    let engine = tailwatch::Engine::new(Some(2)).unwrap();
    let store = store.with_engine(engine.clone());
    let state = Arc::new(AppState {
        engine,
        store: Arc::new(store),
        token: TokenCheck::new(TOKEN),
        sessions: Default::default(),
        decoding: tailwatch_server::profiles::DecodeBudget::new(config.limits.decode_budget),
        config,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    runtime.spawn(tailwatch_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    TestServer { base: format!("http://{addr}"), dir, runtime: Some(runtime), stop: Some(stop) }
}

/// Start a server with test defaults: webhooks retried after 50 ms, polled every 50 ms.
/// A server whose reads are public (most tests read without the token; the default, private
/// reads, has its own test).
pub fn start() -> TestServer {
    start_with(ServerConfig {
        public_reads: true,
        retry: RetryPolicy {
            base: Duration::from_millis(50),
            max_delay: Duration::from_millis(200),
            max_attempts: 4,
            timeout: Duration::from_secs(2),
            poll: Duration::from_millis(50),
        },
        ..ServerConfig::default()
    })
}

/// A response: status and body.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    /// The `error.message` of an error reply.
    pub fn message(&self) -> String {
        self.json()["error"]["message"].as_str().unwrap_or_default().to_string()
    }
}

/// An HTTP client that returns error statuses as replies (keep-alive: hold one per thread).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Send a request. `token`: whether to send the bearer token.
pub fn call(method: &str, url: &str, body: Option<&[u8]>, token: bool, headers: &[(&str, &str)]) -> Reply {
    let agent = agent();
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    if token {
        builder = builder.header("authorization", format!("Bearer {TOKEN}"));
    }
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder.body(body.map(<[u8]>::to_vec).unwrap_or_default()).unwrap();
    let mut response = agent.run(request).unwrap();
    Reply {
        status: response.status().as_u16(),
        body: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

impl TestServer {
    pub fn get(&self, path: &str) -> Reply {
        call("GET", &format!("{}{path}", self.base), None, false, &[])
    }
    pub fn send(&self, method: &str, path: &str, body: &str) -> Reply {
        call(method, &format!("{}{path}", self.base), Some(body.as_bytes()), true, &[])
    }
    /// Push a profile of `docs` to model/version (cohort, window) with an optional idempotency key.
    pub fn push(&self, model: &str, version: &str, query: &str, docs: &[String], key: Option<&str>) -> Reply {
        let bytes = profile_bytes(docs);
        let mut headers = vec![("content-type", "application/octet-stream")];
        if let Some(k) = key {
            headers.push(("idempotency-key", k));
        }
        call(
            "POST",
            &format!("{}/api/v1/models/{model}/versions/{version}/profiles{query}", self.base),
            Some(&bytes),
            true,
            &headers,
        )
    }
}

/// A `.twp` profile of `docs` (words tokenizer, the CLI's defaults).
pub fn profile_bytes(docs: &[String]) -> Vec<u8> {
    let spec = TokenizerSpec::words();
    let tokenizer = Tokenizer::from_spec(&spec).unwrap();
    let mut profile = ProfileBuilder::new(&tokenizer, ProfileConfig::new(spec));
    for d in docs {
        profile.observe(d).unwrap();
    }
    profile.finish().to_bytes().unwrap()
}

/// `n` varied documents (a healthy model) from a seed.
pub fn diverse_docs(n: usize, seed: u64) -> Vec<String> {
    let words = [
        "river", "stone", "light", "quiet", "engine", "garden", "signal", "winter", "copper", "market",
        "thread", "silver", "orbit", "meadow", "lantern", "harbor", "velvet", "canyon", "ember", "prism",
        "tundra", "violet", "anchor", "falcon", "summit", "glacier", "ripple", "cobalt", "willow", "beacon",
    ];
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    (0..n)
        .map(|_| {
            let len = 8 + next() % 10;
            (0..len).map(|_| words[next() % words.len()]).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// `n` near-identical documents (a collapsed model).
pub fn collapsed_docs(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("the answer is the same answer as always {}", i % 3)).collect()
}
