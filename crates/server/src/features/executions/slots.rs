//! Who may run now: at most `worker.per_server_concurrency` backups per database server, counted
//! across all workers and every registration of that server. A run that finds no slot waits (queued)
//! and is woken when a slot frees.

use chrono::Utc;
use pgward_api_types::ExecutionStatus;
use pgward_entity::executions;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
    TransactionTrait,
};
use uuid::Uuid;

use crate::features::databases;
use crate::state::AppState;

/// Stored status values the raw SQL below names.
pub(super) const RUNNING: &str = ExecutionStatus::Running.as_str();

/// What a claim attempt came to.
pub(super) enum Claim {
    /// Ours: running.
    Claimed,
    /// Its server has no free slot: the row stays queued (saying what it waits for) and the job ends,
    /// so the worker slot serves other servers' runs meanwhile. A run ending on that server (or the
    /// periodic pass) enqueues it again.
    Waiting(String),
    /// No longer queued (cancelled, or claimed by another worker).
    Gone,
}

/// The server an execution dumps from, by identity (`ConnInfo::server_key`); `None` when it cannot be
/// told (the run itself then fails with the reason).
pub(super) async fn server_key_of(state: &AppState, id: Uuid) -> Option<String> {
    let exec = executions::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .ok()??;
    let (_, conn) = databases::service::connection_for_run(state, exec.database_id?)
        .await
        .ok()?;
    Some(conn.server_key())
}

/// Moves execution `id` from queued to running if its database server has a free slot
/// (`worker.per_server_concurrency`, counted across all workers and across every registration of that
/// server).
pub(super) async fn claim(
    state: &AppState,
    id: Uuid,
    worker: &str,
) -> Result<Claim, sea_orm::DbErr> {
    let limit = state.config.worker.per_server_concurrency as i64;
    let key = if limit > 0 {
        server_key_of(state, id).await
    } else {
        None
    };
    let txn = state.db.begin().await?;
    if let Some(key) = key.as_ref().filter(|_| limit > 0) {
        // Serialises claims per server, so two workers cannot both take the last slot.
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [format!("pgward:server:{key}").into()],
        ))
        .await?;
        let running: i64 = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("SELECT count(*) AS n FROM executions WHERE status = '{RUNNING}' AND server_key = $1"),
                [key.clone().into()],
            ))
            .await?
            .map_or(Ok(0), |r| r.try_get("", "n"))?;
        if running >= limit {
            let wait = format!(
                "waiting: {running} backup(s) already running on its database server ({key}; \
                 worker.per_server_concurrency = {limit})"
            );
            let r = executions::Entity::update_many()
                .col_expr(executions::Column::HeartbeatAt, Expr::value(Utc::now()))
                .col_expr(executions::Column::Message, Expr::value(wait.clone()))
                .col_expr(executions::Column::ServerKey, Expr::value(key.clone()))
                .filter(executions::Column::Id.eq(id))
                .filter(executions::Column::Status.eq(ExecutionStatus::Queued.as_str()))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            return Ok(if r.rows_affected == 1 {
                Claim::Waiting(wait)
            } else {
                Claim::Gone
            });
        }
    }
    let claimed = executions::Entity::update_many()
        .col_expr(
            executions::Column::Status,
            Expr::value(ExecutionStatus::Running.as_str()),
        )
        .col_expr(executions::Column::StartedAt, Expr::value(Utc::now()))
        .col_expr(executions::Column::HeartbeatAt, Expr::value(Utc::now()))
        .col_expr(executions::Column::WorkerId, Expr::value(worker))
        .col_expr(executions::Column::Message, Expr::value(None::<String>))
        .col_expr(executions::Column::ServerKey, Expr::value(key))
        .filter(executions::Column::Id.eq(id))
        .filter(executions::Column::Status.eq(ExecutionStatus::Queued.as_str()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(if claimed.rows_affected == 1 {
        Claim::Claimed
    } else {
        Claim::Gone
    })
}

/// A run on server `key` ended: the oldest runs waiting for that server (as many as its limit, so that two
/// runs ending at once do not both wake the same one and leave a slot idle) get their job again at once;
/// those that find no free slot go back to waiting.
pub(super) async fn wake_waiting(state: &AppState, key: &str) {
    use sea_orm::QuerySelect;
    let limit = state.config.worker.per_server_concurrency.max(1) as u64;
    let next = executions::Entity::find()
        .filter(executions::Column::Status.eq(ExecutionStatus::Queued.as_str()))
        .filter(executions::Column::ServerKey.eq(key))
        .order_by_asc(executions::Column::CreatedAt)
        .limit(limit)
        .all(&state.db)
        .await
        .unwrap_or_default();
    for e in next {
        if let Err(err) = state.queues.enqueue_backup(e.id).await {
            tracing::warn!(execution_id = %e.id, error = %err, "waking a waiting backup failed; the periodic pass will");
        }
    }
}
