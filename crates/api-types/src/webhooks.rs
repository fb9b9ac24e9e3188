use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::EventKind;

/// What a webhook speaks. The presets build their requests themselves; `custom` is fully templated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WebhookKind {
    /// Method, URL, headers and a body template of your own.
    Custom,
    /// POST of the event object as the API returns it.
    Json,
    /// A Healthchecks ping URL: `/start` when a run starts, the URL itself on success, `/fail` with the
    /// stderr tail on failure, each with `rid` = the run's id so Healthchecks measures its duration.
    Healthchecks,
    /// A Slack incoming webhook: a readable message (the body template is the message text).
    Slack,
    /// A Discord webhook: a readable message (the body template is the message text).
    Discord,
}

impl WebhookKind {
    pub const ALL: [WebhookKind; 5] = [
        Self::Custom,
        Self::Json,
        Self::Healthchecks,
        Self::Slack,
        Self::Discord,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Custom => "custom",
            Self::Json => "json",
            Self::Healthchecks => "healthchecks",
            Self::Slack => "slack",
            Self::Discord => "discord",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Custom => "Custom HTTP",
            Self::Json => "Generic JSON",
            Self::Healthchecks => "Healthchecks",
            Self::Slack => "Slack",
            Self::Discord => "Discord",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
}

impl HttpMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Get, Self::Post, Self::Put]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// Which events of the chosen kinds a webhook hears: all, or those about the chosen resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookTargets {
    /// Every resource (the lists are ignored).
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub database_ids: Vec<Uuid>,
    #[serde(default)]
    pub destination_ids: Vec<Uuid>,
    #[serde(default)]
    pub task_ids: Vec<Uuid>,
}

impl Default for WebhookTargets {
    fn default() -> Self {
        Self {
            all: true,
            database_ids: Vec::new(),
            destination_ids: Vec::new(),
            task_ids: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateWebhookRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    pub kind: WebhookKind,
    #[serde(default = "yes")]
    pub active: bool,
    /// Event kinds to send. Empty for a Healthchecks webhook: execution started/success/failed.
    #[serde(default)]
    pub events: Vec<EventKind>,
    #[serde(default)]
    pub targets: WebhookTargets,
    /// Custom webhooks only (default POST); presets choose their own.
    #[serde(default)]
    pub method: Option<HttpMethod>,
    /// http(s) URL. For Healthchecks the ping URL (`https://hc-ping.com/<uuid>`). Write-only.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub url: String,
    /// Extra request headers. Values are write-only (they often carry credentials).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// minijinja template: the body of a custom webhook, the message text of Slack and Discord.
    /// Unset: a default for the kind.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 20000))]
    pub body_template: Option<String>,
    /// HMAC-SHA256 signing secret: requests carry `X-Pgward-Signature-256: sha256=<hex of
    /// HMAC(secret, body)>`. Write-only.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub secret: Option<String>,
    /// Seconds allowed per attempt (1-60, default 10).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 60))]
    pub timeout_secs: Option<u32>,
    /// Attempts per delivery before it is given up (1-10, default 5), with exponential backoff between.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10))]
    pub max_attempts: Option<u32>,
}

/// Changes to a webhook; omitted fields are kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateWebhookRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub events: Option<Vec<EventKind>>,
    #[serde(default)]
    pub targets: Option<WebhookTargets>,
    #[serde(default)]
    pub method: Option<HttpMethod>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub url: Option<String>,
    /// Replaces all extra headers.
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
    /// An empty string goes back to the kind's default.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 20000))]
    pub body_template: Option<String>,
    /// A new signing secret; an empty string removes signing.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub secret: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 60))]
    pub timeout_secs: Option<u32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10))]
    pub max_attempts: Option<u32>,
}

/// A webhook as the API shows it: no URL, header value or secret, only masked forms and names.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: Uuid,
    pub name: String,
    pub kind: WebhookKind,
    pub active: bool,
    pub events: Vec<EventKind>,
    pub targets: WebhookTargets,
    pub method: HttpMethod,
    /// The URL with credentials, long tokens and sensitive query values replaced by `****`.
    pub url_masked: String,
    pub header_names: Vec<String>,
    pub body_template: Option<String>,
    pub has_secret: bool,
    pub timeout_secs: u32,
    pub max_attempts: u32,
    /// The newest delivery's outcome.
    pub last_delivery_status: Option<DeliveryStatus>,
    pub last_delivery_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookList {
    pub items: Vec<Webhook>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for a worker.
    Queued,
    /// An attempt is in flight.
    Sending,
    /// An attempt failed; the next one is due at `next_attempt_at`.
    Retrying,
    Success,
    /// Every attempt failed (or the webhook was deactivated before it could be sent).
    Failed,
}

impl DeliveryStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Retrying => "retrying",
            Self::Success => "success",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Sending,
            Self::Retrying,
            Self::Success,
            Self::Failed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A request as sent (URL masked, header values of your own masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryRequest {
    pub method: HttpMethod,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    /// Empty for a viewer.
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryAttempt {
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub request: DeliveryRequest,
    /// The receiver's status code (absent: no response, see `error`).
    pub response_status: Option<u16>,
    pub response_headers: BTreeMap<String, String>,
    /// The start of the response body (at most 4 KiB).
    pub response_body: Option<String>,
    /// Network error, timeout, or why the response counts as a failure.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The event delivered (absent for "send test now").
    pub event_id: Option<Uuid>,
    pub event_kind: EventKind,
    pub test: bool,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: Vec<DeliveryAttempt>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDeliveryPage {
    pub items: Vec<WebhookDelivery>,
    pub next_cursor: Option<String>,
}

/// Delivery history of a webhook; newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct WebhookDeliveryQuery {
    pub status: Option<DeliveryStatus>,
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
    #[cfg_attr(feature = "openapi", param(pattern = "^([A-Za-z0-9_-]{21}[AQgw])?$"))]
    pub cursor: Option<String>,
}

/// Renders a webhook's request for a sample event without sending it (the template editor's preview).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookPreviewRequest {
    pub kind: WebhookKind,
    #[serde(default)]
    pub method: Option<HttpMethod>,
    /// Unset: `https://example.com/hook`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub url: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 20000))]
    pub body_template: Option<String>,
    /// The sample event's kind (default execution_success).
    #[serde(default)]
    pub event: Option<EventKind>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookPreview {
    pub request: DeliveryRequest,
    /// The variables the template saw (the sample event's context).
    pub context: serde_json::Value,
}
