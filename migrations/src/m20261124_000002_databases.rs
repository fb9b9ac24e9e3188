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
CREATE TABLE databases (
    id                    uuid PRIMARY KEY,
    name                  text NOT NULL,
    -- Unicode-aware lower case of the name, computed by pgward (the catalog may use the C locale).
    name_key              text NOT NULL,
    description           text,
    -- AES-256-GCM: 12-byte nonce || ciphertext+tag of the connection string.
    connection_encrypted  bytea NOT NULL,
    host                  text NOT NULL,
    port                  integer NOT NULL,
    database_name         text NOT NULL,
    username              text NOT NULL,
    masked_connection     text NOT NULL,
    server_version        text,
    major_version         integer,
    health_status         text NOT NULL DEFAULT 'unknown'
                          CHECK (health_status IN ('unknown', 'healthy', 'unhealthy')),
    last_checked_at       timestamptz,
    last_error            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX databases_name_key ON databases (name_key);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE databases;")
            .await?;
        Ok(())
    }
}
