use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "-- A restore with target `replace` keeps the original database under a dated name until\n\
                 -- previous_kept_until; housekeeping drops it then and records when.\n\
                 ALTER TABLE restorations ADD COLUMN previous_database_name text,\n\
                   ADD COLUMN previous_kept_until timestamptz,\n\
                   ADD COLUMN previous_dropped_at timestamptz;\n\
                 ALTER TABLE restorations DROP CONSTRAINT restorations_target_kind_check,\n\
                   ADD CONSTRAINT restorations_target_kind_check CHECK (target_kind IN\n\
                   ('source', 'database', 'connection', 'new_database', 'replace'));\n\
                 CREATE INDEX restorations_previous_due ON restorations (previous_kept_until)\n\
                   WHERE previous_database_name IS NOT NULL AND previous_dropped_at IS NULL;",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX IF EXISTS restorations_previous_due;\n\
                 DELETE FROM restorations WHERE target_kind = 'replace';\n\
                 ALTER TABLE restorations DROP CONSTRAINT restorations_target_kind_check,\n\
                   ADD CONSTRAINT restorations_target_kind_check CHECK (target_kind IN\n\
                   ('source', 'database', 'connection', 'new_database'));\n\
                 ALTER TABLE restorations DROP COLUMN previous_database_name,\n\
                   DROP COLUMN previous_kept_until, DROP COLUMN previous_dropped_at;",
            )
            .await?;
        Ok(())
    }
}
