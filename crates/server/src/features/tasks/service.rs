use std::collections::HashSet;

use chrono::Utc;
use pgward_api_types::{
    BackupFormat, CompressionAlgorithm, NextRuns, Task, TaskScope, TaskSpec, UpdateTaskRequest,
};
use pgward_entity::{databases, destinations, task_destinations, tasks};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

use super::schedule;
pub use super::schedule::{next_runs as next_run_times, parse_cron, parse_tz};
use crate::error::AppError;
use crate::features::validate::{self, Fields, name_key};
use crate::state::AppState;

/// What this feature's resource is called in messages.
const KIND: &str = "task";

fn pattern_list(f: &mut Fields, field: &str, list: &[String]) {
    if list.len() > 100 {
        f.check(field, Err("at most 100 patterns".into()));
    }
    if list
        .iter()
        .any(|p| p.trim().is_empty() || p.len() > 200 || p.chars().any(char::is_control))
    {
        f.check(
            field,
            Err("patterns must be 1-200 characters without control characters".into()),
        );
    }
}

fn minutes(f: &mut Fields, field: &str, v: Option<u32>) {
    if v.is_some_and(|m| !(1..=10080).contains(&m)) {
        f.check(field, Err("must be 1 to 10080 minutes".into()));
    }
}

/// Every rule of a task that does not need the catalog.
fn validate_spec(spec: &TaskSpec, f: &mut Fields) {
    f.check("name", validate::name(&spec.name, 100));
    f.check("schedule", schedule::parse_cron(&spec.schedule).map(|_| ()));
    f.check("timezone", schedule::parse_tz(&spec.timezone).map(|_| ()));
    if spec.destination_ids.is_empty() || spec.destination_ids.len() > 10 {
        f.check(
            "destination_ids",
            Err("must name 1 to 10 destinations".into()),
        );
    }
    if spec.destination_ids.iter().collect::<HashSet<_>>().len() != spec.destination_ids.len() {
        f.check(
            "destination_ids",
            Err("must not repeat a destination".into()),
        );
    }
    if !(1..=16).contains(&spec.parallel_jobs) {
        f.check("parallel_jobs", Err("must be 1 to 16".into()));
    } else if spec.parallel_jobs > 1 && spec.format != BackupFormat::Directory {
        f.check(
            "parallel_jobs",
            Err("parallel jobs need the directory format".into()),
        );
    }
    let level_ok = match (spec.compression, spec.compression_level) {
        (_, None) => true,
        (CompressionAlgorithm::Zstd, Some(l)) => (1..=19).contains(&l),
        (CompressionAlgorithm::Gzip, Some(l)) => (1..=9).contains(&l),
        (CompressionAlgorithm::Lz4 | CompressionAlgorithm::None, Some(_)) => false,
    };
    if !level_ok {
        f.check(
            "compression_level",
            Err("zstd takes 1-19, gzip 1-9; lz4 and none take no level".into()),
        );
    }
    if spec.encryption_recipients.len() > 20 {
        f.check("encryption_recipients", Err("at most 20 recipients".into()));
    }
    for r in &spec.encryption_recipients {
        if let Err(e) = pgward_engine::backup::validate_recipient(r) {
            f.check(
                "encryption_recipients",
                Err(format!("{r:?} is not an age public key (age1...): {e}")),
            );
        }
    }
    if let TaskScope::Server { include, exclude } = &spec.scope {
        for (field, list) in [("scope.include", include), ("scope.exclude", exclude)] {
            if list.len() > 50 {
                f.check(field, Err("at most 50 patterns".into()));
            }
            for p in list {
                f.check(field, pgward_engine::pg::databases::check_pattern(p));
            }
        }
    }
    let o = &spec.pg_dump_options;
    if o.data_only && o.schema_only {
        let m = "data_only and schema_only exclude each other";
        f.check("pg_dump_options.data_only", Err(m.into()));
        f.check("pg_dump_options.schema_only", Err(m.into()));
    }
    if o.if_exists && !o.clean {
        f.check(
            "pg_dump_options.if_exists",
            Err("only meaningful with clean".into()),
        );
    }
    pattern_list(f, "pg_dump_options.schemas", &o.schemas);
    pattern_list(f, "pg_dump_options.exclude_schemas", &o.exclude_schemas);
    pattern_list(f, "pg_dump_options.tables", &o.tables);
    pattern_list(f, "pg_dump_options.exclude_tables", &o.exclude_tables);
    minutes(f, "timeout_minutes", spec.timeout_minutes);
    minutes(f, "stall_timeout_minutes", spec.stall_timeout_minutes);
    if spec
        .anomaly_threshold_percent
        .is_some_and(|p| !(1..=1000).contains(&p))
    {
        f.check(
            "anomaly_threshold_percent",
            Err("must be 1 to 1000 (percent from the median)".into()),
        );
    }
    let r = &spec.retention;
    if r.keep_last == 0 || r.keep_last > 10000 {
        f.check(
            "retention.keep_last",
            Err("must be 1 to 10000: the newest backups are always kept".into()),
        );
    }
    if r.keep_days.is_some_and(|d| !(1..=36500).contains(&d)) {
        f.check("retention.keep_days", Err("must be 1 to 36500".into()));
    }
    let v = &spec.verification;
    if let Some(c) = &v.verify_schedule {
        f.check(
            "verification.verify_schedule",
            schedule::parse_cron(c).map(|_| ()),
        );
    }
    if let Some(c) = &v.test_restore_schedule {
        f.check(
            "verification.test_restore_schedule",
            schedule::parse_cron(c).map(|_| ()),
        );
    }
    if v.test_restore {
        if v.test_restore_database_id.is_none() {
            f.check(
                "verification.test_restore_database_id",
                Err("a test-restore needs a registered database whose server hosts the scratch database".into()),
            );
        }
        if !v.test_restore_after_backup && v.test_restore_schedule.is_none() {
            f.check(
                "verification.test_restore_after_backup",
                Err("say when: after each backup, on test_restore_schedule, or both".into()),
            );
        }
    }
    if let Some(g) = &r.gfs
        && [g.daily, g.weekly, g.monthly, g.yearly]
            .iter()
            .any(|n| *n > 10000)
    {
        f.check("retention.gfs", Err("counts must be at most 10000".into()));
    }
}

