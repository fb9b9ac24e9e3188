//! Rebuilding the catalog's record of backups from the manifests stored beside them: after the catalog
//! was lost (or restored from an older self-backup), every backup on a destination becomes a successful
//! execution again, with its sizes, checksum, times, tools and copies, so it can be verified and restored
//! like before. A backup is recognised by the execution id its manifest names (or, for manifests written
//! before they named one, by an id derived from its checksum and key): running a rebuild twice, or from
//! two destinations holding the same backups, records each backup once.

use chrono::{DateTime, Utc};
use pgward_api_types::{CatalogRebuildReport, ExecutionObject, ExecutionStatus, ExecutionTrigger};
use pgward_engine::backup::{Manifest, Target, naming};
use pgward_entity::executions;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::service::{find, objects_of};
use crate::error::AppError;
use crate::features::{databases, destinations, tasks};
use crate::state::AppState;

/// The id of a backup whose manifest names no execution: derived from its checksum and key, so the
/// same backup gets the same id on every rebuild and from every destination.
fn derived_id(sha256: &str, object: &str) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("pgward-rebuild:{sha256}:{object}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Records every backup whose manifest lies on destination `destination_id`.
#[tracing::instrument(skip_all, fields(destination_id = %destination_id))]
pub async fn rebuild_from(
    state: &AppState,
    destination_id: Uuid,
) -> Result<CatalogRebuildReport, AppError> {
    let target = destinations::service::target_of(state, destination_id).await?;
    let keys = target.list_manifests().await.map_err(|e| {
        AppError::ConnectionTestFailed(format!("listing the destination's manifests: {e}"))
    })?;
    let mut report = CatalogRebuildReport {
        destination_id,
        manifests: keys.len() as u64,
        ..Default::default()
    };
    for key in keys {
        match one(state, &target, destination_id, &key).await {
            Ok(Outcome::Recreated) => report.recreated += 1,
            Ok(Outcome::CopyAdded) => report.copies_added += 1,
            Ok(Outcome::Known) => report.already_known += 1,
            Err(Skip(why)) => {
                tracing::warn!(manifest = %key, reason = %why, "manifest left out of the rebuild");
                report.skipped.push(format!("{key}: {why}"));
            }
        }
    }
    tracing::info!(
        recreated = report.recreated,
        copies_added = report.copies_added,
        known = report.already_known,
        skipped = report.skipped.len(),
        "catalog rebuilt from the destination's manifests"
    );
    Ok(report)
}

enum Outcome {
    Recreated,
    CopyAdded,
    Known,
}

/// Why a manifest was left out, for the report.
struct Skip(String);

impl From<sea_orm::DbErr> for Skip {
    fn from(e: sea_orm::DbErr) -> Self {
        Self(format!("catalog: {e}"))
    }
}

async fn one(
    state: &AppState,
    target: &Target,
    destination_id: Uuid,
    manifest_key: &str,
) -> Result<Outcome, Skip> {
    let raw = target
        .get_all(manifest_key)
        .await
        .map_err(|e| Skip(format!("unreadable: {e}")))?;
    let m: Manifest =
        serde_json::from_slice(&raw).map_err(|e| Skip(format!("not a pgward manifest: {e}")))?;
    // The manifest lies beside its object; trust the name it lies under over what it says.
    if naming::manifest_key(&m.object) != manifest_key {
        return Err(Skip(format!(
            "names the object {} but lies beside another",
            m.object
        )));
    }
    // The backup must still be there (a manifest alone restores nothing).
    let size = stored_size(target, &m.object).await?;
    if size != m.size {
        return Err(Skip(format!(
            "the backup is {size} bytes, its manifest says {}",
            m.size
        )));
    }
    let copy = ExecutionObject {
        destination_id,
        key: target.full_key(&m.object),
        size: m.size,
        verified_at: None,
        verify_error: None,
    };
    let globals = match &m.globals {
        Some(g) => match stored_size(target, g).await {
            Ok(size) => Some(ExecutionObject {
                destination_id,
                key: target.full_key(g),
                size,
                verified_at: None,
                verify_error: None,
            }),
            Err(_) => None,
        },
        None => None,
    };
    let id = m
        .origin
        .as_ref()
        .map_or_else(|| derived_id(&m.sha256, &m.object), |o| o.execution_id);
    // A whole-server run's database: the globals belong to the run's row, not to this backup.
    let run_id = m.origin.as_ref().and_then(|o| o.run_id);
    let (globals, run_globals) = match run_id {
        Some(_) => (None, globals),
        None => (globals, None),
    };

    if let Ok(existing) = find(state, id).await {
        if let (Some(run), Some(g)) = (existing.parent_id, run_globals.clone()) {
            add_copies(state, run, vec![g]).await?;
        }
        let mut objects = objects_of(&existing);
        if objects
            .iter()
            .any(|o| o.destination_id == destination_id && o.key == copy.key)
        {
            return Ok(Outcome::Known);
        }
        objects.push(copy);
        objects.extend(globals);
        set_objects(state, id, &objects).await?;
        return Ok(Outcome::CopyAdded);
    }

    // Links to what this catalog still has: the task, the database.
    let origin = m.origin.clone();
    let task = match origin.as_ref().and_then(|o| o.task_id) {
        Some(t) => tasks::service::find(state, t).await.ok(),
        None => None,
    };
    let database_id = match origin.as_ref().and_then(|o| o.database_id) {
        Some(d) if databases::service::exists(state, d).await => Some(d),
        _ => None,
    };
    let task_name = origin.as_ref().map_or_else(
        || {
            m.object
                .split('/')
                .next()
                .unwrap_or("restored backup")
                .to_string()
        },
        |o| o.task_name.clone(),
    );
    let scheduled_for: DateTime<Utc> = origin
        .as_ref()
        .map_or(m.created_at, |o| o.scheduled_for.with_timezone(&Utc));
    let trigger = match origin.as_ref().map(|o| o.trigger.as_str()) {
        Some("schedule") => ExecutionTrigger::Schedule,
        Some("api") => ExecutionTrigger::Api,
        Some("upload") => ExecutionTrigger::Upload,
        _ => ExecutionTrigger::Manual,
    };
    let parent = match run_id {
        Some(run) => {
            let run_row = RunRow {
                id: run,
                task_id: task.as_ref().map(|(t, _)| t.id),
                task_name: task_name.clone(),
                database_id,
                trigger,
                scheduled_for,
                timezone: task
                    .as_ref()
                    .map_or_else(|| "UTC".to_string(), |(_, spec)| spec.timezone.clone()),
                finished_at: m.created_at,
                destination_id,
            };
            Some(ensure_run(state, run_row, run_globals).await?)
        }
        None => None,
    };
    let mut objects = vec![copy];
    objects.extend(globals);
    let row = executions::ActiveModel {
        parent_id: Set(parent),
        database_name: Set(m.origin.as_ref().and_then(|o| o.database_name.clone())),
        id: Set(id),
        task_id: Set(task.as_ref().map(|(t, _)| t.id)),
        task_name: Set(task_name),
        database_id: Set(database_id),
        trigger: Set(super::service::trigger_str(trigger).into()),
        status: Set(ExecutionStatus::Success.as_str().into()),
        scheduled_for: Set(scheduled_for),
        timezone: Set(task
            .as_ref()
            .map_or_else(|| "UTC".to_string(), |(_, spec)| spec.timezone.clone())),
        created_at: Set(Utc::now()),
        started_at: Set(Some(
            origin
                .as_ref()
                .and_then(|o| o.started_at)
                .unwrap_or(m.created_at),
        )),
        finished_at: Set(Some(m.created_at)),
        cancel_requested: Set(false),
        object_key: Set(Some(m.object.clone())),
        objects: Set(serde_json::to_value(&objects).map_err(|e| Skip(e.to_string()))?),
        destination_ids: Set(serde_json::json!([destination_id])),
        pending_uploads: Set(serde_json::json!([])),
        bytes_read: Set(i64::try_from(m.dump_bytes).unwrap_or(i64::MAX)),
        size: Set(Some(i64::try_from(m.size).unwrap_or(i64::MAX))),
        sha256: Set(Some(m.sha256.clone())),
        server_version: Set(Some(m.server_version.clone())),
        pg_dump_version: Set(Some(m.pg_dump_version.clone())),
        message: Set(Some(
            "recorded again from its manifest by a catalog rebuild".into(),
        )),
        // Not run here: no worker, heartbeat, rate, error output, checks, trash or server key.
        ..Default::default()
    };
    match row.insert(&state.db).await {
        Ok(_) => Ok(Outcome::Recreated),
        // The task has a run at that time already (recorded by another id): the same backup.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Ok(Outcome::Known)
        }
        Err(e) => Err(e.into()),
    }
}

