//! The background wing: everything a pgward process does besides answering requests, composed here and
//! started from `startup.rs`.
//!
//! - `queues`: the job queues (apalis on PostgreSQL) the state owns; features enqueue through them.
//! - `workers`: which feature service handles each queue's jobs, and how many run at once.
//! - `pass`: the periodic pass, which asks each feature's service for its time-driven work.
//! - `supervise`: keeps each of these loops alive and tells `/readyz` which are not.
//! - `watch_catalog`: the one probe of the catalog (and restart of an embedded one).
//!
//! Features never start background work themselves; they expose jobs and sweeps in their service module.

use std::sync::Arc;

use sea_orm::ConnectionTrait;

use crate::catalog::EmbeddedCatalog;
use crate::state::AppState;

mod pass;
pub use pass::{ANNOUNCE_WINDOW, LEASE};
pub mod queues;
pub mod supervise;
mod workers;

/// The workers (backups, webhook deliveries, health checks) and the periodic pass of this process, each
/// supervised: restarted with backoff when it stops, and shown in `/readyz` while it is down. They use
/// the background pool (the API's pool gives up fast during an outage).
pub fn start(state: &AppState, role: &str) {
    let name = format!("{role}-{}-{}", hostname(), std::process::id());
    let state = state.background();
    // Directory-format scratch of pgward processes killed mid-dump (kill -9 skips every destructor).
    let work = state.config.work_dir();
    for dir in pgward_engine::backup::sweep_work_dir(&work) {
        tracing::info!(path = %dir.display(), "removed the work directory of a pgward process that died");
    }
    if let Err(e) = std::fs::create_dir_all(&work) {
        tracing::warn!(path = %work.display(), error = %e, "cannot create the work directory; directory-format backups will fail");
    }
    // apalis registers a worker by name and holds it with a lock of the session that registered it: a
    // restarted worker takes a fresh name.
    let named = |base: String, attempt: u32| match attempt {
        0 => base,
        n => format!("{base}-r{n}"),
    };
    let (st, base) = (state.clone(), name.clone());
    supervise::spawn(state.live.clone(), "backup workers", move |n| {
        workers::backups(&st.queues, st.clone(), named(base.clone(), n))
    });
    let (st, base) = (state.clone(), format!("{name}-webhooks"));
    supervise::spawn(state.live.clone(), "webhook workers", move |n| {
        workers::deliveries(&st.queues, st.clone(), named(base.clone(), n))
    });
    let (st, base) = (state.clone(), format!("{name}-health"));
    supervise::spawn(state.live.clone(), "health check workers", move |n| {
        workers::health_checks(&st.queues, st.clone(), named(base.clone(), n))
    });
    let every = std::time::Duration::from_secs(state.config.worker.scheduler_interval_secs.max(1));
    let st = state.clone();
    supervise::spawn(state.live.clone(), "periodic pass", move |_| {
        pass::run(st.clone(), every)
    });
    tracing::info!(worker = %name, concurrency = state.config.worker.concurrency, "workers and scheduler started");
}

/// Asks the catalog every 2 s whether it answers (the one place that logs outages), and restarts the
/// embedded catalog's server if its postmaster died. If that server cannot be started again within two
/// minutes, the returned channel says so and the process ends non-zero (a service manager restarts it).
pub fn watch_catalog(
    state: &AppState,
    embedded: Option<Arc<EmbeddedCatalog>>,
) -> tokio::sync::mpsc::Receiver<anyhow::Error> {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(2);
    const GIVE_UP: std::time::Duration = std::time::Duration::from_secs(120);
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let (db, watch) = (state.db.clone(), state.catalog_watch.clone());
    tokio::spawn(async move {
        let mut failing_since: Option<std::time::Instant> = None;
        loop {
            let probe = tokio::time::timeout(EVERY, db.execute_unprepared("SELECT 1")).await;
            match probe {
                Ok(Ok(_)) => {
                    watch.answered();
                    failing_since = None;
                }
                failed => {
                    let why = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => "no answer within 2 s".to_string(),
                    };
                    watch.failed(&why);
                    let since = *failing_since.get_or_insert_with(std::time::Instant::now);
                    if let Some(embedded) = &embedded {
                        let e = embedded.clone();
                        match tokio::task::spawn_blocking(move || e.restart_if_dead()).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) if since.elapsed() > GIVE_UP => {
                                let _ = tx.send(e.context("the embedded catalog server did not start again within two minutes")).await;
                                return;
                            }
                            Ok(Err(e)) => {
                                tracing::debug!(
                                    error = format!("{e:#}"),
                                    "the embedded catalog did not start yet; trying again"
                                )
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "checking the embedded catalog failed")
                            }
                        }
                    }
                }
            }
            tokio::time::sleep(EVERY).await;
        }
    });
    rx
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "host".into())
}
