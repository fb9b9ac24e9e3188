//! Proving backups: verification (re-read every stored copy and check its size, sha256 and manifest)
//! and test-restores (restore the backup into a scratch database, compare every table's row count with
//! the counts taken in pg_dump's own snapshot, drop the scratch database). Both run on demand and on
//! each task's schedules; both keep a heartbeat while running, so a crash leaves no check running.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use pgward_api_types::{
    CheckStatus, CreateRestorationRequest, Execution, ExecutionStatus, RestorationStatus,
    RestoreOptions, RestoreTarget,
};
use pgward_engine::backup::{Manifest, naming};
use pgward_entity::{executions, tasks as task_rows};
use sea_orm::EntityTrait;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::AppError;
use crate::features::executions::service::{
    self as executions_service, CheckKind, mark_check as mark,
};
use crate::features::tasks;
use crate::state::AppState;
use pgward_engine::abort::AbortOnDrop;

/// Starts verifying execution `id` in the background (202 semantics).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn start_verify(state: &AppState, id: Uuid) -> Result<Execution, AppError> {
    let exec = executions_service::find(state, id).await?;
    if executions_service::status_of(&exec) != ExecutionStatus::Success {
        return Err(AppError::Conflict(format!(
            "only successful backups can be verified (this one is {})",
            exec.status
        )));
    }
    mark(state, id, CheckKind::Verify, CheckStatus::Running, None).await?;
    // Read before the check starts: a quick check must not answer as already finished.
    let out = executions_service::get(state, id).await?;
    let state2 = state.background();
    tokio::spawn(async move {
        verify(&state2, id).await;
    });
    Ok(out)
}

/// Starts a test-restore of execution `id` in the background; `database_id` overrides the task's
/// scratch server.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn start_test_restore(
    state: &AppState,
    id: Uuid,
    database_id: Option<Uuid>,
) -> Result<Execution, AppError> {
    let exec = executions_service::find(state, id).await?;
    if executions_service::status_of(&exec) != ExecutionStatus::Success {
        return Err(AppError::Conflict(format!(
            "only successful backups can be test-restored (this one is {})",
            exec.status
        )));
    }
    if exec.kind == pgward_api_types::ExecutionKind::Server.as_str() {
        return Err(AppError::Conflict(
            "a whole-server run holds only the server's globals: test-restore one of its databases"
                .into(),
        ));
    }
    let policy_db = match exec.task_id {
        Some(t) => tasks::service::find(state, t)
            .await
            .ok()
            .and_then(|(_, s)| s.verification.test_restore_database_id),
        None => None,
    };
    let database = database_id.or(policy_db).ok_or_else(|| {
        AppError::field(
            "database_id",
            "name the registered database whose server hosts the scratch database \
             (or set the task's verification.test_restore_database_id)",
        )
    })?;
    mark(
        state,
        id,
        CheckKind::TestRestore,
        CheckStatus::Running,
        None,
    )
    .await?;
    let out = executions_service::get(state, id).await?;
    let state2 = state.background();
    tokio::spawn(async move {
        test_restore(&state2, id, database).await;
    });
    Ok(out)
}

/// After a successful backup (when the task asks for it).
pub fn spawn_test_restore(state: AppState, id: Uuid) {
    let state = state.background();
    tokio::spawn(async move {
        let db = match executions_service::find(&state, id).await {
            Ok(e) => match e.task_id {
                Some(t) => tasks::service::find(&state, t)
                    .await
                    .ok()
                    .and_then(|(_, s)| s.verification.test_restore_database_id),
                None => None,
            },
            Err(_) => None,
        };
        if let Some(db) = db
            && mark(
                &state,
                id,
                CheckKind::TestRestore,
                CheckStatus::Running,
                None,
            )
            .await
            .is_ok()
        {
            test_restore(&state, id, db).await;
        }
    });
}

