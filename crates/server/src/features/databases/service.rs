use std::time::Duration;

use chrono::Utc;
use pgward_api_types::{
    ConnectionTestResult, CreateDatabaseRequest, Database, DatabaseListQuery, DatabasePage,
    HealthStatus, UpdateDatabaseRequest,
};
use pgward_engine::net::PeerKind;
use pgward_engine::pg::{ConnInfo, ProbeError, ProbeErrorKind, ServerInfo, probe};
use pgward_entity::databases;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::error::AppError;
use crate::features::events::service as events;
use crate::features::health::service as health;
use crate::features::validate::{self, Fields, name_key};
use crate::state::AppState;

/// What this feature's resource is called in messages.
const KIND: &str = "database";

fn aad(id: Uuid) -> String {
    format!("databases:{id}")
}

pub fn to_dto(m: &databases::Model) -> Database {
    Database {
        id: m.id,
        name: m.name.clone(),
        description: m.description.clone(),
        host: m.host.clone(),
        port: u16::try_from(m.port).unwrap_or_default(),
        database: m.database_name.clone(),
        username: m.username.clone(),
        masked_connection_string: m.masked_connection.clone(),
        server_version: m.server_version.clone(),
        major_version: m.major_version.and_then(|v| u32::try_from(v).ok()),
        health: health::info(
            &m.health_status,
            m.last_checked_at,
            m.last_error.as_ref(),
            m.health_latency_ms,
            m.health_interval_secs,
            m.health_next_at,
        ),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn timeout(state: &AppState) -> Duration {
    Duration::from_secs(state.config.postgres.connect_timeout_secs.max(1))
}

fn parse_conn(state: &AppState, raw: &str) -> Result<ConnInfo, AppError> {
    parse_connection(state, raw).map_err(|e| AppError::field("connection_string", e))
}

/// The one way a connection string becomes a connection: parsed by the engine's parser (only the
/// allowed parameters), a socket directory only where the operator allows sockets, and never the
/// embedded catalog's own socket.
pub fn parse_connection(state: &AppState, raw: &str) -> Result<ConnInfo, String> {
    let conn = ConnInfo::parse_with(raw, state.config.postgres.allow_unix_sockets)
        .map_err(|e| e.to_string())?;
    if conn.is_unix_socket() {
        let dir = url::form_urlencoded::parse(format!("x={}", conn.host).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let catalog = state.config.data_dir.join("run");
        let same = match (std::fs::canonicalize(&dir), std::fs::canonicalize(&catalog)) {
            (Ok(a), Ok(b)) => a == b,
            _ => std::path::Path::new(&dir) == catalog,
        };
        if same {
            return Err("the host is pgward's own catalog socket".into());
        }
    }
    Ok(conn)
}

/// Resolves the host and checks the address against the outbound policy for databases; the result
/// connects only to that address.
/// A refusal as the HTTP edge says it: a policy refusal, or (a name that does not resolve) a server
/// that cannot be reached.
pub fn refusal_error(e: pgward_engine::net::Refused) -> AppError {
    if e.addr.is_some() {
        AppError::AddressNotAllowed(e.to_string())
    } else {
        AppError::ConnectionTestFailed(format!("the server is unreachable: {e}"))
    }
}

#[tracing::instrument(skip_all)]
pub async fn pin(
    state: &AppState,
    conn: ConnInfo,
) -> Result<ConnInfo, pgward_engine::net::Refused> {
    let conn = conn.pin(&state.outbound.policy(PeerKind::Database)).await?;
    if let Some(ip) = conn.pinned()
        && state
            .outbound
            .is_catalog_database(ip, conn.port, &conn.database)
    {
        return Err(pgward_engine::net::Refused {
            host: conn.host.clone(),
            addr: Some(ip),
            reason: "that is pgward's own catalog database".into(),
        });
    }
    Ok(conn)
}

/// Database `database` on the server (and pinned address) of `conn`: a whole-server task's database.
/// pgward's own catalog database stays out of reach here too, whatever a server lists.
pub fn on_same_server(
    state: &AppState,
    conn: &ConnInfo,
    database: &str,
) -> Result<ConnInfo, String> {
    let other = conn.with_database(database).map_err(|e| e.to_string())?;
    if let Some(ip) = other.pinned()
        && state
            .outbound
            .is_catalog_database(ip, other.port, &other.database)
    {
        return Err("that is pgward's own catalog database".into());
    }
    Ok(other)
}

/// The registered name and the pinned connection of database `id`, for a backup run: decrypted,
/// parsed by the one parser, resolved and checked against the outbound policy once (pg_dump,
/// pg_dumpall and every query of the run connect to that address). Errors are the run's message,
/// naming the database as people registered it.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn connection_for_run(state: &AppState, id: Uuid) -> Result<(String, ConnInfo), String> {
    let db = databases::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the database was deleted".to_string())?;
    let secret = state
        .secrets
        .open(&db.connection_encrypted, &format!("databases:{}", db.id))
        .map_err(|e| e.to_string())?;
    let conn = parse_connection(state, secret.expose_secret())
        .map_err(|e| format!("the stored connection string is refused: {e}"))?;
    let named = db.name;
    let conn = pin(state, conn).await.map_err(|e| {
        if e.addr.is_some() {
            format!("database \"{named}\": address not allowed: {e}")
        } else {
            format!("database \"{named}\" unreachable: {e}")
        }
    })?;
    Ok((named, conn))
}

/// `probe` of a pinned connection; a refused address is a failed probe that dialled nothing, a name
/// that does not resolve an unreachable server.
#[tracing::instrument(skip_all)]
pub async fn probe_checked(state: &AppState, conn: ConnInfo) -> Result<ServerInfo, ProbeError> {
    match pin(state, conn).await {
        Ok(c) => probe(&c, timeout(state)).await,
        Err(e) => Err(refusal_as_probe_error(e)),
    }
}

fn refusal_as_probe_error(e: pgward_engine::net::Refused) -> ProbeError {
    ProbeError {
        kind: if e.addr.is_some() {
            ProbeErrorKind::AddressNotAllowed
        } else {
            ProbeErrorKind::Unreachable
        },
        message: e.to_string(),
        latency: Duration::ZERO,
    }
}

/// Create and update refuse an address the policy refuses (nothing is stored). A name that does not
/// resolve is no policy matter: the connection test says so, or (test skipped) every use checks again.
async fn check_address(state: &AppState, conn: &ConnInfo) -> Result<(), AppError> {
    match pin(state, conn.clone()).await {
        Err(e) if e.addr.is_some() => Err(AppError::AddressNotAllowed(e.to_string())),
        _ => Ok(()),
    }
}

fn result_of(outcome: &Result<ServerInfo, pgward_engine::pg::ProbeError>) -> ConnectionTestResult {
    match outcome {
        Ok(s) => ConnectionTestResult {
            ok: true,
            server_version: Some(s.version.clone()),
            major_version: Some(s.major),
            latency_ms: s.latency.as_millis() as u64,
            error_kind: None,
            message: None,
        },
        Err(e) => ConnectionTestResult {
            ok: false,
            server_version: None,
            major_version: None,
            latency_ms: e.latency.as_millis() as u64,
            error_kind: Some(e.kind.as_str().to_string()),
            message: Some(e.message.clone()),
        },
    }
}

async fn find(state: &AppState, id: Uuid) -> Result<databases::Model, AppError> {
    databases::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("database"))
}

async fn ensure_name_free(
    state: &AppState,
    name: &str,
    except: Option<Uuid>,
) -> Result<(), AppError> {
    let same_name = databases::Entity::find().filter(Expr::cust_with_values(
        "lower(name) = lower($1)",
        [name.to_string()],
    ));
    validate::ensure_name_free(
        &state.db,
        KIND,
        name,
        same_name,
        databases::Column::Id,
        except,
    )
    .await
}

#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, req: CreateDatabaseRequest) -> Result<Database, AppError> {
    let mut f = Fields::default();
    f.check("name", validate::name(&req.name, 100));
    f.check(
        "health_interval_secs",
        health::check_interval(req.health_interval_secs),
    );
    f.check(
        "description",
        validate::optional_text(req.description.as_deref(), 1000),
    );
    let conn = parse_connection(state, &req.connection_string);
    if let Err(e) = &conn {
        f.check("connection_string", Err(e.clone()));
    }
    f.finish()?;
    let conn = conn.map_err(|e| AppError::field("connection_string", e))?;
    let name = req.name.trim().to_string();
    ensure_name_free(state, &name, None).await?;
    check_address(state, &conn).await?;

    let server = if req.skip_connection_test {
        None
    } else {
        match probe_checked(state, conn.clone()).await {
            Ok(s) => Some(s),
            Err(e) => {
                return Err(AppError::ConnectionTestFailed(format!(
                    "connection test failed ({}): {}",
                    e.kind.as_str(),
                    e.message
                )));
            }
        }
    };
    let id = Uuid::now_v7();
    let now = Utc::now();
    let row = databases::ActiveModel {
        id: Set(id),
        name: Set(name.clone()),
        name_key: Set(name_key(&name)),
        description: Set(req
            .description
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())),
        connection_encrypted: Set(state.secrets.seal(conn.expose(), &aad(id))?),
        host: Set(conn.host.clone()),
        port: Set(i32::from(conn.port)),
        database_name: Set(conn.database.clone()),
        username: Set(conn.username.clone()),
        masked_connection: Set(conn.masked.clone()),
        server_version: Set(server.as_ref().map(|s| s.version.clone())),
        major_version: Set(server.as_ref().map(|s| s.major as i32)),
        health_status: Set(if server.is_some() {
            HealthStatus::Healthy.as_str()
        } else {
            HealthStatus::Unknown.as_str()
        }
        .into()),
        last_checked_at: Set(server.as_ref().map(|_| now)),
        last_error: Set(None),
        health_next_at: Set(None),
        health_latency_ms: Set(None),
        health_interval_secs: Set(req.health_interval_secs.map(|s| s as i32)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await
    .map_err(|e| AppError::unique_name(e, KIND, &name))?;
    tracing::info!(database_id = %row.id, target = %row.masked_connection, "database registered");
    Ok(to_dto(&row))
}

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, q: DatabaseListQuery) -> Result<DatabasePage, AppError> {
    let limit = validate::page_limit(
        q.limit,
        validate::DEFAULT_PAGE_LIMIT,
        validate::MAX_PAGE_LIMIT,
    )?;
    let mut sel = databases::Entity::find().order_by_asc(databases::Column::Id);
    if let Some(after) = crate::features::validate::cursor(q.cursor.as_deref())? {
        sel = sel.filter(databases::Column::Id.gt(after));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        sel = sel.filter(
            Condition::any()
                .add(Expr::cust_with_values("name ILIKE $1", [pattern.clone()]))
                .add(Expr::cust_with_values("host ILIKE $1", [pattern.clone()]))
                .add(Expr::cust_with_values("database_name ILIKE $1", [pattern])),
        );
    }
    if let Some(s) = q.status {
        sel = sel.filter(databases::Column::HealthStatus.eq(s.as_str()));
    }
    if let Some(m) = q.major_version {
        if !(1..=999).contains(&m) {
            return Err(AppError::field("major_version", "must be 1 to 999"));
        }
        sel = sel.filter(databases::Column::MajorVersion.eq(m as i32));
    }
    let (rows, next_cursor) = validate::fetch_page(&state.db, sel, limit, |r| r.id).await?;
    Ok(DatabasePage {
        items: rows.iter().map(to_dto).collect(),
        next_cursor,
    })
}

