//! Runs one execution: claim it, dump through the engine to every destination, publish progress every
//! 2 s (which is also the lease heartbeat), honour cancel requests, and record the outcome. Any failure
//! ends in a final state with a message; nothing stays `running`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use pgward_api_types::{ExecutionObject, ExecutionStatus, TaskSpec};
use pgward_engine::abort::AbortOnDrop;
use pgward_engine::backup::{BackupError, BackupPlan, Probed, Progress, naming, run_backup};
use pgward_entity::executions;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::anomaly::detect_anomaly;
pub use super::notify::execution_event;
use super::options::{compression, dump_format, dump_options};
use super::slots::{Claim, claim, wake_waiting};
use crate::features::{databases, destinations, tasks};
use crate::state::AppState;

/// Progress (and heartbeat) interval.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

async fn finish(
    state: &AppState,
    id: Uuid,
    status: ExecutionStatus,
    message: Option<String>,
    stderr: Option<String>,
) -> bool {
    let finished_at = Utc::now();
    let r = crate::catalog::watch::outlast("recording a backup's outcome", || {
        executions::Entity::update_many()
            .col_expr(executions::Column::Status, Expr::value(status.as_str()))
            .col_expr(executions::Column::FinishedAt, Expr::value(finished_at))
            .col_expr(executions::Column::Message, Expr::value(message.clone()))
            .col_expr(executions::Column::StderrTail, Expr::value(stderr.clone()))
            .filter(executions::Column::Id.eq(id))
            .filter(executions::Column::Status.eq(ExecutionStatus::Running.as_str()))
            .exec(&state.db)
    })
    .await;
    match r {
        Ok(r) => r.rows_affected == 1,
        Err(e) => {
            tracing::error!(execution_id = %id, error = %e, "recording the outcome failed");
            false
        }
    }
}

/// Runs execution `id` if it is still queued. Never panics the worker; every outcome is recorded.
#[tracing::instrument(skip(state), fields(execution_id = %id))]
pub async fn run(state: &AppState, id: Uuid, worker: &str) {
    match claim(state, id, worker).await {
        Ok(Claim::Claimed) => {}
        Ok(Claim::Waiting(why)) => {
            tracing::debug!(message = %why, "backup waits for a slot on its database server");
            return;
        }
        Ok(Claim::Gone) => return, // cancelled, or another worker has it
        Err(e) => {
            tracing::error!(error = %e, "claiming the execution failed");
            return;
        }
    }
    execution_event(state, id, pgward_api_types::EventKind::ExecutionStarted).await;
    let recorded = match execute(state, id).await {
        Ok(()) => true,
        Err(failure) => {
            let (status, msg, stderr) = match failure {
                Failure::Cancelled => {
                    let why = ExecutionStatus::Cancelled.as_str().to_string();
                    (ExecutionStatus::Cancelled, why, None)
                }
                Failure::Failed { message, stderr } => (ExecutionStatus::Failed, message, stderr),
            };
            tracing::warn!(message = %msg, "backup failed");
            // Before the outcome: when the run reads as failed, its leftovers are gone or recorded.
            settle_pending_uploads(state, id).await;
            finish(state, id, status, Some(msg), stderr).await
        }
    };
    // The slot this run held is free (its outcome is recorded): a run waiting for the same server goes
    // next.
    if let Ok(Some(e)) = executions::Entity::find_by_id(id).one(&state.db).await
        && let Some(key) = &e.server_key
    {
        wake_waiting(state, key).await;
    }
    // Only the outcome this run recorded is announced: a run the reaper declared interrupted meanwhile
    // already raised execution_failed.
    if !recorded {
        return;
    }
    if let Ok(e) = executions::Entity::find_by_id(id).one(&state.db).await
        && let Some(e) = e
    {
        match ExecutionStatus::parse(&e.status) {
            Some(ExecutionStatus::Success) => {
                execution_event(state, id, pgward_api_types::EventKind::ExecutionSuccess).await;
                detect_anomaly(state, &e).await;
            }
            Some(ExecutionStatus::Failed) => {
                execution_event(state, id, pgward_api_types::EventKind::ExecutionFailed).await
            }
            _ => {}
        }
    }
}

