use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
-- Dumps uploaded from outside are kept as executions with their own trigger.
ALTER TABLE executions DROP CONSTRAINT executions_trigger_check;
ALTER TABLE executions ADD CONSTRAINT executions_trigger_check
    CHECK (trigger IN ('schedule', 'manual', 'api', 'upload'));
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DELETE FROM executions WHERE trigger = 'upload'; \
                 ALTER TABLE executions DROP CONSTRAINT executions_trigger_check; \
                 ALTER TABLE executions ADD CONSTRAINT executions_trigger_check \
                 CHECK (trigger IN ('schedule', 'manual', 'api'));",
            )
            .await?;
        Ok(())
    }
}
