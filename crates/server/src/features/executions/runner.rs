//! Runs one execution: claim it, dump through the engine to every destination, publish progress every
//! 2 s (which is also the lease heartbeat), honour cancel requests, and record the outcome. Any failure
//! ends in a final state with a message; nothing stays `running`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use pgward_api_types::{ExecutionKind, ExecutionObject, ExecutionStatus, TaskScope, TaskSpec};
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
    /// None for pgward's self-backup of its catalog.
    task_id: Option<Uuid>,
    spec: TaskSpec,
    /// The database as people registered it (messages).
    database: String,
    conn: pgward_engine::pg::ConnInfo,
    targets: Vec<pgward_engine::backup::Target>,
    /// The task's schedule time in its zone (object names, manifests).
    at: chrono::DateTime<chrono_tz::Tz>,
}

impl RunContext {
    async fn load(state: &AppState, id: Uuid) -> Result<Self, String> {
        let exec = executions::Entity::find_by_id(id)
            .one(&state.db)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "execution vanished".to_string())?;
        if exec.kind == ExecutionKind::Catalog.as_str() {
            let (spec, conn, targets) = super::selfbackup::plan_parts(state, &exec).await?;
            let at = exec.scheduled_for.with_timezone(&chrono_tz::UTC);
            return Ok(Self {
                exec,
                task_id: None,
                spec,
                database: super::selfbackup::NAME.into(),
                conn,
                targets,
                at,
            });
        }
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
        let tz = tasks::service::parse_tz(&spec.timezone)?;
        let at = exec.scheduled_for.with_timezone(&tz);
        Ok(Self {
            exec,
            task_id: Some(task_id),
            spec,
            database,
            conn,
            targets,
            at,
        })
    }
}

/// One database's backup within a run: the run's own (a one-database task), or one child of a
/// whole-server run.
struct Unit {
    id: Uuid,
    /// Object name below every destination.
    key: String,
    /// Messages name the database this way.
    label: String,
    conn: pgward_engine::pg::ConnInfo,
    /// Dump the globals beside this dump (a one-database task that asks for them).
    include_globals: bool,
    /// The globals the whole-server run stored once (named in the manifest).
    shared_globals: Option<String>,
    /// The whole-server run this is a child of.
    run_id: Option<Uuid>,
    database_name: Option<String>,
    /// Cancelled with the run it belongs to.
    cancel: CancellationToken,
}

/// What a stored backup added up to (a whole-server run sums its children).
#[derive(Default)]
struct Stored {
    bytes_read: u64,
    size: u64,
}

async fn execute(state: &AppState, id: Uuid) -> Result<(), Failure> {
    let fail = |message: String| Failure::Failed {
        message,
        stderr: None,
    };
    let ctx = RunContext::load(state, id).await.map_err(fail)?;
    if let TaskScope::Server { include, exclude } = &ctx.spec.scope
        && ctx.exec.kind == ExecutionKind::Server.as_str()
    {
        let (include, exclude) = (include.clone(), exclude.clone());
        return execute_server(state, &ctx, &include, &exclude).await;
    }
    let unit = Unit {
        id,
        key: object_key(state, &ctx, id, None),
        label: ctx.database.clone(),
        conn: ctx.conn.clone(),
        include_globals: ctx.spec.include_globals,
        shared_globals: None,
        run_id: None,
        database_name: None,
        cancel: CancellationToken::new(),
    };
    backup_one(state, &ctx, unit).await?;
    after_success(state, &ctx).await;
    Ok(())
}

/// The object name of a run's dump (`database`: of a whole-server run's database, below the task's
/// folder), or with `database` `None` and plain format of the run itself (its globals' name derives
/// from it).
fn object_key(state: &AppState, ctx: &RunContext, id: Uuid, database: Option<&str>) -> String {
    let spec = &ctx.spec;
    let format = dump_format(spec.format);
    let comp = compression(spec);
    // Named after where the compression happens (pg_dump inside the archive, or pgward around the
    // stream): a restore reads the layout from the name.
    let stored = pgward_engine::backup::placement(format, comp, &state.pg).stream(comp);
    let ext = naming::extension(format, stored, !spec.encryption_recipients.is_empty());
    let short = id.simple().to_string();
    let short = &short[short.len() - 8..];
    match database {
        None => naming::object_key("", &naming::slug(&spec.name), &ctx.at, short, &ext),
        Some(db) => naming::object_key(
            &naming::slug(&spec.name),
            &naming::slug(db),
            &ctx.at,
            short,
            &ext,
        ),
    }
}

