//! pgward backs up its own catalog (`catalog.self_backup`; on by default for the embedded catalog): on
//! `catalog.self_backup_schedule` (UTC) and on request (`POST /catalog/backup`), a custom-format dump of
//! the catalog database goes to the first destination added, with its manifest, as an execution of
//! kind `catalog` that restores like any backup. The newest `catalog.self_backup_keep` stay.
//!
//! Recovering from a lost catalog: the secrets key (`<data_dir>/secret.key` or `secrets.key`), the
//! newest self-backup restored into an empty database that pgward then uses as its catalog, and
//! `pgward catalog rebuild --from <destination>` for the backups made after it (README, "Recovery").
//!
//! The catalog's own server is out of reach of everything pgward dials on a user's behalf
//! (`outbound`); the self-backup connects to it because pgward itself asks, with the URL pgward uses,
//! never a stored connection string.

use chrono::{DateTime, Utc};
use pgward_api_types::{
    Execution, ExecutionKind, ExecutionObject, ExecutionStatus, ExecutionTrigger, TaskSpec,
};
use pgward_entity::executions;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, SqlErr};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::service;
use crate::error::AppError;
use crate::features::{destinations, tasks};
use crate::state::AppState;

/// The name self-backups are listed and stored under.
pub const NAME: &str = "pgward catalog";

/// How far back a first self-backup catches up: a new installation backs its catalog up as soon as
/// it has a destination, not only at the next scheduled time.
const FIRST_CATCH_UP: chrono::Duration = chrono::Duration::days(1);

/// Where self-backups go: the first destination added.
async fn destination(state: &AppState) -> Result<Option<Uuid>, AppError> {
    Ok(destinations::service::list(state)
        .await?
        .first()
        .map(|d| d.id))
}

/// Inserts a queued self-backup for `at` on `destination`; `None` when that time already has one, or
/// one is queued or running (the unique indexes decide).
async fn insert(
    state: &AppState,
    at: DateTime<Utc>,
    trigger: ExecutionTrigger,
    destination: Uuid,
) -> Result<Option<executions::Model>, AppError> {
    let row = executions::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(ExecutionKind::Catalog.as_str().into()),
        task_id: Set(None),
        task_name: Set(NAME.into()),
        database_id: Set(None),
        trigger: Set(service::trigger_str(trigger).into()),
        status: Set(ExecutionStatus::Queued.as_str().into()),
        scheduled_for: Set(at),
        timezone: Set("UTC".into()),
        created_at: Set(Utc::now()),
        cancel_requested: Set(false),
        objects: Set(serde_json::json!([])),
        destination_ids: Set(serde_json::json!([destination])),
        pending_uploads: Set(serde_json::json!([])),
        bytes_read: Set(0),
        ..Default::default()
    };
    match row.insert(&state.db).await {
        Ok(m) => Ok(Some(m)),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The periodic pass: the latest due self-backup not yet recorded becomes a queued run.
#[tracing::instrument(skip_all)]
pub async fn schedule(state: &AppState, now: DateTime<Utc>) -> Result<Option<Uuid>, AppError> {
    if !state.config.self_backup_enabled() || state.catalog_url.is_none() {
        return Ok(None);
    }
    let Some(dest) = destination(state).await? else {
        return Ok(None);
    };
    let cron = tasks::service::parse_cron(&state.config.catalog.self_backup_schedule)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("catalog.self_backup_schedule: {e}")))?;
    let last = executions::Entity::find()
        .filter(executions::Column::Kind.eq(ExecutionKind::Catalog.as_str()))
        .filter(executions::Column::Trigger.eq(service::trigger_str(ExecutionTrigger::Schedule)))
        .order_by_desc(executions::Column::ScheduledFor)
        .one(&state.db)
        .await?;
    let since = last.map_or(now - FIRST_CATCH_UP, |e| e.scheduled_for);
    let mut due = None;
    for next in cron.iter_after(since) {
        if next > now {
            break;
        }
        due = Some(next);
    }
    let Some(due) = due else { return Ok(None) };
    let Some(row) = insert(state, due, ExecutionTrigger::Schedule, dest).await? else {
        return Ok(None);
    };
    state.queues.enqueue_backup(row.id).await?;
    tracing::info!(execution_id = %row.id, "self-backup of the catalog queued");
    Ok(Some(row.id))
}

