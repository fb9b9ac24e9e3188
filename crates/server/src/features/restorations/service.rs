//! Checks a restore request up front (backup, copy, options, identities, target, client versions) and
//! records it; anything that can be known before reading the backup is refused with a 4xx here.

use chrono::Utc;
use pgward_api_types::{
    CreateRestorationRequest, ExecutionStatus, Restoration, RestorationListQuery, RestorationPage,
    RestorationStatus, RestoreOptions, RestoreTarget, RestoreTargetKind,
};
use pgward_engine::pg::{ConnInfo, major_of, probe};
use pgward_engine::restore::{self, RestoreOptions as EngineOptions};
use pgward_entity::{databases, restorations};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryTrait, Set,
};
use secrecy::ExposeSecret;
use uuid::Uuid;

// The background wing's entry points, implemented in this feature's private modules.
pub use super::checks::{run_due as run_due_checks, spawn_test_restore};
use super::runner::{Plan, Replace};
pub use super::runner::{announce_missed_outcomes, drop_expired_originals, reap_interrupted};
use crate::error::AppError;
use crate::features::executions::service as executions_service;
use crate::features::validate;
use crate::state::AppState;

pub fn to_dto(m: &restorations::Model) -> Restoration {
    Restoration {
        id: m.id,
        execution_id: m.execution_id,
        task_id: m.task_id,
        task_name: m.task_name.clone(),
        destination_id: m.destination_id,
        object_key: m.object_key.clone(),
        target_kind: RestoreTargetKind::parse(&m.target_kind)
            .unwrap_or(RestoreTargetKind::Database),
        target_database_id: m.target_database_id,
        target: m.target_label.clone(),
        new_database_name: m.new_database_name.clone(),
        previous_database_name: m.previous_database_name.clone(),
        previous_kept_until: m.previous_kept_until,
        previous_dropped_at: m.previous_dropped_at,
        options: serde_json::from_value(m.options.clone()).unwrap_or_default(),
        status: RestorationStatus::parse(&m.status).unwrap_or(RestorationStatus::Failed),
        created_at: m.created_at,
        started_at: m.started_at,
        finished_at: m.finished_at,
        duration_ms: match (m.started_at, m.finished_at) {
            (Some(s), Some(f)) => Some((f - s).num_milliseconds().max(0) as u64),
            _ => None,
        },
        bytes_read: m.bytes_read.max(0) as u64,
        total_bytes: m.total_bytes.map(|b| b.max(0) as u64),
        rate_bytes_per_sec: m.rate_bps.map(|b| b.max(0) as u64),
        client_version: m.client_version.clone(),
        server_version: m.server_version.clone(),
        error_code: m.error_code.clone(),
        message: m.message.clone(),
        stderr_tail: m.stderr_tail.clone(),
        cancel_requested: m.cancel_requested,
    }
}

pub fn engine_options(o: &RestoreOptions) -> EngineOptions {
    EngineOptions {
        clean: o.clean,
        single_transaction: o.single_transaction,
        jobs: o.jobs.unwrap_or(1),
        no_owner: o.no_owner,
        no_privileges: o.no_privileges,
        schemas: o.schemas.iter().map(|s| s.trim().to_string()).collect(),
        tables: o.tables.iter().map(|s| s.trim().to_string()).collect(),
        globals: false,
    }
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn registered(
    state: &AppState,
    id: Uuid,
    field: &str,
) -> Result<(databases::Model, ConnInfo), AppError> {
    let db = databases::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::field(field, "no such database"))?;
    let secret = state
        .secrets
        .open(&db.connection_encrypted, &format!("databases:{}", db.id))
        .map_err(AppError::Internal)?;
    let conn = crate::features::databases::service::parse_connection(state, secret.expose_secret())
        .map_err(|e| {
            AppError::field(
                field,
                format!("the database's stored connection string is no longer accepted: {e}"),
            )
        })?;
    let conn = crate::features::databases::service::pin(state, conn)
        .await
        .map_err(crate::features::databases::service::refusal_error)?;
    Ok((db, conn))
}

