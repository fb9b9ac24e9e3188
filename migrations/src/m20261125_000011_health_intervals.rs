use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "-- A resource's own health-check interval (NULL: worker.health_interval_secs).\n\
                 ALTER TABLE databases ADD COLUMN health_interval_secs integer;\n\
                 ALTER TABLE destinations ADD COLUMN health_interval_secs integer;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE databases DROP COLUMN health_interval_secs; \
                 ALTER TABLE destinations DROP COLUMN health_interval_secs;",
            )
            .await?;
        Ok(())
    }
}