/// What a whole-server run's row is rebuilt from (its databases' manifests name it).
struct RunRow {
    id: Uuid,
    task_id: Option<Uuid>,
    task_name: String,
    database_id: Option<Uuid>,
    trigger: ExecutionTrigger,
    scheduled_for: DateTime<Utc>,
    timezone: String,
    finished_at: DateTime<Utc>,
    destination_id: Uuid,
}

/// The row of a whole-server run, recreated once (with its globals copy) for its databases to hang
/// under; the id of the row that stands for it.
async fn ensure_run(
    state: &AppState,
    run: RunRow,
    globals: Option<ExecutionObject>,
) -> Result<Uuid, Skip> {
    if find(state, run.id).await.is_ok() {
        add_copies(state, run.id, globals.into_iter().collect()).await?;
        return Ok(run.id);
    }
    let objects: Vec<ExecutionObject> = globals.into_iter().collect();
    let row = executions::ActiveModel {
        id: Set(run.id),
        kind: Set(pgward_api_types::ExecutionKind::Server.as_str().into()),
        task_id: Set(run.task_id),
        task_name: Set(run.task_name),
        database_id: Set(run.database_id),
        trigger: Set(super::service::trigger_str(run.trigger).into()),
        status: Set(ExecutionStatus::Success.as_str().into()),
        scheduled_for: Set(run.scheduled_for),
        timezone: Set(run.timezone),
        created_at: Set(Utc::now()),
        started_at: Set(Some(run.scheduled_for)),
        finished_at: Set(Some(run.finished_at)),
        cancel_requested: Set(false),
        object_key: Set(objects.first().map(|o| o.key.clone())),
        objects: Set(serde_json::to_value(&objects).map_err(|e| Skip(e.to_string()))?),
        destination_ids: Set(serde_json::json!([run.destination_id])),
        pending_uploads: Set(serde_json::json!([])),
        message: Set(Some(
            "a whole-server run, recorded again from its databases' manifests by a catalog rebuild"
                .into(),
        )),
        ..Default::default()
    };
    match row.insert(&state.db).await {
        Ok(_) => Ok(run.id),
        // The task has a run at that time already, recorded under another id: that is this run.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            use sea_orm::QueryFilter;
            executions::Entity::find()
                .filter(executions::Column::TaskId.eq(run.task_id))
                .filter(executions::Column::ScheduledFor.eq(run.scheduled_for))
                .filter(executions::Column::ParentId.is_null())
                .one(&state.db)
                .await?
                .map(|r| r.id)
                .ok_or_else(|| Skip("its run's row could not be recorded".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Adds copies a row does not list yet.
async fn add_copies(state: &AppState, id: Uuid, copies: Vec<ExecutionObject>) -> Result<(), Skip> {
    let Ok(row) = find(state, id).await else {
        return Ok(());
    };
    let mut objects = objects_of(&row);
    let before = objects.len();
    for c in copies {
        if !objects
            .iter()
            .any(|o| o.destination_id == c.destination_id && o.key == c.key)
        {
            objects.push(c);
        }
    }
    if objects.len() != before {
        set_objects(state, id, &objects).await?;
    }
    Ok(())
}

async fn stored_size(target: &Target, key: &str) -> Result<u64, Skip> {
    target
        .size_of(key)
        .await
        .map_err(|e| Skip(format!("its backup {key} is not there: {e}")))
}

/// Records `objects` as the run's copies.
async fn set_objects(state: &AppState, id: Uuid, objects: &[ExecutionObject]) -> Result<(), Skip> {
    executions::Entity::update_many()
        .col_expr(
            executions::Column::Objects,
            Expr::value(serde_json::to_value(objects).map_err(|e| Skip(e.to_string()))?),
        )
        .filter(executions::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    Ok(())
}