/// Rules that need the catalog: the database and destinations exist.
async fn validate_refs(state: &AppState, spec: &TaskSpec, f: &mut Fields) -> Result<(), AppError> {
    if databases::Entity::find_by_id(spec.database_id)
        .one(&state.db)
        .await?
        .is_none()
    {
        f.check("database_id", Err("no such database".into()));
    }
    if let Some(id) = spec.verification.test_restore_database_id
        && databases::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .is_none()
    {
        f.check(
            "verification.test_restore_database_id",
            Err("no such database".into()),
        );
    }
    if !spec.destination_ids.is_empty() {
        let found = destinations::Entity::find()
            .filter(destinations::Column::Id.is_in(spec.destination_ids.clone()))
            .all(&state.db)
            .await?
            .len();
        if found != spec.destination_ids.iter().collect::<HashSet<_>>().len() {
            f.check(
                "destination_ids",
                Err("names a destination that does not exist".into()),
            );
        }
    }
    Ok(())
}

fn normalise(mut spec: TaskSpec) -> TaskSpec {
    spec.name = spec.name.trim().to_string();
    spec.schedule = spec.schedule.trim().to_string();
    spec.timezone = spec.timezone.trim().to_string();
    spec.encryption_recipients = spec
        .encryption_recipients
        .iter()
        .map(|r| r.trim().to_string())
        .collect();
    spec
}

pub fn spec_of(m: &tasks::Model, destination_ids: Vec<Uuid>) -> Result<TaskSpec, AppError> {
    let mut spec: TaskSpec = serde_json::from_value::<super::stored::StoredSpec>(m.spec.clone())
        .map_err(|e| {
            AppError::Internal(
                anyhow::Error::new(e).context(format!("stored task spec of {}", m.id)),
            )
        })?
        .into();
    // The columns are authoritative for what is also stored relationally.
    spec.name = m.name.clone();
    spec.database_id = m.database_id;
    spec.active = m.active;
    spec.schedule = m.schedule.clone();
    spec.timezone = m.timezone.clone();
    spec.destination_ids = destination_ids;
    Ok(spec)
}

