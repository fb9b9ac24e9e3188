use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "-- Leftovers in storage that could not be removed when they should have been (the store\n\
                 -- was unreachable): retried by the periodic pass until the store confirms.\n\
                 CREATE TABLE storage_cleanups (\n\
                   id uuid PRIMARY KEY,\n\
                   destination_id uuid NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,\n\
                   kind text NOT NULL CHECK (kind IN ('multipart_upload', 'object')),\n\
                   key text NOT NULL,\n\
                   upload_id text,\n\
                   reason text NOT NULL,\n\
                   attempts integer NOT NULL DEFAULT 0,\n\
                   last_error text,\n\
                   created_at timestamptz NOT NULL DEFAULT now(),\n\
                   next_attempt_at timestamptz NOT NULL DEFAULT now()\n\
                 );\n\
                 CREATE UNIQUE INDEX storage_cleanups_what_idx \
                   ON storage_cleanups (destination_id, kind, key, coalesce(upload_id, ''));\n\
                 CREATE INDEX storage_cleanups_due_idx ON storage_cleanups (next_attempt_at);",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE storage_cleanups;")
            .await?;
        Ok(())
    }
}
