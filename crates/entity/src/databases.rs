use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "databases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub name_key: String,
    pub description: Option<String>,
    /// Nonce || AES-256-GCM ciphertext of the connection string.
    pub connection_encrypted: Vec<u8>,
    pub host: String,
    pub port: i32,
    pub database_name: String,
    pub username: String,
    pub masked_connection: String,
    pub server_version: Option<String>,
    pub major_version: Option<i32>,
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
