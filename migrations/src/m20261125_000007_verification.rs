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
ALTER TABLE executions
    ADD COLUMN verify_status        text CHECK (verify_status IN ('running', 'ok', 'failed')),
    ADD COLUMN verified_at          timestamptz,
    ADD COLUMN test_restore_status  text CHECK (test_restore_status IN ('running', 'ok', 'failed')),
    ADD COLUMN test_restored_at     timestamptz,
    ADD COLUMN test_restore_message text;
-- When the scheduled verification / test-restore of a task last ran: the next is due after it.
ALTER TABLE tasks
    ADD COLUMN verify_run_at        timestamptz,
    ADD COLUMN test_restore_run_at  timestamptz;
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE executions DROP COLUMN verify_status, DROP COLUMN verified_at, \
                 DROP COLUMN test_restore_status, DROP COLUMN test_restored_at, \
                 DROP COLUMN test_restore_message; \
                 ALTER TABLE tasks DROP COLUMN verify_run_at, DROP COLUMN test_restore_run_at;",
            )
            .await?;
        Ok(())
    }
}
