//! Creates due runs and keeps the queue honest. Runs in every `pgward serve` and `pgward worker`
//! process; a transaction-scoped advisory lock lets one of them lead each tick, and the unique index on
//! (task, scheduled time) makes a second run impossible even without the lock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pgward_api_types::ExecutionTrigger;
use pgward_engine::backup::naming;
use pgward_entity::{executions, tasks as task_rows};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement,
    TransactionTrait,
};

use super::service;
use crate::error::AppError;
use crate::features::tasks::schedule;
use crate::state::AppState;

const LEADER_LOCK: i64 = 0x7067_7761_7264_0002;
/// A running execution whose worker has not reported for this long is considered interrupted.
pub const LEASE: Duration = Duration::from_secs(30);

/// One scheduling pass at `now`: for every active task, the latest due time not yet recorded becomes a
/// queued execution (missed runs while pgward was down collapse into one catch-up run). Returns the ids
/// it queued.
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> Result<Vec<uuid::Uuid>, AppError> {
    let tx = state.db.begin().await?;
    let lead: Option<bool> = tx
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1) AS lead",
            [LEADER_LOCK.into()],
        ))
        .await?
        .and_then(|r| r.try_get("", "lead").ok());
    if lead != Some(true) {
        return Ok(Vec::new());
    }
    let mut queued = Vec::new();
    let active = task_rows::Entity::find()
        .filter(task_rows::Column::Active.eq(true))
        .all(&tx)
        .await?;
    for t in active {
        let (Ok(cron), Ok(tz)) = (
            schedule::parse_cron(&t.schedule),
            schedule::parse_tz(&t.timezone),
        ) else {
            continue;
        };
        let last: Option<executions::Model> = executions::Entity::find()
            .filter(executions::Column::TaskId.eq(t.id))
            .filter(executions::Column::Trigger.eq("schedule"))
            .order_by_desc(executions::Column::ScheduledFor)
            .one(&tx)
            .await?;
        // Never before the task existed (or was last edited), never twice for the same time.
        let since = last.map_or(t.updated_at, |e| e.scheduled_for.max(t.updated_at));
        let mut due = None;
        for next in cron.iter_after(since.with_timezone(&tz)) {
            let next = next.with_timezone(&Utc);
            if next > now {
                break;
            }
            due = Some(next);
        }
        let Some(due) = due else { continue };
        if let Some(e) =
            service::insert_queued(state, t.id, due, ExecutionTrigger::Schedule).await?
        {
            queued.push(e.id);
        }
    }
    tx.commit().await?;
    if let Some(jobs) = &state.jobs {
        for id in &queued {
            jobs.enqueue(*id).await?;
        }
    }
    Ok(queued)
}

/// Queued executions that no worker picked up within a minute get their job again (the job may have been
/// lost between the insert and the enqueue). Claiming is atomic, so a duplicate job is harmless.
/// Runs waiting for a per-server slot (their server key is set) are tried again every pass, in case the
/// run that freed the slot could not wake them (its process died).
pub async fn sweep_queued(state: &AppState, now: DateTime<Utc>) -> Result<usize, AppError> {
    let stale = executions::Entity::find()
        .filter(executions::Column::Status.eq("queued"))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(executions::Column::CreatedAt.lt(now - chrono::Duration::seconds(60)))
                        .add(
                            Condition::any()
                                .add(executions::Column::HeartbeatAt.is_null())
                                .add(
                                    executions::Column::HeartbeatAt
                                        .lt(now - chrono::Duration::seconds(60)),
                                ),
                        ),
                )
                .add(
                    Condition::all()
                        .add(executions::Column::ServerKey.is_not_null())
                        .add(
                            executions::Column::HeartbeatAt.lt(now - chrono::Duration::seconds(5)),
                        ),
                ),
        )
        .order_by_asc(executions::Column::CreatedAt)
        .all(&state.db)
        .await?;
    if let Some(jobs) = &state.jobs {
        for e in &stale {
            jobs.enqueue(e.id).await?;
        }
    }
    Ok(stale.len())
}