/// Keeps the running check's time fresh until dropped.
fn heartbeat(state: &AppState, id: Uuid, kind: CheckKind) -> AbortOnDrop {
    let state = state.clone();
    AbortOnDrop(tokio::spawn(async move {
        let mut tick = tokio::time::interval(super::runner::HEARTBEAT);
        loop {
            tick.tick().await;
            executions_service::check_heartbeat(&state, id, kind).await;
        }
    }))
}

/// Re-reads every stored copy of execution `id`; records per copy what held, and `ok` only when all did.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn verify(state: &AppState, id: Uuid) -> bool {
    let _beat = heartbeat(state, id, CheckKind::Verify);
    // The heartbeat runs while it waits, so a queued check is not taken for a dead one.
    let _slot = super::runner::slot(state).await;
    let Ok(exec) = executions_service::find(state, id).await else {
        return false;
    };
    let mut objects = executions_service::objects_of(&exec);
    let mut all_ok = !objects.is_empty();
    for o in &mut objects {
        let res = check_copy(state, &exec, o).await;
        o.verified_at = Some(Utc::now());
        if let Err(e) = &res {
            tracing::warn!(execution_id = %id, destination_id = %o.destination_id, error = %e, "verification failed");
            all_ok = false;
        }
        o.verify_error = res.err();
    }
    if let Err(e) = executions_service::record_verification(state, id, &objects, all_ok).await {
        tracing::error!(execution_id = %id, error = %e, "recording the verification failed");
    }
    if !all_ok {
        failed_event(
            state,
            &exec,
            "verify",
            objects
                .iter()
                .filter_map(|o| o.verify_error.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
        .await;
    }
    all_ok
}

/// `verification_failed`: a stored copy no longer holds, or a test-restore did not restore.
async fn failed_event(state: &AppState, exec: &executions::Model, check: &str, error: String) {
    crate::features::events::service::emit(
        state,
        pgward_api_types::EventKind::VerificationFailed,
        crate::features::events::service::Refs::execution(exec),
        serde_json::json!({
            "check": check,
            "error": error,
            "task": { "id": exec.task_id, "name": exec.task_name },
            "execution": crate::features::events::service::execution_data(&executions_service::to_dto(exec)),
        }),
    )
    .await;
}

async fn check_copy(
    state: &AppState,
    exec: &executions::Model,
    o: &pgward_api_types::ExecutionObject,
) -> Result<(), String> {
    let target =
        crate::features::destinations::service::target_by_full_key(state, o.destination_id)
            .await
            .map_err(|e| format!("destination unavailable: {e}"))?;
    let mut stream = target
        .stream(&o.key)
        .await
        .map_err(|e| format!("cannot read the backup: {e}"))?;
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("reading the backup failed: {e}"))?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
    }
    if size != o.size {
        return Err(format!(
            "size {size} differs from the recorded {} bytes",
            o.size
        ));
    }
    // Globals files sit beside the dump: their size is recorded, their checksum is not.
    if o.key.contains(".globals.") {
        return Ok(());
    }
    let sha = hex::encode(hasher.finalize());
    let recorded = exec.sha256.clone().unwrap_or_default();
    if sha != recorded {
        return Err(format!("sha256 {sha} differs from the recorded {recorded}"));
    }
    let raw = target
        .get_all(&naming::manifest_key(&o.key))
        .await
        .map_err(|e| format!("the manifest is missing: {e}"))?;
    let m: Manifest =
        serde_json::from_slice(&raw).map_err(|e| format!("the manifest is unreadable: {e}"))?;
    if m.sha256 != recorded || m.size != o.size {
        return Err(format!(
            "the manifest disagrees with the catalog (sha256 {}, {} bytes)",
            m.sha256, m.size
        ));
    }
    Ok(())
}

