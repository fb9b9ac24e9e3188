//! Creates due runs and keeps the queue honest. Runs in every `pgward serve` and `pgward worker`
//! process; a transaction-scoped advisory lock lets one of them lead each tick, and the unique index on
//! (task, scheduled time) makes a second run impossible even without the lock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pgward_api_types::{ExecutionStatus, ExecutionTrigger};
use pgward_engine::backup::naming;
use pgward_entity::{executions, tasks as task_rows};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement,
    TransactionTrait,
};

use super::service;
use crate::error::AppError;
use crate::features::tasks::service as schedule;
use crate::state::AppState;

const LEADER_LOCK: i64 = 0x7067_7761_7264_0002;

/// Stored status values the raw SQL below names.
const SUCCESS: &str = ExecutionStatus::Success.as_str();
const FAILED: &str = ExecutionStatus::Failed.as_str();

/// One scheduling pass at `now`: for every active task, the latest due time not yet recorded becomes a
/// queued execution (missed runs while pgward was down collapse into one catch-up run). Returns the ids
/// it queued.
#[tracing::instrument(skip_all)]
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> Result<Vec<uuid::Uuid>, AppError> {
    tick_with(state, now, Lead::IfFree).await
}

/// The scheduling pass at a minute boundary: it waits for the lead instead of giving up, since a
/// process leading at that moment may have read the clock just before the boundary (and so not seen
/// the runs due at it). Waiting is short: a pass records and queues a thousand runs in well under a
/// second.
#[tracing::instrument(skip_all)]
pub async fn tick_at_boundary(state: &AppState) -> Result<Vec<uuid::Uuid>, AppError> {
    tick_with(state, Utc::now(), Lead::Wait).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lead {
    IfFree,
    Wait,
}

async fn tick_with(
    state: &AppState,
    now: DateTime<Utc>,
    lead: Lead,
) -> Result<Vec<uuid::Uuid>, AppError> {
    let tx = state.db.begin().await?;
    let sql = match lead {
        Lead::IfFree => "SELECT pg_try_advisory_xact_lock($1) AS lead",
        Lead::Wait => "SELECT true AS lead FROM (SELECT pg_advisory_xact_lock($1)) AS l",
    };
    let leads: Option<bool> = tx
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            sql,
            [LEADER_LOCK.into()],
        ))
        .await?
        .and_then(|r| r.try_get("", "lead").ok());
    if leads != Some(true) {
        return Ok(Vec::new());
    }
    // With a waited-for lead the clock is read after the wait, so whatever the leader before saw is
    // recorded by now and what became due meanwhile is seen.
    let now = if lead == Lead::Wait { Utc::now() } else { now };
    let active = task_rows::Entity::find()
        .filter(task_rows::Column::Active.eq(true))
        .all(&tx)
        .await?;
    let last = last_scheduled(&tx, active.iter().map(|t| t.id).collect()).await?;
    let mut due_runs = Vec::new();
    for t in active {
        let (Ok(cron), Ok(tz)) = (
            schedule::parse_cron(&t.schedule),
            schedule::parse_tz(&t.timezone),
        ) else {
            continue;
        };
        // Never before the task existed (or was last edited), never twice for the same time.
        let since = last
            .get(&t.id)
            .map_or(t.updated_at, |at| (*at).max(t.updated_at));
        let mut due = None;
        for next in cron.iter_after(since.with_timezone(&tz)) {
            let next = next.with_timezone(&Utc);
            if next > now {
                break;
            }
            due = Some(next);
        }
        if let Some(due) = due {
            due_runs.push((t.id, due));
        }
    }
    // Many tasks are often due in the same minute (a fleet on "0 2 * * *"): their runs are recorded in
    // one statement and queued in another, so the last of a thousand is queued within moments.
    let queued: Vec<uuid::Uuid> = service::insert_scheduled(state, &due_runs)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    tx.commit().await?;
    state.queues.enqueue_backups(&queued).await?;
    Ok(queued)
}

/// The latest scheduled time recorded for each of `tasks`, in one round trip (a lookup per task in the
/// (task, scheduled time) index of runs, hence `parent_id IS NULL`: a server run's databases share its time).
async fn last_scheduled(
    tx: &impl ConnectionTrait,
    tasks: Vec<uuid::Uuid>,
) -> Result<std::collections::HashMap<uuid::Uuid, DateTime<Utc>>, AppError> {
    let rows = tx
        .query_all_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT t.id, (SELECT max(e.scheduled_for) FROM executions e \
               WHERE e.task_id = t.id AND e.parent_id IS NULL AND e.trigger = $2) AS last \
             FROM (SELECT v::uuid AS id FROM jsonb_array_elements_text($1) AS j(v)) AS t",
            [
                serde_json::json!(tasks).into(),
                service::trigger_str(ExecutionTrigger::Schedule).into(),
            ],
        ))
        .await?;
    let mut last = std::collections::HashMap::new();
    for r in rows {
        let id: uuid::Uuid = r.try_get("", "id")?;
        if let Some(at) = r.try_get::<Option<DateTime<Utc>>>("", "last")? {
            last.insert(id, at);
        }
    }
    Ok(last)
}

