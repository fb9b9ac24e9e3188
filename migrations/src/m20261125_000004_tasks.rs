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
CREATE TABLE tasks (
    id                uuid PRIMARY KEY,
    name              text NOT NULL,
    name_key          text NOT NULL,
    database_id       uuid NOT NULL REFERENCES databases(id) ON DELETE RESTRICT,
    active            boolean NOT NULL,
    schedule          text NOT NULL,
    timezone          text NOT NULL,
    -- The rest of the TaskSpec (format, compression, options, retention ...), validated by pgward.
    spec              jsonb NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tasks_name_key ON tasks (name_key);

CREATE TABLE task_destinations (
    task_id         uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    destination_id  uuid NOT NULL REFERENCES destinations(id) ON DELETE RESTRICT,
    position        integer NOT NULL,
    PRIMARY KEY (task_id, destination_id)
);
CREATE INDEX task_destinations_destination_idx ON task_destinations (destination_id);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE task_destinations; DROP TABLE tasks;")
            .await?;
        Ok(())
    }
}
