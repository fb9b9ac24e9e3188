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
CREATE TABLE restorations (
    id                 uuid PRIMARY KEY,
    -- The backup restored; history outlives it (executions are soft-deleted, so this rarely nulls).
    execution_id       uuid REFERENCES executions(id) ON DELETE SET NULL,
    task_id            uuid,
    task_name          text NOT NULL,
    source_database_id uuid,
    destination_id     uuid NOT NULL,
    object_key         text NOT NULL,
    -- source | database | connection | new_database
    target_kind        text NOT NULL CHECK (target_kind IN ('source', 'database', 'connection', 'new_database')),
    -- The registered database restored into (for new_database: the one whose server hosts it).
    target_database_id uuid,
    -- What the target is, for people: masked connection, never a password.
    target_label       text NOT NULL,
    new_database_name  text,
    options            jsonb NOT NULL,
    status             text NOT NULL CHECK (status IN ('queued', 'running', 'success', 'failed', 'cancelled')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    finished_at        timestamptz,
    -- The process holding the restore's secrets in memory; its heartbeat is the lease.
    worker_id          text,
    heartbeat_at       timestamptz,
    cancel_requested   boolean NOT NULL DEFAULT false,
    bytes_read         bigint NOT NULL DEFAULT 0,
    total_bytes        bigint,
    rate_bps           bigint,
    client_version     text,
    server_version     text,
    error_code         text,
    message            text,
    stderr_tail        text
);
CREATE INDEX restorations_created_idx ON restorations (created_at DESC, id DESC);
CREATE INDEX restorations_execution_idx ON restorations (execution_id);
CREATE INDEX restorations_status_idx ON restorations (status);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE restorations;")
            .await?;
        Ok(())
    }
}
