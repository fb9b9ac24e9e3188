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
CREATE TABLE destinations (
    id                 uuid PRIMARY KEY,
    name               text NOT NULL,
    name_key           text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('local', 's3', 'gcs', 'azure')),
    -- The configuration without secrets (DestinationConfig with secret fields null).
    settings           jsonb NOT NULL,
    -- AES-256-GCM of a JSON object holding the secret fields.
    secrets_encrypted  bytea NOT NULL,
    health_status      text NOT NULL DEFAULT 'unknown'
                       CHECK (health_status IN ('unknown', 'healthy', 'unhealthy')),
    last_checked_at    timestamptz,
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX destinations_name_key ON destinations (name_key);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE destinations;")
            .await?;
        Ok(())
    }
}