/// Retention, the overdue flag and nothing else: what follows a whole successful run.
async fn after_success(state: &AppState, ctx: &RunContext) {
    let Some(task_id) = ctx.task_id else {
        // The catalog's self-backup: its own retention.
        if let Err(e) = super::selfbackup::prune(state).await {
            tracing::warn!(error = %e, "pruning old self-backups failed; housekeeping tries again");
        }
        return;
    };
    if let Err(e) = tasks::service::clear_overdue(state, task_id).await {
        tracing::warn!(error = %e, "clearing the task's overdue state failed; the periodic pass will");
    }
    // Retention right after a success: the new backup is counted, older ones may go.
    if let Err(e) = super::retention::apply(state, task_id, Utc::now()).await {
        tracing::warn!(error = %e, "retention after the backup failed; it runs again periodically");
    }
}

/// A whole-server run: the server's databases found now and filtered by the task's patterns, the
/// globals once, then each database as a child execution of its own, one after the other (the run
/// holds the server's slot). A database that fails does not stop the others; the run succeeds when
/// every one did and records the total.
#[tracing::instrument(skip_all, fields(run_id = %ctx.exec.id))]
async fn execute_server(
    state: &AppState,
    ctx: &RunContext,
    include: &[String],
    exclude: &[String],
) -> Result<(), Failure> {
    let id = ctx.exec.id;
    let fail = |message: String| Failure::Failed {
        message,
        stderr: None,
    };
    let timeout = Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1));
    let all = pgward_engine::pg::databases::list(&ctx.conn, timeout)
        .await
        .map_err(|e| {
            fail(format!(
                "listing the databases of \"{}\"'s server: {e}",
                ctx.database
            ))
        })?;
    let mut chosen = pgward_engine::pg::databases::select(&all, include, exclude);
    // pgward's own catalog database (where the catalog's server is allowed) is never one of them.
    chosen.retain(|n| databases::service::on_same_server(state, &ctx.conn, n).is_ok());
    if chosen.is_empty() {
        return Err(fail(format!(
            "none of the {} databases on the server matches the task's include and exclude patterns",
            all.len()
        )));
    }
    let progress = Progress::default();
    let cancel = CancellationToken::new();
    // The run's heartbeat and cancel flag, for as long as it works.
    let _reporter = AbortOnDrop(tokio::spawn(report_progress(
        state.clone(),
        id,
        progress.clone(),
        cancel.clone(),
    )));
    let mut problems: Vec<String> = Vec::new();
    let mut total = Stored::default();
    let mut globals = None;
    if ctx.spec.include_globals {
        match store_globals(state, ctx, &cancel).await {
            Ok((key, g)) => {
                total.size += g.size;
                globals = Some((key, g));
            }
            Err(BackupError::Cancelled) => return Err(Failure::Cancelled),
            Err(e) => problems.push(format!("globals: {e}")),
        }
    }
    let shared_globals = globals.as_ref().map(|(k, _)| k.clone());
    let mut done = Vec::new();
    for name in &chosen {
        if cancel.is_cancelled() {
            break;
        }
        let child = Uuid::now_v7();
        if let Err(e) = insert_child(state, ctx, child, name).await {
            problems.push(format!("{name}: recording its run: {e}"));
            continue;
        }
        let conn = match databases::service::on_same_server(state, &ctx.conn, name) {
            Ok(c) => c,
            Err(e) => {
                let m = format!("no connection to it: {e}");
                finish(state, child, ExecutionStatus::Failed, Some(m.clone()), None).await;
                problems.push(format!("{name}: {m}"));
                continue;
            }
        };
        let unit = Unit {
            id: child,
            key: object_key(state, ctx, child, Some(name)),
            label: format!("{} on the server of \"{}\"", name, ctx.database),
            conn,
            include_globals: false,
            shared_globals: shared_globals.clone(),
            run_id: Some(id),
            database_name: Some(name.clone()),
            cancel: cancel.child_token(),
        };
        match backup_one(state, ctx, unit).await {
            Ok(s) => {
                total.bytes_read += s.bytes_read;
                total.size += s.size;
                progress
                    .bytes_read
                    .fetch_add(s.bytes_read, Ordering::Relaxed);
                done.push(name.clone());
            }
            Err(f) => {
                let (status, msg, stderr) = match f {
                    Failure::Cancelled => (
                        ExecutionStatus::Cancelled,
                        ExecutionStatus::Cancelled.as_str().to_string(),
                        None,
                    ),
                    Failure::Failed { message, stderr } => {
                        (ExecutionStatus::Failed, message, stderr)
                    }
                };
                settle_pending_uploads(state, child).await;
                finish(state, child, status, Some(msg.clone()), stderr).await;
                if status == ExecutionStatus::Failed {
                    problems.push(format!("{name}: {msg}"));
                }
            }
        }
    }
    if cancel.is_cancelled() {
        return Err(Failure::Cancelled);
    }
    if !problems.is_empty() {
        return Err(fail(format!(
            "{} of {} databases backed up; {}",
            done.len(),
            chosen.len(),
            problems.join("; ")
        )));
    }
    let (objects, sha256, versions) = match &globals {
        Some((_, g)) => (
            g.copies
                .iter()
                .map(|o| ExecutionObject {
                    destination_id: o.id.parse().unwrap_or_default(),
                    key: o.key.clone(),
                    size: o.size,
                    verified_at: None,
                    verify_error: None,
                })
                .collect::<Vec<_>>(),
            Some(g.sha256.clone()),
            Some((g.server_version.clone(), g.client_version.clone())),
        ),
        None => (Vec::new(), None, None),
    };
    let message = format!("{} databases: {}", done.len(), done.join(", "));
    let recorded = crate::catalog::watch::outlast("recording a whole-server run", || {
        let mut u = executions::Entity::update_many()
            .col_expr(
                executions::Column::Status,
                Expr::value(ExecutionStatus::Success.as_str()),
            )
            .col_expr(executions::Column::FinishedAt, Expr::value(Utc::now()))
            .col_expr(
                executions::Column::BytesRead,
                Expr::value(total.bytes_read as i64),
            )
            .col_expr(executions::Column::Size, Expr::value(total.size as i64))
            .col_expr(executions::Column::Sha256, Expr::value(sha256.clone()))
            .col_expr(executions::Column::Message, Expr::value(message.clone()))
            .col_expr(
                executions::Column::Objects,
                Expr::value(serde_json::to_value(&objects).unwrap_or_default()),
            );
        if let Some((server, client)) = &versions {
            u = u
                .col_expr(
                    executions::Column::ServerVersion,
                    Expr::value(server.clone()),
                )
                .col_expr(
                    executions::Column::PgDumpVersion,
                    Expr::value(client.clone()),
                );
        }
        u.filter(executions::Column::Id.eq(id))
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
    tracing::info!(
        databases = done.len(),
        size = total.size,
        "whole-server run succeeded"
    );
    after_success(state, ctx).await;
    Ok(())
}

/// The server's globals, once for a whole-server run, named after the run.
async fn store_globals(
    state: &AppState,
    ctx: &RunContext,
    cancel: &CancellationToken,
) -> Result<(String, pgward_engine::backup::GlobalsOutcome), BackupError> {
    let id = ctx.exec.id;
    let comp = compression(&ctx.spec);
    let encrypted = !ctx.spec.encryption_recipients.is_empty();
    let base = object_key(state, ctx, id, None);
    let key = naming::globals_key(&base, comp, encrypted);
    // Before anything is stored: if this process dies, the reaper knows what to remove.
    let _ = executions::Entity::update_many()
        .col_expr(executions::Column::ObjectKey, Expr::value(key.clone()))
        .filter(executions::Column::Id.eq(id))
        .exec(&state.db)
        .await;
    let mut plan = plan(state, ctx, &key, ctx.database.clone(), ctx.conn.clone());
    plan.cancel = cancel.clone();
    plan.compression = comp;
    let g = pgward_engine::backup::run_globals(plan).await?;
    Ok((key, g))
}

/// A whole-server run's child row, running from the start (the run holds the server's slot).
async fn insert_child(
    state: &AppState,
    ctx: &RunContext,
    child: Uuid,
    database: &str,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::{ActiveModelTrait, Set};
    let p = &ctx.exec;
    let now = Utc::now();
    executions::ActiveModel {
        id: Set(child),
        task_id: Set(p.task_id),
        task_name: Set(p.task_name.clone()),
        database_id: Set(p.database_id),
        trigger: Set(p.trigger.clone()),
        status: Set(ExecutionStatus::Running.as_str().into()),
        scheduled_for: Set(p.scheduled_for),
        timezone: Set(p.timezone.clone()),
        created_at: Set(now),
        started_at: Set(Some(now)),
        worker_id: Set(p.worker_id.clone()),
        heartbeat_at: Set(Some(now)),
        destination_ids: Set(p.destination_ids.clone()),
        kind: Set(ExecutionKind::Database.as_str().into()),
        parent_id: Set(Some(p.id)),
        database_name: Set(Some(database.to_string())),
        // The rest is what a run has not done yet: the catalog's defaults (NULL, false, 0, []).
        ..Default::default()
    }
    .insert(&state.db)
    .await
    .map(|_| ())
}

/// The engine's plan for a run's dump (or its globals) under `key`, with the run's settings.
fn plan(
    state: &AppState,
    ctx: &RunContext,
    key: &str,
    label: String,
    conn: pgward_engine::pg::ConnInfo,
) -> BackupPlan {
    let spec = &ctx.spec;
    let minutes = |m: u32| Duration::from_secs(u64::from(m) * 60);
    BackupPlan {
        label,
        conn,
        installs: state.pg.clone(),
        connect_timeout: Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1)),
        format: dump_format(spec.format),
        options: dump_options(spec),
        compression: compression(spec),
        recipients: spec.encryption_recipients.clone(),
        targets: ctx.targets.clone(),
        key: key.to_string(),
        part_size: None,
        // pg_dump is the slower process; zstd on this thread keeps memory small (bench/RESULTS.md).
        zstd_workers: 0,
        jobs: spec.parallel_jobs,
        include_globals: false,
        shared_globals: None,
        // A test-restore compares row counts with the ones of the snapshot pg_dump reads.
        count_rows: spec.verification.test_restore,
        work_dir: state.config.work_dir(),
        timeout: spec.timeout_minutes.map(minutes),
        // On by default: a store that accepts connections and then hangs ends the run.
        stall_timeout: spec
            .stall_timeout_minutes
            .or(Some(state.config.worker.stall_timeout_minutes).filter(|m| *m > 0))
            .map(minutes),
        progress: Progress::default(),
        cancel: CancellationToken::new(),
        probed: None,
        uploads_started: None,
        origin: None,
    }
}

