//! The job queue: apalis with its PostgreSQL storage, sharing the catalog's pool. A job carries only an
//! execution id; the execution row is the source of truth, so a job delivered twice is harmless (claiming
//! is an atomic `queued -> running` update).

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

#[derive(Clone)]
pub struct Jobs {
    storage: PostgresStorage<RunBackup>,
    deliveries: PostgresStorage<DeliverWebhook>,
}

impl Jobs {
    /// Creates apalis' own tables (schema `apalis`) if needed.
    pub async fn setup(pool: &sqlx::PgPool) -> anyhow::Result<Self> {
        PostgresStorage::setup(pool)
            .await
            .map_err(|e| anyhow::anyhow!("setting up the job queue: {e}"))?;
        let storage = PostgresStorage::new(pool).with_config(QueueConfig::default().queue(QUEUE));
        let deliveries =
            PostgresStorage::new(pool).with_config(QueueConfig::default().queue(DELIVERY_QUEUE));
        Ok(Self {
            storage,
            deliveries,
        })
    }

    pub async fn enqueue_delivery(&self, delivery_id: Uuid) -> anyhow::Result<()> {
        let mut s = self.deliveries.clone();
        // Retries are the delivery row's business (backoff, log), not the queue's.
        let task = TaskBuilder::new(DeliverWebhook { delivery_id })
            .max_attempts(1)
            .build();
        s.push_task(task)
            .await
            .map_err(|e| anyhow::anyhow!("enqueueing webhook delivery {delivery_id}: {e}"))?;
        Ok(())
    }

    /// Runs `concurrency` webhook senders in this process until the process ends.
    pub fn spawn_delivery_workers(&self, state: AppState, name: String, concurrency: usize) {
        let storage = self.deliveries.clone();
        tokio::spawn(async move {
            let worker = WorkerBuilder::new(name.clone())
                .backend(storage.with_pubsub())
                .concurrency(concurrency.max(1))
                .data(state)
                .build(handle_delivery);
            if let Err(e) = worker.run().await {
                tracing::error!(worker = %name, error = %e, "webhook worker stopped");
            }
        });
    }

    pub async fn enqueue(&self, execution_id: Uuid) -> anyhow::Result<()> {
        let mut s = self.storage.clone();
        // One attempt: a failed backup is reported, not silently retried; the next schedule runs again.
        let task = TaskBuilder::new(RunBackup { execution_id })
            .max_attempts(1)
            .build();
        s.push_task(task)
            .await
            .map_err(|e| anyhow::anyhow!("enqueueing execution {execution_id}: {e}"))?;
        Ok(())
    }

    /// Runs `concurrency` backup workers in this process until the process ends.
    pub fn spawn_workers(&self, state: AppState, name: String, concurrency: usize) {
        let storage = self.storage.clone();
        tokio::spawn(async move {
            // LISTEN/NOTIFY: a pushed job wakes a worker at once, instead of waiting for the next poll
            // (which backs off to a minute while idle).
            let worker = WorkerBuilder::new(name.clone())
                .backend(storage.with_pubsub())
                .concurrency(concurrency.max(1))
                .data(state)
                .build(handle);
            if let Err(e) = worker.run().await {
                tracing::error!(worker = %name, error = %e, "backup worker stopped");
            }
        });
    }
}

async fn handle(
    job: RunBackup,
    state: Data<AppState>,
    wrk: WorkerContext,
) -> Result<(), BoxDynError> {
    let worker = wrk.name().to_string();
    super::runner::run(&state, job.execution_id, &worker).await;
    Ok(())
}

async fn handle_delivery(job: DeliverWebhook, state: Data<AppState>) -> Result<(), BoxDynError> {
    crate::features::webhooks::delivery::deliver(&state, job.delivery_id).await;
    Ok(())
}