/// Executions whose worker died (no heartbeat within the lease) become `failed` with "interrupted", and
/// whatever they may have left at their object name is removed.
pub async fn reap_interrupted(
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<Vec<uuid::Uuid>, AppError> {
    let limit = now - chrono::Duration::from_std(LEASE).unwrap_or_default();
    let dead = executions::Entity::find()
        .filter(executions::Column::Status.eq("running"))
        .filter(executions::Column::HeartbeatAt.lt(limit))
        .all(&state.db)
        .await?;
    let mut reaped = Vec::new();
    for e in dead {
        // The run ended when its worker last said it was alive, not when the reaper noticed.
        let ended = e.heartbeat_at.or(e.started_at).unwrap_or(now).min(now);
        let r = executions::Entity::update_many()
            .col_expr(executions::Column::Status, Expr::value("failed"))
            .col_expr(executions::Column::FinishedAt, Expr::value(ended))
            .col_expr(
                executions::Column::Message,
                Expr::value(format!(
                    "interrupted: worker {} stopped responding",
                    e.worker_id.clone().unwrap_or_default()
                )),
            )
            .filter(executions::Column::Id.eq(e.id))
            .filter(executions::Column::Status.eq("running"))
            .exec(&state.db)
            .await?;
        if r.rows_affected != 1 {
            continue;
        }
        let pending: Vec<pgward_engine::backup::PendingUpload> =
            serde_json::from_value(e.pending_uploads.clone()).unwrap_or_default();
        for u in pending {
            match u.target_id.parse() {
                Ok(d) => {
                    crate::features::destinations::cleanup::remove_or_record(
                        state,
                        d,
                        crate::features::destinations::cleanup::Leftover::MultipartUpload {
                            full_key: u.key,
                            upload_id: u.upload_id,
                        },
                        "an upload of an interrupted backup",
                    )
                    .await
                }
                Err(_) => {
                    tracing::warn!(execution_id = %e.id, "unknown destination of an orphaned upload")
                }
            }
        }
        if let Some(key) = &e.object_key {
            let ids: Vec<uuid::Uuid> =
                serde_json::from_value(e.destination_ids.clone()).unwrap_or_default();
            for d in ids {
                if let Ok(t) = crate::features::destinations::service::target_of(state, d).await {
                    let _ = t.cleanup_partial(key).await;
                    let _ = t.delete(&naming::manifest_key(key)).await;
                }
            }
        }
        tracing::warn!(execution_id = %e.id, "execution interrupted; marked failed");
        // Notifications hear of it like of any failed run (Healthchecks gets its /fail).
        super::runner::execution_event(state, e.id, pgward_api_types::EventKind::ExecutionFailed)
            .await;
        reaped.push(e.id);
    }
    Ok(reaped)
}

/// How far back the outcome sweep looks: a process that died between recording a run's outcome and
/// announcing it is found by the next pass of any pgward process, or after a restart within this window
/// (older news would mislead more than it tells).
pub const ANNOUNCE_WINDOW: chrono::Duration = chrono::Duration::hours(1);
/// Left to the run's own process, which normally announces its outcome at once.
const ANNOUNCE_GRACE: chrono::Duration = chrono::Duration::seconds(10);

/// Announces run outcomes that were recorded but never announced (the process died in between).
/// Recording an outcome event is idempotent per run, so a run whose own process announces it at the
/// same moment is still announced once. A run that a newer run of its task has already overtaken is
/// not announced late (a stale /fail or success would flip a monitor the newer run already set).
pub async fn announce_missed_outcomes(
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let missed = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT e.id, e.status FROM executions e \
             WHERE e.status IN ('success', 'failed') AND e.trigger <> 'upload' \
               AND e.finished_at BETWEEN $1 AND $2 \
               AND NOT EXISTS (SELECT 1 FROM events v \
                               WHERE v.execution_id = e.id AND v.kind = 'execution_' || e.status) \
               AND NOT EXISTS (SELECT 1 FROM executions n \
                               WHERE n.task_id = e.task_id AND n.id <> e.id \
                                 AND n.status IN ('success', 'failed') AND n.finished_at > e.finished_at)",
            [
                (now - ANNOUNCE_WINDOW).into(),
                (now - ANNOUNCE_GRACE).into(),
            ],
        ))
        .await?;
    for r in &missed {
        let id: uuid::Uuid = r.try_get("", "id")?;
        let status: String = r.try_get("", "status")?;
        let kind = if status == "success" {
            pgward_api_types::EventKind::ExecutionSuccess
        } else {
            pgward_api_types::EventKind::ExecutionFailed
        };
        tracing::warn!(execution_id = %id, "announcing an outcome its process did not announce");
        super::runner::execution_event(state, id, kind).await;
    }
    Ok(missed.len())
}

