//! Runs one restoration in this process: wait for a slot, create the new database if asked, stream the
//! backup through the engine into psql / pg_restore, publish progress every 2 s (the lease heartbeat),
//! honour cancel, and record the outcome with a stable error code. Nothing stays `running`: if this
//! process dies, the scheduler's reaper fails the row as "interrupted".

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use pgward_engine::backup::{Compression, DumpFormat, Target};
use pgward_engine::backup::{Manifest, naming};
use pgward_engine::pg::{ConnInfo, replace};
use pgward_engine::restore::{RestoreError, RestoreOptions, RestoreRequest, run_restore};
use pgward_entity::restorations;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use pgward_api_types::RestorationStatus;
use pgward_engine::abort::AbortOnDrop;

use crate::state::AppState;

pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// The error code of a cancelled restore (the engine's `RestoreError::Cancelled` has the same code).
const CANCELLED: &str = RestorationStatus::Cancelled.as_str();
/// Stored status values the raw SQL below names.
const SUCCESS: &str = RestorationStatus::Success.as_str();
const FAILED: &str = RestorationStatus::Failed.as_str();

/// Everything a restore needs, secrets included; lives only in this process's memory.
pub struct Plan {
    pub client_bin_dir: std::path::PathBuf,
    pub conn: ConnInfo,
    /// (a connection to the server, name): create this database first, drop it again on failure.
    pub new_database: Option<(ConnInfo, String)>,
    /// Target `replace`: `new_database` is the working copy (its connection names the original), to be
    /// checked and swapped in after the restore.
    pub replace: Option<Replace>,
    pub source: Target,
    pub key: String,
    pub expected_sha256: Option<String>,
    pub expected_size: Option<u64>,
    pub format: DumpFormat,
    pub compression: Compression,
    pub encrypted: bool,
    pub identities: Vec<String>,
    pub options: RestoreOptions,
    /// The globals file (key, size) to replay first, on the same destination.
    pub globals: Option<(String, u64)>,
    /// The dump's size before compression, as pgward recorded it (not for uploads: not measured).
    pub decoded_size: Option<u64>,
}

/// What a replace does once the copy is restored.
pub struct Replace {
    /// The database being replaced.
    pub original: String,
    /// End the original's sessions at the swap.
    pub end_sessions: bool,
    /// How long the original is kept under its dated name; `None`: dropped right after the swap.
    pub keep: Option<chrono::Duration>,
}

impl Plan {
    /// The most decoded bytes the main object may yield: its recorded size (and a little), else the
    /// object's size times `worker.max_decompression_ratio`.
    pub fn max_decoded(&self, ratio: u64) -> Option<u64> {
        match self.decoded_size {
            Some(d) => Some(d + d / 50 + (1 << 20)),
            None => self
                .expected_size
                .map(|s| s.max(1 << 20).saturating_mul(ratio.max(1))),
        }
    }
}

/// Restores running at once in one process; more wait as `queued`.
static SLOTS: std::sync::OnceLock<Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();

/// This process, as recorded in `worker_id` (the holder of the lease).
pub fn process_id() -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "host".into());
    format!("restore-{host}-{}", std::process::id())
}

fn slots(state: &AppState) -> Arc<tokio::sync::Semaphore> {
    SLOTS
        .get_or_init(|| {
            Arc::new(tokio::sync::Semaphore::new(
                state.config.worker.restore_concurrency.max(1),
            ))
        })
        .clone()
}

/// One of this process's restore slots: verifications and test-restores read and decompress whole
/// backups too, so they wait their turn under the same `worker.restore_concurrency`.
#[tracing::instrument(skip_all)]
pub async fn slot(state: &AppState) -> Option<tokio::sync::OwnedSemaphorePermit> {
    slots(state).acquire_owned().await.ok()
}

pub fn spawn(state: AppState, id: Uuid, plan: Plan) {
    let state = state.background();
    let slots = slots(&state);
    tokio::spawn(async move {
        // The lease is kept while waiting for a slot, so a queued restore of a live process is not
        // reaped, and a cancel is seen.
        let permit = loop {
            tokio::select! {
                p = slots.clone().acquire_owned() => break p.ok(),
                _ = tokio::time::sleep(HEARTBEAT) => {
                    if !touch(&state, id, RestorationStatus::Queued).await {
                        return; // cancelled or reaped
                    }
                }
            }
        };
        let _permit = permit;
        // A panic must not leave the row running: run it as its own task and record what happened.
        let job = tokio::spawn({
            let state = state.clone();
            async move { run(&state, id, plan).await }
        });
        if let Err(e) = job.await {
            tracing::error!(restoration_id = %id, error = %e, "restore task panicked");
            finish(
                &state,
                id,
                RestorationStatus::Failed,
                Some("internal"),
                Some("internal error; details are in the server log".into()),
                None,
            )
            .await;
        }
    });
}

