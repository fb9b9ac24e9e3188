use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "restorations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub execution_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub task_name: String,
    pub source_database_id: Option<Uuid>,
    pub destination_id: Uuid,
    pub object_key: String,
    pub target_kind: String,
    pub target_database_id: Option<Uuid>,
    pub target_label: String,
    pub new_database_name: Option<String>,
    pub previous_database_name: Option<String>,
    pub previous_kept_until: Option<DateTimeUtc>,
    pub previous_dropped_at: Option<DateTimeUtc>,
    pub options: Json,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub worker_id: Option<String>,
    pub heartbeat_at: Option<DateTimeUtc>,
    pub cancel_requested: bool,
    pub bytes_read: i64,
    pub total_bytes: Option<i64>,
    pub rate_bps: Option<i64>,
    pub client_version: Option<String>,
    pub server_version: Option<String>,
    pub error_code: Option<String>,
    pub message: Option<String>,
    pub stderr_tail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
