//! The error type, its problem body and the rendering of every error answer.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use commands::store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field that broke a rule: `field` is a dotted path into the request body
/// (`items[2].quantity`), or the query parameter's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read (not JSON, wrong content type, a bad header).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 400 `invalid_query`: query parameters that are unknown, repeated or malformed;
    /// `errors` names each one.
    #[error("{}", joined(.0))]
    InvalidQuery(Vec<FieldError>),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 402: the payment was refused (e.g. `card_declined`); the order stays payable.
    #[error("{detail}")]
    PaymentRequired { code: String, detail: String },
    /// 403: valid credentials, not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 403 with a code of its own: allowed to ask, refused by a rule about who the caller
    /// is (`not_verified_buyer`: only a buyer who received a product reviews it).
    #[error("{detail}")]
    Refused { code: &'static str, detail: String },
    /// 404: no such resource or route.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists, not with this method. The router adds `Allow`.
    #[error("this route does not answer {method}")]
    MethodNotAllowed { method: String },
    /// 409: the resource is not in a state (or version) that allows the command.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// 413: the body is larger than `MAX_BODY_BYTES`.
    #[error("the request body is larger than the server accepts")]
    PayloadTooLarge,
    /// 422: well-formed, but breaks a rule; `errors` names the fields.
    #[error("{detail}")]
    UnprocessableEntity {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 429: slow down; `Retry-After` says for how long (whole seconds, at least 1).
    #[error("{detail}")]
    TooManyRequests {
        code: &'static str,
        detail: String,
        retry_after: Duration,
    },
    /// 503: a dependency is down or behind. `detail` is shown to the client, so it must be
    /// written for them (driver errors go through [`ApiError::unavailable`], which logs).
    #[error("{detail}")]
    ServiceUnavailable { code: &'static str, detail: String },
    /// 503 `busy`: the server is at its bound for costly work (password hashing); retry
    /// after `Retry-After`.
    #[error("the server is busy; retry shortly")]
    Busy { retry_after: Duration },
    /// 500: a bug or an unexpected failure. The message is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// A 400 `invalid_query` naming one query parameter.
    pub fn invalid_query(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::InvalidQuery(vec![FieldError::new(field, message)])
    }

    /// The `limit` and `offset` of a list query, as docs/api.md bounds them: limit 1 to 100
    /// (default 20), offset not negative (default 0).
    pub fn page(limit: Option<i64>, offset: Option<i64>) -> Result<(i64, i64), ApiError> {
        let limit = limit.unwrap_or(20);
        let offset = offset.unwrap_or(0);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::invalid_field("limit", "must be 1 to 100"));
        }
        if offset < 0 {
            return Err(ApiError::invalid_field("offset", "must not be negative"));
        }
        Ok((limit, offset))
    }

    /// A 422 naming one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        ApiError::UnprocessableEntity {
            code: "validation_failed",
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    /// A 500 whose cause goes to the log.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// A 503 for a dependency that failed: the cause is logged, the client reads a generic
    /// sentence and the stable `code`.
    pub fn unavailable(code: &'static str, cause: impl std::fmt::Display) -> Self {
        tracing::warn!(%code, cause = %cause, "dependency unavailable");
        ApiError::ServiceUnavailable {
            code,
            detail: "a service this request needs is unavailable; retry shortly".into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } | ApiError::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::PaymentRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            ApiError::Forbidden(_) | ApiError::Refused { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnprocessableEntity { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::ServiceUnavailable { .. } | ApiError::Busy { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable name of the error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::UnprocessableEntity { code, .. }
            | ApiError::TooManyRequests { code, .. }
            | ApiError::ServiceUnavailable { code, .. }
            | ApiError::Refused { code, .. } => code,
            // The provider's decline codes are an open set; these are the ones we know.
            ApiError::PaymentRequired { code, .. } => match code.as_str() {
                "card_declined" => "card_declined",
                "invalid_token" => "invalid_token",
                _ => "payment_declined",
            },
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::Unauthorized(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Busy { .. } => "busy",
            ApiError::Internal(_) => "internal",
        }
    }
}

/// The body of every error answer (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://ultramarket.dev/problems/invalid_body",
    "title": "Unprocessable Entity",
    "status": 422,
    "detail": "quantity: invalid type: string \"two\", expected u32",
    "code": "invalid_body",
    "errors": [{"field": "quantity", "message": "invalid type: string \"two\", expected u32"}]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("https://ultramarket.dev/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after, .. } | ApiError::Busy { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        };
        let mut problem = match self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                Problem::new(
                    status,
                    code,
                    "the server failed to answer; the error was logged",
                )
            }
            ApiError::UnprocessableEntity { detail, errors, .. } => {
                let mut p = Problem::new(status, code, detail);
                p.errors = errors;
                p
            }
            ApiError::InvalidQuery(errors) => {
                let mut p = Problem::new(status, code, joined(&errors));
                p.errors = errors;
                p
            }
            other => Problem::new(status, code, other.to_string()),
        };
        if status.is_client_error() {
            tracing::debug!(status = status.as_u16(), code, detail = %problem.detail, "request refused");
        }
        problem.kind = format!("https://ultramarket.dev/problems/{code}");
        let mut response = problem.into_response();
        if let Some(after) = retry_after {
            // Rounded up: a client that waits the whole seconds it was told is let in.
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

/// `field: message` of each error, for a problem's `detail`.
fn joined(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The event store's failures, as a client should see them.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::WrongExpectedVersion { .. } => ApiError::conflict(
                "version_conflict",
                "the resource changed since it was read; reload and retry",
            ),
            StoreError::DuplicateEventId { .. } => ApiError::conflict(
                "duplicate_command",
                "this command was already applied with different content",
            ),
            StoreError::InvalidInput { field, reason } => ApiError::invalid_field(field, reason),
            StoreError::Unavailable(cause) => ApiError::unavailable("store_unavailable", cause),
            StoreError::Corrupt(cause) => ApiError::internal(format!("corrupt event: {cause}")),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                ApiError::unavailable("database_unavailable", e)
            }
            other => ApiError::internal(other),
        }
    }
}