/// Refreshes the heartbeat of a row still in `status`; false when it moved on or cancel was asked.
async fn touch(state: &AppState, id: Uuid, status: RestorationStatus) -> bool {
    let row = restorations::Entity::find_by_id(id).one(&state.db).await;
    match row {
        Ok(Some(r)) if r.status == status.as_str() && !r.cancel_requested => {
            let _ = restorations::Entity::update_many()
                .col_expr(restorations::Column::HeartbeatAt, Expr::value(Utc::now()))
                .filter(restorations::Column::Id.eq(id))
                .exec(&state.db)
                .await;
            true
        }
        Ok(Some(r)) if r.status == RestorationStatus::Queued.as_str() && r.cancel_requested => {
            cancelled_before_start(state, id).await;
            false
        }
        _ => false,
    }
}

/// Ends a queued restoration whose cancel was asked before it could start.
async fn cancelled_before_start(state: &AppState, id: Uuid) {
    finish(
        state,
        id,
        RestorationStatus::Cancelled,
        Some(CANCELLED),
        Some("cancelled before it started".into()),
        None,
    )
    .await;
}

async fn finish(
    state: &AppState,
    id: Uuid,
    status: RestorationStatus,
    code: Option<&str>,
    message: Option<String>,
    stderr: Option<String>,
) -> bool {
    let r = restorations::Entity::update_many()
        .col_expr(restorations::Column::Status, Expr::value(status.as_str()))
        .col_expr(restorations::Column::FinishedAt, Expr::value(Utc::now()))
        .col_expr(
            restorations::Column::ErrorCode,
            Expr::value(code.map(str::to_string)),
        )
        .col_expr(restorations::Column::Message, Expr::value(message))
        .col_expr(restorations::Column::StderrTail, Expr::value(stderr))
        .filter(restorations::Column::Id.eq(id))
        .filter(restorations::Column::Status.is_in([
            RestorationStatus::Queued.as_str(),
            RestorationStatus::Running.as_str(),
        ]))
        .exec(&state.db)
        .await;
    match r {
        Ok(r) => r.rows_affected == 1,
        Err(e) => {
            tracing::error!(restoration_id = %id, error = %e, "recording the outcome failed");
            false
        }
    }
}

#[tracing::instrument(skip_all, fields(restoration_id = %id))]
pub async fn run(state: &AppState, id: Uuid, plan: Plan) {
    let claimed = restorations::Entity::update_many()
        .col_expr(
            restorations::Column::Status,
            Expr::value(RestorationStatus::Running.as_str()),
        )
        .col_expr(restorations::Column::StartedAt, Expr::value(Utc::now()))
        .col_expr(restorations::Column::HeartbeatAt, Expr::value(Utc::now()))
        .filter(restorations::Column::Id.eq(id))
        .filter(restorations::Column::Status.eq(RestorationStatus::Queued.as_str()))
        .filter(restorations::Column::CancelRequested.eq(false))
        .exec(&state.db)
        .await;
    match claimed {
        Ok(r) if r.rows_affected == 1 => {}
        _ => {
            cancelled_before_start(state, id).await;
            return;
        }
    }
    restoration_event(state, id, pgward_api_types::EventKind::RestorationStarted).await;
    let (status, code, message, stderr) = match execute(state, id, plan).await {
        Ok(note) => (RestorationStatus::Success, None, note, None),
        Err(RestoreFailure {
            code,
            message,
            stderr,
        }) => {
            let status = if code == CANCELLED {
                RestorationStatus::Cancelled
            } else {
                RestorationStatus::Failed
            };
            tracing::warn!(code, message = %message, "restore failed");
            (status, Some(code), Some(message), stderr)
        }
    };
    if status == RestorationStatus::Success {
        tracing::info!("restore succeeded");
    }
    // Only the outcome this run recorded is announced: a run the reaper declared interrupted meanwhile
    // already raised restoration_failed.
    if !finish(state, id, status, code, message, stderr).await {
        return;
    }
    match status {
        RestorationStatus::Success => {
            restoration_event(state, id, pgward_api_types::EventKind::RestorationSuccess).await
        }
        RestorationStatus::Failed => {
            restoration_event(state, id, pgward_api_types::EventKind::RestorationFailed).await
        }
        _ => {}
    }
}

