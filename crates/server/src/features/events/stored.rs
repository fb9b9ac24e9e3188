//! What an event keeps of the run it is about (`events.data.execution`, `events.data.restoration`): the
//! facts notifications are rendered from, long after the run changed. These types are the stored format
//! and, through templates (`{{execution.size}}`), part of the webhook contract; they are built from the
//! API's DTOs but do not change when those do. Add fields with a default; never rename one.

use chrono::{DateTime, FixedOffset, Utc};
use pgward_api_types::{Execution, Restoration};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A backup run as events keep it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredExecution {
    pub id: Uuid,
    pub task_id: Option<Uuid>,
    pub task_name: String,
    pub database_id: Option<Uuid>,
    /// `schedule`, `manual`, `api`, `upload`.
    pub trigger: String,
    /// The run's status value (`success`, `failed`, ...).
    pub status: String,
    pub scheduled_for: DateTime<FixedOffset>,
    pub started_at: Option<DateTime<FixedOffset>>,
    pub finished_at: Option<DateTime<FixedOffset>>,
    pub duration_ms: Option<u64>,
    pub bytes_read: u64,
    pub rate_bytes_per_sec: Option<u64>,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub objects: Vec<StoredCopy>,
    pub server_version: Option<String>,
    pub pg_dump_version: Option<String>,
    pub message: Option<String>,
    pub stderr_tail: Option<String>,
    pub cancel_requested: bool,
    pub verify_status: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub test_restore_status: Option<String>,
    pub test_restored_at: Option<DateTime<Utc>>,
    pub test_restore_message: Option<String>,
    #[serde(default)]
    pub trashed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub purge_at: Option<DateTime<Utc>>,
}

/// One stored copy of a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCopy {
    pub destination_id: Uuid,
    pub key: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_error: Option<String>,
}

/// A restore as events keep it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRestoration {
    pub id: Uuid,
    pub execution_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub task_name: String,
    pub destination_id: Uuid,
    pub object_key: String,
    pub target_kind: String,
    pub target_database_id: Option<Uuid>,
    /// Where it went, as people read it (never a password).
    pub target: String,
    pub new_database_name: Option<String>,
    /// The options as the request gave them.
    pub options: serde_json::Value,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<u64>,
    pub bytes_read: u64,
    pub total_bytes: Option<u64>,
    pub rate_bytes_per_sec: Option<u64>,
    pub client_version: Option<String>,
    pub server_version: Option<String>,
    pub error_code: Option<String>,
    pub message: Option<String>,
    pub stderr_tail: Option<String>,
    pub cancel_requested: bool,
}

/// The snake_case word an enum of the API serialises to (statuses, triggers, target kinds).
fn word<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => other.map(|v| v.to_string()).unwrap_or_default(),
    }
}

impl From<&Execution> for StoredExecution {
    fn from(e: &Execution) -> Self {
        Self {
            id: e.id,
            task_id: e.task_id,
            task_name: e.task_name.clone(),
            database_id: e.database_id,
            trigger: word(&e.trigger),
            status: e.status.as_str().to_string(),
            scheduled_for: e.scheduled_for,
            started_at: e.started_at,
            finished_at: e.finished_at,
            duration_ms: e.duration_ms,
            bytes_read: e.bytes_read,
            rate_bytes_per_sec: e.rate_bytes_per_sec,
            size: e.size,
            sha256: e.sha256.clone(),
            objects: e
                .objects
                .iter()
                .map(|o| StoredCopy {
                    destination_id: o.destination_id,
                    key: o.key.clone(),
                    size: o.size,
                    verified_at: o.verified_at,
                    verify_error: o.verify_error.clone(),
                })
                .collect(),
            server_version: e.server_version.clone(),
            pg_dump_version: e.pg_dump_version.clone(),
            message: e.message.clone(),
            stderr_tail: e.stderr_tail.clone(),
            cancel_requested: e.cancel_requested,
            verify_status: e.verify_status.map(|s| s.as_str().to_string()),
            verified_at: e.verified_at,
            test_restore_status: e.test_restore_status.map(|s| s.as_str().to_string()),
            test_restored_at: e.test_restored_at,
            test_restore_message: e.test_restore_message.clone(),
            trashed_at: e.trashed_at,
            purge_at: e.purge_at,
        }
    }
}

impl From<&Restoration> for StoredRestoration {
    fn from(r: &Restoration) -> Self {
        Self {
            id: r.id,
            execution_id: r.execution_id,
            task_id: r.task_id,
            task_name: r.task_name.clone(),
            destination_id: r.destination_id,
            object_key: r.object_key.clone(),
            target_kind: r.target_kind.as_str().to_string(),
            target_database_id: r.target_database_id,
            target: r.target.clone(),
            new_database_name: r.new_database_name.clone(),
            options: serde_json::to_value(&r.options).unwrap_or_default(),
            status: r.status.as_str().to_string(),
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
            bytes_read: r.bytes_read,
            total_bytes: r.total_bytes,
            rate_bytes_per_sec: r.rate_bytes_per_sec,
            client_version: r.client_version.clone(),
            server_version: r.server_version.clone(),
            error_code: r.error_code.clone(),
            message: r.message.clone(),
            stderr_tail: r.stderr_tail.clone(),
            cancel_requested: r.cancel_requested,
        }
    }
}

/// The stored form of a run, as event data.
pub fn execution_data(e: &Execution) -> serde_json::Value {
    serde_json::to_value(StoredExecution::from(e)).unwrap_or_default()
}

/// The stored form of a restore, as event data.
pub fn restoration_data(r: &Restoration) -> serde_json::Value {
    serde_json::to_value(StoredRestoration::from(r)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Event data as pgward stored it before it had its own types (the API's DTO, serialised): it reads
    /// as the stored type, and a run is stored the same way again.
    /// (A file: the stored bytes are data, and status values are spelled out only there.)
    const EXECUTION_BEFORE: &str = include_str!("execution_stored_before.json");

    #[test]
    fn execution_data_stored_before_reads_and_is_written_the_same() {
        let before: serde_json::Value = serde_json::from_str(EXECUTION_BEFORE).unwrap();
        let stored: StoredExecution = serde_json::from_value(before.clone()).unwrap();
        assert_eq!(
            stored.status,
            pgward_api_types::ExecutionStatus::Success.as_str()
        );
        assert_eq!(stored.objects[0].verify_error, None);
        let dto: Execution = serde_json::from_value(before.clone()).unwrap();
        assert_eq!(execution_data(&dto), before);
    }
}
