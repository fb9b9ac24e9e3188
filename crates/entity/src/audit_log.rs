use sea_orm::entity::prelude::*;

/// One audited request: who (user, token), what (operation on a resource, the names of the fields it
/// sent — never their values), when, from where, and how it ended (HTTP status).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub actor_user_id: Option<Uuid>,
    pub actor_email: Option<String>,
    pub actor_token_id: Option<Uuid>,
    pub actor_token_name: Option<String>,
    pub operation: String,
    pub method: String,
    pub path: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub action: String,
    /// A JSON array of field names.
    pub fields: Json,
    pub status: i32,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
