use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BackupFormat {
    /// SQL text (psql to restore).
    Plain,
    /// pg_dump archive (pg_restore; selective and parallel restore).
    #[default]
    Custom,
    /// pg_dump directory archive, dumped with `parallel_jobs` and stored as one tar (pg_restore -j).
    Directory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CompressionAlgorithm {
    #[default]
    Zstd,
    Gzip,
    Lz4,
    None,
}

/// pg_dump switches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PgDumpOptions {
    pub data_only: bool,
    pub schema_only: bool,
    pub clean: bool,
    pub if_exists: bool,
    pub create: bool,
    pub no_comments: bool,
    pub no_owner: bool,
    pub no_privileges: bool,
    /// `--schema` patterns.
    pub schemas: Vec<String>,
    pub exclude_schemas: Vec<String>,
    /// `--table` patterns.
    pub tables: Vec<String>,
    pub exclude_tables: Vec<String>,
}

/// Grandfather-father-son: how many of the newest daily, weekly, monthly and yearly backups to keep
/// (periods in the task's time zone).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct GfsPolicy {
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
    pub yearly: u32,
}

/// Which successful backups to keep. A backup is kept if any rule keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RetentionPolicy {
    /// Keep everything younger than this many days; null for no age rule.
    pub keep_days: Option<u32>,
    /// Always keep the newest N successful backups.
    pub keep_last: u32,
    pub gfs: Option<GfsPolicy>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            keep_days: Some(30),
            keep_last: 7,
            gfs: None,
        }
    }
}

/// A retention policy to preview instead of the saved one (the task form's unsaved fields): every
/// parameter given replaces the saved value; none given previews the saved policy.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct RetentionPreviewQuery {
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 10000))]
    pub keep_last: Option<u32>,
    /// 0 for no age rule.
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 36500))]
    pub keep_days: Option<u32>,
    /// Grandfather-father-son counts; any of them given turns the rule on (the others 0 unless saved).
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 10000))]
    pub gfs_daily: Option<u32>,
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 10000))]
    pub gfs_weekly: Option<u32>,
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 10000))]
    pub gfs_monthly: Option<u32>,
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 10000))]
    pub gfs_yearly: Option<u32>,
    /// false: preview without the grandfather-father-son rule, whatever is saved.
    pub gfs: Option<bool>,
}

impl RetentionPreviewQuery {
    /// `saved` with the given parameters applied.
    pub fn apply(&self, saved: &RetentionPolicy) -> RetentionPolicy {
        let mut p = saved.clone();
        if let Some(n) = self.keep_last {
            p.keep_last = n;
        }
        if let Some(d) = self.keep_days {
            p.keep_days = (d > 0).then_some(d);
        }
        let counts = [
            self.gfs_daily,
            self.gfs_weekly,
            self.gfs_monthly,
            self.gfs_yearly,
        ];
        if self.gfs == Some(false) {
            p.gfs = None;
        } else if self.gfs == Some(true) || counts.iter().any(Option::is_some) {
            let mut g = p.gfs.take().unwrap_or_default();
            g.daily = self.gfs_daily.unwrap_or(g.daily);
            g.weekly = self.gfs_weekly.unwrap_or(g.weekly);
            g.monthly = self.gfs_monthly.unwrap_or(g.monthly);
            g.yearly = self.gfs_yearly.unwrap_or(g.yearly);
            p.gfs = Some(g);
        }
        p
    }
}

/// Proving the backups of a task restore: re-reading their checksums on a schedule, and test-restores
/// of the newest backup into a scratch database that is dropped afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct VerificationPolicy {
    /// Re-read every stored backup of the task and check size, sha256 and manifest on this cron (in the
    /// task's time zone). Null: on demand only (`POST /executions/{id}/verify`).
    pub verify_schedule: Option<String>,
    /// Test-restore the newest backup (off by default): restore it into a scratch database, compare
    /// every table's row count with the counts recorded at backup time, drop the scratch database.
    pub test_restore: bool,
    /// The registered database whose server hosts the scratch database (needs CREATEDB).
    pub test_restore_database_id: Option<Uuid>,
    /// Test-restore right after each successful backup.
    pub test_restore_after_backup: bool,
    /// Test-restore on this cron (task's time zone), in addition or instead.
    pub test_restore_schedule: Option<String>,
}

/// What a task backs up.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskScope {
    /// The registered database `database_id`.
    #[default]
    Database,
    /// Every database on the server of `database_id`, found anew at each run (so databases created
    /// later are backed up too): each is its own backup (object, manifest, execution) under one run,
    /// and the globals are dumped once per run when `include_globals` is set. Templates and databases
    /// that refuse connections are skipped. The registered database's role must be able to connect
    /// to and read every database (a superuser, or `pg_read_all_data` with CONNECT).
    Server {
        /// Shell-style patterns (`*`, `?`, `[abc]`) on database names; empty: every database.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_items = 50))]
        include: Vec<String>,
        /// Patterns of databases to leave out (applied after `include`).
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_items = 50))]
        exclude: Vec<String>,
    },
}