async fn retention_pass(state: &AppState, now: DateTime<Utc>) -> Result<(), AppError> {
    for t in task_rows::Entity::find().all(&state.db).await? {
        super::retention::apply(state, t.id, now).await?;
    }
    Ok(())
}

/// The periodic pass run by every serve/worker process (supervised: see `startup::start_background`).
/// While the catalog does not answer, passes are skipped (the catalog watch says so once); after an
/// outage, nothing is declared interrupted until running work had a lease's time to heartbeat again.
pub async fn run(state: AppState, every: Duration) -> anyhow::Result<()> {
    {
        let mut tick_timer = tokio::time::interval(every);
        let mut passes: u64 = 0;
        loop {
            tick_timer.tick().await;
            if !state.catalog_watch.is_up() {
                continue;
            }
            let may_reap = state.catalog_watch.steady_for() > LEASE;
            let now = Utc::now();
            passes += 1;
            // Retention also runs periodically (after each success too), so expired backups go even when
            // a task stopped running.
            if passes % 20 == 1
                && let Err(e) = retention_pass(&state, now).await
            {
                tracing::error!(error = %e, "periodic retention failed");
            }
            if passes % 20 == 1
                && let Err(e) = super::service::purge_expired_trash(&state, now).await
            {
                tracing::error!(error = %e, "purging the trash failed");
            }
            if passes % 20 == 1
                && let Err(e) =
                    super::jobs::prune_finished(&state.db, now - chrono::Duration::days(2)).await
            {
                tracing::error!(error = %e, "pruning finished queue jobs failed");
            }
            if let Err(e) = tick(&state, now).await {
                tracing::error!(error = %e, "scheduler tick failed");
            }
            if may_reap && let Err(e) = reap_interrupted(&state, now).await {
                tracing::error!(error = %e, "reaping interrupted executions failed");
            }
            if let Err(e) = announce_missed_outcomes(&state, now).await {
                tracing::error!(error = %e, "announcing missed backup outcomes failed");
            }
            if let Err(e) =
                crate::features::restorations::runner::announce_missed_outcomes(&state, now).await
            {
                tracing::error!(error = %e, "announcing missed restore outcomes failed");
            }
            if may_reap
                && let Err(e) =
                    crate::features::restorations::runner::reap_interrupted(&state, now, LEASE)
                        .await
            {
                tracing::error!(error = %e, "reaping interrupted restorations failed");
            }
            if may_reap
                && let Err(e) =
                    crate::features::restorations::checks::reap(&state, now, LEASE).await
            {
                tracing::error!(error = %e, "reaping interrupted checks failed");
            }
            if let Err(e) = crate::features::restorations::checks::run_due(&state, now).await {
                tracing::error!(error = %e, "scheduled verifications and test-restores failed");
            }
            if let Err(e) = crate::features::health::checks::run_due(&state, now).await {
                tracing::error!(error = %e, "scheduled health checks failed");
            }
            if let Err(e) = super::overdue::check(&state, now).await {
                tracing::error!(error = %e, "checking for overdue backups failed");
            }
            if let Err(e) = crate::features::destinations::cleanup::retry_due(&state, now).await {
                tracing::error!(error = %e, "retrying storage cleanups failed");
            }
            if let Err(e) = sweep_queued(&state, now).await {
                tracing::error!(error = %e, "re-enqueueing queued executions failed");
            }
            if let Err(e) = crate::features::webhooks::delivery::sweep(&state, now).await {
                tracing::error!(error = %e, "re-enqueueing webhook deliveries failed");
            }
        }
    }
}
