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
-- What happened, with the data notifications are rendered from. Kept as history.
CREATE TABLE events (
    id             uuid PRIMARY KEY,
    kind           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    task_id        uuid,
    database_id    uuid,
    destination_id uuid,
    execution_id   uuid,
    restoration_id uuid,
    data           jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_kind_idx ON events (kind, id DESC);
CREATE INDEX events_task_idx ON events (task_id, id DESC);
-- When each resource's next scheduled health check is due (claimed by moving it forward).
ALTER TABLE databases ADD COLUMN health_next_at timestamptz, ADD COLUMN health_latency_ms integer;
ALTER TABLE destinations ADD COLUMN health_next_at timestamptz, ADD COLUMN health_latency_ms integer;
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE events; \
                 ALTER TABLE databases DROP COLUMN health_next_at, DROP COLUMN health_latency_ms; \
                 ALTER TABLE destinations DROP COLUMN health_next_at, DROP COLUMN health_latency_ms;",
            )
            .await?;
        Ok(())
    }
}