/// The 409 of a replace refused because sessions are connected, saying what to do.
pub fn in_use(e: &pgward_engine::pg::replace::SwapError) -> AppError {
    AppError::DatabaseInUse(format!(
        "{e}. Close them, or ask pgward to end them at the swap (end_sessions)"
    ))
}

fn label(c: &ConnInfo) -> String {
    format!("{}@{}:{}/{}", c.username, c.host, c.port, c.database)
}

/// A database name pgward will create: what PostgreSQL accepts as an identifier, minus surprises.
fn valid_new_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err("1-63 characters: letters, digits, _ and -, not starting with a digit or -".into())
    }
}

/// Validates the request, records a queued restoration and starts it in this process.
#[tracing::instrument(skip_all)]
pub async fn create(
    state: &AppState,
    req: CreateRestorationRequest,
) -> Result<Restoration, AppError> {
    let (id, plan) = prepare(state, req).await?;
    super::runner::spawn(state.clone(), id, plan);
    get(state, id).await
}

/// Checks a request and records it as queued; the caller runs the returned plan.
#[tracing::instrument(skip_all)]
pub async fn prepare(
    state: &AppState,
    req: CreateRestorationRequest,
) -> Result<(Uuid, Plan), AppError> {
    let exec = executions_service::find(state, req.execution_id)
        .await
        .map_err(|_| AppError::field("execution_id", "no such execution"))?;
    if executions_service::status_of(&exec) != ExecutionStatus::Success {
        return Err(AppError::field(
            "execution_id",
            format!(
                "only successful backups can be restored (this one is {})",
                exec.status
            ),
        ));
    }
    if exec.kind == pgward_api_types::ExecutionKind::Server.as_str() {
        return Err(AppError::field(
            "execution_id",
            "a whole-server run holds only the server's globals: restore one of its databases \
             (the executions whose parent_id is this run)",
        ));
    }
    let mut objects = executions_service::objects_of(&exec);
    // A whole-server run stored the globals once, on its own row.
    if let Some(parent) = exec.parent_id
        && let Ok(run) = executions_service::find(state, parent).await
    {
        objects.extend(
            executions_service::objects_of(&run)
                .into_iter()
                .filter(|o| o.key.contains(".globals.")),
        );
    }
    // A whole-server run's database, on the server of its registered entry point.
    let on_source_server = |c: ConnInfo| -> Result<ConnInfo, AppError> {
        match &exec.database_name {
            Some(name) => crate::features::databases::service::on_same_server(state, &c, name)
                .map_err(|e| AppError::field("target", e)),
            None => Ok(c),
        }
    };
    let object = objects
        .iter()
        .filter(|o| !o.key.contains(".globals."))
        .find(|o| req.destination_id.is_none_or(|d| o.destination_id == d))
        .ok_or_else(|| AppError::field("destination_id", "the backup has no copy there"))?
        .clone();
    let (format, compression, encrypted) = restore::layout_of(&object.key)
        .ok_or_else(|| AppError::field("execution_id", "not a backup pgward can restore"))?;
    let globals = if req.options.globals_first {
        let g = objects
            .iter()
            .find(|o| o.destination_id == object.destination_id && o.key.contains(".globals."))
            .ok_or_else(|| {
                AppError::field(
                    "options.globals_first",
                    "this backup has no globals file (the task's include_globals was off)",
                )
            })?;
        Some((g.key.clone(), g.size))
    } else {
        None
    };

    let options = engine_options(&req.options);
    let mut fields = std::collections::BTreeMap::new();
    for (f, why) in options.check(format) {
        fields.insert(format!("options.{f}"), why);
    }
    if req.options.jobs.is_some_and(|j| j == 0) {
        fields.insert("options.jobs".into(), "must be 1 to 32".into());
    }
    for p in options.schemas.iter().chain(&options.tables) {
        if p.is_empty() || p.len() > 200 || p.contains('\0') {
            fields.insert(
                "options".into(),
                "schema and table names must be 1-200 characters".into(),
            );
        }
    }
    if req.identities.len() > 20 {
        fields.insert("identities".into(), "at most 20 identities".into());
    }
    for id in &req.identities {
        if id.trim().parse::<age::x25519::Identity>().is_err() {
            // Never echo it: it is a secret key.
            fields.insert(
                "identities".into(),
                "each identity must be an age secret key (AGE-SECRET-KEY-1...)".into(),
            );
        }
    }
    if encrypted && req.identities.is_empty() {
        fields.insert(
            "identities".into(),
            "the backup is encrypted: supply the age identity of one of its recipients".into(),
        );
    }
    if !fields.is_empty() {
        return Err(AppError::Validation(fields));
    }

    // The target: a connection, and whether a database must be created first.
    let mut replace = None;
    let (kind, target_db, conn, new_db) = match &req.target {
        RestoreTarget::Source => {
            let id = exec.database_id.ok_or_else(|| {
                AppError::field(
                    "target",
                    "the backup's source database is no longer registered",
                )
            })?;
            let (db, conn) = registered(state, id, "target").await.map_err(|e| match e {
                AppError::Validation(f) if f.values().any(|m| m == "no such database") => {
                    AppError::field(
                        "target",
                        "the backup's source database is no longer registered",
                    )
                }
                other => other,
            })?;
            let conn = on_source_server(conn)?;
            (RestoreTargetKind::Source, Some(db.id), conn, None)
        }
        RestoreTarget::Database { database_id } => {
            let (db, conn) = registered(state, *database_id, "target.database_id").await?;
            (RestoreTargetKind::Database, Some(db.id), conn, None)
        }
        RestoreTarget::Connection { connection_string } => {
            let conn =
                crate::features::databases::service::parse_connection(state, connection_string)
                    .map_err(|e| AppError::field("target.connection_string", e))?;
            let conn = crate::features::databases::service::pin(state, conn)
                .await
                .map_err(crate::features::databases::service::refusal_error)?;
            (RestoreTargetKind::Connection, None, conn, None)
        }
        RestoreTarget::NewDatabase { database_id, name } => {
            valid_new_name(name).map_err(|m| AppError::field("target.name", m))?;
            let (db, admin) = registered(state, *database_id, "target.database_id").await?;
            let conn = admin
                .with_database(name)
                .map_err(|e| AppError::field("target.name", e.to_string()))?;
            (
                RestoreTargetKind::NewDatabase,
                Some(db.id),
                conn,
                Some((admin, name.clone())),
            )
        }
        RestoreTarget::Replace {
            database_id,
            confirm_name,
            end_sessions,
            drop_previous,
            keep_hours,
        } => {
            let id = database_id.or(exec.database_id).ok_or_else(|| {
                AppError::field(
                    "target.database_id",
                    "the backup's source database is no longer registered: name the database to replace",
                )
            })?;
            let (db, original) = registered(state, id, "target.database_id").await?;
            // Its own database, unless the request names another registered one to replace.
            let original = if database_id.is_none() {
                on_source_server(original)?
            } else {
                original
            };
            if confirm_name != &original.database {
                return Err(AppError::field(
                    "target.confirm_name",
                    format!(
                        "type the name of the database being replaced (\"{}\") to confirm",
                        original.database
                    ),
                ));
            }
            if !req.options.schemas.is_empty() || !req.options.tables.is_empty() {
                return Err(AppError::field(
                    "options",
                    "replace restores the whole backup: leave schemas and tables empty (restore a part \
                     into another or a new database instead)",
                ));
            }
            if keep_hours.is_some_and(|h| !(1..=8760).contains(&h)) {
                return Err(AppError::field(
                    "target.keep_hours",
                    "1 to 8760 hours (or drop_previous to drop the original at once)",
                ));
            }
            let working = format!(
                "pgward_replace_{}",
                &Uuid::new_v4().simple().to_string()[..12]
            );
            let conn = original
                .with_database(&working)
                .map_err(|e| AppError::field("target", e.to_string()))?;
            replace = Some(Replace {
                original: original.database.clone(),
                end_sessions: *end_sessions,
                keep: (!drop_previous).then(|| {
                    chrono::Duration::hours(i64::from(
                        keep_hours.unwrap_or(state.config.worker.keep_replaced_hours.max(1)),
                    ))
                }),
            });
            (
                RestoreTargetKind::Replace,
                Some(db.id),
                conn,
                Some((original, working)),
            )
        }
    };

    // Reach the server now: a restore that cannot connect is refused, not queued.
    let timeout = std::time::Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1));
    let reach = new_db.as_ref().map_or(&conn, |(admin, _)| admin);
    let server = probe(reach, timeout)
        .await
        .map_err(|e| AppError::ConnectionTestFailed(format!("the target is unreachable: {e}")))?;
    if let Some((admin, name)) = &new_db
        && pgward_engine::pg::admin::database_exists(admin, name, timeout)
            .await
            .map_err(|e| {
                AppError::ConnectionTestFailed(format!("the target is unreachable: {e}"))
            })?
    {
        return Err(AppError::Conflict(format!(
            "a database named \"{name}\" exists already on that server"
        )));
    }
    // A replace that would be refused at the swap is refused now, before the restore's work.
    if let (Some(r), Some((server, _))) = (&replace, &new_db)
        && !r.end_sessions
    {
        let sessions = pgward_engine::pg::replace::sessions(server, &r.original, timeout)
            .await
            .map_err(|e| {
                AppError::ConnectionTestFailed(format!("the target is unreachable: {e}"))
            })?;
        if !sessions.is_empty() {
            return Err(in_use(&pgward_engine::pg::replace::SwapError::InUse {
                database: r.original.clone(),
                sessions,
            }));
        }
    }

    // Clients by version: psql / pg_restore at least as new as the pg_dump that wrote the backup (plain
    // dumps start with meta-commands older psql cannot read; archives carry a format version) and as the
    // target server.
    let dump_major = exec
        .pg_dump_version
        .as_deref()
        .and_then(major_of)
        .unwrap_or(0);
    let needed = server.major.max(dump_major);
    let client = state.pg.client_for(needed).cloned().ok_or_else(|| {
        AppError::NoSuitableClient(format!(
            "restoring a backup written by pg_dump {dump_major} into PostgreSQL {} needs psql and pg_restore \
             {needed} or newer; installed: {:?} (postgres.bin_dirs)",
            server.major,
            state.pg.client_majors()
        ))
    })?;
    let source =
        crate::features::destinations::service::target_by_full_key(state, object.destination_id)
            .await
            .map_err(|_| AppError::field("destination_id", "that destination no longer exists"))?;
    if format == pgward_engine::backup::DumpFormat::Plain && req.options.clean {
        // Emptying the whole target is right only for a backup of a whole database.
        let manifest: Option<pgward_engine::backup::Manifest> = source
            .get_all(&pgward_engine::backup::naming::manifest_key(&object.key))
            .await
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok());
        if let Some(o) = manifest.map(|m| m.options)
            && (o.data_only
                || !o.schemas.is_empty()
                || !o.exclude_schemas.is_empty()
                || !o.tables.is_empty()
                || !o.exclude_tables.is_empty())
        {
            return Err(AppError::field(
                "options.clean",
                "clean on a plain dump empties the whole target first, and this backup holds only \
                 part of a database: restore it into a new database, or use target replace",
            ));
        }
    }

    let id = Uuid::now_v7();
    let now = Utc::now();
    let client_name = if format == pgward_engine::backup::DumpFormat::Plain {
        "psql"
    } else {
        "pg_restore"
    };
    restorations::ActiveModel {
        id: Set(id),
        execution_id: Set(Some(exec.id)),
        task_id: Set(exec.task_id),
        task_name: Set(exec.task_name.clone()),
        source_database_id: Set(exec.database_id),
        destination_id: Set(object.destination_id),
        object_key: Set(object.key.clone()),
        target_kind: Set(kind.as_str().into()),
        target_database_id: Set(target_db),
        target_label: Set(label(&conn)),
        new_database_name: Set(new_db.as_ref().map(|(_, n)| n.clone())),
        previous_database_name: Set(None),
        previous_kept_until: Set(None),
        previous_dropped_at: Set(None),
        options: Set(serde_json::to_value(&req.options).map_err(|e| AppError::Internal(e.into()))?),
        status: Set(RestorationStatus::Queued.as_str().into()),
        created_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        worker_id: Set(Some(super::runner::process_id())),
        heartbeat_at: Set(Some(now)),
        cancel_requested: Set(false),
        bytes_read: Set(0),
        total_bytes: Set(Some(object.size as i64)),
        rate_bps: Set(None),
        client_version: Set(Some(format!(
            "{client_name} (PostgreSQL) {}",
            client.version
        ))),
        server_version: Set(Some(server.version.clone())),
        error_code: Set(None),
        message: Set(None),
        stderr_tail: Set(None),
    }
    .insert(&state.db)
    .await?;

    Ok((
        id,
        Plan {
            client_bin_dir: client.bin_dir.clone(),
            conn,
            new_database: new_db,
            replace,
            source,
            key: object.key.clone(),
            expected_sha256: exec.sha256.clone(),
            expected_size: Some(object.size),
            format,
            compression,
            encrypted,
            identities: req.identities.clone(),
            options,
            globals,
            // Uploads record the uploaded (compressed) size there; a directory dump's recorded size
            // counts its files, not the tar headers around them.
            decoded_size: (exec.trigger != "upload"
                && exec.bytes_read > 0
                && format != pgward_engine::backup::DumpFormat::Directory)
                .then(|| u64::try_from(exec.bytes_read).ok())
                .flatten(),
        },
    ))
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn find(state: &AppState, id: Uuid) -> Result<restorations::Model, AppError> {
    restorations::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("restoration"))
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(state: &AppState, id: Uuid) -> Result<Restoration, AppError> {
    Ok(to_dto(&find(state, id).await?))
}

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, q: RestorationListQuery) -> Result<RestorationPage, AppError> {
    use restorations::Column as C;
    let (sel, limit) = validate::newest_page(
        restorations::Entity::find(),
        C::Id,
        q.limit,
        q.cursor.as_deref(),
    )?;
    let sel = sel
        .apply_if(q.execution_id, |s, e| s.filter(C::ExecutionId.eq(e)))
        .apply_if(q.task_id, |s, t| s.filter(C::TaskId.eq(t)))
        .apply_if(q.database_id, |s, d| {
            s.filter(
                Condition::any()
                    .add(C::TargetDatabaseId.eq(d))
                    .add(C::SourceDatabaseId.eq(d)),
            )
        })
        .apply_if(q.status, |s, v| s.filter(C::Status.eq(v.as_str())))
        .apply_if(q.from, |s, f| s.filter(C::CreatedAt.gte(f)))
        .apply_if(q.to, |s, t| s.filter(C::CreatedAt.lt(t)));
    let (rows, next_cursor) = validate::fetch_page(&state.db, sel, limit, |r| r.id).await?;
    Ok(RestorationPage {
        items: rows.iter().map(to_dto).collect(),
        next_cursor,
    })
}

