use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub name_key: String,
    pub kind: String,
    pub active: bool,
    pub event_kinds: Json,
    pub targets: Json,
    pub method: String,
    pub url_encrypted: Vec<u8>,
    pub url_masked: String,
    pub headers_encrypted: Option<Vec<u8>>,
    pub header_names: Json,
    pub body_template: Option<String>,
    pub secret_encrypted: Option<Vec<u8>>,
    pub timeout_secs: i32,
    pub max_attempts: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
