use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "destinations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub name_key: String,
    pub kind: String,
    pub settings: Json,
    pub secrets_encrypted: Vec<u8>,
    pub health_status: String,
    pub last_checked_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub health_next_at: Option<DateTimeUtc>,
    pub health_latency_ms: Option<i32>,
    pub health_interval_secs: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