/// Queued: cancelled at once. Running: the runner is asked to stop (it kills the client, so a
/// single-transaction restore rolls back) and reports `cancelled`.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn cancel(state: &AppState, id: Uuid) -> Result<Restoration, AppError> {
    let row = find(state, id).await?;
    match RestorationStatus::parse(&row.status) {
        Some(RestorationStatus::Queued | RestorationStatus::Running) => {
            restorations::Entity::update_many()
                .col_expr(restorations::Column::CancelRequested, Expr::value(true))
                .filter(restorations::Column::Id.eq(id))
                .exec(&state.db)
                .await?;
        }
        _ => {
            return Err(AppError::Conflict(format!(
                "the restoration is {}; only queued or running ones can be cancelled",
                row.status
            )));
        }
    }
    get(state, id).await
}

/// The table of contents of a custom or directory backup (unencrypted: the identities of an encrypted
/// one would have to travel in a GET).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn contents(
    state: &AppState,
    id: Uuid,
    destination: Option<Uuid>,
) -> Result<pgward_api_types::ArchiveContents, AppError> {
    let exec = executions_service::find(state, id).await?;
    if executions_service::status_of(&exec) != ExecutionStatus::Success {
        return Err(AppError::NotFound("stored backup"));
    }
    let object = executions_service::objects_of(&exec)
        .into_iter()
        .filter(|o| !o.key.contains(".globals."))
        .find(|o| destination.is_none_or(|d| o.destination_id == d))
        .ok_or(AppError::NotFound("stored copy"))?;
    let (format, compression, encrypted) = restore::layout_of(&object.key)
        .ok_or_else(|| AppError::field("id", "not a backup pgward can read"))?;
    if format == pgward_engine::backup::DumpFormat::Plain {
        return Err(AppError::field(
            "id",
            "plain SQL dumps have no table of contents; restore them whole",
        ));
    }
    if encrypted {
        return Err(AppError::field(
            "id",
            "the backup is encrypted: pgward cannot read its table of contents without an identity",
        ));
    }
    // The newest pg_restore reads archives of every older pg_dump.
    let client = state
        .pg
        .client_majors()
        .last()
        .and_then(|m| state.pg.client_for(*m))
        .cloned()
        .ok_or_else(|| AppError::NoSuitableClient("no pg_restore is installed".into()))?;
    let source =
        crate::features::destinations::service::target_by_full_key(state, object.destination_id)
            .await?;
    let stream = source
        .stream(&object.key)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("reading the backup: {e}")))?;
    let toc = restore::list_contents(
        &client.bin_dir,
        format,
        compression,
        false,
        stream,
        &[],
        &state.config.work_dir(),
    )
    .await
    .map_err(|e| match e {
        restore::RestoreError::Client { stderr, .. } => AppError::field(
            "id",
            format!("pg_restore cannot read the archive: {stderr}"),
        ),
        restore::RestoreError::CorruptStream(m) => {
            AppError::field("id", format!("the backup cannot be read: {m}"))
        }
        restore::RestoreError::UnsafeArchive(m) => AppError::field(
            "id",
            format!("the archive is refused (unsafe_archive): {m}"),
        ),
        other => AppError::Internal(anyhow::anyhow!("listing the archive: {other}")),
    })?;
    let mut schemas: Vec<String> = toc.iter().filter_map(|e| e.schema.clone()).collect();
    schemas.sort();
    schemas.dedup();
    let mut tables: Vec<String> = toc
        .iter()
        .filter(|e| e.kind == "TABLE")
        .map(|e| format!("{}.{}", e.schema.as_deref().unwrap_or("public"), e.name))
        .collect();
    tables.sort();
    Ok(pgward_api_types::ArchiveContents {
        execution_id: exec.id,
        schemas,
        tables,
        entries: toc
            .into_iter()
            .map(|e| pgward_api_types::ArchiveEntry {
                id: e.id,
                kind: e.kind,
                schema: e.schema,
                name: e.name,
                owner: e.owner,
            })
            .collect(),
    })
}
