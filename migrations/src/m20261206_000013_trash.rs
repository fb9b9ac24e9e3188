use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "-- A deleted backup first goes to the trash (its objects stay) and is purged after a grace\n\
                 -- period: no single request destroys the only copy of a backup.\n\
                 ALTER TABLE executions DROP CONSTRAINT executions_status_check;\n\
                 ALTER TABLE executions ADD CONSTRAINT executions_status_check CHECK (status IN \
                   ('queued', 'running', 'success', 'failed', 'cancelled', 'deleted', 'trashed'));\n\
                 ALTER TABLE executions ADD COLUMN trashed_at timestamptz;\n\
                 CREATE INDEX executions_trashed_idx ON executions (trashed_at) WHERE status = 'trashed';",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE executions SET status = 'success' WHERE status = 'trashed';\n\
                 DROP INDEX executions_trashed_idx;\n\
                 ALTER TABLE executions DROP COLUMN trashed_at;\n\
                 ALTER TABLE executions DROP CONSTRAINT executions_status_check;\n\
                 ALTER TABLE executions ADD CONSTRAINT executions_status_check CHECK (status IN \
                   ('queued', 'running', 'success', 'failed', 'cancelled', 'deleted'));",
            )
            .await?;
        Ok(())
    }
}
