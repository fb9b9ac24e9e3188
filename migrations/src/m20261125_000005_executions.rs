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
CREATE TABLE executions (
    id               uuid PRIMARY KEY,
    -- History outlives the task: the name is copied, the reference may become null.
    task_id          uuid REFERENCES tasks(id) ON DELETE SET NULL,
    task_name        text NOT NULL,
    database_id      uuid,
    trigger          text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'api')),
    status           text NOT NULL CHECK (status IN ('queued', 'running', 'success', 'failed', 'cancelled', 'deleted')),
    scheduled_for    timestamptz NOT NULL,
    timezone         text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    worker_id        text,
    heartbeat_at     timestamptz,
    cancel_requested boolean NOT NULL DEFAULT false,
    object_key       text,
    -- [{destination_id, key, size}] of the stored copies.
    objects          jsonb NOT NULL DEFAULT '[]',
    destination_ids  jsonb NOT NULL DEFAULT '[]',
    -- Multipart uploads in flight ({target_id, key, upload_id}): aborted if the worker dies.
    pending_uploads  jsonb NOT NULL DEFAULT '[]',
    bytes_read       bigint NOT NULL DEFAULT 0,
    size             bigint,
    rate_bps         bigint,
    sha256           text,
    server_version   text,
    pg_dump_version  text,
    message          text,
    stderr_tail      text
);
-- A scheduled time runs once, however many schedulers or restarts there are.
CREATE UNIQUE INDEX executions_task_time_key ON executions (task_id, scheduled_for);
-- At most one queued or running execution per task: no overlapping runs.
CREATE UNIQUE INDEX executions_one_active_key ON executions (task_id) WHERE status IN ('queued', 'running');
CREATE INDEX executions_status_idx ON executions (status);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE executions;")
            .await?;
        Ok(())
    }
}
