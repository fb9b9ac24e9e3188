//! The task spec as the catalog stores it (`tasks.spec`, JSON). It has its own types, converted to and
//! from the API's `TaskSpec`, so the wire contract can change (a field renamed, a default changed, an
//! enum grown) without silently changing what rows already hold, and a stored row written by any earlier
//! version still reads. A change here is a change of stored data: add fields with a serde default, never
//! rename or re-purpose one (a migration rewrites rows when that is really needed).
//!
//! What is also stored relationally (name, database, schedule, time zone, active, destinations) is kept
//! here too for old readers, but the columns are authoritative (`service::spec_of`).

use pgward_api_types::{
    BackupFormat, CompressionAlgorithm, GfsPolicy, PgDumpOptions, RetentionPolicy, TaskScope,
    TaskSpec, VerificationPolicy,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct StoredSpec {
    name: String,
    database_id: Uuid,
    /// Absent for one database (rows from before whole-server tasks, and every such task since).
    #[serde(default, skip_serializing_if = "StoredScope::is_database")]
    scope: StoredScope,
    #[serde(default)]
    destination_ids: Vec<Uuid>,
    schedule: String,
    #[serde(default = "utc")]
    timezone: String,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    format: StoredFormat,
    #[serde(default = "one")]
    parallel_jobs: u32,
    #[serde(default)]
    compression: StoredCompression,
    #[serde(default)]
    compression_level: Option<i32>,
    #[serde(default)]
    encryption_recipients: Vec<String>,
    #[serde(default)]
    pg_dump_options: StoredDumpOptions,
    #[serde(default)]
    include_globals: bool,
    #[serde(default)]
    timeout_minutes: Option<u32>,
    #[serde(default)]
    stall_timeout_minutes: Option<u32>,
    #[serde(default)]
    retention: StoredRetention,
    #[serde(default)]
    verification: StoredVerification,
    #[serde(default)]
    anomaly_threshold_percent: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredFormat {
    Plain,
    #[default]
    Custom,
    Directory,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StoredScope {
    #[default]
    Database,
    Server {
        #[serde(default)]
        include: Vec<String>,
        #[serde(default)]
        exclude: Vec<String>,
    },
}

impl StoredScope {
    fn is_database(&self) -> bool {
        *self == Self::Database
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredCompression {
    #[default]
    Zstd,
    Gzip,
    Lz4,
    None,
}

/// pg_dump switches: flags by name, patterns by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct StoredDumpOptions {
    data_only: bool,
    schema_only: bool,
    clean: bool,
    if_exists: bool,
    create: bool,
    no_comments: bool,
    no_owner: bool,
    no_privileges: bool,
    schemas: Vec<String>,
    exclude_schemas: Vec<String>,
    tables: Vec<String>,
    exclude_tables: Vec<String>,
}

/// Rows written before retention had a default kept 30 days and the newest 7, as the API defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct StoredRetention {
    keep_days: Option<u32>,
    keep_last: u32,
    gfs: Option<StoredGfs>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct StoredGfs {
    daily: u32,
    weekly: u32,
    monthly: u32,
    yearly: u32,
}

impl Default for StoredRetention {
    fn default() -> Self {
        Self {
            keep_days: Some(30),
            keep_last: 7,
            gfs: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct StoredVerification {
    verify_schedule: Option<String>,
    test_restore: bool,
    test_restore_database_id: Option<Uuid>,
    test_restore_after_backup: bool,
    test_restore_schedule: Option<String>,
}

fn utc() -> String {
    "UTC".into()
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

impl From<&TaskSpec> for StoredSpec {
    fn from(s: &TaskSpec) -> Self {
        let o = &s.pg_dump_options;
        let v = &s.verification;
        Self {
            name: s.name.clone(),
            database_id: s.database_id,
            scope: match &s.scope {
                TaskScope::Database => StoredScope::Database,
                TaskScope::Server { include, exclude } => StoredScope::Server {
                    include: include.clone(),
                    exclude: exclude.clone(),
                },
            },
            destination_ids: s.destination_ids.clone(),
            schedule: s.schedule.clone(),
            timezone: s.timezone.clone(),
            active: s.active,
            format: match s.format {
                BackupFormat::Plain => StoredFormat::Plain,
                BackupFormat::Custom => StoredFormat::Custom,
                BackupFormat::Directory => StoredFormat::Directory,
            },
            parallel_jobs: s.parallel_jobs,
            compression: match s.compression {
                CompressionAlgorithm::Zstd => StoredCompression::Zstd,
                CompressionAlgorithm::Gzip => StoredCompression::Gzip,
                CompressionAlgorithm::Lz4 => StoredCompression::Lz4,
                CompressionAlgorithm::None => StoredCompression::None,
            },
            compression_level: s.compression_level,
            encryption_recipients: s.encryption_recipients.clone(),
            pg_dump_options: StoredDumpOptions {
                data_only: o.data_only,
                schema_only: o.schema_only,
                clean: o.clean,
                if_exists: o.if_exists,
                create: o.create,
                no_comments: o.no_comments,
                no_owner: o.no_owner,
                no_privileges: o.no_privileges,
                schemas: o.schemas.clone(),
                exclude_schemas: o.exclude_schemas.clone(),
                tables: o.tables.clone(),
                exclude_tables: o.exclude_tables.clone(),
            },
            include_globals: s.include_globals,
            timeout_minutes: s.timeout_minutes,
            stall_timeout_minutes: s.stall_timeout_minutes,
            retention: StoredRetention {
                keep_days: s.retention.keep_days,
                keep_last: s.retention.keep_last,
                gfs: s.retention.gfs.as_ref().map(|g| StoredGfs {
                    daily: g.daily,
                    weekly: g.weekly,
                    monthly: g.monthly,
                    yearly: g.yearly,
                }),
            },
            verification: StoredVerification {
                verify_schedule: v.verify_schedule.clone(),
                test_restore: v.test_restore,
                test_restore_database_id: v.test_restore_database_id,
                test_restore_after_backup: v.test_restore_after_backup,
                test_restore_schedule: v.test_restore_schedule.clone(),
            },
            anomaly_threshold_percent: s.anomaly_threshold_percent,
        }
    }
}

impl From<StoredSpec> for TaskSpec {
    fn from(s: StoredSpec) -> Self {
        let o = s.pg_dump_options;
        let v = s.verification;
        TaskSpec {
            name: s.name,
            database_id: s.database_id,
            scope: match s.scope {
                StoredScope::Database => TaskScope::Database,
                StoredScope::Server { include, exclude } => TaskScope::Server { include, exclude },
            },
            destination_ids: s.destination_ids,
            schedule: s.schedule,
            timezone: s.timezone,
            active: s.active,
            format: match s.format {
                StoredFormat::Plain => BackupFormat::Plain,
                StoredFormat::Custom => BackupFormat::Custom,
                StoredFormat::Directory => BackupFormat::Directory,
            },
            parallel_jobs: s.parallel_jobs,
            compression: match s.compression {
                StoredCompression::Zstd => CompressionAlgorithm::Zstd,
                StoredCompression::Gzip => CompressionAlgorithm::Gzip,
                StoredCompression::Lz4 => CompressionAlgorithm::Lz4,
                StoredCompression::None => CompressionAlgorithm::None,
            },
            compression_level: s.compression_level,
            encryption_recipients: s.encryption_recipients,
            pg_dump_options: PgDumpOptions {
                data_only: o.data_only,
                schema_only: o.schema_only,
                clean: o.clean,
                if_exists: o.if_exists,
                create: o.create,
                no_comments: o.no_comments,
                no_owner: o.no_owner,
                no_privileges: o.no_privileges,
                schemas: o.schemas,
                exclude_schemas: o.exclude_schemas,
                tables: o.tables,
                exclude_tables: o.exclude_tables,
            },
            include_globals: s.include_globals,
            timeout_minutes: s.timeout_minutes,
            stall_timeout_minutes: s.stall_timeout_minutes,
            retention: RetentionPolicy {
                keep_days: s.retention.keep_days,
                keep_last: s.retention.keep_last,
                gfs: s.retention.gfs.map(|g| GfsPolicy {
                    daily: g.daily,
                    weekly: g.weekly,
                    monthly: g.monthly,
                    yearly: g.yearly,
                }),
            },
            verification: VerificationPolicy {
                verify_schedule: v.verify_schedule,
                test_restore: v.test_restore,
                test_restore_database_id: v.test_restore_database_id,
                test_restore_after_backup: v.test_restore_after_backup,
                test_restore_schedule: v.test_restore_schedule,
            },
            anomaly_threshold_percent: s.anomaly_threshold_percent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row as pgward stored it before the stored format had its own types (the API's `TaskSpec`,
    /// serialised): it must keep reading the same, and a spec must keep being stored the same.
    const STORED_BEFORE: &str = r#"{
        "name": "nightly",
        "database_id": "0f3c1a52-6a4e-4d4b-9c55-0a1b2c3d4e5f",
        "destination_ids": ["7d0c7c4e-3a55-4a5e-8a0e-1b2c3d4e5f60"],
        "schedule": "30 2 * * *",
        "timezone": "Europe/Berlin",
        "active": true,
        "format": "directory",
        "parallel_jobs": 4,
        "compression": "gzip",
        "compression_level": 9,
        "encryption_recipients": ["age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"],
        "pg_dump_options": {
            "data_only": false, "schema_only": false, "clean": true, "if_exists": true,
            "create": false, "no_comments": true, "no_owner": true, "no_privileges": false,
            "schemas": ["public"], "exclude_schemas": [], "tables": [], "exclude_tables": ["public.log*"]
        },
        "include_globals": true,
        "timeout_minutes": 120,
        "stall_timeout_minutes": null,
        "retention": {"keep_days": null, "keep_last": 3, "gfs": {"daily": 7, "weekly": 4, "monthly": 12, "yearly": 2}},
        "verification": {
            "verify_schedule": "0 6 * * 0", "test_restore": true,
            "test_restore_database_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "test_restore_after_backup": false, "test_restore_schedule": null
        },
        "anomaly_threshold_percent": 50
    }"#;

    #[test]
    fn a_row_stored_before_reads_the_same_and_a_spec_is_stored_the_same() {
        let row: serde_json::Value = serde_json::from_str(STORED_BEFORE).unwrap();
        let spec = TaskSpec::from(serde_json::from_value::<StoredSpec>(row.clone()).unwrap());
        assert_eq!(spec.format, BackupFormat::Directory);
        assert_eq!(spec.compression, CompressionAlgorithm::Gzip);
        assert_eq!(spec.retention.gfs.as_ref().map(|g| g.monthly), Some(12));
        assert_eq!(spec.retention.keep_days, None);
        assert!(spec.verification.test_restore);
        assert_eq!(spec.pg_dump_options.exclude_tables, vec!["public.log*"]);
        assert_eq!(
            serde_json::to_value(StoredSpec::from(&spec)).unwrap(),
            row,
            "storing the spec again writes the same row"
        );
    }

    /// The first rows held only what was required then; every later field takes its default.
    #[test]
    fn a_row_with_only_the_first_fields_reads_with_defaults() {
        let spec = TaskSpec::from(
            serde_json::from_str::<StoredSpec>(
                r#"{"name": "n", "database_id": "0f3c1a52-6a4e-4d4b-9c55-0a1b2c3d4e5f",
                    "schedule": "@daily"}"#,
            )
            .unwrap(),
        );
        assert_eq!(spec.timezone, "UTC");
        assert!(spec.active);
        assert_eq!(spec.format, BackupFormat::Custom);
        assert_eq!(spec.compression, CompressionAlgorithm::Zstd);
        assert_eq!(spec.parallel_jobs, 1);
        assert_eq!(spec.retention, RetentionPolicy::default());
        assert_eq!(spec.scope, TaskScope::Database);
    }

    /// A whole-server task's scope as it is stored.
    #[test]
    fn a_server_scope_is_stored_with_its_patterns() {
        let row = serde_json::json!({"name": "n", "database_id": "0f3c1a52-6a4e-4d4b-9c55-0a1b2c3d4e5f",
            "schedule": "@daily", "scope": {"kind": "server", "include": ["app_*"], "exclude": ["app_tmp"]}});
        let spec = TaskSpec::from(serde_json::from_value::<StoredSpec>(row).unwrap());
        assert_eq!(
            spec.scope,
            TaskScope::Server {
                include: vec!["app_*".into()],
                exclude: vec!["app_tmp".into()]
            }
        );
        let again = serde_json::to_value(StoredSpec::from(&spec)).unwrap();
        assert_eq!(
            again["scope"],
            serde_json::json!({"kind": "server", "include": ["app_*"], "exclude": ["app_tmp"]})
        );
    }
}
