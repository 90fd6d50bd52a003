//! The tailwatch watch server: profiles per model version over time, baselines, alert rules,
//! webhooks and a dashboard, over an HTTP API (axum) backed by SQLite.
#![deny(missing_docs)]
#![allow(missing_docs)] // handler functions are documented by the OpenAPI document instead

pub mod api;
pub mod auth;
pub mod client;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod groups;
pub mod openapi;
pub mod profiles;
pub mod rules;
pub mod types;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use auth::{Sessions, TokenCheck, TokenSource};
pub use db::{SqliteStore, Store};
pub use error::{ApiError, StoreError};
pub use webhooks::RetryPolicy;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Let anyone read (API and dashboard) without the token; by default reads need it too.
    pub public_reads: bool,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Largest decompressed profile, in bytes (a body may also expand at most
    /// [`tailwatch::MAX_PROFILE_EXPANSION`] times, see [`tailwatch::decoded_limit`]).
    pub max_decoded: usize,
    /// Webhook retries.
    pub retry: RetryPolicy,
    /// Connections, timeouts and the decoding budget.
    pub limits: Limits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            public_reads: false,
            max_body: 64 << 20,
            max_decoded: 1 << 30,
            retry: RetryPolicy::default(),
            limits: Limits::default(),
        }
    }
}

/// What a slow or crafted client can hold: 300 half-open connections were held indefinitely,
/// and six 134 KB profile bombs took the server to 6.3 GB.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most; past it a new connection is closed at once.
    pub max_connections: usize,
    /// A connection must send a request's headers within this (also after an idle keep-alive).
    pub header_timeout: std::time::Duration,
    /// A request (its body read and its answer computed) must finish within this: 408 after.
    pub request_timeout: std::time::Duration,
    /// Bytes that all profile decodings at once may decompress to; a decoding waits for its share.
    pub decode_budget: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(120),
            decode_budget: 1 << 30,
        }
    }
}

/// What every handler sees.
pub struct AppState {
    /// The engine: profiles and metrics are computed on its pool.
    pub engine: tailwatch::Engine,
    /// Storage.
    pub store: Arc<dyn Store>,
    /// The write token.
    pub token: TokenCheck,
    /// Dashboard sessions.
    pub sessions: Sessions,
    /// Settings.
    pub config: ServerConfig,
    /// Shares of [`Limits::decode_budget`] for the decodings in flight.
    pub decoding: profiles::DecodeBudget,
}

/// The whole application: API, dashboard, limits and panic handling.
pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/health", get(api::health))
        .route("/openapi.json", get(api::openapi_document))
        .route("/models", get(api::models))
        .route("/models/{model}", get(api::model))
        .route("/models/{model}/versions", get(api::versions))
        .route("/models/{model}/versions/{version}", get(api::version))
        .route("/models/{model}/versions/{version}/profiles", post(api::push_profile))
        .route("/models/{model}/versions/{version}/outputs", post(api::push_outputs))
        .route("/models/{model}/versions/{version}/profile", get(api::version_profile))
        .route("/models/{model}/versions/{version}/groups", get(groups::version_groups))
        .route("/models/{model}/series", get(api::series))
        .route("/models/{model}/groups/series", get(groups::group_series))
        .route("/models/{model}/compare", get(api::compare_versions))
        .route("/models/{model}/baseline", get(api::get_baseline).put(api::put_baseline))
        .route("/models/{model}/baseline/freeze", post(api::freeze_baseline))
        .route("/models/{model}/baseline/reference", axum::routing::put(api::put_reference))
        .route("/pushes/{key}", get(api::push_by_key))
        .route("/rules", get(api::list_rules).post(api::create_rule))
        .route("/rules/{id}", get(api::get_rule).put(api::update_rule).delete(api::delete_rule))
        .route("/alerts", get(api::list_alerts))
        .route("/alerts/{id}", get(api::get_alert))
        .route("/alerts/{id}/acknowledge", post(api::acknowledge))
        .route("/webhooks", get(api::list_webhooks).post(api::create_webhook))
        .route("/webhooks/{id}", axum::routing::delete(api::delete_webhook))
        .route("/webhooks/{id}/deliveries", get(api::deliveries))
        .fallback(api::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), api::authorize));
    let pages = Router::new()
        .route("/", get(dashboard::overview))
        .route("/models/{model}", get(dashboard::model_page))
        .route("/models/{model}/compare", get(dashboard::compare_page))
        .route("/alerts", get(dashboard::alerts_page))
        .route("/alerts/{id}/acknowledge", post(dashboard::acknowledge_form))
        .route("/login", get(dashboard::login_page).post(dashboard::login))
        .layer(axum::middleware::from_fn_with_state(state.clone(), dashboard::authorize));
    let request_timeout = state.config.limits.request_timeout;
    Router::new()
        .nest("/api/v1", api)
        .merge(pages)
        .layer(DefaultBodyLimit::max(state.config.max_body))
        .layer(axum::middleware::from_fn(move |request, next: axum::middleware::Next| async move {
            match tokio::time::timeout(request_timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => axum::response::IntoResponse::into_response(ApiError {
                    status: axum::http::StatusCode::REQUEST_TIMEOUT,
                    code: "request_timeout",
                    message: format!("the request took longer than {} s", request_timeout.as_secs()),
                }),
            }
        }))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::internal(
                "the server failed on this request",
            ))
        }))
        .with_state(state)
}

/// Percent-encode a URL path segment or query value (everything but unreserved characters).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn method_not_allowed() -> ApiError {
    ApiError {
        status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: "this endpoint does not take that method (see /api/v1/openapi.json)".into(),
    }
}

/// Serve until `shutdown` resolves; webhook deliveries run alongside.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let deliveries = tokio::spawn(webhooks::run(state.store.clone(), state.config.retry));
    let upkeep = tokio::spawn(compact_loop(state.store.clone()));
    let limits = state.config.limits;
    let app = router(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // out of file descriptors, say: wait a little instead of spinning
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream); // over the connection limit: closed at once
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(limits.header_timeout);
        let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    // requests in flight finish (each within the request timeout); idle connections close
    let _ = tokio::time::timeout(limits.request_timeout, graceful.shutdown()).await;
    deliveries.abort();
    upkeep.abort();
    Ok(())
}

/// Five times a second, merge a few pending pushes into their aggregates (off the request path).
async fn compact_loop(store: Arc<dyn Store>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let store = store.clone();
        // a few pushes at a time, so pushes waiting for the store's lock are not held up long
        let _ = tokio::task::spawn_blocking(move || store.compact(16)).await;
    }
}