/// Restores execution `id` into a scratch database on the server of registered database `database`,
/// compares row counts with the manifest's, drops the scratch database and records the outcome.
pub async fn test_restore(state: &AppState, id: Uuid, database: Uuid) -> bool {
    let _beat = heartbeat(state, id, CheckKind::TestRestore);
    let _slot = super::runner::slot(state).await;
    let name = format!("pgward_test_{}", &Uuid::new_v4().simple().to_string()[..12]);
    let outcome = test_restore_into(state, id, database, &name).await;
    // Whatever happened, the scratch database goes.
    if let Ok((_, admin)) = super::service::registered(state, database, "database_id").await {
        let timeout = Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1));
        if let Err(e) = pgward_engine::pg::admin::drop_database(&admin, &name, timeout).await {
            tracing::warn!(database = %name, error = %e, "dropping the test-restore database failed");
        }
    }
    let (status, message) = match &outcome {
        Ok(m) => (CheckStatus::Ok, m.clone()),
        Err(m) => {
            tracing::warn!(execution_id = %id, message = %m, "test-restore failed");
            if let Ok(exec) = executions_service::find(state, id).await {
                failed_event(state, &exec, "test_restore", m.clone()).await;
            }
            (CheckStatus::Failed, m.clone())
        }
    };
    let _ = mark(state, id, CheckKind::TestRestore, status, Some(message)).await;
    outcome.is_ok()
}

async fn test_restore_into(
    state: &AppState,
    id: Uuid,
    database: Uuid,
    name: &str,
) -> Result<String, String> {
    let exec = executions_service::find(state, id)
        .await
        .map_err(|e| e.to_string())?;
    let (rid, plan) = super::service::prepare(
        state,
        CreateRestorationRequest {
            execution_id: id,
            destination_id: None,
            target: RestoreTarget::NewDatabase {
                database_id: database,
                name: name.to_string(),
            },
            options: RestoreOptions::default(),
            // pgward holds no identity: encrypted backups cannot be test-restored unattended.
            identities: Vec::new(),
        },
    )
    .await
    .map_err(|e| format!("cannot test-restore: {}", describe(&e)))?;
    let admin = plan
        .new_database
        .as_ref()
        .map(|(a, _)| a.clone())
        .ok_or("no scratch server")?;
    super::runner::run(state, rid, plan).await;
    let r = super::service::find(state, rid)
        .await
        .map_err(|e| e.to_string())?;
    if RestorationStatus::parse(&r.status) != Some(RestorationStatus::Success) {
        return Err(format!(
            "the restore failed ({}): {}",
            r.error_code.unwrap_or_default(),
            r.message.unwrap_or_default()
        ));
    }

    // What the backup says it holds.
    let object = executions_service::objects_of(&exec)
        .into_iter()
        .find(|o| !o.key.contains(".globals."))
        .ok_or("the backup has no stored copy")?;
    let target =
        crate::features::destinations::service::target_by_full_key(state, object.destination_id)
            .await
            .map_err(|e| e.to_string())?;
    let manifest: Manifest = target
        .get_all(&naming::manifest_key(&object.key))
        .await
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .ok_or("the backup's manifest is missing or unreadable")?;

    // What the scratch database holds.
    let conn = admin.with_database(name).map_err(|e| e.to_string())?;
    let restored = count_in(&conn, state).await?;
    compare_counts(&manifest, &restored)
}

/// Compares the row counts pg_dump's snapshot recorded in `manifest` with those of a restored
/// database: a summary when they match, else what differs.
pub(super) fn compare_counts(
    manifest: &Manifest,
    restored: &std::collections::BTreeMap<String, i64>,
) -> Result<String, String> {
    let Some(expected) = &manifest.row_counts else {
        return Ok(format!(
            "restored {} tables; the backup recorded no row counts to compare (taken before \
             test-restores were enabled for the task)",
            restored.len()
        ));
    };
    if manifest.options.schema_only {
        let missing: Vec<_> = expected
            .keys()
            .filter(|t| !restored.contains_key(*t))
            .collect();
        return if missing.is_empty() {
            Ok(format!(
                "restored all {} tables (schema only)",
                expected.len()
            ))
        } else {
            Err(format!("tables missing after the restore: {missing:?}"))
        };
    }
    // The counts cover every table of the database; a task that dumps only some schemas or tables
    // (or excludes some) legitimately restores fewer, so only the restored ones are compared then.
    let o = &manifest.options;
    let filtered = !(o.schemas.is_empty()
        && o.exclude_schemas.is_empty()
        && o.tables.is_empty()
        && o.exclude_tables.is_empty());
    let mut wrong = Vec::new();
    for (table, n) in expected {
        match restored.get(table) {
            Some(m) if m == n => {}
            Some(m) => wrong.push(format!("{table}: {n} rows at backup, {m} restored")),
            None if filtered => {}
            None => wrong.push(format!("{table}: missing after the restore")),
        }
    }
    if wrong.is_empty() {
        let rows: i64 = expected.values().sum();
        Ok(format!(
            "restored {} tables, {rows} rows: every table's row count matches the backup",
            expected.len()
        ))
    } else {
        Err(format!(
            "row counts differ from the backup: {}",
            wrong.join("; ")
        ))
    }
}