/// Whether database `id` is registered.
pub async fn exists(state: &AppState, id: Uuid) -> bool {
    matches!(
        databases::Entity::find_by_id(id).one(&state.db).await,
        Ok(Some(_))
    )
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(state: &AppState, id: Uuid) -> Result<Database, AppError> {
    Ok(to_dto(&find(state, id).await?))
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(
    state: &AppState,
    id: Uuid,
    req: UpdateDatabaseRequest,
) -> Result<Database, AppError> {
    let mut f = Fields::default();
    f.check(
        "health_interval_secs",
        health::check_interval(req.health_interval_secs.flatten()),
    );
    if let Some(n) = &req.name {
        f.check("name", validate::name(n, 100));
    }
    f.check(
        "description",
        validate::optional_text(req.description.as_deref(), 1000),
    );
    let conn = req
        .connection_string
        .as_deref()
        .map(|raw| parse_connection(state, raw))
        .transpose();
    if let Err(e) = &conn {
        f.check("connection_string", Err(e.clone()));
    }
    f.finish()?;
    let conn = conn.map_err(|e| AppError::field("connection_string", e))?;
    if let Some(c) = &conn {
        check_address(state, c).await?;
    }
    let row = find(state, id).await?;
    let name = validate::name_after(req.name.as_deref(), &row.name);
    if req.name.is_some() {
        ensure_name_free(state, &name, Some(id)).await?;
    }
    let now = Utc::now();
    let mut am: databases::ActiveModel = row.into();
    am.name = Set(name.clone());
    am.name_key = Set(name_key(&name));
    if let Some(d) = req.description {
        am.description = Set(Some(d.trim().to_string()).filter(|d| !d.is_empty()));
    }
    if let Some(conn) = conn {
        let server = if req.skip_connection_test {
            None
        } else {
            Some(probe_checked(state, conn.clone()).await.map_err(|e| {
                AppError::ConnectionTestFailed(format!(
                    "connection test failed ({}): {}",
                    e.kind.as_str(),
                    e.message
                ))
            })?)
        };
        am.connection_encrypted = Set(state.secrets.seal(conn.expose(), &aad(id))?);
        am.host = Set(conn.host.clone());
        am.port = Set(i32::from(conn.port));
        am.database_name = Set(conn.database.clone());
        am.username = Set(conn.username.clone());
        am.masked_connection = Set(conn.masked.clone());
        am.server_version = Set(server.as_ref().map(|s| s.version.clone()));
        am.major_version = Set(server.as_ref().map(|s| s.major as i32));
        am.health_status = Set(if server.is_some() {
            HealthStatus::Healthy.as_str()
        } else {
            HealthStatus::Unknown.as_str()
        }
        .into());
        am.last_checked_at = Set(server.as_ref().map(|_| now));
        am.last_error = Set(None);
    }
    if let Some(interval) = req.health_interval_secs {
        am.health_interval_secs = Set(interval.map(|s| s as i32));
        // The new interval counts from a check at the next scheduler pass.
        am.health_next_at = Set(None);
    }
    am.updated_at = Set(now);
    let row = am
        .update(&state.db)
        .await
        .map_err(|e| AppError::unique_name(e, KIND, &name))?;
    tracing::info!(database_id = %id, "database updated");
    Ok(to_dto(&row))
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn delete(state: &AppState, id: Uuid) -> Result<(), AppError> {
    // Test-restores name their scratch server inside the task spec (no foreign key there).
    let scratch_of = pgward_entity::tasks::Entity::find()
        .filter(Expr::cust_with_values(
            "spec->'verification'->>'test_restore_database_id' = $1",
            [id.to_string()],
        ))
        .count(&state.db)
        .await?;
    if scratch_of > 0 {
        return Err(AppError::Conflict(
            "this database hosts the test-restores of backup tasks; change those tasks first"
                .into(),
        ));
    }
    let res = databases::Entity::delete_by_id(id)
        .exec(&state.db)
        .await
        .map_err(|e| AppError::used_by_tasks(e, KIND))?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("database"));
    }
    tracing::info!(database_id = %id, "database deleted");
    Ok(())
}

/// Tests the saved connection and records the outcome (health, version) on the database.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn test_saved(state: &AppState, id: Uuid) -> Result<ConnectionTestResult, AppError> {
    let row = find(state, id).await?;
    let secret = state.secrets.open(&row.connection_encrypted, &aad(id))?;
    let conn = parse_conn(state, secret.expose_secret())?;
    let started = Utc::now();
    let outcome = probe_checked(state, conn).await;
    let now = Utc::now();
    let tx = state.db.begin().await?;
    let row = health::lock_checked::<databases::Entity>(&tx, id, KIND).await?;
    if health::is_stale(started, row.last_checked_at, row.updated_at) {
        return Ok(result_of(&outcome));
    }
    let (before, name) = (row.health_status.clone(), row.name.clone());
    let mut am: databases::ActiveModel = row.into();
    am.last_checked_at = Set(Some(now));
    match &outcome {
        Ok(s) => {
            am.health_status = Set(HealthStatus::Healthy.as_str().into());
            am.health_latency_ms = Set(Some(s.latency.as_millis().min(i32::MAX as u128) as i32));
            am.last_error = Set(None);
            am.server_version = Set(Some(s.version.clone()));
            am.major_version = Set(Some(s.major as i32));
        }
        Err(e) => {
            am.health_status = Set(HealthStatus::Unhealthy.as_str().into());
            am.health_latency_ms = Set(None);
            am.last_error = Set(Some(e.message.clone()));
        }
    }
    am.update(&tx).await?;
    let check = events::HealthCheck {
        resource: health::HealthResource::Database,
        id,
        name: &name,
        before: &before,
        ok: outcome.is_ok(),
        error: outcome.as_ref().err().map(|e| e.message.clone()),
        checked_at: now,
    };
    events::commit_health_check(state, tx, check).await?;
    Ok(result_of(&outcome))
}

