use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "executions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub task_id: Option<Uuid>,
    pub task_name: String,
    pub database_id: Option<Uuid>,
    pub trigger: String,
    pub status: String,
    pub scheduled_for: DateTimeUtc,
    pub timezone: String,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub worker_id: Option<String>,
    pub heartbeat_at: Option<DateTimeUtc>,
    pub cancel_requested: bool,
    pub object_key: Option<String>,
    pub objects: Json,
    pub destination_ids: Json,
    pub pending_uploads: Json,
    pub bytes_read: i64,
    pub size: Option<i64>,
    pub rate_bps: Option<i64>,
    pub sha256: Option<String>,
    pub server_version: Option<String>,
    pub pg_dump_version: Option<String>,
    pub message: Option<String>,
    pub stderr_tail: Option<String>,
    pub verify_status: Option<String>,
    pub verified_at: Option<DateTimeUtc>,
    pub test_restore_status: Option<String>,
    pub test_restored_at: Option<DateTimeUtc>,
    pub test_restore_message: Option<String>,
    /// When the backup went to the trash (status `trashed`); purged `storage.trash_days` later.
    pub trashed_at: Option<DateTimeUtc>,
    /// The database server by identity (resolved address and port), for the per-server limit.
    pub server_key: Option<String>,
    /// `database` (one database's backup) or `server` (a whole-server run: globals, and a child row
    /// per database).
    pub kind: String,
    /// The whole-server run this backup belongs to.
    pub parent_id: Option<Uuid>,
    /// The database a whole-server run's child dumped (its own name on the server).
    pub database_name: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
