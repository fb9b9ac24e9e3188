use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "-- Since when a task has had no successful backup within its schedule's interval plus the\n\
                 -- grace period (backup_overdue was raised then); cleared by the next success.\n\
                 ALTER TABLE tasks ADD COLUMN overdue_since timestamptz;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE tasks DROP COLUMN overdue_since;")
            .await?;
        Ok(())
    }
}
