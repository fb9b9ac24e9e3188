use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "-- The database server a run dumps from, by identity (resolved address and port), so that\n\
                 -- the per-server limit counts aliases of one server (127.0.0.1, localhost) together.\n\
                 ALTER TABLE executions ADD COLUMN server_key text;\n\
                 CREATE INDEX executions_server_active_idx ON executions (server_key, status) \
                   WHERE status IN ('queued', 'running');",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX executions_server_active_idx;\n\
                 ALTER TABLE executions DROP COLUMN server_key;",
            )
            .await?;
        Ok(())
    }
}
