//! The job queues: apalis with its PostgreSQL storage, sharing the catalog's pool. Backups, webhook
//! deliveries and health checks each have a queue. A job carries only an id; the row it points at is the
//! source of truth, so a job delivered twice is harmless (claiming is an atomic update of that row).
//!
//! Features enqueue through `AppState::queues`; which code handles a job is decided in `workers.rs`, so
//! this module knows no feature.

use apalis::prelude::*;
use apalis_postgres::{Config as QueueConfig, PostgresStorage};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunBackup {
    pub execution_id: Uuid,
}

pub const BACKUP_QUEUE: &str = "pgward::run_backup";

/// One attempt of a webhook delivery (the row holds everything else).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverWebhook {
    pub delivery_id: Uuid,
}

pub const DELIVERY_QUEUE: &str = "pgward::deliver_webhook";

/// A scheduled health check of one database or destination (claimed by the scheduler pass).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckHealth {
    pub resource: HealthResource,
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthResource {
    Database,
    Destination,
}

pub const HEALTH_QUEUE: &str = "pgward::check_health";

#[derive(Clone)]
pub struct Queues {
    pub(super) backups: PostgresStorage<RunBackup>,
    pub(super) deliveries: PostgresStorage<DeliverWebhook>,
    pub(super) health: PostgresStorage<CheckHealth>,
}

/// Pushes one job that runs once: retrying is the business of the row the job points at (a failed
/// backup is reported and the next schedule runs again; deliveries back off; health checks recur).
async fn push_once<T, K>(storage: &PostgresStorage<T>, job: T, what: &str) -> anyhow::Result<()>
where
    PostgresStorage<T>: TaskSink<T, K>,
    <PostgresStorage<T> as Backend>::Error: std::fmt::Display,
{
    let mut s = storage.clone();
    let task = TaskBuilder::new(job).max_attempts(1).build();
    s.push_task(task)
        .await
        .map_err(|e| anyhow::anyhow!("enqueueing {what}: {e}"))?;
    Ok(())
}

impl Queues {
    /// Creates apalis' own tables (schema `apalis`) if needed.
    pub async fn setup(pool: &sqlx::PgPool) -> anyhow::Result<Self> {
        PostgresStorage::setup(pool)
            .await
            .map_err(|e| anyhow::anyhow!("setting up the job queue: {e}"))?;
        let config = |queue: &str| QueueConfig::default().queue(queue);
        Ok(Self {
            backups: PostgresStorage::new(pool).with_config(config(BACKUP_QUEUE)),
            deliveries: PostgresStorage::new(pool).with_config(config(DELIVERY_QUEUE)),
            health: PostgresStorage::new(pool).with_config(config(HEALTH_QUEUE)),
        })
    }

    pub async fn enqueue_backup(&self, execution_id: Uuid) -> anyhow::Result<()> {
        push_once(
            &self.backups,
            RunBackup { execution_id },
            &format!("execution {execution_id}"),
        )
        .await
    }

    /// Many backup jobs in one multi-row insert (apalis' sink buffers what it is sent and flushes it
    /// as one statement): the scheduler's pass queues every run due in a minute at once.
    pub async fn enqueue_backups(&self, execution_ids: &[Uuid]) -> anyhow::Result<()> {
        if execution_ids.is_empty() {
            return Ok(());
        }
        let mut s = self.backups.clone();
        let tasks: Vec<_> = execution_ids
            .iter()
            .map(|&execution_id| {
                TaskBuilder::new(RunBackup { execution_id })
                    .max_attempts(1)
                    .build()
            })
            .collect();
        s.push_all(&mut futures::stream::iter(tasks))
            .await
            .map_err(|e| anyhow::anyhow!("enqueueing {} executions: {e}", execution_ids.len()))
    }

    pub async fn enqueue_delivery(&self, delivery_id: Uuid) -> anyhow::Result<()> {
        push_once(
            &self.deliveries,
            DeliverWebhook { delivery_id },
            &format!("webhook delivery {delivery_id}"),
        )
        .await
    }

    pub async fn enqueue_health_check(
        &self,
        resource: HealthResource,
        id: Uuid,
    ) -> anyhow::Result<()> {
        push_once(
            &self.health,
            CheckHealth { resource, id },
            &format!("health check of {resource:?} {id}"),
        )
        .await
    }
}

/// Finished queue jobs (apalis keeps them, with their results) older than `before` are removed: the
/// rows they pointed at hold the history; the queue table would otherwise grow with every health check
/// and delivery.
pub async fn prune_finished(
    db: &sea_orm::DatabaseConnection,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM apalis.jobs WHERE done_at < $1 AND job_type IN ($2, $3, $4)",
            [
                before.into(),
                BACKUP_QUEUE.into(),
                DELIVERY_QUEUE.into(),
                HEALTH_QUEUE.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected())
}