/// One database's whole backup through the engine, recorded on `unit.id`'s row (success here; a
/// failure is the caller's to record).
#[tracing::instrument(skip_all, fields(execution_id = %unit.id))]
async fn backup_one(state: &AppState, ctx: &RunContext, unit: Unit) -> Result<Stored, Failure> {
    let id = unit.id;
    let fail = |message: String| Failure::Failed {
        message,
        stderr: None,
    };
    let spec = &ctx.spec;
    // Before anything is stored: if this process dies, the reaper knows what to remove.
    executions::Entity::update_many()
        .col_expr(executions::Column::ObjectKey, Expr::value(unit.key.clone()))
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
    // Lives (heartbeat included) until this function returns: the globals dump and the manifests come
    // after the dump, and the lease must hold through them.
    let _reporter = AbortOnDrop(tokio::spawn(report_progress(
        state.clone(),
        id,
        progress.clone(),
        unit.cancel.clone(),
    )));
    let mut plan = plan(state, ctx, &unit.key, unit.label.clone(), unit.conn.clone());
    plan.include_globals = unit.include_globals;
    plan.shared_globals = unit.shared_globals.clone();
    plan.progress = progress;
    plan.cancel = unit.cancel.clone();
    plan.probed = Some(probed_tx);
    plan.uploads_started = Some(started_tx);
    plan.origin = Some(pgward_engine::backup::manifest::Origin {
        execution_id: id,
        task_id: ctx.task_id,
        task_name: spec.name.clone(),
        database_id: ctx.task_id.map(|_| spec.database_id),
        trigger: ctx.exec.trigger.clone(),
        scheduled_for: ctx.at.fixed_offset(),
        started_at: ctx.exec.started_at,
        run_id: unit.run_id,
        database_name: unit.database_name.clone(),
    });
    let outcome = run_backup(plan).await;
    let _ = versions.await;
    // The engine completed or aborted every upload by now; nothing is pending any more (after a
    // failure, the caller settles what the engine could not abort).
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
    if spec.verification.test_restore && spec.verification.test_restore_after_backup {
        crate::features::restorations::service::spawn_test_restore(state.clone(), id);
    }
    Ok(Stored {
        bytes_read: out.bytes_read,
        size: out.size,
    })
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