/// Several tasks with their specs in two queries (the scheduler's pass, where a thousand may be due at
/// once). Tasks that do not exist, or whose stored spec cannot be read, are left out.
pub async fn find_many(
    state: &AppState,
    ids: &[Uuid],
) -> Result<Vec<(tasks::Model, TaskSpec)>, AppError> {
    let rows = tasks::Entity::find()
        .filter(tasks::Column::Id.is_in(ids.iter().copied()))
        .all(&state.db)
        .await?;
    let mut destinations: std::collections::HashMap<Uuid, Vec<Uuid>> =
        std::collections::HashMap::new();
    for d in task_destinations::Entity::find()
        .filter(task_destinations::Column::TaskId.is_in(ids.iter().copied()))
        .order_by_asc(task_destinations::Column::TaskId)
        .order_by_asc(task_destinations::Column::Position)
        .all(&state.db)
        .await?
    {
        destinations
            .entry(d.task_id)
            .or_default()
            .push(d.destination_id);
    }
    // One task whose stored spec cannot be read must not stop the others' runs: it is logged and left out.
    Ok(rows
        .into_iter()
        .filter_map(
            |m| match spec_of(&m, destinations.remove(&m.id).unwrap_or_default()) {
                Ok(spec) => Some((m, spec)),
                Err(e) => {
                    tracing::error!(task_id = %m.id, error = %e, "task left out: its stored spec cannot be read");
                    None
                }
            },
        )
        .collect())
}

async fn destination_ids(state: &AppState, task: Uuid) -> Result<Vec<Uuid>, AppError> {
    Ok(task_destinations::Entity::find()
        .filter(task_destinations::Column::TaskId.eq(task))
        .order_by_asc(task_destinations::Column::Position)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| r.destination_id)
        .collect())
}

fn to_dto(m: &tasks::Model, spec: TaskSpec) -> Task {
    let next_run_at = if spec.active {
        match (
            schedule::parse_cron(&spec.schedule),
            schedule::parse_tz(&spec.timezone),
        ) {
            (Ok(c), Ok(tz)) => schedule::next_runs(&c, tz, Utc::now(), 1)
                .into_iter()
                .next(),
            _ => None,
        }
    } else {
        None
    };
    Task {
        id: m.id,
        spec,
        next_run_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        last_verified_at: None,
        last_verify_ok: None,
        last_test_restored_at: None,
        last_test_restore_ok: None,
        last_execution: None,
        overdue_since: m.overdue_since,
    }
}

/// Marks task `id` overdue since `at`; true only for the call that changed it (so `backup_overdue` is
/// raised once, however many processes run the pass).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn mark_overdue(
    state: &AppState,
    id: Uuid,
    at: chrono::DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    let r = tasks::Entity::update_many()
        .col_expr(tasks::Column::OverdueSince, Expr::value(at))
        .filter(tasks::Column::Id.eq(id))
        .filter(tasks::Column::OverdueSince.is_null())
        .exec(&state.db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// A success (or a schedule that is kept again) ends the task's overdue state.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn clear_overdue(state: &AppState, id: Uuid) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    tasks::Entity::update_many()
        .col_expr(
            tasks::Column::OverdueSince,
            Expr::value(None::<chrono::DateTime<Utc>>),
        )
        .filter(tasks::Column::Id.eq(id))
        .filter(tasks::Column::OverdueSince.is_not_null())
        .exec(&state.db)
        .await?;
    Ok(())
}

/// The task as clients see it, with the outcome of its latest verification and test-restore.
async fn dto(state: &AppState, m: &tasks::Model, spec: TaskSpec) -> Result<Task, AppError> {
    let mut t = to_dto(m, spec);
    use crate::features::executions::service::{self as executions, CheckKind};
    if let Some((at, ok)) = executions::latest_check(state, m.id, CheckKind::Verify).await? {
        t.last_verified_at = Some(at);
        t.last_verify_ok = Some(ok);
    }
    if let Some((at, ok)) = executions::latest_check(state, m.id, CheckKind::TestRestore).await? {
        t.last_test_restored_at = Some(at);
        t.last_test_restore_ok = Some(ok);
    }
    t.last_execution = executions::latest_of_task(state, m.id).await?.map(Box::new);
    Ok(t)
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn find(state: &AppState, id: Uuid) -> Result<(tasks::Model, TaskSpec), AppError> {
    let m = tasks::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("task"))?;
    let spec = spec_of(&m, destination_ids(state, id).await?)?;
    Ok((m, spec))
}

