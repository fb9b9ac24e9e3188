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

#[derive(Clone)]
pub struct Jobs {
    storage: PostgresStorage<RunBackup>,
}

impl Jobs {
    /// Creates apalis' own tables (schema `apalis`) if needed.
    pub async fn setup(pool: &sqlx::PgPool) -> anyhow::Result<Self> {
        PostgresStorage::setup(pool)
            .await
            .map_err(|e| anyhow::anyhow!("setting up the job queue: {e}"))?;
        let storage = PostgresStorage::new(pool).with_config(QueueConfig::default().queue(QUEUE));
        Ok(Self { storage })
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
