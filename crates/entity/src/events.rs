use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub created_at: DateTimeUtc,
    pub task_id: Option<Uuid>,
    pub database_id: Option<Uuid>,
    pub destination_id: Option<Uuid>,
    pub execution_id: Option<Uuid>,
    pub restoration_id: Option<Uuid>,
    pub data: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