/// Writes the row and its destinations in one transaction (insert or replace).
async fn save(
    state: &AppState,
    id: Uuid,
    spec: &TaskSpec,
    created: Option<chrono::DateTime<Utc>>,
) -> Result<tasks::Model, AppError> {
    let now = Utc::now();
    let am = tasks::ActiveModel {
        id: Set(id),
        name: Set(spec.name.clone()),
        name_key: Set(name_key(&spec.name)),
        database_id: Set(spec.database_id),
        active: Set(spec.active),
        schedule: Set(spec.schedule.clone()),
        timezone: Set(spec.timezone.clone()),
        spec: Set(serde_json::to_value(super::stored::StoredSpec::from(spec))
            .map_err(anyhow::Error::from)?),
        created_at: Set(created.unwrap_or(now)),
        updated_at: Set(now),
        // Owned by the scheduler; an edit keeps them.
        verify_run_at: sea_orm::ActiveValue::NotSet,
        test_restore_run_at: sea_orm::ActiveValue::NotSet,
        overdue_since: sea_orm::ActiveValue::NotSet,
    };
    let dests = spec.destination_ids.clone();
    let name = spec.name.clone();
    let row = state
        .db
        .transaction::<_, tasks::Model, AppError>(|tx| {
            Box::pin(async move {
                let row = if created.is_some() {
                    am.update(tx).await
                } else {
                    am.insert(tx).await
                };
                let row = row.map_err(|e| AppError::unique_name(e, KIND, &name))?;
                task_destinations::Entity::delete_many()
                    .filter(task_destinations::Column::TaskId.eq(id))
                    .exec(tx)
                    .await?;
                for (i, d) in dests.into_iter().enumerate() {
                    task_destinations::ActiveModel {
                        task_id: Set(id),
                        destination_id: Set(d),
                        position: Set(i as i32),
                    }
                    .insert(tx)
                    .await?;
                }
                Ok(row)
            })
        })
        .await?;
    Ok(row)
}

async fn ensure_name_free(
    state: &AppState,
    name: &str,
    except: Option<Uuid>,
) -> Result<(), AppError> {
    let same_name = tasks::Entity::find().filter(tasks::Column::NameKey.eq(name_key(name)));
    validate::ensure_name_free(&state.db, KIND, name, same_name, tasks::Column::Id, except).await
}