/// Announces restore outcomes that were recorded but never announced (the process died in between);
/// see the executions' sweep of the same name.
#[tracing::instrument(skip_all)]
pub async fn announce_missed_outcomes(
    state: &AppState,
    now: chrono::DateTime<Utc>,
    window: chrono::Duration,
) -> Result<usize, sea_orm::DbErr> {
    let missed = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT r.id, r.status FROM restorations r \
             WHERE r.status IN ('{SUCCESS}', '{FAILED}') AND r.finished_at BETWEEN $1 AND $2 \
               AND NOT EXISTS (SELECT 1 FROM events v \
                               WHERE v.restoration_id = r.id AND v.kind = 'restoration_' || r.status)"),
            [
                (now - window).into(),
                (now - chrono::Duration::seconds(10)).into(),
            ],
        ))
        .await?;
    for r in &missed {
        let id: Uuid = r.try_get("", "id")?;
        let status: String = r.try_get("", "status")?;
        let kind = if status == RestorationStatus::Success.as_str() {
            pgward_api_types::EventKind::RestorationSuccess
        } else {
            pgward_api_types::EventKind::RestorationFailed
        };
        tracing::warn!(restoration_id = %id, "announcing an outcome its process did not announce");
        restoration_event(state, id, kind).await;
    }
    Ok(missed.len())
}

async fn restoration_event(state: &AppState, id: Uuid, kind: pgward_api_types::EventKind) {
    let Ok(Some(r)) = restorations::Entity::find_by_id(id).one(&state.db).await else {
        return;
    };
    crate::features::events::service::emit(
        state,
        kind,
        crate::features::events::service::Refs {
            task: r.task_id,
            database: r.target_database_id,
            execution: r.execution_id,
            restoration: Some(r.id),
            ..Default::default()
        },
        serde_json::json!({
            "restoration": crate::features::events::service::restoration_data(&super::service::to_dto(&r)),
        }),
    )
    .await;
}

struct RestoreFailure {
    code: &'static str,
    message: String,
    stderr: Option<String>,
}

fn failure(code: &'static str, message: impl Into<String>) -> RestoreFailure {
    RestoreFailure {
        code,
        message: message.into(),
        stderr: None,
    }
}

/// Runs the restore; `Ok` carries a note for the operator (what a replace did).
async fn execute(state: &AppState, id: Uuid, plan: Plan) -> Result<Option<String>, RestoreFailure> {
    let timeout = Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1));
    // Heartbeat, progress and cancel from the claim on (creating the database and replaying the globals
    // come before the main restore); aborted when this function returns or unwinds.
    let bytes_read = Arc::new(AtomicU64::new(0));
    let cancel = CancellationToken::new();
    let _reporter = AbortOnDrop(tokio::spawn(report(
        state.clone(),
        id,
        bytes_read.clone(),
        cancel.clone(),
    )));
    if let Some((admin, name)) = &plan.new_database {
        let created = match &plan.replace {
            Some(r) => replace::create_like(admin, &r.original, name, timeout).await,
            None => pgward_engine::pg::admin::create_database(admin, name, timeout).await,
        };
        created.map_err(|e| {
            failure(
                "create_database_failed",
                format!("creating database \"{name}\": {e}"),
            )
        })?;
    }
    let mut result = restore(state, id, &plan, bytes_read, cancel)
        .await
        .map(|()| None);
    if result.is_ok()
        && let Some(r) = &plan.replace
    {
        result = swap_in(state, id, &plan, r).await.map(Some);
    }
    if plan.replace.is_some()
        && let Err(f) = &mut result
    {
        f.message
            .push_str(" (the original database is untouched: nothing was swapped)");
    }
    if result.is_err()
        && let Some((admin, name)) = &plan.new_database
    {
        // A half-restored new database helps nobody; the error and stderr are recorded.
        if let Err(e) = pgward_engine::pg::admin::drop_database(admin, name, timeout).await {
            tracing::warn!(database = %name, error = %e, "dropping the new database after a failed restore failed");
        }
    }
    result
}

