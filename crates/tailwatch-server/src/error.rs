//! Errors as data: the store's, the rules' and the profiles' (none knows HTTP), and the API's, where
//! each maps to its HTTP status and JSON body (the `From` impls at the end: the one place).
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
    /// A rule or a name that is invalid.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// A profile that cannot be decoded, merged or scored.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Something the request names is not stored.
    #[error(transparent)]
    NotFound(#[from] Missing),
    /// The request conflicts with what is stored.
    #[error(transparent)]
    Conflict(#[from] Conflict),
}

/// A rule, or a model, version, cohort or window name, that the server refuses.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// A metric id that is not in the catalog.
    #[error("field `metric`: unknown metric id `{id}` (see `tailwatch metrics`)")]
    UnknownMetric {
        /// The id.
        id: String,
    },
    /// A number that is NaN or infinite.
    #[error("field `{field}` must be a finite number")]
    NotFinite {
        /// The field.
        field: &'static str,
    },
    /// A fixed or relative rule without its threshold.
    #[error("field `threshold` is required for a {} rule{}", kind_name(*.kind), if matches!(.kind, crate::types::RuleKind::Relative) { " (0.1 = 10 %)" } else { "" })]
    NoThreshold {
        /// The rule's kind.
        kind: crate::types::RuleKind,
    },
    /// A rule that names no model.
    #[error("field `model` is required: the model the rule watches, or `*` for every model")]
    NoModel,
    /// A relative rule with a negative threshold.
    #[error("field `threshold` of a relative rule must be ≥ 0")]
    NegativeRelative,
    /// An adaptive rule with k ≤ 0.
    #[error("field `k` must be > 0")]
    NonPositiveK,
    /// `open_after` or `resolve_after` of 0.
    #[error("field `{field}` must be ≥ 1")]
    ZeroHysteresis {
        /// The field.
        field: &'static str,
    },
    /// A name that is empty or longer than 200 bytes.
    #[error("field `{field}` must be 1-200 bytes long")]
    NameLength {
        /// The field.
        field: &'static str,
    },
    /// A name with `/`, control characters, or `*`.
    #[error("field `{field}`: `{value}` is not allowed (no `/`, no control characters, not `*`)")]
    NameForbidden {
        /// The field.
        field: &'static str,
        /// The name, escaped.
        value: String,
    },
}

fn kind_name(kind: crate::types::RuleKind) -> &'static str {
    match kind {
        crate::types::RuleKind::Fixed => "fixed",
        crate::types::RuleKind::Relative => "relative",
        crate::types::RuleKind::Adaptive => "adaptive",
    }
}

/// A profile the server cannot decode, merge or score.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// A body that is not a `.twp` profile.
    #[error("the body is not a tailwatch profile: {0}")]
    NotAProfile(#[source] tailwatch_metrics::Error),
    /// A profile made with a tokenizer file the server does not have.
    #[error(
        "profiles tokenized with `{tokenizer}` cannot be scored on the server (it does not have the tokenizer file); push with a built-in tokenizer (words, whitespace, python-split, items)"
    )]
    TokenizerUnavailable {
        /// The profile's tokenizer.
        tokenizer: String,
    },
    /// A `tokenizer` parameter that is not built in.
    #[error(
        "parameter `tokenizer`: `{name}` is not a built-in tokenizer (words, whitespace, python-split, items)"
    )]
    UnknownTokenizer {
        /// The name given.
        name: String,
    },
    /// Uploaded outputs that cannot be read or profiled.
    #[error(transparent)]
    Outputs(tailwatch::Error),
    /// Uploaded outputs without a record.
    #[error("the body holds no records")]
    NoRecords,
    /// A pushed profile that cannot merge with what its key holds.
    #[error(
        "the profile cannot be merged with what this key already holds: {0} (push with the same tokenizer and sample settings)"
    )]
    Unmergeable(#[source] tailwatch_metrics::Error),
    /// Computing a profile's metrics failed.
    #[error(transparent)]
    Metrics(tailwatch::Error),
}

/// What a request named that is not stored.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Missing {
    /// A model nobody pushed to.
    #[error("no model `{model}` (push to it first)")]
    Model {
        /// The model.
        model: String,
    },
    /// A version of a model (of one cohort, when named).
    #[error("model `{model}` has no version `{version}`{}", .cohort.as_ref().map(|c| format!(" (cohort `{c}`)")).unwrap_or_default())]
    Version {
        /// The model.
        model: String,
        /// The version.
        version: String,
        /// The cohort, when the request named one.
        cohort: Option<String>,
    },
    /// A model without a baseline.
    #[error("model `{model}` has no baseline")]
    Baseline {
        /// The model.
        model: String,
    },
    /// A rule id.
    #[error("no rule {0}")]
    Rule(i64),
    /// An alert id.
    #[error("no alert {0}")]
    Alert(i64),
    /// A webhook id.
    #[error("no webhook {0}")]
    Webhook(i64),
}

impl Missing {
    /// A missing version, as a store error.
    pub fn version(model: &str, version: &str, cohort: Option<&str>) -> StoreError {
        StoreError::NotFound(Missing::Version {
            model: model.to_string(),
            version: version.to_string(),
            cohort: cohort.map(str::to_string),
        })
    }
}

/// How a request conflicts with what is stored.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Conflict {
    /// A pushed profile that cannot merge with the version's profile.
    #[error(
        "the profile cannot be merged with what {model}/{version} already holds: {reason} (push with the same tokenizer and sample settings)"
    )]
    Unmergeable {
        /// The model.
        model: String,
        /// The version.
        version: String,
        /// Why not.
        reason: String,
    },
    /// An idempotency key already used for another push.
    #[error("idempotency key `{key}` was used for {}/{} (cohort {}, window {})", .used_for.model, .used_for.version, .used_for.cohort, .used_for.window)]
    KeyReused {
        /// The key.
        key: String,
        /// The push it was used for.
        used_for: crate::types::PushKey,
    },
    /// Freezing a frozen baseline.
    #[error("the baseline of `{model}` is already frozen")]
    BaselineFrozen {
        /// The model.
        model: String,
    },
    /// Acknowledging a resolved alert.
    #[error("alert {0} is resolved; nothing to acknowledge")]
    AlertResolved(i64),
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

/// The HTTP answer to a store error: the one place store errors get a status.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(missing) => ApiError::not_found(missing.to_string()),
            StoreError::Rule(rule) => rule.into(),
            StoreError::Profile(profile) => profile.into(),
            StoreError::Conflict(conflict) => ApiError::conflict(conflict.to_string()),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<RuleError> for ApiError {
    fn from(error: RuleError) -> Self {
        ApiError::bad_request(error.to_string())
    }
}

impl From<ProfileError> for ApiError {
    fn from(error: ProfileError) -> Self {
        match error {
            ProfileError::TokenizerUnavailable { .. } => ApiError::unprocessable(error.to_string()),
            ProfileError::Unmergeable(_) => ApiError::conflict(error.to_string()),
            ProfileError::Metrics(_) => ApiError::internal(error.to_string()),
            _ => ApiError::bad_request(error.to_string()),
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