/// Tests a connection string without saving anything.
#[tracing::instrument(skip_all)]
pub async fn test_connection(
    state: &AppState,
    raw: &str,
) -> Result<ConnectionTestResult, AppError> {
    let conn = parse_conn(state, raw)?;
    // An unsaved test is the easiest port scanner: a refused address is refused outright.
    match pin(state, conn).await {
        Ok(conn) => Ok(result_of(&probe(&conn, timeout(state)).await)),
        Err(e) if e.addr.is_some() => Err(AppError::AddressNotAllowed(e.to_string())),
        Err(e) => Ok(result_of(&Err(refusal_as_probe_error(e)))),
    }
}

/// Seals every stored connection string again under another key (`pgward secrets rotate-key`), in the
/// caller's transaction. Returns how many were resealed.
#[tracing::instrument(skip_all)]
pub async fn reseal_all<C: sea_orm::ConnectionTrait>(
    db: &C,
    from: &crate::crypto::SecretBox,
    to: &crate::crypto::SecretBox,
) -> anyhow::Result<usize> {
    let rows = databases::Entity::find().all(db).await?;
    for m in &rows {
        let sealed = from.reseal(to, &m.connection_encrypted, &aad(m.id))?;
        databases::Entity::update_many()
            .col_expr(databases::Column::ConnectionEncrypted, Expr::value(sealed))
            .filter(databases::Column::Id.eq(m.id))
            .exec(db)
            .await?;
    }
    Ok(rows.len())
}

/// The registered databases the current rules refuse (connection string or address), with why: said
/// once at start-up, so an operator who upgraded (or tightened `outbound.*`) hears of it before the
/// next scheduled run fails.
#[tracing::instrument(skip_all)]
pub async fn refused_by_policy(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    let mut refused = Vec::new();
    for m in databases::Entity::find().all(&state.db).await? {
        let Ok(secret) = state.secrets.open(&m.connection_encrypted, &aad(m.id)) else {
            continue;
        };
        match parse_connection(state, secret.expose_secret()) {
            Err(e) => refused.push((m.name, e)),
            Ok(conn) => {
                if let Err(e) = pin(state, conn).await
                    && e.addr.is_some()
                {
                    refused.push((m.name, e.to_string()));
                }
            }
        }
    }
    Ok(refused)
}