/// Checks the restored copy against the backup's manifest, swaps it in for the original and records
/// where the original is kept; the note says what happened.
async fn swap_in(
    state: &AppState,
    id: Uuid,
    plan: &Plan,
    r: &Replace,
) -> Result<String, RestoreFailure> {
    let timeout = Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1));
    let (server, working) = plan
        .new_database
        .as_ref()
        .ok_or_else(|| failure("internal", "a replace without a working copy"))?;
    let manifest: Option<Manifest> = plan
        .source
        .get_all(&naming::manifest_key(&plan.key))
        .await
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok());
    let checked = match manifest {
        Some(m) => {
            let copy = server
                .with_database(working)
                .map_err(|e| failure("internal", e.to_string()))?;
            let restored = pgward_engine::pg::stats::count_rows_in(&copy, timeout)
                .await
                .map_err(|e| failure("target_unreachable", format!("counting rows: {e}")))?;
            super::checks::compare_counts(&m, &restored)
                .map_err(|m| failure("row_count_mismatch", m))?
        }
        None => "the backup has no manifest to compare row counts with (an upload)".to_string(),
    };
    let now = Utc::now();
    let kept = replace::kept_name(server, &r.original, now, timeout)
        .await
        .map_err(|e| failure("target_unreachable", e.to_string()))?;
    let swapped = replace::swap(server, &r.original, working, &kept, r.end_sessions, timeout)
        .await
        .map_err(|e| match e {
            replace::SwapError::InUse { .. } => failure(
                "database_in_use",
                format!("{e}; close them, or restore again and allow ending them (end_sessions)"),
            ),
            replace::SwapError::Admin(a) => {
                failure("swap_failed", format!("renaming the databases failed: {a}"))
            }
        })?;
    let mut note = format!("\"{}\" replaced: {checked}.", r.original);
    if swapped.ended_sessions > 0 {
        note.push_str(&format!(" {} session(s) ended.", swapped.ended_sessions));
    }
    let mut until = r.keep.map(|k| now + k);
    let mut dropped = None;
    match r.keep {
        Some(_) => note.push_str(&format!(
            " The original is kept as \"{kept}\" until {}.",
            until
                .map(|u| u.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        )),
        None => match pgward_engine::pg::admin::drop_database(server, &kept, timeout).await {
            Ok(()) => {
                dropped = Some(Utc::now());
                note.push_str(" The original was dropped.");
            }
            Err(e) => {
                // Housekeeping tries again.
                until = Some(now);
                note.push_str(&format!(
                    " Dropping the original (kept as \"{kept}\") failed and is retried: {e}."
                ));
            }
        },
    }
    for missed in &swapped.not_copied {
        note.push_str(&format!(" Not carried over from the original: {missed}."));
    }
    let _ = restorations::Entity::update_many()
        .col_expr(
            restorations::Column::PreviousDatabaseName,
            Expr::value(kept.clone()),
        )
        .col_expr(restorations::Column::PreviousKeptUntil, Expr::value(until))
        .col_expr(
            restorations::Column::PreviousDroppedAt,
            Expr::value(dropped),
        )
        .filter(restorations::Column::Id.eq(id))
        .exec(&state.db)
        .await;
    Ok(note)
}

/// Drops the originals that replaces kept and whose time is up; returns how many went.
#[tracing::instrument(skip_all)]
pub async fn drop_expired_originals(
    state: &AppState,
    now: chrono::DateTime<Utc>,
) -> Result<usize, sea_orm::DbErr> {
    let due = restorations::Entity::find()
        .filter(restorations::Column::PreviousDatabaseName.is_not_null())
        .filter(restorations::Column::PreviousDroppedAt.is_null())
        .filter(restorations::Column::PreviousKeptUntil.lte(now))
        .all(&state.db)
        .await?;
    let timeout = Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1));
    let mut dropped = 0;
    for r in due {
        let (Some(name), Some(server)) = (&r.previous_database_name, r.target_database_id) else {
            continue;
        };
        let admin = match super::service::registered(state, server, "target_database_id").await {
            Ok((_, admin)) => admin,
            Err(e) => {
                tracing::warn!(database = %name, error = %e, "the server of a kept original is no longer registered");
                continue;
            }
        };
        match pgward_engine::pg::admin::drop_database(&admin, name, timeout).await {
            Ok(()) => {
                tracing::info!(restoration_id = %r.id, database = %name, "kept original dropped");
                restorations::Entity::update_many()
                    .col_expr(
                        restorations::Column::PreviousDroppedAt,
                        Expr::value(Utc::now()),
                    )
                    .filter(restorations::Column::Id.eq(r.id))
                    .exec(&state.db)
                    .await?;
                dropped += 1;
            }
            Err(e) => {
                tracing::warn!(database = %name, error = %e, "dropping a kept original failed; retried later")
            }
        }
    }
    Ok(dropped)
}