/// A self-backup now (an operator before an upgrade): 202 with the queued run.
#[tracing::instrument(skip_all)]
pub async fn run_now(state: &AppState) -> Result<Execution, AppError> {
    if state.catalog_url.is_none() {
        return Err(AppError::Conflict(
            "this process does not know its catalog's address".into(),
        ));
    }
    let dest = destination(state).await?.ok_or_else(|| {
        AppError::Conflict("add a destination first: self-backups go to the first one added".into())
    })?;
    let row = insert(state, Utc::now(), ExecutionTrigger::Manual, dest)
        .await?
        .ok_or_else(|| {
            AppError::Conflict("a self-backup of the catalog is already queued or running".into())
        })?;
    state.queues.enqueue_backup(row.id).await?;
    Ok(service::to_dto(&row))
}

/// What the runner needs for a self-backup: its spec (custom format, the default compression, the
/// configured recipients), the catalog's connection and the destination the run was queued for.
pub(super) async fn plan_parts(
    state: &AppState,
    exec: &executions::Model,
) -> Result<
    (
        TaskSpec,
        pgward_engine::pg::ConnInfo,
        Vec<pgward_engine::backup::Target>,
    ),
    String,
> {
    let url = state
        .catalog_url
        .as_ref()
        .ok_or("this process does not know its catalog's address")?;
    // Not pinned and not checked against the outbound policy: pgward's own catalog, by pgward's
    // own URL (the embedded server's socket included).
    let conn = pgward_engine::pg::ConnInfo::parse_with(url.expose_secret(), true)
        .map_err(|e| format!("the catalog's URL: {e}"))?;
    let dests: Vec<Uuid> = serde_json::from_value(exec.destination_ids.clone()).unwrap_or_default();
    let mut targets = Vec::new();
    for d in &dests {
        targets.push(
            destinations::service::target_of(state, *d)
                .await
                .map_err(|e| format!("destination {d}: {e}"))?,
        );
    }
    if targets.is_empty() {
        return Err("no destination".into());
    }
    let spec = TaskSpec {
        name: NAME.into(),
        database_id: Uuid::nil(),
        scope: Default::default(),
        destination_ids: dests,
        schedule: state.config.catalog.self_backup_schedule.clone(),
        timezone: "UTC".into(),
        active: true,
        format: Default::default(),
        parallel_jobs: 1,
        compression: Default::default(),
        compression_level: None,
        encryption_recipients: state.config.catalog.self_backup_recipients.clone(),
        pg_dump_options: Default::default(),
        include_globals: false,
        timeout_minutes: None,
        stall_timeout_minutes: None,
        retention: Default::default(),
        verification: Default::default(),
        anomaly_threshold_percent: None,
    };
    Ok((spec, conn, targets))
}

/// Keeps the newest `catalog.self_backup_keep` successful self-backups; older ones are deleted (an
/// object that cannot be deleted keeps its row and says why). Returns the ids deleted.
#[tracing::instrument(skip_all)]
pub async fn prune(state: &AppState) -> Result<Vec<Uuid>, AppError> {
    let keep = state.config.catalog.self_backup_keep.max(1) as usize;
    let old: Vec<executions::Model> = executions::Entity::find()
        .filter(executions::Column::Kind.eq(ExecutionKind::Catalog.as_str()))
        .filter(executions::Column::Status.eq(ExecutionStatus::Success.as_str()))
        .order_by_desc(executions::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .skip(keep)
        .collect();
    let mut deleted = Vec::new();
    for e in old {
        let objects: Vec<ExecutionObject> = service::objects_of(&e);
        let failures = service::delete_objects(state, &objects).await;
        let (status, message) = if failures.is_empty() {
            (
                ExecutionStatus::Deleted,
                "removed: older than the self-backups kept".to_string(),
            )
        } else {
            (
                ExecutionStatus::Success,
                format!("could not delete: {}", failures.join("; ")),
            )
        };
        executions::Entity::update_many()
            .col_expr(executions::Column::Status, Expr::value(status.as_str()))
            .col_expr(executions::Column::Message, Expr::value(message))
            .filter(executions::Column::Id.eq(e.id))
            .filter(executions::Column::Status.eq(ExecutionStatus::Success.as_str()))
            .exec(&state.db)
            .await?;
        if failures.is_empty() {
            deleted.push(e.id);
        }
    }
    Ok(deleted)
}