/// Maps one named unique constraint to the error a client should see; realworld-axum-sqlx's
/// `on_constraint`. Read models rarely need it (the write side enforces uniqueness, see
/// invariant 7), but tables owned by the gateway (sessions, idempotency keys) do.
pub trait ResultExt<T> {
    fn on_unique_violation(
        self,
        constraint: &str,
        to_error: impl FnOnce() -> ApiError,
    ) -> Result<T, ApiError>;
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn on_unique_violation(
        self,
        constraint: &str,
        to_error: impl FnOnce() -> ApiError,
    ) -> Result<T, ApiError> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db)
                if db.is_unique_violation() && db.constraint() == Some(constraint) =>
            {
                to_error()
            }
            _ => ApiError::from(e),
        })
    }
}

/// Renders the error answers the framework and tower layers make on their own (a 405
/// from routing, a 413 from the body limit, a 408 from a timeout) as problem bodies, so
/// no error leaves in another shape. Headers such as `Allow` and `Retry-After` stay.
/// Handlers should still answer errors with [`ApiError`]: this is the safety net.
pub async fn render_bare_errors(mut response: Response) -> Response {
    let status = response.status();
    // A 413 is answered before the body is read, so the rest of it is still on the wire
    // and the connection cannot carry another request: say so, rather than leave a
    // keep-alive client writing its next request into a connection the server drops.
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    // Framework answers have no body or a text/plain one; a handler that answers an error
    // status with a JSON body of its own (the readiness report) meant that body.
    let bare = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !bare {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        StatusCode::INTERNAL_SERVER_ERROR => "internal",
        _ => "http_error",
    };
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than the server accepts",
        s if s.is_server_error() => "the server failed to answer; the error was logged",
        s => s.canonical_reason().unwrap_or("the request failed"),
    };
    let problem = Problem::new(status, code, detail).into_response();
    let (problem_parts, body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
        if let Some(value) = problem_parts.headers.get(&name) {
            parts.headers.insert(name, value.clone());
        }
    }
    Response::from_parts(parts, body)
}

/// Turns a panic in a handler into a logged 500 problem instead of a dropped connection.
pub fn panic_to_problem(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(format!("handler panicked: {message}")).into_response()
}

impl ApiError {
    /// A 422 for a line whose variant does not fit its product, carts and orders alike:
    /// `variant_required`, `unknown_variant` or `product_has_no_variants`, naming `field`.
    pub fn variant_refused(
        field: impl Into<String>,
        refusal: domain::catalog::VariantRefusal,
    ) -> Self {
        let error = FieldError::new(field, refusal.to_string());
        ApiError::UnprocessableEntity {
            code: refusal.code(),
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }
}
