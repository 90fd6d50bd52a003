//! Errors of the store and of the API, with the HTTP status and JSON body each maps to.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database file is not a tailwatch server database.
    #[error("`{path}` is not a tailwatch server database (application_id {found:#x})")]
    NotOurs {
        /// The file.
        path: String,
        /// The application id found.
        found: i64,
    },
    /// The database was written by a newer tailwatch.
    #[error("`{path}` has schema version {found}; this tailwatch reads up to {supported}: upgrade tailwatch")]
    TooNew {
        /// The file.
        path: String,
        /// Its version.
        found: i64,
        /// Newest version this build reads.
        supported: i64,
    },
    /// The database file could not be opened.
    #[error(transparent)]
    Open(tailwatch_sqlite::Error),
    /// A stored profile could not be decoded.
    #[error("corrupt stored profile: {0}")]
    StoredProfile(#[source] tailwatch_metrics::Error),
    /// A profile could not be encoded for storage.
    #[error("cannot store the profile: {0}")]
    EncodeProfile(#[source] tailwatch_metrics::Error),
    /// A JSON column could not be written or read back.
    #[error("corrupt stored JSON: {0}")]
    StoredJson(#[from] serde_json::Error),
    /// A row that another row's data says must exist is missing.
    #[error("{table} row {rowid} has no pushes")]
    NoPushes {
        /// The table (`versions` or `models`).
        table: &'static str,
        /// The row.
        rowid: i64,
    },
    /// A baseline that names a version that is not stored.
    #[error("the baseline of `{model}` names a missing version")]
    BaselineMissing {
        /// The model.
        model: String,
    },
    /// The engine failed (computing metrics, or starting its pool).
    #[error(transparent)]
    Engine(#[from] tailwatch::Error),
    /// The request is invalid in the context of stored data.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// An API error: an HTTP status, a stable machine code and a human message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code, e.g. `bad_request`, `not_found`, `unauthorized`.
    pub code: &'static str,
    /// What went wrong, naming the field.
    pub message: String,
}

impl ApiError {
    /// 400: the request is malformed or a field is invalid.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code: "bad_request", message: message.into() }
    }
    /// 404: the named thing does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, code: "not_found", message: message.into() }
    }
    /// 401: a token is needed or was wrong.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self { status: StatusCode::UNAUTHORIZED, code: "unauthorized", message: message.into() }
    }
    /// 409: the request conflicts with stored state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self { status: StatusCode::CONFLICT, code: "conflict", message: message.into() }
    }
    /// 413: the body is over the size limit.
    pub fn too_large(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message: format!("the request body is over the limit of {limit} bytes"),
        }
    }
    /// 422: well-formed but unusable (an undecodable profile, a metric the server cannot compute).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self { status: StatusCode::UNPROCESSABLE_ENTITY, code: "unprocessable", message: message.into() }
    }
    /// 500: a server-side failure (the message is logged, not hidden).
    pub fn internal(message: impl Into<String>) -> Self {
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: message.into() }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Api(api) => api,
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, axum::Json(body)).into_response()
    }
}

/// Result of the store.
pub type StoreResult<T> = std::result::Result<T, StoreError>;