#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, spec: TaskSpec) -> Result<Task, AppError> {
    let spec = normalise(spec);
    let mut f = Fields::default();
    validate_spec(&spec, &mut f);
    validate_refs(state, &spec, &mut f).await?;
    f.finish()?;
    ensure_name_free(state, &spec.name, None).await?;
    let row = save(state, Uuid::now_v7(), &spec, None).await?;
    tracing::info!(task_id = %row.id, "task created");
    dto(state, &row, spec).await
}

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState) -> Result<Vec<Task>, AppError> {
    let rows = tasks::Entity::find()
        .order_by_asc(tasks::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let spec = spec_of(&m, destination_ids(state, m.id).await?)?;
        out.push(dto(state, &m, spec).await?);
    }
    Ok(out)
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(state: &AppState, id: Uuid) -> Result<Task, AppError> {
    let (m, spec) = find(state, id).await?;
    dto(state, &m, spec).await
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(state: &AppState, id: Uuid, req: UpdateTaskRequest) -> Result<Task, AppError> {
    let (m, old) = find(state, id).await?;
    let spec = normalise(TaskSpec {
        name: req.name.unwrap_or(old.name),
        database_id: req.database_id.unwrap_or(old.database_id),
        scope: req.scope.unwrap_or(old.scope),
        destination_ids: req.destination_ids.unwrap_or(old.destination_ids),
        schedule: req.schedule.unwrap_or(old.schedule),
        timezone: req.timezone.unwrap_or(old.timezone),
        active: req.active.unwrap_or(old.active),
        format: req.format.unwrap_or(old.format),
        parallel_jobs: req.parallel_jobs.unwrap_or(old.parallel_jobs),
        compression: req.compression.unwrap_or(old.compression),
        // A new algorithm without a level starts from its default level.
        compression_level: match (req.compression_level, req.compression) {
            (Some(level), _) => level,
            (None, Some(c)) if c != old.compression => None,
            (None, _) => old.compression_level,
        },
        encryption_recipients: req
            .encryption_recipients
            .unwrap_or(old.encryption_recipients),
        pg_dump_options: req.pg_dump_options.unwrap_or(old.pg_dump_options),
        include_globals: req.include_globals.unwrap_or(old.include_globals),
        timeout_minutes: req.timeout_minutes.unwrap_or(old.timeout_minutes),
        stall_timeout_minutes: req
            .stall_timeout_minutes
            .unwrap_or(old.stall_timeout_minutes),
        retention: req.retention.unwrap_or(old.retention),
        verification: req.verification.unwrap_or(old.verification),
        anomaly_threshold_percent: req
            .anomaly_threshold_percent
            .unwrap_or(old.anomaly_threshold_percent),
    });
    let mut f = Fields::default();
    validate_spec(&spec, &mut f);
    validate_refs(state, &spec, &mut f).await?;
    f.finish()?;
    ensure_name_free(state, &spec.name, Some(id)).await?;
    let row = save(state, id, &spec, Some(m.created_at)).await?;
    tracing::info!(task_id = %id, "task updated");
    dto(state, &row, spec).await
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn delete(state: &AppState, id: Uuid) -> Result<(), AppError> {
    let res = tasks::Entity::delete_by_id(id).exec(&state.db).await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("task"));
    }
    tracing::info!(task_id = %id, "task deleted");
    Ok(())
}

/// A copy named "<name> (copy)", inactive so that it does not run twice until the operator says so.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn duplicate(state: &AppState, id: Uuid) -> Result<Task, AppError> {
    let (_, mut spec) = find(state, id).await?;
    let base: String = spec.name.chars().take(90).collect();
    spec.name =
        validate::copy_name::<tasks::Entity>(&state.db, &base, tasks::Column::NameKey).await?;
    spec.active = false;
    let row = save(state, Uuid::now_v7(), &spec, None).await?;
    tracing::info!(task_id = %row.id, source = %id, "task duplicated");
    dto(state, &row, spec).await
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn next_runs(state: &AppState, id: Uuid) -> Result<NextRuns, AppError> {
    let (_, spec) = find(state, id).await?;
    let cron =
        schedule::parse_cron(&spec.schedule).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let tz =
        schedule::parse_tz(&spec.timezone).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(NextRuns {
        timezone: spec.timezone,
        runs: schedule::next_runs(&cron, tz, Utc::now(), 10),
    })
}

/// A task's scheduled check whose last run time is kept on the task.
#[derive(Debug, Clone, Copy)]
pub enum CheckRun {
    Verify,
    TestRestore,
}

/// Claims a scheduled check's run for this process by moving its last run time from `last` to `now`
/// atomically: of several pgward processes, one gets `true`.
#[tracing::instrument(skip_all)]
pub async fn claim_check_run(
    state: &AppState,
    task: Uuid,
    check: CheckRun,
    last: Option<chrono::DateTime<Utc>>,
    now: chrono::DateTime<Utc>,
) -> Result<bool, AppError> {
    let column = match check {
        CheckRun::Verify => tasks::Column::VerifyRunAt,
        CheckRun::TestRestore => tasks::Column::TestRestoreRunAt,
    };
    let mut q = tasks::Entity::update_many()
        .col_expr(column, sea_orm::sea_query::Expr::value(now))
        .filter(tasks::Column::Id.eq(task));
    q = match last {
        Some(l) => q.filter(column.eq(l)),
        None => q.filter(column.is_null()),
    };
    Ok(q.exec(&state.db).await?.rows_affected == 1)
}
