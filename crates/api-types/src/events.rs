use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happened. Persisted with its data; notifications are rendered from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    DatabaseHealthy,
    DatabaseUnhealthy,
    DestinationHealthy,
    DestinationUnhealthy,
    ExecutionStarted,
    ExecutionSuccess,
    ExecutionFailed,
    RestorationStarted,
    RestorationSuccess,
    RestorationFailed,
    RetentionDeleted,
    VerificationFailed,
    BackupAnomaly,
    /// No successful backup of a task within its schedule's interval plus the grace period.
    BackupOverdue,
}

impl EventKind {
    pub const ALL: [EventKind; 14] = [
        Self::DatabaseHealthy,
        Self::DatabaseUnhealthy,
        Self::DestinationHealthy,
        Self::DestinationUnhealthy,
        Self::ExecutionStarted,
        Self::ExecutionSuccess,
        Self::ExecutionFailed,
        Self::RestorationStarted,
        Self::RestorationSuccess,
        Self::RestorationFailed,
        Self::RetentionDeleted,
        Self::VerificationFailed,
        Self::BackupAnomaly,
        Self::BackupOverdue,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DatabaseHealthy => "database_healthy",
            Self::DatabaseUnhealthy => "database_unhealthy",
            Self::DestinationHealthy => "destination_healthy",
            Self::DestinationUnhealthy => "destination_unhealthy",
            Self::ExecutionStarted => "execution_started",
            Self::ExecutionSuccess => "execution_success",
            Self::ExecutionFailed => "execution_failed",
            Self::RestorationStarted => "restoration_started",
            Self::RestorationSuccess => "restoration_success",
            Self::RestorationFailed => "restoration_failed",
            Self::RetentionDeleted => "retention_deleted",
            Self::VerificationFailed => "verification_failed",
            Self::BackupAnomaly => "backup_anomaly",
            Self::BackupOverdue => "backup_overdue",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub id: Uuid,
    pub kind: EventKind,
    pub created_at: DateTime<Utc>,
    pub task_id: Option<Uuid>,
    pub database_id: Option<Uuid>,
    pub destination_id: Option<Uuid>,
    pub execution_id: Option<Uuid>,
    pub restoration_id: Option<Uuid>,
    /// The event's facts (names, status, size, duration, error, ...), as notifications render them.
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventPage {
    pub items: Vec<Event>,
    pub next_cursor: Option<String>,
}

/// Filters for the event timeline; newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct EventListQuery {
    pub kind: Option<EventKind>,
    pub task_id: Option<Uuid>,
    pub database_id: Option<Uuid>,
    pub destination_id: Option<Uuid>,
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[cfg_attr(feature = "openapi", param(pattern = "^([A-Za-z0-9_-]{21}[AQgw])?$"))]
    pub cursor: Option<String>,
}

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthCounts {
    pub healthy: u64,
    pub unhealthy: u64,
    pub unknown: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthSummary {
    pub databases: HealthCounts,
    pub destinations: HealthCounts,
}