/// After a failed run: the engine aborted its multipart uploads, but an abort against a store that was
/// unreachable at that moment failed. Each upload the run started is aborted again (aborting twice is
/// harmless) or recorded for the periodic pass.
async fn settle_pending_uploads(state: &AppState, id: Uuid) {
    let Ok(Some(e)) = executions::Entity::find_by_id(id).one(&state.db).await else {
        return;
    };
    let pending: Vec<pgward_engine::backup::PendingUpload> =
        serde_json::from_value(e.pending_uploads.clone()).unwrap_or_default();
    if pending.is_empty() {
        return;
    }
    for u in pending {
        let Ok(d) = u.target_id.parse::<Uuid>() else {
            continue;
        };
        destinations::service::remove_or_record(
            state,
            d,
            destinations::service::Leftover::MultipartUpload {
                full_key: u.key,
                upload_id: u.upload_id,
            },
            "an upload of a failed backup",
        )
        .await;
    }
    clear_pending_uploads(state, id).await;
}

/// Empties the run's list of uploads still to settle: the engine completed or aborted them, or
/// `settle_pending_uploads` handed them on. Best effort, like the settling itself.
async fn clear_pending_uploads(state: &AppState, id: Uuid) {
    let _ = executions::Entity::update_many()
        .col_expr(
            executions::Column::PendingUploads,
            Expr::value(serde_json::json!([])),
        )
        .filter(executions::Column::Id.eq(id))
        .exec(&state.db)
        .await;
}

/// Why a backup did not succeed: cancelled by a user, or failed with a message (and pg_dump's error
/// output when it was pg_dump that failed).
enum Failure {
    Cancelled,
    Failed {
        message: String,
        stderr: Option<String>,
    },
}

/// What one run needs, read from the catalog once, before anything is dumped.
struct RunContext {
    exec: executions::Model,
    task_id: Uuid,
    spec: TaskSpec,
    /// The database as people registered it (messages).
    database: String,
    conn: pgward_engine::pg::ConnInfo,
    targets: Vec<pgward_engine::backup::Target>,
}

impl RunContext {
    async fn load(state: &AppState, id: Uuid) -> Result<Self, String> {
        let exec = executions::Entity::find_by_id(id)
            .one(&state.db)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "execution vanished".to_string())?;
        let task_id = exec
            .task_id
            .ok_or_else(|| "the task was deleted".to_string())?;
        let (_, spec) = tasks::service::find(state, task_id)
            .await
            .map_err(|e| format!("loading the task: {e}"))?;
        let (database, conn) =
            databases::service::connection_for_run(state, spec.database_id).await?;
        let mut targets = Vec::new();
        for d in &spec.destination_ids {
            targets.push(
                destinations::service::target_of(state, *d)
                    .await
                    .map_err(|e| format!("destination {d}: {e}"))?,
            );
        }
        Ok(Self {
            exec,
            task_id,
            spec,
            database,
            conn,
            targets,
        })
    }
}

