use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes. Clients match on these; the message is for humans and may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request body or parameters failed validation; see `fields`.
    ValidationFailed,
    /// The request could not be parsed (malformed JSON, wrong content type, bad path parameter).
    BadRequest,
    /// No or invalid credentials.
    Unauthorized,
    /// Email or password is wrong.
    InvalidCredentials,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// The resource does not exist.
    NotFound,
    /// The route exists, but not with this method; the `Allow` header lists those it has.
    MethodNotAllowed,
    /// The request conflicts with the current state (duplicate name, ...).
    Conflict,
    /// First-user setup was already done.
    AlreadySetUp,
    /// The change would leave no active administrator (demoting, disabling or deleting the last one).
    LastAdmin,
    /// Sessions are connected to a database that would be replaced, and ending them was not asked for.
    DatabaseInUse,
    /// First-user setup needs the one-time code from pgward's log, and it was missing or wrong.
    SetupCodeInvalid,
    /// Too many requests from this client; retry later.
    RateLimited,
    /// The request body is larger than the server accepts.
    PayloadTooLarge,
    /// pgward could not connect to the database with the given connection string.
    ConnectionTestFailed,
    /// No installed psql / pg_restore is new enough for the backup and the target server.
    NoSuitableClient,
    /// The service is starting up (migrations running) or shutting down.
    NotReady,
    /// The address a database, destination or webhook points at is one pgward does not dial (link-local,
    /// cloud metadata, its own catalog; loopback or private ranges unless the operator allowed them).
    AddressNotAllowed,
    /// pgward's catalog database does not answer (restarting, failing over); retry in a moment.
    CatalogUnavailable,
    /// Something went wrong on the server; details are in the server log.
    Internal,
}

impl ErrorCode {
    /// The snake_case form used on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "validation_failed",
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::AlreadySetUp => "already_set_up",
            Self::LastAdmin => "last_admin",
            Self::DatabaseInUse => "database_in_use",
            Self::SetupCodeInvalid => "setup_code_invalid",
            Self::RateLimited => "rate_limited",
            Self::PayloadTooLarge => "payload_too_large",
            Self::ConnectionTestFailed => "connection_test_failed",
            Self::NoSuitableClient => "no_suitable_client",
            Self::NotReady => "not_ready",
            Self::AddressNotAllowed => "address_not_allowed",
            Self::CatalogUnavailable => "catalog_unavailable",
            Self::Internal => "internal",
        }
    }
}

/// The one error body every failing route returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Per-field messages for `validation_failed`, keyed by the JSON field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}
