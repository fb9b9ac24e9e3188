use chrono::{DateTime, FixedOffset, Utc};
use pgward_api_types::{
    CheckStatus, Execution, ExecutionKind, ExecutionListQuery, ExecutionObject, ExecutionPage,
    ExecutionStatus, ExecutionTrigger, TaskSpec,
};
use pgward_engine::backup::naming;
use pgward_entity::executions;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QueryTrait, Set, SqlErr,
};
use uuid::Uuid;

use crate::error::AppError;
use crate::features::tasks;
use crate::features::validate;
use crate::state::AppState;

// The background wing's entry points (jobs and periodic sweeps), implemented in this feature's
// private modules.
pub use super::checks::{
    CheckKind, check_heartbeat, latest_check, mark_check, reap_checks, record_verification,
    successful_backups,
};
pub use super::overdue::check as check_overdue;
pub use super::retention::apply as apply_retention;
pub use super::runner::run as run_queued;
pub use super::scheduler::{
    announce_missed_outcomes, reap_interrupted, sweep_queued, tick as schedule_due,
    tick_at_boundary as schedule_due_at_boundary,
};
pub use super::selfbackup::{
    prune as prune_self_backups, run_now as back_up_catalog_now, schedule as schedule_self_backup,
};

/// Retention of every task at `now` (the periodic pass; each success also applies its task's).
#[tracing::instrument(skip_all)]
pub async fn apply_retention_everywhere(
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    for t in pgward_entity::tasks::Entity::find().all(&state.db).await? {
        apply_retention(state, t.id, now).await?;
    }
    Ok(())
}

fn in_tz(t: DateTime<Utc>, tz: &str) -> DateTime<FixedOffset> {
    match tasks::service::parse_tz(tz) {
        Ok(tz) => t.with_timezone(&tz).fixed_offset(),
        Err(_) => t.fixed_offset(),
    }
}

/// A trigger as the catalog stores it.
pub fn trigger_str(trigger: ExecutionTrigger) -> &'static str {
    match trigger {
        ExecutionTrigger::Schedule => "schedule",
        ExecutionTrigger::Manual => "manual",
        ExecutionTrigger::Api => "api",
        ExecutionTrigger::Upload => "upload",
    }
}

pub fn objects_of(m: &executions::Model) -> Vec<ExecutionObject> {
    serde_json::from_value(m.objects.clone()).unwrap_or_default()
}

/// A row's status; a value this version does not know reads as failed (never as a usable backup).
pub fn status_of(m: &executions::Model) -> ExecutionStatus {
    ExecutionStatus::parse(&m.status).unwrap_or(ExecutionStatus::Failed)
}

pub fn to_dto(m: &executions::Model) -> Execution {
    let status = status_of(m);
    Execution {
        id: m.id,
        kind: ExecutionKind::parse(&m.kind).unwrap_or_default(),
        parent_id: m.parent_id,
        database_name: m.database_name.clone(),
        task_id: m.task_id,
        task_name: m.task_name.clone(),
        database_id: m.database_id,
        trigger: match m.trigger.as_str() {
            "schedule" => ExecutionTrigger::Schedule,
            "api" => ExecutionTrigger::Api,
            "upload" => ExecutionTrigger::Upload,
            _ => ExecutionTrigger::Manual,
        },
        status,
        scheduled_for: in_tz(m.scheduled_for, &m.timezone),
        started_at: m.started_at.map(|t| in_tz(t, &m.timezone)),
        finished_at: m.finished_at.map(|t| in_tz(t, &m.timezone)),
        duration_ms: match (m.started_at, m.finished_at) {
            (Some(s), Some(f)) => u64::try_from((f - s).num_milliseconds()).ok(),
            _ => None,
        },
        bytes_read: u64::try_from(m.bytes_read).unwrap_or_default(),
        rate_bytes_per_sec: if status == ExecutionStatus::Running {
            m.rate_bps.and_then(|r| u64::try_from(r).ok())
        } else {
            None
        },
        size: m.size.and_then(|s| u64::try_from(s).ok()),
        sha256: m.sha256.clone(),
        objects: objects_of(m),
        server_version: m.server_version.clone(),
        pg_dump_version: m.pg_dump_version.clone(),
        message: m.message.clone(),
        stderr_tail: m.stderr_tail.clone(),
        cancel_requested: m.cancel_requested,
        verify_status: m.verify_status.as_deref().and_then(CheckStatus::parse),
        verified_at: m.verified_at,
        test_restore_status: m
            .test_restore_status
            .as_deref()
            .and_then(CheckStatus::parse),
        test_restored_at: m.test_restored_at,
        test_restore_message: m.test_restore_message.clone(),
        trashed_at: m.trashed_at.filter(|_| status == ExecutionStatus::Trashed),
        purge_at: None,
    }
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn find(state: &AppState, id: Uuid) -> Result<executions::Model, AppError> {
    executions::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("execution"))
}

