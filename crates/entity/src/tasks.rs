use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub name_key: String,
    pub database_id: Uuid,
    pub active: bool,
    pub schedule: String,
    pub timezone: String,
    pub spec: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub verify_run_at: Option<DateTimeUtc>,
    pub test_restore_run_at: Option<DateTimeUtc>,
    /// Since when the task is overdue (`backup_overdue` raised); cleared by a success.
    pub overdue_since: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
