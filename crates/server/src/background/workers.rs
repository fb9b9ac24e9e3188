//! Which code handles each queue's jobs, and how many of each a process runs. The only place where the
//! queues meet the features: a handler calls the feature's public service.

use apalis::prelude::*;

use super::queues::{CheckHealth, DeliverWebhook, Queues, RunBackup};
use crate::features::{executions, health, webhooks};
use crate::state::AppState;

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

/// Backup workers of this process (`worker.concurrency` at once), until the queue fails.
pub fn backups(
    queues: &Queues,
    state: AppState,
    name: String,
) -> impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static + use<> {
    let n = state.config.worker.concurrency;
    worker_run!(queues.backups, state, name, n, run_backup)
}

/// Webhook senders of this process.
pub fn deliveries(
    queues: &Queues,
    state: AppState,
    name: String,
) -> impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static + use<> {
    let n = state.config.webhooks.concurrency;
    worker_run!(queues.deliveries, state, name, n, deliver_webhook)
}

/// Health checkers of this process.
pub fn health_checks(
    queues: &Queues,
    state: AppState,
    name: String,
) -> impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static + use<> {
    let n = state.config.worker.health_concurrency;
    worker_run!(queues.health, state, name, n, check_health)
}

#[tracing::instrument(skip_all, fields(execution_id = %job.execution_id))]
async fn run_backup(
    job: RunBackup,
    state: Data<AppState>,
    wrk: WorkerContext,
) -> Result<(), BoxDynError> {
    let worker = wrk.name().to_string();
    // Its own task: if the worker loop stops (the queue lost the catalog), the run in flight goes on,
    // finishes into storage and records its outcome once the catalog answers again.
    let state = (*state).clone();
    let run = tokio::spawn(async move {
        executions::service::run_queued(&state, job.execution_id, &worker).await
    });
    let _ = run.await;
    Ok(())
}

#[tracing::instrument(skip_all, fields(delivery_id = %job.delivery_id))]
async fn deliver_webhook(job: DeliverWebhook, state: Data<AppState>) -> Result<(), BoxDynError> {
    webhooks::service::deliver(&state, job.delivery_id).await;
    Ok(())
}

#[tracing::instrument(skip_all, fields(resource = ?job.resource, id = %job.id))]
async fn check_health(job: CheckHealth, state: Data<AppState>) -> Result<(), BoxDynError> {
    health::service::check(&state, job.resource, job.id).await;
    Ok(())
}