/// Inserts a queued execution of `task` for `scheduled_for`. `Ok(None)` when that time already has an
/// execution, or the task already has one queued or running (the unique indexes decide, so concurrent
/// callers cannot both win).
#[tracing::instrument(skip_all)]
pub async fn insert_queued(
    state: &AppState,
    task: Uuid,
    scheduled_for: DateTime<Utc>,
    trigger: ExecutionTrigger,
) -> Result<Option<executions::Model>, AppError> {
    let (_, spec) = tasks::service::find(state, task).await?;
    let row = queued_row(task, &spec, scheduled_for, trigger)?;
    match row.insert(&state.db).await {
        Ok(m) => Ok(Some(m)),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Queued runs of many tasks at once, one run each (the scheduler's pass: a thousand tasks may be due in
/// the same minute). Like `insert_queued`, a task whose time already has a run, or that has one queued or
/// running, gets none: the unique indexes decide (`ON CONFLICT DO NOTHING`). Returns the rows inserted.
#[tracing::instrument(skip_all, fields(runs = runs.len()))]
pub async fn insert_scheduled(
    state: &AppState,
    runs: &[(Uuid, DateTime<Utc>)],
) -> Result<Vec<executions::Model>, AppError> {
    let ids: Vec<Uuid> = runs.iter().map(|(t, _)| *t).collect();
    let specs: std::collections::HashMap<Uuid, TaskSpec> = tasks::service::find_many(state, &ids)
        .await?
        .into_iter()
        .map(|(m, spec)| (m.id, spec))
        .collect();
    let mut rows = Vec::with_capacity(runs.len());
    for (task, due) in runs {
        // A task deleted since the pass read it has nothing left to run.
        if let Some(spec) = specs.get(task) {
            rows.push(queued_row(*task, spec, *due, ExecutionTrigger::Schedule)?);
        }
    }
    let mut inserted = Vec::with_capacity(rows.len());
    // PostgreSQL takes at most 65,535 parameters in one statement (a row has about 40). A task deleted
    // between the read above and its chunk's insert fails that chunk (foreign key); its runs are then
    // made by the next pass, with the same due times.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
        inserted.extend(
            executions::Entity::insert_many(chunk)
                .on_conflict(OnConflict::new().do_nothing().to_owned())
                .exec_with_returning(&state.db)
                .await?,
        );
    }
    Ok(inserted)
}

/// Rows per INSERT of `insert_scheduled`.
const INSERT_CHUNK: usize = 500;

/// The row of a queued run of `task` as `spec` says now.
fn queued_row(
    task: Uuid,
    spec: &TaskSpec,
    scheduled_for: DateTime<Utc>,
    trigger: ExecutionTrigger,
) -> Result<executions::ActiveModel, AppError> {
    Ok(executions::ActiveModel {
        id: Set(Uuid::now_v7()),
        task_id: Set(Some(task)),
        task_name: Set(spec.name.clone()),
        database_id: Set(Some(spec.database_id)),
        trigger: Set(trigger_str(trigger).into()),
        status: Set(ExecutionStatus::Queued.as_str().into()),
        scheduled_for: Set(scheduled_for),
        timezone: Set(spec.timezone.clone()),
        created_at: Set(Utc::now()),
        destination_ids: Set(
            serde_json::to_value(&spec.destination_ids).map_err(anyhow::Error::from)?
        ),
        kind: Set(
            if matches!(spec.scope, pgward_api_types::TaskScope::Server { .. }) {
                ExecutionKind::Server
            } else {
                ExecutionKind::Database
            }
            .as_str()
            .into(),
        ),
        // The rest is what a run has not done yet: the catalog's defaults (NULL, false, 0, []).
        ..Default::default()
    })
}

/// Run now: 202 with the queued execution, or 409 while a run of the task is queued or running.
#[tracing::instrument(skip_all)]
pub async fn run_now(
    state: &AppState,
    task: Uuid,
    trigger: ExecutionTrigger,
) -> Result<Execution, AppError> {
    let Some(row) = insert_queued(state, task, Utc::now(), trigger).await? else {
        return Err(AppError::Conflict(
            "a run of this task is already queued or running".into(),
        ));
    };
    state.queues.enqueue_backup(row.id).await?;
    tracing::info!(execution_id = %row.id, task_id = %task, "run requested");
    Ok(to_dto(&row))
}

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, q: ExecutionListQuery) -> Result<ExecutionPage, AppError> {
    use executions::Column as C;
    let (sel, limit) = validate::newest_page(
        executions::Entity::find(),
        C::Id,
        q.limit,
        q.cursor.as_deref(),
    )?;
    let sel = sel
        .apply_if(q.task_id, |s, t| s.filter(C::TaskId.eq(t)))
        .apply_if(q.database_id, |s, d| s.filter(C::DatabaseId.eq(d)))
        .apply_if(q.destination_id, |s, d| {
            s.filter(Expr::cust_with_values(
                "destination_ids @> $1",
                [serde_json::json!([d])],
            ))
        })
        .apply_if(q.status, |s, v| s.filter(C::Status.eq(v.as_str())))
        .apply_if(q.parent_id, |s, p| s.filter(C::ParentId.eq(p)))
        .apply_if(q.kind, |s, k| s.filter(C::Kind.eq(k.as_str())))
        .apply_if(q.from, |s, f| s.filter(C::ScheduledFor.gte(f)))
        .apply_if(q.to, |s, t| s.filter(C::ScheduledFor.lt(t)));
    let (rows, next_cursor) = validate::fetch_page(&state.db, sel, limit, |r| r.id).await?;
    Ok(ExecutionPage {
        items: rows
            .iter()
            .map(|r| with_purge_time(state, to_dto(r)))
            .collect(),
        next_cursor,
    })
}

/// The newest run of a task, if any.
#[tracing::instrument(skip_all)]
pub async fn latest_of_task(state: &AppState, task: Uuid) -> Result<Option<Execution>, AppError> {
    Ok(executions::Entity::find()
        .filter(executions::Column::TaskId.eq(task))
        .filter(executions::Column::ParentId.is_null())
        .order_by_desc(executions::Column::Id)
        .one(&state.db)
        .await?
        .map(|e| to_dto(&e)))
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(state: &AppState, id: Uuid) -> Result<Execution, AppError> {
    Ok(with_purge_time(state, to_dto(&find(state, id).await?)))
}

/// Queued: cancelled at once. Running: the worker is asked to stop and reports `cancelled`.
/// The manifest beside a successful backup's copy on `destination` (the first copy when `None`).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn manifest(
    state: &AppState,
    id: Uuid,
    destination: Option<Uuid>,
) -> Result<serde_json::Value, AppError> {
    let exec = find(state, id).await?;
    if status_of(&exec) != ExecutionStatus::Success {
        return Err(AppError::NotFound("stored backup"));
    }
    let object = objects_of(&exec)
        .into_iter()
        .filter(|o| !o.key.contains(".globals."))
        .find(|o| destination.is_none_or(|d| o.destination_id == d))
        .ok_or(AppError::NotFound("stored copy"))?;
    let target =
        crate::features::destinations::service::target_by_full_key(state, object.destination_id)
            .await?;
    let raw = target
        .get_all(&pgward_engine::backup::naming::manifest_key(&object.key))
        .await
        .map_err(|_| AppError::NotFound("manifest"))?;
    serde_json::from_slice(&raw).map_err(|_| AppError::NotFound("manifest"))
}

/// Records again every backup whose manifest lies on a destination (see `rebuild`).
pub use super::rebuild::rebuild_from as rebuild_catalog_from;

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn cancel(state: &AppState, id: Uuid) -> Result<Execution, AppError> {
    let row = find(state, id).await?;
    match status_of(&row) {
        ExecutionStatus::Queued => {
            executions::Entity::update_many()
                .col_expr(
                    executions::Column::Status,
                    Expr::value(ExecutionStatus::Cancelled.as_str()),
                )
                .col_expr(executions::Column::FinishedAt, Expr::value(Utc::now()))
                .col_expr(
                    executions::Column::Message,
                    Expr::value("cancelled before it started"),
                )
                .filter(executions::Column::Id.eq(id))
                .filter(executions::Column::Status.eq(ExecutionStatus::Queued.as_str()))
                .exec(&state.db)
                .await?;
        }
        ExecutionStatus::Running => {
            executions::Entity::update_many()
                .col_expr(executions::Column::CancelRequested, Expr::value(true))
                .filter(executions::Column::Id.eq(id))
                .exec(&state.db)
                .await?;
        }
        other => {
            return Err(AppError::Conflict(format!(
                "the execution is {}; only queued or running ones can be cancelled",
                other.as_str()
            )));
        }
    }
    get(state, id).await
}

/// Deletes stored objects and their manifests everywhere, one by one: a failure is reported and never
/// stops the others. Returns what could not be deleted.
#[tracing::instrument(skip_all)]
pub async fn delete_objects(state: &AppState, objects: &[ExecutionObject]) -> Vec<String> {
    let mut failures = Vec::new();
    for o in objects {
        match crate::features::destinations::service::target_by_full_key(state, o.destination_id)
            .await
        {
            Ok(t) => {
                for key in [o.key.clone(), naming::manifest_key(&o.key)] {
                    if let Err(err) = t.delete(&key).await {
                        failures.push(format!("{key}: {err}"));
                    }
                }
            }
            Err(err) => failures.push(format!("destination {}: {err}", o.destination_id)),
        }
    }
    failures
}

/// A DTO with the trash's purge time filled in.
pub fn with_purge_time(state: &AppState, mut e: Execution) -> Execution {
    e.purge_at = e.trashed_at.map(|t| t + trash_period(state));
    e
}

fn trash_period(state: &AppState) -> chrono::Duration {
    chrono::Duration::days(i64::from(state.config.storage.trash_days))
}

/// Deleting a backup moves it to the trash (objects kept, restorable with `untrash`); only the periodic
/// purge removes it, `storage.trash_days` later. So no request destroys a copy. A run without stored
/// objects (failed, cancelled) is marked deleted at once: there is nothing to lose.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn delete(state: &AppState, id: Uuid) -> Result<Execution, AppError> {
    let row = find(state, id).await?;
    let status = status_of(&row);
    match status {
        ExecutionStatus::Queued | ExecutionStatus::Running => Err(AppError::Conflict(
            "cancel the execution before deleting it".into(),
        )),
        ExecutionStatus::Deleted => get(state, id).await,
        ExecutionStatus::Trashed => Err(AppError::Conflict(format!(
            "the backup is in the trash already; it is purged {} unless taken out (untrash)",
            row.trashed_at
                .map(|t| (t + trash_period(state)).to_rfc3339())
                .unwrap_or_else(|| "after storage.trash_days".into())
        ))),
        _ if objects_of(&row).is_empty() => {
            set_status(state, id, status, ExecutionStatus::Deleted, None).await?;
            get(state, id).await
        }
        _ => {
            let now = chrono::Utc::now();
            set_status(state, id, status, ExecutionStatus::Trashed, Some(now)).await?;
            tracing::info!(execution_id = %id, "backup moved to the trash");
            get(state, id).await
        }
    }
}

