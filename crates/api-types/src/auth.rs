use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Body of `POST /api/v1/auth/setup`: creates the first administrator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(format = "email", min_length = 3, max_length = 254)
    )]
    pub email: String,
    /// At least 12 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub password: String,
    /// Empty: none.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")
    )]
    pub name: Option<String>,
    /// The one-time setup code pgward printed to its log, required when it listens on a non-loopback
    /// address (see `AuthStatus.setup_code_required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub setup_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Browsers: put the refresh token in an HttpOnly, SameSite=Strict cookie (`pgward_refresh`, path
    /// `/api/v1/auth`) instead of the response body, where no script can read it.
    #[serde(default)]
    pub refresh_cookie: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    /// The refresh token; empty or omitted: the one in the `pgward_refresh` cookie (the new one is then
    /// set as that cookie too, and the body's `refresh_token` is empty).
    #[serde(default)]
    pub refresh_token: String,
}

/// Issued by login and refresh. The access token is a short-lived JWT; the refresh token is opaque,
/// single-use (each refresh rotates it) and revoked by logout.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Empty when the refresh token was set as the `pgward_refresh` cookie instead.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

/// What a user (or an API token) may do. Ordered: each role can do everything the ones below it can.
/// - `viewer`: read everything but backups' contents (no downloads) and the webhook delivery log's
///   request bodies; manage one's own profile, sessions and API tokens.
/// - `operator`: also databases, destinations, tasks, webhooks, run, cancel, verify, restore, download.
/// - `admin`: also users, invitations and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "viewer" => Self::Viewer,
            "operator" => Self::Operator,
            "admin" => Self::Admin,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    /// A disabled user cannot log in; their sessions and tokens were ended when they were disabled.
    #[serde(default)]
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/me/password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 12 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub new_password: String,
}

/// What `GET /api/v1/me` answers: the user and how they authenticated.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub user: User,
    /// `session` for a login (JWT), `api_token` for an API token.
    pub auth_method: AuthMethod,
    /// What this request may do: the user's role, or for an API token the lower of the token's and
    /// its owner's.
    pub effective_role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Session,
    ApiToken,
}

/// `GET /api/v1/auth/status`: lets a client decide between the setup and the login page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthStatus {
    pub setup_required: bool,
    /// Setup needs the one-time code from pgward's log (it listens on a non-loopback address).
    #[serde(default)]
    pub setup_code_required: bool,
}