async fn restore(
    state: &AppState,
    id: Uuid,
    plan: &Plan,
    bytes_read: Arc<AtomicU64>,
    cancel: CancellationToken,
) -> Result<(), RestoreFailure> {
    if let Some((key, size)) = &plan.globals {
        let source = plan
            .source
            .stream(key)
            .await
            .map_err(|e| failure("backup_unreadable", format!("reading {key}: {e}")))?;
        let (_, compression, encrypted) = pgward_engine::restore::layout_of(key)
            .ok_or_else(|| failure("backup_unreadable", format!("unknown file {key}")))?;
        run_restore(RestoreRequest {
            client_bin_dir: plan.client_bin_dir.clone(),
            conn: plan.conn.clone(),
            format: DumpFormat::Plain,
            compression,
            encrypted,
            source,
            local_file: None,
            // The globals file's checksum is not recorded; its size is.
            expected_sha256: None,
            expected_size: Some(*size),
            identities: plan.identities.clone(),
            options: RestoreOptions {
                globals: true,
                ..Default::default()
            },
            work_dir: state.config.work_dir(),
            bytes_read: Arc::new(AtomicU64::new(0)),
            cancel: cancel.clone(),
            max_decoded: Some(
                (*size)
                    .max(1 << 20)
                    .saturating_mul(state.config.worker.max_decompression_ratio.max(1)),
            ),
            run_as: state.client_user,
        })
        .await
        .map_err(|e| describe_failure(e, "globals: "))?;
    }
    if plan.format == DumpFormat::Plain && plan.options.clean {
        let timeout = Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1));
        pgward_engine::pg::admin::empty_database(&plan.conn, timeout)
            .await
            .map_err(|e| failure("clean_failed", format!("emptying the target first: {e}")))?;
    }
    let source = plan
        .source
        .stream(&plan.key)
        .await
        .map_err(|e| failure("backup_unreadable", format!("reading {}: {e}", plan.key)))?;
    let out = run_restore(RestoreRequest {
        client_bin_dir: plan.client_bin_dir.clone(),
        conn: plan.conn.clone(),
        format: plan.format,
        compression: plan.compression,
        encrypted: plan.encrypted,
        source,
        // On a local destination a parallel restore reads the verified file where it lies.
        local_file: plan.source.local_file(&plan.key),
        expected_sha256: plan.expected_sha256.clone(),
        expected_size: plan.expected_size,
        identities: plan.identities.clone(),
        options: plan.options.clone(),
        work_dir: state.config.work_dir(),
        bytes_read: bytes_read.clone(),
        cancel: cancel.clone(),
        max_decoded: plan.max_decoded(state.config.worker.max_decompression_ratio),
        run_as: state.client_user,
    })
    .await;
    let _ = restorations::Entity::update_many()
        .col_expr(
            restorations::Column::BytesRead,
            Expr::value(bytes_read.load(Ordering::Relaxed) as i64),
        )
        .filter(restorations::Column::Id.eq(id))
        .exec(&state.db)
        .await;
    out.map(|_| ()).map_err(|e| describe_failure(e, ""))
}

fn describe_failure(e: RestoreError, what: &str) -> RestoreFailure {
    match e {
        RestoreError::Client {
            client,
            exit,
            stderr,
        } => {
            // The first error line says what went wrong; the tail has the context.
            let first = stderr
                .lines()
                .find(|l| l.contains("ERROR") || l.contains("error"))
                .unwrap_or("")
                .trim()
                .to_string();
            RestoreFailure {
                code: "restore_failed",
                message: format!("{what}{client} failed ({exit}): {first}"),
                stderr: Some(stderr),
            }
        }
        other => failure(other.code(), format!("{what}{other}")),
    }
}

