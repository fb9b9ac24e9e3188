//! The catalog schema. Each migration is a timestamped module with a working `down()`; they run at start-up
//! and through `pgward migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_auth;
mod m20261124_000002_databases;
mod m20261125_000003_destinations;
mod m20261125_000004_tasks;
mod m20261125_000005_executions;
mod m20261125_000006_restorations;
mod m20261125_000007_verification;
mod m20261125_000008_uploads;
mod m20261125_000009_events_health;
mod m20261125_000010_webhooks;
mod m20261125_000011_health_intervals;
mod m20261202_000012_event_runs_and_failure_counts;
mod m20261206_000013_trash;
mod m20261206_000014_server_key;
mod m20261206_000015_task_overdue;
mod m20261206_000016_storage_cleanups;
mod m20261207_000017_teams;
mod m20261207_000018_replace;
mod m20261207_000019_server_runs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_auth::Migration),
            Box::new(m20261124_000002_databases::Migration),
            Box::new(m20261125_000003_destinations::Migration),
            Box::new(m20261125_000004_tasks::Migration),
            Box::new(m20261125_000005_executions::Migration),
            Box::new(m20261125_000006_restorations::Migration),
            Box::new(m20261125_000007_verification::Migration),
            Box::new(m20261125_000008_uploads::Migration),
            Box::new(m20261125_000009_events_health::Migration),
            Box::new(m20261125_000010_webhooks::Migration),
            Box::new(m20261125_000011_health_intervals::Migration),
            Box::new(m20261202_000012_event_runs_and_failure_counts::Migration),
            Box::new(m20261206_000013_trash::Migration),
            Box::new(m20261206_000014_server_key::Migration),
            Box::new(m20261206_000015_task_overdue::Migration),
            Box::new(m20261206_000016_storage_cleanups::Migration),
            Box::new(m20261207_000017_teams::Migration),
            Box::new(m20261207_000018_replace::Migration),
            Box::new(m20261207_000019_server_runs::Migration),
        ]
    }
}