async fn execute(state: &AppState, id: Uuid) -> Result<(), Failure> {
    let fail = |message: String| Failure::Failed {
        message,
        stderr: None,
    };
    let RunContext {
        exec,
        task_id,
        spec,
        database,
        conn,
        targets,
    } = RunContext::load(state, id).await.map_err(fail)?;
    let tz = tasks::service::parse_tz(&spec.timezone).map_err(fail)?;
    let at = exec.scheduled_for.with_timezone(&tz);
    let format = dump_format(spec.format);
    let comp = compression(&spec);
    // Named after where the compression happens (pg_dump inside the archive, or pgward around the
    // stream): a restore reads the layout from the name.
    let stored = pgward_engine::backup::placement(format, comp, &state.pg).stream(comp);
    let ext = naming::extension(format, stored, !spec.encryption_recipients.is_empty());
    let short = id.simple().to_string();
    let short = &short[short.len() - 8..];
    let key = naming::object_key("", &naming::slug(&spec.name), &at, short, &ext);
    // Before anything is stored: if this process dies, the reaper knows what to remove.
    executions::Entity::update_many()
        .col_expr(executions::Column::ObjectKey, Expr::value(key.clone()))
        .filter(executions::Column::Id.eq(id))
        .exec(&state.db)
        .await
        .map_err(|e| fail(e.to_string()))?;

    // The versions show while it runs.
    let (probed_tx, probed_rx) = tokio::sync::oneshot::channel::<Probed>();
    let versions = {
        let state = state.clone();
        tokio::spawn(async move {
            if let Ok(p) = probed_rx.await {
                let _ = executions::Entity::update_many()
                    .col_expr(
                        executions::Column::ServerVersion,
                        Expr::value(p.server_version),
                    )
                    .col_expr(
                        executions::Column::PgDumpVersion,
                        Expr::value(p.client_version),
                    )
                    .filter(executions::Column::Id.eq(id))
                    .exec(&state.db)
                    .await;
            }
        })
    };
    // Multipart uploads are recorded as they start, so the reaper can abort them if this process dies.
    let (started_tx, mut started_rx) =
        tokio::sync::mpsc::unbounded_channel::<pgward_engine::backup::PendingUpload>();
    let recorder = {
        let state = state.clone();
        tokio::spawn(async move {
            while let Some(u) = started_rx.recv().await {
                let _ = executions::Entity::update_many()
                    .col_expr(
                        executions::Column::PendingUploads,
                        Expr::cust_with_values(
                            "pending_uploads || $1::jsonb",
                            [serde_json::json!([u])],
                        ),
                    )
                    .filter(executions::Column::Id.eq(id))
                    .exec(&state.db)
                    .await;
            }
        })
    };
    let progress = Progress::default();
    let cancel = CancellationToken::new();
    // Lives (heartbeat included) until this function returns: the globals dump and the manifests come
    // after the dump, and the lease must hold through them.
    let _reporter = AbortOnDrop(tokio::spawn(report_progress(
        state.clone(),
        id,
        progress.clone(),
        cancel.clone(),
    )));
    let minutes = |m: u32| Duration::from_secs(u64::from(m) * 60);
    let outcome = run_backup(BackupPlan {
        label: database,
        conn,
        installs: state.pg.clone(),
        connect_timeout: Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1)),
        format,
        options: dump_options(&spec),
        compression: comp,
        recipients: spec.encryption_recipients.clone(),
        targets,
        key,
        part_size: None,
        // pg_dump is the slower process; zstd on this thread keeps memory small (bench/RESULTS.md).
        zstd_workers: 0,
        jobs: spec.parallel_jobs,
        include_globals: spec.include_globals,
        // A test-restore compares row counts with the ones of the snapshot pg_dump reads.
        count_rows: spec.verification.test_restore,
        work_dir: state.config.work_dir(),
        timeout: spec.timeout_minutes.map(minutes),
        // On by default: a store that accepts connections and then hangs ends the run.
        stall_timeout: spec
            .stall_timeout_minutes
            .or(Some(state.config.worker.stall_timeout_minutes).filter(|m| *m > 0))
            .map(minutes),
        progress,
        cancel,
        probed: Some(probed_tx),
        uploads_started: Some(started_tx),
        origin: Some(pgward_engine::backup::manifest::Origin {
            execution_id: id,
            task_id: Some(task_id),
            task_name: spec.name.clone(),
            database_id: Some(spec.database_id),
            trigger: exec.trigger.clone(),
            scheduled_for: at.fixed_offset(),
            started_at: exec.started_at,
        }),
    })
    .await;
    let _ = versions.await;
    // The engine completed or aborted every upload by now; nothing is pending any more (after a
    // failure, `run` settles what the engine could not abort).
    let _ = recorder.await;
    let out = outcome.map_err(|e| match e {
        BackupError::Cancelled => Failure::Cancelled,
        e => Failure::Failed {
            stderr: e.stderr().map(str::to_string),
            message: e.to_string(),
        },
    })?;
    clear_pending_uploads(state, id).await;

    let objects: Vec<ExecutionObject> = out
        .copies
        .iter()
        .chain(out.globals.iter())
        .map(|o| ExecutionObject {
            destination_id: o.id.parse().unwrap_or_default(),
            key: o.key.clone(),
            size: o.size,
            verified_at: None,
            verify_error: None,
        })
        .collect();
    let finished_at = Utc::now();
    // Stored and verified: an outage now must not turn it into a lost backup, so this waits it out.
    let recorded = crate::catalog::watch::outlast("recording a successful backup", || {
        executions::Entity::update_many()
            .col_expr(
                executions::Column::Status,
                Expr::value(ExecutionStatus::Success.as_str()),
            )
            .col_expr(executions::Column::FinishedAt, Expr::value(finished_at))
            .col_expr(
                executions::Column::BytesRead,
                Expr::value(out.bytes_read as i64),
            )
            .col_expr(executions::Column::Size, Expr::value(out.size as i64))
            .col_expr(executions::Column::Sha256, Expr::value(out.sha256.clone()))
            .col_expr(
                executions::Column::ServerVersion,
                Expr::value(out.server_version.clone()),
            )
            .col_expr(
                executions::Column::PgDumpVersion,
                Expr::value(out.client_version.clone()),
            )
            .col_expr(
                executions::Column::Objects,
                Expr::value(serde_json::to_value(&objects).unwrap_or_default()),
            )
            .col_expr(
                executions::Column::StderrTail,
                Expr::value(Some(out.stderr_tail.clone()).filter(|s| !s.is_empty())),
            )
            .filter(executions::Column::Id.eq(id))
            // Only if still ours: a run the reaper declared interrupted meanwhile stays failed.
            .filter(executions::Column::Status.eq(ExecutionStatus::Running.as_str()))
            .exec(&state.db)
    })
    .await
    .map_err(|e| fail(e.to_string()))?;
    if recorded.rows_affected != 1 {
        return Err(fail(
            "the run lost its lease while finishing and was marked interrupted".into(),
        ));
    }
    tracing::info!(size = out.size, sha256 = %out.sha256, "backup succeeded");
    if let Err(e) = tasks::service::clear_overdue(state, task_id).await {
        tracing::warn!(error = %e, "clearing the task's overdue state failed; the periodic pass will");
    }
    // Retention right after a success: the new backup is counted, older ones may go.
    if let Err(e) = super::retention::apply(state, task_id, Utc::now()).await {
        tracing::warn!(error = %e, "retention after the backup failed; it runs again periodically");
    }
    if spec.verification.test_restore && spec.verification.test_restore_after_backup {
        crate::features::restorations::service::spawn_test_restore(state.clone(), id);
    }
    Ok(())
}

/// Every 2 s: bytes so far, rate, heartbeat; and a cancel request turns into cancelling the dump.
async fn report_progress(state: AppState, id: Uuid, progress: Progress, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    let mut last = (0u64, std::time::Instant::now());
    loop {
        tick.tick().await;
        let read = progress.bytes_read.load(Ordering::Relaxed);
        let elapsed = last.1.elapsed().as_secs_f64().max(0.001);
        let rate = ((read.saturating_sub(last.0)) as f64 / elapsed) as i64;
        last = (read, std::time::Instant::now());
        let _ = executions::Entity::update_many()
            // Never lowers it: a slow earlier tick must not overwrite a later (final) value.
            .col_expr(
                executions::Column::BytesRead,
                Expr::cust_with_values("GREATEST(bytes_read, $1)", [read as i64]),
            )
            .col_expr(executions::Column::RateBps, Expr::value(rate))
            .col_expr(executions::Column::HeartbeatAt, Expr::value(Utc::now()))
            .filter(executions::Column::Id.eq(id))
            .exec(&state.db)
            .await;
        if let Ok(Some(e)) = executions::Entity::find_by_id(id).one(&state.db).await
            && e.cancel_requested
        {
            cancel.cancel();
        }
    }
}