/// Every 2 s: bytes read, rate, heartbeat; and a cancel request becomes a cancel.
async fn report(state: AppState, id: Uuid, bytes: Arc<AtomicU64>, cancel: CancellationToken) {
    let mut last = (0u64, tokio::time::Instant::now());
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tick.tick().await;
        let now = tokio::time::Instant::now();
        let n = bytes.load(Ordering::Relaxed);
        let secs = (now - last.1).as_secs_f64().max(0.001);
        let rate = ((n - last.0) as f64 / secs) as i64;
        last = (n, now);
        let _ = restorations::Entity::update_many()
            // Never lowers it: a slow earlier tick must not overwrite a later (final) value.
            .col_expr(
                restorations::Column::BytesRead,
                Expr::cust_with_values("GREATEST(bytes_read, $1)", [n as i64]),
            )
            .col_expr(restorations::Column::RateBps, Expr::value(rate))
            .col_expr(restorations::Column::HeartbeatAt, Expr::value(Utc::now()))
            .filter(restorations::Column::Id.eq(id))
            .exec(&state.db)
            .await;
        if let Ok(Some(r)) = restorations::Entity::find_by_id(id).one(&state.db).await
            && r.cancel_requested
        {
            cancel.cancel();
        }
    }
}

/// Restorations whose process stopped heartbeating (killed, crashed): failed as "interrupted". Their
/// secrets died with that process, so they cannot be resumed elsewhere; scratch space is swept when a
/// pgward process starts. Returns the ids reaped.
#[tracing::instrument(skip_all)]
pub async fn reap_interrupted(
    state: &AppState,
    now: chrono::DateTime<Utc>,
    lease: Duration,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    let limit = now - chrono::Duration::from_std(lease).unwrap_or_default();
    let dead = restorations::Entity::find()
        .filter(restorations::Column::Status.is_in([
            RestorationStatus::Queued.as_str(),
            RestorationStatus::Running.as_str(),
        ]))
        .filter(restorations::Column::HeartbeatAt.lt(limit))
        .all(&state.db)
        .await?;
    let mut reaped = Vec::new();
    for r in dead {
        let who = r
            .worker_id
            .clone()
            .unwrap_or_else(|| "the pgward process".into());
        // What the operator must know next: is the target as it was, partly restored, or gone?
        let single = r
            .options
            .get("single_transaction")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let target = if r.target_kind == pgward_api_types::RestoreTargetKind::Replace.as_str() {
            if r.previous_database_name.is_some() {
                "the restored copy had been swapped in (the original is kept under its dated name)"
            } else {
                "the original database is untouched; the working copy is dropped"
            }
        } else if r.new_database_name.is_some() {
            "the database created for this restore is dropped"
        } else if single {
            "the restore ran in one transaction, which was rolled back: the target is as it was before"
        } else {
            "the target may hold a partial restore: restore again, or check it before use"
        };
        let done = restorations::Entity::update_many()
            .col_expr(
                restorations::Column::Status,
                Expr::value(RestorationStatus::Failed.as_str()),
            )
            .col_expr(restorations::Column::FinishedAt, Expr::value(now))
            .col_expr(restorations::Column::ErrorCode, Expr::value("interrupted"))
            .col_expr(
                restorations::Column::Message,
                Expr::value(format!("interrupted: {who} stopped responding; {target}")),
            )
            .filter(restorations::Column::Id.eq(r.id))
            .filter(restorations::Column::Status.is_in([
                RestorationStatus::Queued.as_str(),
                RestorationStatus::Running.as_str(),
            ]))
            .filter(restorations::Column::HeartbeatAt.lt(limit))
            .exec(&state.db)
            .await?;
        if done.rows_affected == 1 {
            tracing::warn!(restoration_id = %r.id, "restoration interrupted");
            reaped.push(r.id);
            // Notifications hear of it like of any failed restore.
            restoration_event(state, r.id, pgward_api_types::EventKind::RestorationFailed).await;
            // A database pgward created for this restore (a new database, a test-restore's scratch
            // database) goes, as it would have had the restore failed in a live process.
            if let (Some(name), Some(server)) = (&r.new_database_name, r.target_database_id) {
                drop_created(state, server, name).await;
            }
        }
    }
    Ok(reaped)
}

async fn drop_created(state: &AppState, server: Uuid, name: &str) {
    let timeout = Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1));
    match super::service::registered(state, server, "target_database_id").await {
        Ok((_, admin)) => {
            if let Err(e) = pgward_engine::pg::admin::drop_database(&admin, name, timeout).await {
                tracing::warn!(database = %name, error = %e, "dropping the database of an interrupted restore failed");
            }
        }
        Err(e) => {
            tracing::warn!(database = %name, error = %e, "the server of an interrupted restore's database is gone")
        }
    }
}
