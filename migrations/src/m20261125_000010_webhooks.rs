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
-- Webhooks. The URL, header values and signing secret may carry credentials (a Slack or Healthchecks
-- URL is itself the secret), so they are stored sealed; the API shows a masked URL and header names.
CREATE TABLE webhooks (
    id                uuid PRIMARY KEY,
    name              text NOT NULL,
    name_key          text NOT NULL UNIQUE,
    kind              text NOT NULL,
    active            boolean NOT NULL DEFAULT true,
    event_kinds       jsonb NOT NULL DEFAULT '[]',
    targets           jsonb NOT NULL DEFAULT '{"all": true}',
    method            text NOT NULL,
    url_encrypted     bytea NOT NULL,
    url_masked        text NOT NULL,
    headers_encrypted bytea,
    header_names      jsonb NOT NULL DEFAULT '[]',
    body_template     text,
    secret_encrypted  bytea,
    timeout_secs      integer NOT NULL,
    max_attempts      integer NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- One event (or test) to one webhook. The row is the source of truth; queue jobs only carry its id, so
-- a lost or doubled job is harmless (a scheduler pass re-enqueues what is due, claiming is atomic).
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    webhook_id      uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id        uuid REFERENCES events(id) ON DELETE SET NULL,
    event_kind      text NOT NULL,
    event           jsonb NOT NULL,
    test            boolean NOT NULL DEFAULT false,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    queued_at       timestamptz,
    claimed_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (status, next_attempt_at)
    WHERE status IN ('queued', 'sending', 'retrying');
CREATE TABLE webhook_attempts (
    id               uuid PRIMARY KEY,
    delivery_id      uuid NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt          integer NOT NULL,
    started_at       timestamptz NOT NULL,
    duration_ms      bigint NOT NULL,
    request          jsonb NOT NULL,
    response_status  integer,
    response_headers jsonb,
    response_body    text,
    error            text
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE webhook_attempts; DROP TABLE webhook_deliveries; DROP TABLE webhooks;",
            )
            .await?;
        Ok(())
    }
}
