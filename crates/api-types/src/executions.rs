use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Success,
    Failed,
    Cancelled,
    /// The backup's objects were deleted; the record stays.
    Deleted,
    /// Deleted by a user, kept in the trash until `purge_at`: restorable with `untrash`, purged by the
    /// periodic pass after the grace period (`storage.trash_days`).
    Trashed,
}

impl ExecutionStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Deleted => "deleted",
            Self::Trashed => "trashed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "success" => Self::Success,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            "deleted" => Self::Deleted,
            "trashed" => Self::Trashed,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExecutionTrigger {
    Schedule,
    Manual,
    Api,
    /// A dump uploaded to pgward (`POST /uploads`), kept to be restored like any backup.
    Upload,
}

/// What a row of the execution list is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExecutionKind {
    /// One database's backup: a task's run, an upload, or one database of a whole-server run
    /// (`parent_id` set).
    #[default]
    Database,
    /// A whole-server task's run: it holds the server's globals (roles, tablespaces) and has a child
    /// execution (kind `database`) per database it backed up. It succeeds when every child did.
    Server,
    /// pgward's self-backup of its own catalog (`catalog.self_backup`), restorable like any backup.
    Catalog,
}

impl ExecutionKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Database => "database",
            Self::Server => "server",
            Self::Catalog => "catalog",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "database" => Self::Database,
            "server" => Self::Server,
            "catalog" => Self::Catalog,
            _ => return None,
        })
    }
}

/// One stored copy of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionObject {
    pub destination_id: Uuid,
    /// Object name on that destination (with its prefix).
    pub key: String,
    pub size: u64,
    /// When this copy was last re-read and checked (size, sha256, manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<DateTime<Utc>>,
    /// What the last check found wrong; null when it held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_error: Option<String>,
}

/// Progress and outcome of a verification or a test-restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Running,
    Ok,
    Failed,
}

impl CheckStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Ok => "ok",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => Self::Running,
            "ok" => Self::Ok,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Execution {
    pub id: Uuid,
    #[serde(default)]
    pub kind: ExecutionKind,
    /// The whole-server run this database's backup belongs to.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    /// For a whole-server run's child: the database it dumped (its name on the server of
    /// `database_id`).
    #[serde(default)]
    pub database_name: Option<String>,
    pub task_id: Option<Uuid>,
    pub task_name: String,
    /// The registered database (for a whole-server run: the one used as the server's entry point).
    pub database_id: Option<Uuid>,
    pub trigger: ExecutionTrigger,
    pub status: ExecutionStatus,
    /// When the run was due, in the task's time zone.
    pub scheduled_for: DateTime<FixedOffset>,
    pub started_at: Option<DateTime<FixedOffset>>,
    pub finished_at: Option<DateTime<FixedOffset>>,
    pub duration_ms: Option<u64>,
    /// Bytes pg_dump produced so far (live while running).
    pub bytes_read: u64,
    /// Current throughput while running, bytes per second.
    pub rate_bytes_per_sec: Option<u64>,
    /// Stored size after compression and encryption.
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub objects: Vec<ExecutionObject>,
    pub server_version: Option<String>,
    pub pg_dump_version: Option<String>,
    /// Why it failed, or what happened.
    pub message: Option<String>,
    /// The end of pg_dump's error output.
    pub stderr_tail: Option<String>,
    pub cancel_requested: bool,
    /// Verification of the stored copies (`ok` only when every copy held).
    pub verify_status: Option<CheckStatus>,
    pub verified_at: Option<DateTime<Utc>>,
    /// Test-restore of this backup into a scratch database.
    pub test_restore_status: Option<CheckStatus>,
    pub test_restored_at: Option<DateTime<Utc>>,
    pub test_restore_message: Option<String>,
    /// In the trash since (status `trashed`).
    #[serde(default)]
    pub trashed_at: Option<DateTime<Utc>>,
    /// When a trashed backup is purged (its objects deleted) unless taken out of the trash first.
    #[serde(default)]
    pub purge_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionPage {
    pub items: Vec<Execution>,
    pub next_cursor: Option<String>,
}

/// Filters for the execution list; newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct ExecutionListQuery {
    pub task_id: Option<Uuid>,
    pub database_id: Option<Uuid>,
    pub destination_id: Option<Uuid>,
    pub status: Option<ExecutionStatus>,
    /// Only the databases' backups of this whole-server run.
    pub parent_id: Option<Uuid>,
    /// Only rows of this kind.
    pub kind: Option<ExecutionKind>,
    /// Only runs scheduled at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only runs scheduled before this time.
    pub to: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[cfg_attr(feature = "openapi", param(pattern = "^([A-Za-z0-9_-]{21}[AQgw])?$"))]
    pub cursor: Option<String>,
}

/// A short-lived URL that downloads a backup without a bearer token: presigned by the object store
/// (pgward not in the path), or a signed pgward link for a copy on a local directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DownloadUrl {
    pub url: String,
    pub destination_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Filters of `GET /api/v1/executions/stats`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct ExecutionStatsQuery {
    /// One task's runs; omitted: every task's.
    pub task_id: Option<Uuid>,
    /// How many days back, today included (default 30).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 366))]
    pub days: Option<u32>,
    /// The IANA time zone days are counted in (default UTC), e.g. `Europe/Berlin`.
    #[cfg_attr(
        feature = "openapi",
        param(max_length = 64, pattern = r"^[A-Za-z0-9_+/-]*$")
    )]
    pub tz: Option<String>,
}

/// Runs that ended on one day, by outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayOutcomes {
    /// The day in the asked time zone, `YYYY-MM-DD`.
    pub day: String,
    pub success: u64,
    pub failed: u64,
    pub cancelled: u64,
}

/// One finished run, for size and duration over time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunPoint {
    pub execution_id: Uuid,
    pub task_id: Option<Uuid>,
    pub finished_at: DateTime<Utc>,
    pub status: ExecutionStatus,
    pub duration_ms: Option<u64>,
    /// Stored bytes (successful runs).
    pub size: Option<u64>,
}

/// What the dashboard and a task's page chart: outcomes per day (every day of the range, zeros
/// included) and each finished run's size and duration, oldest first (at most 1000).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionStats {
    pub tz: String,
    pub days: Vec<DayOutcomes>,
    pub runs: Vec<RunPoint>,
}

/// Rebuild the catalog's record of the backups stored on a destination from the manifests beside them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogRebuildRequest {
    /// A registered destination (register it again first when the catalog was lost).
    pub destination_id: Uuid,
}

/// What a rebuild found and did. Running it again changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogRebuildReport {
    pub destination_id: Uuid,
    /// Manifests found on the destination.
    pub manifests: u64,
    /// Backups recorded anew, as successful executions with this destination's copy.
    pub recreated: u64,
    /// Backups the catalog knew, given this destination's copy.
    pub copies_added: u64,
    /// Backups the catalog already knew with this copy.
    pub already_known: u64,
    /// Manifests left out, each as `key: why` (unreadable, or its backup is missing).
    pub skipped: Vec<String>,
}
