use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Register a PostgreSQL database. The connection string is write-only: it is encrypted at rest and no
/// response ever contains it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateDatabaseRequest {
    /// Unique display name, 1-100 characters (any script).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// `postgres://user:password@host:port/dbname?sslmode=...`
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2048, pattern = r"^postgres(ql)?://")
    )]
    pub connection_string: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub description: Option<String>,
    /// Save without connecting first. By default pgward connects and refuses to save what it cannot reach.
    #[serde(default)]
    pub skip_connection_test: bool,
    /// Seconds between scheduled health checks of this database (60 to 604800); unset: the server's
    /// default.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 604800))]
    pub health_interval_secs: Option<u32>,
}

/// Change a database. Omitted fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateDatabaseRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 2048, pattern = r"^postgres(ql)?://")
    )]
    pub connection_string: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Only meaningful with a new `connection_string`.
    #[serde(default)]
    pub skip_connection_test: bool,
    /// Seconds between scheduled health checks (60 to 604800); `null` goes back to the server's default.
    #[serde(
        default,
        deserialize_with = "crate::tasks::absent_null_or",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>, minimum = 60, maximum = 604800))]
    pub health_interval_secs: Option<Option<u32>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Unknown,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unknown" => Some(Self::Unknown),
            "healthy" => Some(Self::Healthy),
            "unhealthy" => Some(Self::Unhealthy),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthInfo {
    pub status: HealthStatus,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// How long the latest successful check took.
    pub latency_ms: Option<u32>,
    /// This resource's own check interval (absent: the server's `worker.health_interval_secs`).
    pub interval_secs: Option<u32>,
    /// When the next scheduled check is due (absent: at the next scheduler pass).
    pub next_check_at: Option<DateTime<Utc>>,
}

/// Bounds of a resource's own health-check interval: a minute to a week.
pub const HEALTH_INTERVAL_RANGE: std::ops::RangeInclusive<u32> = 60..=604_800;

/// A registered database as clients see it: where it is, never how to log in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Database {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    /// The connection string with the password replaced by `***`.
    pub masked_connection_string: String,
    /// e.g. `17.11`; null until a connection succeeded.
    pub server_version: Option<String>,
    pub major_version: Option<u32>,
    pub health: HealthInfo,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatabasePage {
    pub items: Vec<Database>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct DatabaseListQuery {
    /// Page size, 1-200 (default 50).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page's `next_cursor`.
    #[cfg_attr(feature = "openapi", param(pattern = "^([A-Za-z0-9_-]{21}[AQgw])?$"))]
    pub cursor: Option<String>,
    /// Case-insensitive substring of the name, host or database name.
    pub q: Option<String>,
    /// Only databases with this health status.
    pub status: Option<HealthStatus>,
    /// Only databases of this PostgreSQL major version.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 999))]
    pub major_version: Option<u32>,
}

/// Test a connection string that is not saved (yet).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestConnectionRequest {
    /// `postgres://user:password@host:port/dbname?sslmode=...`
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2048, pattern = r"^postgres(ql)?://")
    )]
    pub connection_string: String,
}

/// The outcome of a connection test. A failed test is a normal answer (200 with `ok: false`), not an error.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionTestResult {
    pub ok: bool,
    pub server_version: Option<String>,
    pub major_version: Option<u32>,
    pub latency_ms: u64,
    /// On failure: `unreachable`, `timeout`, `authentication_failed`, `database_not_found`, `tls`, `address_not_allowed`, `not_postgres` (something else answers on that port), `other`.
    pub error_kind: Option<String>,
    pub message: Option<String>,
}