/// Takes a backup out of the trash: it is a successful backup again.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn untrash(state: &AppState, id: Uuid) -> Result<Execution, AppError> {
    let row = find(state, id).await?;
    if status_of(&row) != ExecutionStatus::Trashed {
        return Err(AppError::Conflict(format!(
            "the backup is not in the trash (status {})",
            row.status
        )));
    }
    set_status(
        state,
        id,
        ExecutionStatus::Trashed,
        ExecutionStatus::Success,
        None,
    )
    .await?;
    tracing::info!(execution_id = %id, "backup taken out of the trash");
    get(state, id).await
}

/// Moves a row from one status to another, only if nobody changed it meanwhile.
async fn set_status(
    state: &AppState,
    id: Uuid,
    from: ExecutionStatus,
    to: ExecutionStatus,
    trashed_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), AppError> {
    let res = executions::Entity::update_many()
        .col_expr(executions::Column::Status, Expr::value(to.as_str()))
        .col_expr(executions::Column::TrashedAt, Expr::value(trashed_at))
        .filter(executions::Column::Id.eq(id))
        .filter(executions::Column::Status.eq(from.as_str()))
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::Conflict(
            "the execution changed meanwhile; try again".into(),
        ));
    }
    Ok(())
}

/// Purges trashed backups whose grace period ended (the periodic pass). Returns how many went.
#[tracing::instrument(skip_all)]
pub async fn purge_expired_trash(
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, AppError> {
    let due = executions::Entity::find()
        .filter(executions::Column::Status.eq(ExecutionStatus::Trashed.as_str()))
        .filter(executions::Column::TrashedAt.lte(now - trash_period(state)))
        .all(&state.db)
        .await?;
    let mut purged = 0;
    for row in due {
        let id = row.id;
        match purge(state, row).await {
            Ok(_) => purged += 1,
            // Kept in the trash: the next pass tries again.
            Err(e) => {
                tracing::warn!(execution_id = %id, error = %e, "purging a trashed backup failed")
            }
        }
    }
    Ok(purged)
}

/// Removes the backup's objects and manifests from every destination; the record stays, as `deleted`.
/// The row is claimed first (`trashed` → `deleted`), so an `untrash` meanwhile either wins (nothing is
/// deleted) or finds it gone; objects that could not be deleted put it back in the trash.
async fn purge(state: &AppState, row: executions::Model) -> Result<Execution, AppError> {
    let id = row.id;
    set_status(
        state,
        id,
        ExecutionStatus::Trashed,
        ExecutionStatus::Deleted,
        row.trashed_at,
    )
    .await?;
    let failures = delete_objects(state, &objects_of(&row)).await;
    if !failures.is_empty() {
        // Still (partly) stored: back in the trash, the next pass tries again.
        executions::Entity::update_many()
            .col_expr(
                executions::Column::Status,
                Expr::value(ExecutionStatus::Trashed.as_str()),
            )
            .col_expr(
                executions::Column::Message,
                Expr::value(format!("deletion incomplete: {}", failures.join("; "))),
            )
            .filter(executions::Column::Id.eq(id))
            .exec(&state.db)
            .await?;
        return Err(AppError::Conflict(format!(
            "some objects could not be deleted: {}",
            failures.join("; ")
        )));
    }
    tracing::info!(execution_id = %id, "backup purged from the trash");
    get(state, id).await
}