/// Everything that defines a backup task. Used to create one; every field is also editable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskSpec {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    pub database_id: Uuid,
    /// One database (default), or every database on its server.
    #[serde(default)]
    pub scope: TaskScope,
    /// One or more destinations; each backup is written to all of them at once.
    pub destination_ids: Vec<Uuid>,
    /// Five-field cron (`30 2 * * *`) or `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`.
    pub schedule: String,
    /// IANA time zone the schedule is read in, e.g. `Europe/Berlin`.
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub format: BackupFormat,
    /// pg_dump `--jobs` (1-16); more than 1 only with the directory format.
    #[serde(default = "one")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 16, default = 1))]
    pub parallel_jobs: u32,
    /// Custom and directory archives are compressed by pg_dump inside the archive (each table's data
    /// on its own; smaller, and restored by pg_restore as stored) when an installed pg_dump can: zstd
    /// and lz4 need pg_dump 16 or newer, which then also dumps older servers. Plain SQL, and archives no
    /// installed pg_dump can compress that way, are compressed by pgward around the stream. The stored
    /// object's extension says which (`.dump` vs `.dump.zst`).
    #[serde(default)]
    pub compression: CompressionAlgorithm,
    /// zstd 1-19 (default 5), gzip 1-9 (default 6); ignored for lz4 and none. For the smallest backups
    /// at several times the time ("archive"), zstd 15-19.
    #[serde(default)]
    pub compression_level: Option<i32>,
    /// age public keys (`age1...`). Backups are encrypted to them; pgward itself cannot decrypt.
    #[serde(default)]
    pub encryption_recipients: Vec<String>,
    #[serde(default)]
    pub pg_dump_options: PgDumpOptions,
    /// Also store `pg_dumpall --globals-only` (roles, tablespaces) beside the dump.
    #[serde(default)]
    pub include_globals: bool,
    /// Fail a run that takes longer than this many minutes.
    #[serde(default)]
    pub timeout_minutes: Option<u32>,
    /// Fail a run when pg_dump produces no data for this many minutes.
    #[serde(default)]
    pub stall_timeout_minutes: Option<u32>,
    #[serde(default)]
    pub retention: RetentionPolicy,
    #[serde(default)]
    pub verification: VerificationPolicy,
    /// `backup_anomaly` when a successful run's size (or, for runs of 30 s and more, its duration) is
    /// further than this many percent from the median of the task's last 10 successful runs (1-1000).
    /// Unset: the server's `worker.anomaly_threshold_percent`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub anomaly_threshold_percent: Option<u32>,
}

fn utc() -> String {
    "UTC".into()
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// Reads a field that may be absent (keep), null (clear) or a value (set).
pub(crate) fn absent_null_or<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Change a task; omitted fields stay as they are. For `compression_level`, `timeout_minutes` and
/// `stall_timeout_minutes`, `null` clears the value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct UpdateTaskRequest {
    pub name: Option<String>,
    pub database_id: Option<Uuid>,
    pub scope: Option<TaskScope>,
    pub destination_ids: Option<Vec<Uuid>>,
    pub schedule: Option<String>,
    pub timezone: Option<String>,
    pub active: Option<bool>,
    pub format: Option<BackupFormat>,
    pub parallel_jobs: Option<u32>,
    pub compression: Option<CompressionAlgorithm>,
    #[serde(
        deserialize_with = "absent_null_or",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub compression_level: Option<Option<i32>>,
    pub encryption_recipients: Option<Vec<String>>,
    pub pg_dump_options: Option<PgDumpOptions>,
    pub include_globals: Option<bool>,
    #[serde(
        deserialize_with = "absent_null_or",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub timeout_minutes: Option<Option<u32>>,
    #[serde(
        deserialize_with = "absent_null_or",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub stall_timeout_minutes: Option<Option<u32>>,
    pub retention: Option<RetentionPolicy>,
    pub verification: Option<VerificationPolicy>,
    #[serde(
        deserialize_with = "absent_null_or",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>, minimum = 1, maximum = 1000))]
    pub anomaly_threshold_percent: Option<Option<u32>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: Uuid,
    #[serde(flatten)]
    pub spec: TaskSpec,
    /// The next scheduled run, in the task's time zone (with its offset); null when inactive.
    pub next_run_at: Option<DateTime<FixedOffset>>,
    /// When a backup of this task was last verified (checksums re-read), and whether that held.
    pub last_verified_at: Option<DateTime<Utc>>,
    pub last_verify_ok: Option<bool>,
    /// When a backup of this task was last test-restored, and whether it restored with matching rows.
    pub last_test_restored_at: Option<DateTime<Utc>>,
    pub last_test_restore_ok: Option<bool>,
    /// The task's newest run (queued, running or ended), as the executions API returns it.
    pub last_execution: Option<Box<crate::Execution>>,
    /// Since when the task is overdue: no successful backup within its schedule's interval plus
    /// `worker.overdue_grace_minutes` (`backup_overdue` was raised then). Null once a backup succeeds.
    #[serde(default)]
    pub overdue_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskList {
    pub items: Vec<Task>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextRuns {
    pub timezone: String,
    /// The next 10 run times, each with the time zone's offset at that moment.
    pub runs: Vec<DateTime<FixedOffset>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_query_replaces_only_what_it_gives() {
        let saved = RetentionPolicy {
            keep_days: Some(30),
            keep_last: 7,
            gfs: Some(GfsPolicy {
                daily: 7,
                weekly: 4,
                monthly: 0,
                yearly: 0,
            }),
        };
        assert_eq!(RetentionPreviewQuery::default().apply(&saved), saved);
        let q = RetentionPreviewQuery {
            keep_last: Some(2),
            keep_days: Some(0),
            gfs_monthly: Some(12),
            ..Default::default()
        };
        let p = q.apply(&saved);
        assert_eq!((p.keep_last, p.keep_days), (2, None));
        assert_eq!(
            p.gfs,
            Some(GfsPolicy {
                daily: 7,
                weekly: 4,
                monthly: 12,
                yearly: 0
            })
        );
        let off = RetentionPreviewQuery {
            gfs: Some(false),
            ..Default::default()
        };
        assert_eq!(off.apply(&saved).gfs, None);
    }
}
