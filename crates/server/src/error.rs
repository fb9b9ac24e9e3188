//! The one error type at the HTTP edge. Features return it (or convert into it); it becomes the JSON body
//! `{ "code", "message", "fields"? }` with a stable code. Unexpected errors are logged once with their
//! cause chain and answered with a bare 500.
//!
//! Which error type belongs where:
//! - engine (crates/engine): a `thiserror` enum per operation, whose variants are the outcomes a caller
//!   acts on (`backup::BackupError`, `backup::DumpError`, `restore::RestoreError` with its stable
//!   `code()`, `pg::ProbeError`). Their `Display` is the operator's message; nothing is flattened into a
//!   string before it reaches the server.
//! - server services: `AppError` for anything a request can cause (validation, not found, conflict),
//!   `AppError::Internal(anyhow::Error)` for the rest, built with `.context("what was being done")` so
//!   the log keeps the cause chain. Background runs map engine outcomes to the catalog (a run's status
//!   and message) in their runner; their own failures are typed there (`executions::runner::Failure`).
//! - startup and the CLI: `anyhow::Result` with `.context` on every fallible step; the process prints
//!   the chain and exits non-zero.
//! - catalog outages: `is_unreachable` (catalog/watch.rs) tells them from query faults; they become
//!   `CatalogUnavailable` (503 + Retry-After) here, never a 500.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use pgward_api_types::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(BTreeMap<String, String>),
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("email or password is wrong")]
    InvalidCredentials,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("this route does not take that method; it takes {}", .0.join(", "))]
    MethodNotAllowed(Vec<String>),
    #[error("{0}")]
    Conflict(String),
    #[error("setup was already done: log in instead")]
    AlreadySetUp,
    #[error("pgward needs at least one active administrator: make another user admin first")]
    LastAdmin,
    #[error("{0}")]
    DatabaseInUse(String),
    #[error(
        "the setup code is missing or wrong: it is in pgward's log (\"first-user setup code\")"
    )]
    SetupCodeInvalid,
    #[error("too many attempts: retry in {0} s")]
    RateLimited(u64),
    #[error("the request body is too large (limit {0} bytes)")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    ConnectionTestFailed(String),
    #[error("{0}")]
    NoSuitableClient(String),
    #[error("pgward is starting up; retry in a moment")]
    NotReady,
    #[error("address not allowed: {0}")]
    AddressNotAllowed(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("pgward's catalog database does not answer; retry in a moment")]
    CatalogUnavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A 422 with one field message.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        Self::Validation(BTreeMap::from([(name.to_string(), message.into())]))
    }

    /// 409 for a second resource of `kind` under `name`: display names are unique per kind, regardless
    /// of case (`validate::name_key`).
    pub fn name_taken(kind: &str, name: &str) -> Self {
        Self::Conflict(format!("a {kind} named \"{name}\" exists already"))
    }

    /// The error of a write that sets a name: a unique violation means another request took `name`
    /// between the check before the write (`validate::ensure_name_free`) and the write itself.
    pub fn unique_name(e: sea_orm::DbErr, kind: &str, name: &str) -> Self {
        match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Self::name_taken(kind, name),
            _ => e.into(),
        }
    }

    /// The error of deleting a resource of `kind` that backup tasks refer to: a foreign-key violation
    /// means some still do.
    pub fn used_by_tasks(e: sea_orm::DbErr, kind: &str) -> Self {
        match e.sql_err() {
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => Self::Conflict(format!(
                "this {kind} is used by backup tasks; change or delete those tasks first"
            )),
            _ => e.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::Unauthorized => ErrorCode::Unauthorized,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::AlreadySetUp => ErrorCode::AlreadySetUp,
            Self::LastAdmin => ErrorCode::LastAdmin,
            Self::DatabaseInUse(_) => ErrorCode::DatabaseInUse,
            Self::SetupCodeInvalid => ErrorCode::SetupCodeInvalid,
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::ConnectionTestFailed(_) => ErrorCode::ConnectionTestFailed,
            Self::NoSuitableClient(_) => ErrorCode::NoSuitableClient,
            Self::NotReady => ErrorCode::NotReady,
            Self::AddressNotAllowed(_) => ErrorCode::AddressNotAllowed,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::CatalogUnavailable => ErrorCode::CatalogUnavailable,
            Self::Internal(e) if crate::catalog::watch::chain_is_unreachable(e) => {
                ErrorCode::CatalogUnavailable
            }
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    fn body(&self) -> ApiError {
        let (message, fields) = match self {
            Self::Validation(fields) => {
                let list: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                (
                    format!("validation failed: {}", list.join("; ")),
                    Some(fields.clone()),
                )
            }
            Self::Internal(e) if crate::catalog::watch::chain_is_unreachable(e) => {
                (Self::CatalogUnavailable.to_string(), None)
            }
            Self::Internal(_) => (
                "internal error; details are in the server log".to_string(),
                None,
            ),
            other => (other.to_string(), None),
        };
        ApiError {
            code: self.code(),
            message,
            fields,
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        // An outage is not a fault of this request: 503, and the catalog watch logs it once.
        if crate::catalog::watch::is_unreachable(&e) {
            return Self::CatalogUnavailable;
        }
        Self::Internal(anyhow::Error::new(e).context("catalog query failed"))
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(e: sea_orm::TransactionError<AppError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_)
            | Self::ConnectionTestFailed(_)
            | Self::NoSuitableClient(_)
            | Self::AddressNotAllowed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Forbidden(_) | Self::SetupCodeInvalid => StatusCode::FORBIDDEN,
            Self::Conflict(_) | Self::AlreadySetUp | Self::LastAdmin | Self::DatabaseInUse(_) => {
                StatusCode::CONFLICT
            }
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotReady | Self::CatalogUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(e) if crate::catalog::watch::chain_is_unreachable(e) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(e) = self
            && !crate::catalog::watch::chain_is_unreachable(e)
        {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let mut resp = HttpResponse::build(self.status_code());
        if self.code() == ErrorCode::CatalogUnavailable {
            // Clients retry; the catalog watch says it once in the log (not a line per request).
            resp.insert_header(("Retry-After", "2"));
        }
        if let Self::MethodNotAllowed(allow) = self {
            resp.insert_header(("Allow", allow.join(", ")));
        }
        if let Self::RateLimited(secs) = self {
            resp.insert_header(("Retry-After", secs.to_string()));
        }
        if matches!(self, Self::Unauthorized | Self::InvalidCredentials) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        resp.json(self.body())
    }
}

/// Turns actix's extractor errors (bad JSON, wrong content type, too large, bad query) into our shape.
pub fn json_error(err: actix_web::error::JsonPayloadError, limit: usize) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let app = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => AppError::PayloadTooLarge(limit),
        J::ContentType => {
            AppError::BadRequest("the body must be JSON (Content-Type: application/json)".into())
        }
        J::Deserialize(e) if e.is_data() => {
            AppError::Validation(BTreeMap::from([("body".to_string(), e.to_string())]))
        }
        J::Deserialize(e) => AppError::BadRequest(format!("malformed JSON: {e}")),
        other => AppError::BadRequest(format!("unreadable body: {other}")),
    };
    app.into()
}

pub fn query_error(err: actix_web::error::QueryPayloadError) -> actix_web::Error {
    AppError::BadRequest(format!("invalid query parameters: {err}")).into()
}

pub fn path_error(
    _err: actix_web::error::PathError,
    req: &actix_web::HttpRequest,
) -> actix_web::Error {
    // `PATCH /databases/test-connection` reached `PATCH /databases/{id}`: the path is another route's,
    // which does not take this method (405).
    let methods = crate::auth::policy::methods_at(req.path());
    if !methods.is_empty() && !methods.iter().any(|m| m == req.method().as_str()) {
        return AppError::MethodNotAllowed(methods).into();
    }
    // An id that does not parse names nothing that exists.
    AppError::NotFound("resource").into()
}
