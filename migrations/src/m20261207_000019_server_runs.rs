use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "-- A whole-server task's run (kind 'server') holds the globals and one child row (kind\n\
                 -- 'database', parent_id set) per database it backed up. A child outlives its parent row:\n\
                 -- it is a backup of its own.\n\
                 ALTER TABLE executions\n\
                   ADD COLUMN kind text NOT NULL DEFAULT 'database' CHECK (kind IN ('database', 'server', 'catalog')),\n\
                   ADD COLUMN parent_id uuid REFERENCES executions(id) ON DELETE SET NULL,\n\
                   ADD COLUMN database_name text;\n\
                 CREATE INDEX executions_parent_idx ON executions (parent_id) WHERE parent_id IS NOT NULL;\n\
                 -- Children share their run's task and time: the once-per-time and one-active rules are\n\
                 -- about runs, so they hold for rows without a parent.\n\
                 DROP INDEX executions_task_time_key;\n\
                 CREATE UNIQUE INDEX executions_task_time_key ON executions (task_id, scheduled_for)\n\
                   WHERE parent_id IS NULL;\n\
                 DROP INDEX executions_one_active_key;\n\
                 CREATE UNIQUE INDEX executions_one_active_key ON executions (task_id)\n\
                   WHERE status IN ('queued', 'running') AND parent_id IS NULL;\n\
                 -- pgward's self-backups of its catalog (no task): once per scheduled time, one at a time.\n\
                 CREATE UNIQUE INDEX executions_catalog_time_key ON executions (scheduled_for)\n\
                   WHERE kind = 'catalog' AND trigger = 'schedule';\n\
                 CREATE UNIQUE INDEX executions_catalog_active_key ON executions (kind)\n\
                   WHERE kind = 'catalog' AND status IN ('queued', 'running');",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX executions_catalog_active_key;\n\
                 DROP INDEX executions_catalog_time_key;\n\
                 DELETE FROM executions WHERE kind = 'catalog';\n\
                 DROP INDEX executions_one_active_key;\n\
                 DROP INDEX executions_task_time_key;\n\
                 DROP INDEX executions_parent_idx;\n\
                 DELETE FROM executions WHERE parent_id IS NOT NULL;\n\
                 ALTER TABLE executions DROP COLUMN kind, DROP COLUMN parent_id, DROP COLUMN database_name;\n\
                 CREATE UNIQUE INDEX executions_task_time_key ON executions (task_id, scheduled_for);\n\
                 CREATE UNIQUE INDEX executions_one_active_key ON executions (task_id)\n\
                   WHERE status IN ('queued', 'running');",
            )
            .await?;
        Ok(())
    }
}
