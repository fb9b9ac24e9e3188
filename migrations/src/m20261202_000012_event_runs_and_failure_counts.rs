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
-- A run's once-only events are looked up by run before they are recorded (and by the outcome sweep).
CREATE INDEX events_execution_idx ON events (execution_id, kind) WHERE execution_id IS NOT NULL;
CREATE INDEX events_restoration_idx ON events (restoration_id, kind) WHERE restoration_id IS NOT NULL;
-- The outcome sweep (every scheduler pass) looks at the runs that ended in the last hour.
CREATE INDEX executions_finished_idx ON executions (finished_at) WHERE status IN ('success', 'failed');
CREATE INDEX restorations_finished_idx ON restorations (finished_at) WHERE status IN ('success', 'failed');
-- One log row per attempt (the sweep logs an attempt cut off by a dying process only once).
DELETE FROM webhook_attempts a USING webhook_attempts b
    WHERE a.delivery_id = b.delivery_id AND a.attempt = b.attempt AND a.id > b.id;
CREATE UNIQUE INDEX webhook_attempts_once_idx ON webhook_attempts (delivery_id, attempt);
-- Deliveries that failed after their last attempt, ever: a counter that survives the pruning of the
-- delivery log (Prometheus rates and increases need a value that never goes down).
ALTER TABLE webhooks ADD COLUMN failed_deliveries bigint NOT NULL DEFAULT 0;
-- Existing webhooks start from the failures their delivery log still holds.
UPDATE webhooks w SET failed_deliveries =
    (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'failed' AND NOT d.test);
-- A paused webhook's pending deliveries are dropped as failed; that is the operator's choice, not a
-- failure to alert on.
CREATE FUNCTION pgward_count_failed_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE webhooks SET failed_deliveries = failed_deliveries + 1 WHERE id = NEW.webhook_id AND active;
    RETURN NULL;
END $$;
CREATE TRIGGER webhook_delivery_failed
    AFTER UPDATE OF status ON webhook_deliveries
    FOR EACH ROW WHEN (NEW.status = 'failed' AND OLD.status IS DISTINCT FROM 'failed' AND NOT NEW.test)
    EXECUTE FUNCTION pgward_count_failed_delivery();
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TRIGGER webhook_delivery_failed ON webhook_deliveries; \
                 DROP FUNCTION pgward_count_failed_delivery(); \
                 ALTER TABLE webhooks DROP COLUMN failed_deliveries; \
                 DROP INDEX webhook_attempts_once_idx; \
                 DROP INDEX executions_finished_idx; DROP INDEX restorations_finished_idx; \
                 DROP INDEX events_execution_idx; DROP INDEX events_restoration_idx;",
            )
            .await?;
        Ok(())
    }
}
