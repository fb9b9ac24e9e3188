//! Scheduled health checks: every database (connect, `SELECT 1`, version) and destination (write, read,
//! delete a probe) every `worker.health_interval_secs`. A check is claimed by moving the resource's
//! `health_next_at` forward atomically, so with several pgward processes each check runs once. The
//! check itself (and its healthy <-> unhealthy events) is the same as the on-demand test.

use chrono::{DateTime, Utc};
use pgward_entity::{databases, destinations};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::error::AppError;
use crate::state::AppState;

/// Starts the checks that are due at `now`; returns how many were started.
pub async fn run_due(state: &AppState, now: DateTime<Utc>) -> Result<usize, AppError> {
    let next =
        now + chrono::Duration::seconds(state.config.worker.health_interval_secs.max(1) as i64);
    let mut started = 0;
    let dbs: Vec<Uuid> = databases::Entity::find()
        .select_only()
        .column(databases::Column::Id)
        .filter(
            Condition::any()
                .add(databases::Column::HealthNextAt.is_null())
                .add(databases::Column::HealthNextAt.lte(now)),
        )
        .into_tuple()
        .all(&state.db)
        .await?;
    for id in dbs {
        let claimed = databases::Entity::update_many()
            .col_expr(databases::Column::HealthNextAt, Expr::value(next))
            .filter(databases::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(databases::Column::HealthNextAt.is_null())
                    .add(databases::Column::HealthNextAt.lte(now)),
            )
            .exec(&state.db)
            .await?;
        if claimed.rows_affected == 1 {
            started += 1;
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(e) = crate::features::databases::service::test_saved(&state, id).await {
                    tracing::warn!(database_id = %id, error = %e, "health check failed to run");
                }
            });
        }
    }
    let dests: Vec<Uuid> = destinations::Entity::find()
        .select_only()
        .column(destinations::Column::Id)
        .filter(
            Condition::any()
                .add(destinations::Column::HealthNextAt.is_null())
                .add(destinations::Column::HealthNextAt.lte(now)),
        )
        .into_tuple()
        .all(&state.db)
        .await?;
    for id in dests {
        let claimed = destinations::Entity::update_many()
            .col_expr(destinations::Column::HealthNextAt, Expr::value(next))
            .filter(destinations::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(destinations::Column::HealthNextAt.is_null())
                    .add(destinations::Column::HealthNextAt.lte(now)),
            )
            .exec(&state.db)
            .await?;
        if claimed.rows_affected == 1 {
            started += 1;
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(e) = crate::features::destinations::service::test_saved(&state, id).await
                {
                    tracing::warn!(destination_id = %id, error = %e, "health check failed to run");
                }
            });
        }
    }
    Ok(started)
}
