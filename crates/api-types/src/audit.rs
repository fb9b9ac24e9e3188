//! The audit log: who did what, when and from where.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who made an audited request: a user (logged in, or through one of their API tokens), or nobody
/// known (a failed login, a download link).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditActor {
    pub user_id: Option<Uuid>,
    /// The user's email at the time.
    pub email: Option<String>,
    /// Set when the request came with an API token.
    pub token_id: Option<Uuid>,
    pub token_name: Option<String>,
}

/// One audited request. `fields` names what a request body set — never a value, so no secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    /// The API operation (`operationId` in the OpenAPI document), e.g. `update_task`.
    pub operation: String,
    pub method: String,
    /// The route, e.g. `/api/v1/tasks/{id}`.
    pub path: String,
    /// What kind of thing was acted on, e.g. `tasks`.
    pub resource: String,
    pub resource_id: Option<String>,
    /// `create`, `update`, `delete`, `download`, `login`, … (the operation without its resource).
    pub action: String,
    pub fields: Vec<String>,
    /// The HTTP status the request got: refusals (403, 409, …) are recorded too.
    pub status: u16,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// Filters for the audit log; newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct AuditQuery {
    pub user_id: Option<Uuid>,
    pub token_id: Option<Uuid>,
    #[cfg_attr(
        feature = "openapi",
        param(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")
    )]
    pub resource: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        param(max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")
    )]
    pub resource_id: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        param(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")
    )]
    pub action: Option<String>,
    /// Entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub until: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[cfg_attr(feature = "openapi", param(pattern = "^([A-Za-z0-9_-]{21}[AQgw])?$"))]
    pub cursor: Option<String>,
}
