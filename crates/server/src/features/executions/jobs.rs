//! The job queues: apalis with its PostgreSQL storage, sharing the catalog's pool. Backups, webhook
//! deliveries and health checks each have a queue. A job carries only an id; the row it points at is the
//! source of truth, so a job delivered twice is harmless (claiming is an atomic update of that row).

use apalis::prelude::*;
use apalis_postgres::{Config as QueueConfig, PostgresStorage};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::state::AppState;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunBackup {
    pub execution_id: Uuid,
}

pub const QUEUE: &str = "pgward::run_backup";

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
pub struct Jobs {
    storage: PostgresStorage<RunBackup>,
    deliveries: PostgresStorage<DeliverWebhook>,
    health: PostgresStorage<CheckHealth>,
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

/// `concurrency` workers of one queue in this process, as one future that ends (with an error) when
/// the queue's backend fails, for the supervisor to start again. LISTEN/NOTIFY: a pushed job wakes a
/// worker at once, instead of waiting for the next poll (which backs off to a minute while idle).
macro_rules! worker_run {
    ($storage:expr, $state:expr, $name:expr, $concurrency:expr, $handler:expr) => {{
        let storage = $storage.clone();
        let (state, name, concurrency): (AppState, String, usize) = ($state, $name, $concurrency);
        async move {
            let worker = WorkerBuilder::new(name)
                .backend(storage.with_pubsub())
                .concurrency(usize::max(concurrency, 1))
                .data(state)
                .build($handler);
            worker.run().await.map_err(|e| anyhow::anyhow!("{e}"))
        }
    }};
}

impl Jobs {
    /// Creates apalis' own tables (schema `apalis`) if needed.
    pub async fn setup(pool: &sqlx::PgPool) -> anyhow::Result<Self> {
        PostgresStorage::setup(pool)
            .await
            .map_err(|e| anyhow::anyhow!("setting up the job queue: {e}"))?;
        let config = |queue: &str| QueueConfig::default().queue(queue);
        Ok(Self {
            storage: PostgresStorage::new(pool).with_config(config(QUEUE)),
            deliveries: PostgresStorage::new(pool).with_config(config(DELIVERY_QUEUE)),
            health: PostgresStorage::new(pool).with_config(config(HEALTH_QUEUE)),
        })
    }

    pub async fn enqueue(&self, execution_id: Uuid) -> anyhow::Result<()> {
        push_once(
            &self.storage,
            RunBackup { execution_id },
            &format!("execution {execution_id}"),
        )
        .await
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

    /// Backup workers of this process (`worker.concurrency` at once), until the queue fails.
    pub fn backup_workers(
        &self,
        state: AppState,
        name: String,
    ) -> impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static + use<> {
        let n = state.config.worker.concurrency;
        worker_run!(self.storage, state, name, n, handle)
    }

    /// Webhook senders of this process.
    pub fn webhook_workers(
        &self,
        state: AppState,
        name: String,
    ) -> impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static + use<> {
        let n = state.config.webhooks.concurrency;
        worker_run!(self.deliveries, state, name, n, handle_delivery)
    }

    /// Health checkers of this process.
    pub fn health_workers(
        &self,
        state: AppState,
        name: String,
    ) -> impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static + use<> {
        let n = state.config.worker.health_concurrency;
        worker_run!(self.health, state, name, n, handle_health)
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
                QUEUE.into(),
                DELIVERY_QUEUE.into(),
                HEALTH_QUEUE.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected())
}

async fn handle(
    job: RunBackup,
    state: Data<AppState>,
    wrk: WorkerContext,
) -> Result<(), BoxDynError> {
    let worker = wrk.name().to_string();
    // Its own task: if the worker loop stops (the queue lost the catalog), the run in flight goes on,
    // finishes into storage and records its outcome once the catalog answers again.
    let state = (*state).clone();
    let run =
        tokio::spawn(async move { super::runner::run(&state, job.execution_id, &worker).await });
    let _ = run.await;
    Ok(())
}

async fn handle_delivery(job: DeliverWebhook, state: Data<AppState>) -> Result<(), BoxDynError> {
    crate::features::webhooks::delivery::deliver(&state, job.delivery_id).await;
    Ok(())
}

async fn handle_health(job: CheckHealth, state: Data<AppState>) -> Result<(), BoxDynError> {
    crate::features::health::checks::check(&state, job.resource, job.id).await;
    Ok(())
}
