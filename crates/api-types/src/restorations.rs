use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a backup is restored to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RestoreTarget {
    /// The database the backup was taken from.
    Source,
    /// Another registered database.
    Database { database_id: Uuid },
    /// Any database by connection string: tested first, used for this restore only, never stored.
    Connection {
        #[cfg_attr(
            feature = "openapi",
            schema(min_length = 1, max_length = 2048, pattern = r"^postgres(ql)?://")
        )]
        connection_string: String,
    },
    /// A new, empty database created with this name on the server of a registered database (dropped
    /// again if the restore fails).
    NewDatabase { database_id: Uuid, name: String },
    /// Replace a registered database (the backup's source unless `database_id` names another) without
    /// ever leaving it half-restored: the backup is restored into a new database on the same server,
    /// its checksum checked on the way in and its row counts against the backup's manifest, and only
    /// then one transaction renames the original to `<name>_before_<yyyymmdd_hhmm>` and the copy to
    /// the original's name. The original is kept for `keep_hours` (or dropped at once with
    /// `drop_previous`). Owner, per-database settings and database grants are carried over.
    Replace {
        #[serde(default)]
        database_id: Option<Uuid>,
        /// The name of the database being replaced, typed again as a confirmation.
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 63))]
        confirm_name: String,
        /// End the sessions connected to the original at the swap (new connections are refused
        /// first). Without it, a replace is refused while any session is connected.
        #[serde(default)]
        end_sessions: bool,
        /// Drop the original right after the swap instead of keeping it.
        #[serde(default)]
        drop_previous: bool,
        /// Hours the original is kept under its dated name before housekeeping drops it (1-8760;
        /// default `worker.keep_replaced_hours`).
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 8760))]
        keep_hours: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RestoreTargetKind {
    Source,
    Database,
    Connection,
    NewDatabase,
    Replace,
}

impl RestoreTargetKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Database => "database",
            Self::Connection => "connection",
            Self::NewDatabase => "new_database",
            Self::Replace => "replace",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "source" => Self::Source,
            "database" => Self::Database,
            "connection" => Self::Connection,
            "new_database" => Self::NewDatabase,
            "replace" => Self::Replace,
            _ => return None,
        })
    }
}

/// How the backup is replayed. Options marked "archives" need a custom or directory dump.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RestoreOptions {
    /// Drop existing objects before recreating them: for archives those the backup holds (`--clean
    /// --if-exists`); for plain dumps, which list no objects, every schema of the target but the
    /// system ones is dropped first (so only with a backup of the whole database; target `replace`
    /// is the safer way to restore over a database).
    pub clean: bool,
    /// All or nothing: the whole restore is one transaction, and any failure leaves the target as it
    /// was. Not with parallel jobs.
    pub single_transaction: bool,
    /// pg_restore `--jobs` (archives; 1-32; default 1).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 32))]
    pub jobs: Option<u32>,
    /// Do not restore ownership (archives).
    pub no_owner: bool,
    /// Do not restore GRANTs (archives).
    pub no_privileges: bool,
    /// Restore only these schemas (archives; names as listed by `/contents`).
    pub schemas: Vec<String>,
    /// Restore only these tables (archives; `schema.table` or `table`).
    pub tables: Vec<String>,
    /// First replay the backup's `pg_dumpall --globals-only` file (roles, tablespaces), when the task
    /// stored one; roles that exist already are kept.
    pub globals_first: bool,
}

/// Restore one stored backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateRestorationRequest {
    /// A successful execution.
    pub execution_id: Uuid,
    /// Which stored copy to read; the first one when omitted.
    #[serde(default)]
    pub destination_id: Option<Uuid>,
    pub target: RestoreTarget,
    #[serde(default)]
    pub options: RestoreOptions,
    /// age identities (`AGE-SECRET-KEY-1...`) for encrypted backups. Held in memory for this restore
    /// only: never stored, logged or returned.
    #[serde(default)]
    pub identities: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RestorationStatus {
    Queued,
    Running,
    Success,
    Failed,
    Cancelled,
}

impl RestorationStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "success" => Self::Success,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Restoration {
    pub id: Uuid,
    pub execution_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub task_name: String,
    /// The copy read.
    pub destination_id: Uuid,
    pub object_key: String,
    pub target_kind: RestoreTargetKind,
    /// The registered database restored into (for `new_database`: the one whose server hosts it).
    pub target_database_id: Option<Uuid>,
    /// The target as `user@host:port/database` (never a password).
    pub target: String,
    /// The database created for this restore (for `replace`: the copy, under its working name until
    /// the swap).
    pub new_database_name: Option<String>,
    /// `replace`: the name the original database is kept under after the swap.
    pub previous_database_name: Option<String>,
    /// `replace`: when housekeeping drops the kept original.
    pub previous_kept_until: Option<DateTime<Utc>>,
    /// `replace`: when the kept original was dropped.
    pub previous_dropped_at: Option<DateTime<Utc>>,
    pub options: RestoreOptions,
    pub status: RestorationStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<u64>,
    /// Bytes of the stored object read so far (live while running).
    pub bytes_read: u64,
    /// Size of the stored object.
    pub total_bytes: Option<u64>,
    pub rate_bytes_per_sec: Option<u64>,
    /// psql / pg_restore used, e.g. `pg_restore (PostgreSQL) 17.6`.
    pub client_version: Option<String>,
    /// The target server's version.
    pub server_version: Option<String>,
    /// Why it failed, machine-readable: `restore_failed` (an SQL error; see `stderr_tail`),
    /// `checksum_mismatch`, `backup_truncated`, `decryption_failed`, `corrupt_stream`,
    /// `backup_unreadable`, `interrupted`, `target_unreachable`, `io_error`, `dump_meta_command` (a plain
    /// dump tried a psql meta-command, which pgward never runs), `unsafe_archive` (a tar entry that is
    /// not a plain file or directory, or leaves the archive), `decompression_limit`; for `replace` also
    /// `row_count_mismatch` (the copy differs from the backup's manifest; the original is untouched)
    /// and `database_in_use` (sessions were connected at the swap without `end_sessions`).
    pub error_code: Option<String>,
    pub message: Option<String>,
    /// The end of psql's / pg_restore's error output.
    pub stderr_tail: Option<String>,
    pub cancel_requested: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestorationPage {
    pub items: Vec<Restoration>,
    pub next_cursor: Option<String>,
}

/// Filters for the restoration list; newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct RestorationListQuery {
    pub execution_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    /// Restorations into, or of backups from, this database.
    pub database_id: Option<Uuid>,
    pub status: Option<RestorationStatus>,
    /// Only restorations created at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only restorations created before this time.
    pub to: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[cfg_attr(feature = "openapi", param(pattern = "^([A-Za-z0-9_-]{21}[AQgw])?$"))]
    pub cursor: Option<String>,
}

/// One entry of an archive's table of contents (as `pg_restore --list` shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchiveEntry {
    pub id: u32,
    /// `SCHEMA`, `TABLE`, `TABLE DATA`, `INDEX`, `FK CONSTRAINT`, `FUNCTION`, ...
    pub kind: String,
    pub schema: Option<String>,
    pub name: String,
    pub owner: Option<String>,
}

/// What a custom or directory backup holds: pick schemas and tables from it for a selective restore.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArchiveContents {
    pub execution_id: uuid::Uuid,
    /// Schemas that hold objects, sorted.
    pub schemas: Vec<String>,
    /// Tables as `schema.table`, sorted.
    pub tables: Vec<String>,
    pub entries: Vec<ArchiveEntry>,
}