pub(super) async fn count_in(
    conn: &pgward_engine::pg::ConnInfo,
    state: &AppState,
) -> Result<std::collections::BTreeMap<String, i64>, String> {
    use pgward_engine::pg::admin::AdminError;
    let timeout = Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1));
    let counts = pgward_engine::pg::stats::count_rows_in(conn, timeout)
        .await
        .map_err(|e| match e {
            AdminError::Timeout => "timed out connecting to the scratch database".to_string(),
            AdminError::Statement(_) => "counting rows in the scratch database failed".to_string(),
            e => e.to_string(),
        })?;
    Ok(counts)
}

fn describe(e: &AppError) -> String {
    match e {
        AppError::Validation(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Scheduler pass: runs the verifications and test-restores whose cron came due since their last run.
/// A task's run is claimed by moving its `*_run_at` forward atomically, so one process runs it.
#[tracing::instrument(skip_all)]
pub async fn run_due(state: &AppState, now: DateTime<Utc>) -> Result<(), AppError> {
    let rows = task_rows::Entity::find().all(&state.db).await?;
    for t in rows {
        let Ok((_, spec)) = tasks::service::find(state, t.id).await else {
            continue;
        };
        let Ok(tz) = tasks::service::parse_tz(&spec.timezone) else {
            continue;
        };
        let v = &spec.verification;
        let due = |cron: &Option<String>, last: Option<DateTime<Utc>>| -> bool {
            let Some(Ok(c)) = cron.as_deref().map(tasks::service::parse_cron) else {
                return false;
            };
            let since = last.unwrap_or(t.updated_at).max(t.updated_at);
            tasks::service::next_run_times(&c, tz, since, 1)
                .first()
                .is_some_and(|n| n.with_timezone(&Utc) <= now)
        };
        if due(&v.verify_schedule, t.verify_run_at)
            && tasks::service::claim_check_run(
                state,
                t.id,
                tasks::service::CheckRun::Verify,
                t.verify_run_at,
                now,
            )
            .await?
        {
            let ids = executions_service::successful_backups(state, t.id, None).await?;
            let state = state.clone();
            tokio::spawn(async move {
                for id in ids {
                    if mark(&state, id, CheckKind::Verify, CheckStatus::Running, None)
                        .await
                        .is_ok()
                    {
                        verify(&state, id).await;
                    }
                }
            });
        }
        if v.test_restore
            && let Some(db) = v.test_restore_database_id
            && due(&v.test_restore_schedule, t.test_restore_run_at)
            && tasks::service::claim_check_run(
                state,
                t.id,
                tasks::service::CheckRun::TestRestore,
                t.test_restore_run_at,
                now,
            )
            .await?
            // A whole-server task's newest database backup (its run's own row holds the globals).
            && let Some(&newest) = executions_service::successful_backups(
                state,
                t.id,
                Some(pgward_api_types::ExecutionKind::Database),
            )
            .await?
                .first()
        {
            mark(
                state,
                newest,
                CheckKind::TestRestore,
                CheckStatus::Running,
                None,
            )
            .await?;
            let state = state.clone();
            tokio::spawn(async move {
                test_restore(&state, newest, db).await;
            });
        }
    }
    Ok(())
}
