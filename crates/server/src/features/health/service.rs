//! Scheduled health checks: every database (connect, `SELECT 1`, version) and destination (write, read,
//! delete a probe) on its own interval (`health_interval_secs`, else `worker.health_interval_secs`).
//! The scheduler pass claims what is due by moving each resource's `health_next_at` forward in one
//! atomic statement (so with several pgward processes each check is claimed once) and puts a job on the
//! health queue; a worker runs the check, which (with its healthy <-> unhealthy events) is the same as
//! the on-demand test.

use chrono::{DateTime, Utc};
use pgward_api_types::{HEALTH_INTERVAL_RANGE, HealthInfo, HealthStatus};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, PrimaryKeyTrait, QuerySelect,
    Statement,
};
use uuid::Uuid;

pub use crate::background::queues::HealthResource;
use crate::error::AppError;
use crate::state::AppState;

/// Claims the checks that are due at `now` and enqueues them; returns how many.
#[tracing::instrument(skip_all)]
pub async fn run_due(state: &AppState, now: DateTime<Utc>) -> Result<usize, AppError> {
    let default = i64::try_from(state.config.worker.health_interval_secs.max(1)).unwrap_or(600);
    let mut started = 0;
    for (resource, table) in [
        (HealthResource::Database, "databases"),
        (HealthResource::Destination, "destinations"),
    ] {
        let due = state
            .db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!(
                    "UPDATE {table} \
                     SET health_next_at = $1 + make_interval(secs => COALESCE(health_interval_secs, $2::int)) \
                     WHERE health_next_at IS NULL OR health_next_at <= $1 RETURNING id"
                ),
                [now.into(), default.into()],
            ))
            .await?;
        for row in due {
            let id: Uuid = row.try_get("", "id")?;
            started += 1;
            if let Err(e) = state.queues.enqueue_health_check(resource, id).await {
                // Due again at the next pass, rather than a whole interval later.
                tracing::warn!(?resource, %id, error = %e, "enqueueing a health check failed; it is retried at the next pass");
                // Never `?` here: the other claimed checks of this pass still need their jobs.
                if let Err(e) = state
                    .db
                    .execute_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        format!("UPDATE {table} SET health_next_at = NULL WHERE id = $1"),
                        [id.into()],
                    ))
                    .await
                {
                    tracing::warn!(?resource, %id, error = %e, "releasing a health check failed; it runs at the next interval");
                }
            }
        }
    }
    Ok(started)
}

/// The health queue's job: one check (a resource deleted meanwhile is skipped).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn check(state: &AppState, resource: HealthResource, id: Uuid) {
    let outcome = match resource {
        HealthResource::Database => crate::features::databases::service::test_saved(state, id)
            .await
            .map(|_| ()),
        HealthResource::Destination => {
            crate::features::destinations::service::test_saved(state, id)
                .await
                .map(|_| ())
        }
    };
    match outcome {
        Ok(()) | Err(AppError::NotFound(_)) => {}
        Err(e) => tracing::warn!(?resource, %id, error = %e, "health check failed to run"),
    }
}

/// The checked row (a database or destination), locked until `tx` ends, for recording a finished
/// check's outcome. The outcome and its event are recorded in that one transaction: two checks at once
/// (scheduled and on demand) see each other's result, so a transition is announced once. FOR NO KEY
/// UPDATE: tasks referencing the row can still be written meanwhile.
pub async fn lock_checked<E>(
    tx: &DatabaseTransaction,
    id: Uuid,
    what: &'static str,
) -> Result<E::Model, AppError>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    E::find_by_id(id)
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
        .one(tx)
        .await?
        .ok_or(AppError::NotFound(what))
}

/// Whether a check started at `started` is stale and records nothing: a newer check was recorded, or
/// the resource was edited (perhaps its connection or settings) during this one.
pub fn is_stale(
    started: DateTime<Utc>,
    last_checked_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
) -> bool {
    last_checked_at.is_some_and(|t| t > started) || updated_at > started
}

/// The health columns databases and destinations share, as the API shows them.
pub fn info(
    status: &str,
    last_checked_at: Option<DateTime<Utc>>,
    last_error: Option<&String>,
    latency_ms: Option<i32>,
    interval_secs: Option<i32>,
    next_check_at: Option<DateTime<Utc>>,
) -> HealthInfo {
    HealthInfo {
        status: HealthStatus::parse(status).unwrap_or(HealthStatus::Unknown),
        last_checked_at,
        last_error: last_error.cloned(),
        latency_ms: latency_ms.and_then(|l| u32::try_from(l).ok()),
        interval_secs: interval_secs.and_then(|i| u32::try_from(i).ok()),
        next_check_at,
    }
}

/// Checks a resource's own interval.
pub fn check_interval(secs: Option<u32>) -> Result<(), String> {
    match secs {
        Some(s) if !HEALTH_INTERVAL_RANGE.contains(&s) => Err(format!(
            "must be {} to {} seconds",
            HEALTH_INTERVAL_RANGE.start(),
            HEALTH_INTERVAL_RANGE.end()
        )),
        _ => Ok(()),
    }
}