/// Queued executions that no worker picked up within a minute get their job again (the job may have been
/// lost between the insert and the enqueue). Claiming is atomic, so a duplicate job is harmless.
/// Runs waiting for a per-server slot (their server key is set) are tried again every pass, in case the
/// run that freed the slot could not wake them (its process died).
#[tracing::instrument(skip_all)]
pub async fn sweep_queued(state: &AppState, now: DateTime<Utc>) -> Result<usize, AppError> {
    let stale = executions::Entity::find()
        .filter(executions::Column::Status.eq(ExecutionStatus::Queued.as_str()))
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
    for e in &stale {
        state.queues.enqueue_backup(e.id).await?;
    }
    Ok(stale.len())
}

/// Executions whose worker died (no heartbeat within the lease) become `failed` with "interrupted", and
/// whatever they may have left at their object name is removed.
#[tracing::instrument(skip_all)]
pub async fn reap_interrupted(
    state: &AppState,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Vec<uuid::Uuid>, AppError> {
    let limit = now - chrono::Duration::from_std(lease).unwrap_or_default();
    let dead = executions::Entity::find()
        .filter(executions::Column::Status.eq(ExecutionStatus::Running.as_str()))
        .filter(executions::Column::HeartbeatAt.lt(limit))
        .all(&state.db)
        .await?;
    let mut reaped = Vec::new();
    for e in dead {
        // The run ended when its worker last said it was alive, not when the reaper noticed.
        let ended = e.heartbeat_at.or(e.started_at).unwrap_or(now).min(now);
        let r = executions::Entity::update_many()
            .col_expr(
                executions::Column::Status,
                Expr::value(ExecutionStatus::Failed.as_str()),
            )
            .col_expr(executions::Column::FinishedAt, Expr::value(ended))
            .col_expr(
                executions::Column::Message,
                Expr::value(format!(
                    "interrupted: worker {} stopped responding",
                    e.worker_id.clone().unwrap_or_default()
                )),
            )
            .filter(executions::Column::Id.eq(e.id))
            .filter(executions::Column::Status.eq(ExecutionStatus::Running.as_str()))
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
                    crate::features::destinations::service::remove_or_record(
                        state,
                        d,
                        crate::features::destinations::service::Leftover::MultipartUpload {
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

/// Left to the run's own process, which normally announces its outcome at once.
const ANNOUNCE_GRACE: chrono::Duration = chrono::Duration::seconds(10);

/// Announces run outcomes that were recorded but never announced (the process died in between).
/// Recording an outcome event is idempotent per run, so a run whose own process announces it at the
/// same moment is still announced once. A run that a newer run of its task has already overtaken is
/// not announced late (a stale /fail or success would flip a monitor the newer run already set).
#[tracing::instrument(skip_all)]
pub async fn announce_missed_outcomes(
    state: &AppState,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<usize, AppError> {
    let missed = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            format!("SELECT e.id, e.status FROM executions e \
             WHERE e.status IN ('{SUCCESS}', '{FAILED}') AND e.trigger <> 'upload' AND e.parent_id IS NULL \
               AND e.finished_at BETWEEN $1 AND $2 \
               AND NOT EXISTS (SELECT 1 FROM events v \
                               WHERE v.execution_id = e.id AND v.kind = 'execution_' || e.status) \
               AND NOT EXISTS (SELECT 1 FROM executions n \
                               WHERE n.task_id = e.task_id AND n.id <> e.id \
                                 AND n.status IN ('{SUCCESS}', '{FAILED}') AND n.finished_at > e.finished_at)"),
            [
                (now - window).into(),
                (now - ANNOUNCE_GRACE).into(),
            ],
        ))
        .await?;
    for r in &missed {
        let id: uuid::Uuid = r.try_get("", "id")?;
        let status: String = r.try_get("", "status")?;
        let kind = if status == ExecutionStatus::Success.as_str() {
            pgward_api_types::EventKind::ExecutionSuccess
        } else {
            pgward_api_types::EventKind::ExecutionFailed
        };
        tracing::warn!(execution_id = %id, "announcing an outcome its process did not announce");
        super::runner::execution_event(state, id, kind).await;
    }
    Ok(missed.len())
}
