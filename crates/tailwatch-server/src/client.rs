//! A blocking client of the watch server's API, with typed answers: what `tailwatch push`, the
//! load generator (`examples/loadgen.rs`) and the tests use to talk to a server.
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::db::Totals;
use crate::types::{PushKey, PushOutcome};

/// `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The server's tailwatch version.
    pub version: String,
    /// What the server holds.
    pub totals: Totals,
}

/// An error answer's body: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Clone, Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server could not be reached, or the answer could not be read.
    #[error("cannot reach the server at {server}: {source}")]
    Unreachable {
        /// The server's address.
        server: String,
        /// The transport error.
        source: ureq::Error,
    },
    /// The server refused the request.
    #[error("the server refused the request (HTTP {status}, {code}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The API's error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// An answer that is not the JSON it should be.
    #[error(
        "the server answered HTTP {status} with something that is not the expected JSON ({reason}): {body:.200}"
    )]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// Why it does not parse.
        reason: String,
        /// The answer's start.
        body: String,
    },
}

/// How long connecting to a server may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A server, a token and a connection pool.
pub struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Client {
    /// A client of the server at `base` (`http://host:port`), sending `token` when given; a call
    /// gives up after `timeout`, and sooner when the server cannot be reached
    /// ([`CONNECT_TIMEOUT`]) so a CI job never waits long on a host that is down.
    pub fn new(base: &str, token: Option<String>, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(CONNECT_TIMEOUT.min(timeout)))
            .build()
            .into();
        Self { base: base.trim_end_matches('/').to_string(), token, agent }
    }

    /// `GET /api/v1/health`.
    pub fn health(&self) -> Result<Health, ClientError> {
        let request = self.agent.get(&format!("{}/api/v1/health", self.base));
        self.answer(request.call())
    }

    /// `POST /api/v1/models/{m}/versions/{v}/profiles?cohort&window`: push a `.twp` profile
    /// under an idempotency key (a retried push with the same key adds nothing).
    pub fn push_profile(
        &self,
        key: &PushKey,
        profile: &[u8],
        idempotency_key: &str,
    ) -> Result<PushOutcome, ClientError> {
        let url = format!(
            "{}/api/v1/models/{}/versions/{}/profiles?cohort={}&window={}",
            self.base,
            crate::percent_encode(&key.model),
            crate::percent_encode(&key.version),
            crate::percent_encode(&key.cohort),
            crate::percent_encode(&key.window)
        );
        let mut request = self
            .agent
            .post(&url)
            .header("idempotency-key", idempotency_key)
            .header("content-type", "application/octet-stream");
        if let Some(token) = &self.token {
            request = request.header("authorization", &format!("Bearer {token}"));
        }
        self.answer(request.send(profile))
    }

    fn answer<T: DeserializeOwned>(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, ClientError> {
        let unreachable = |source| ClientError::Unreachable { server: self.base.clone(), source };
        let mut response = response.map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(unreachable)?;
        if !(200..300).contains(&status) {
            return Err(match serde_json::from_str::<ErrorBody>(&body) {
                Ok(e) => ClientError::Refused { status, code: e.error.code, message: e.error.message },
                Err(e) => ClientError::Unexpected { status, reason: e.to_string(), body },
            });
        }
        serde_json::from_str(&body).map_err(|e| ClientError::Unexpected {
            status,
            reason: e.to_string(),
            body,
        })
    }
}
