//! Outcomes per day and runs over time, aggregated in SQL (the dashboard's and a task's charts).

use pgward_api_types::{
    DayOutcomes, ExecutionStats, ExecutionStatsQuery, ExecutionStatus, RunPoint,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::error::AppError;
use crate::features::{tasks, validate};
use crate::state::AppState;

/// The longest range, and the most runs a chart gets.
const MAX_DAYS: u32 = 366;
const MAX_RUNS: i64 = 1000;

#[tracing::instrument(skip_all)]
pub async fn stats(state: &AppState, q: ExecutionStatsQuery) -> Result<ExecutionStats, AppError> {
    let mut f = validate::Fields::default();
    let days = q.days.unwrap_or(30);
    f.check(
        "days",
        if (1..=MAX_DAYS).contains(&days) {
            Ok(())
        } else {
            Err(format!("must be 1 to {MAX_DAYS}"))
        },
    );
    let tz_name =
        q.tz.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or("UTC");
    let tz = tasks::service::parse_tz(tz_name);
    if let Err(e) = &tz {
        f.check("tz", Err(e.clone()));
    }
    f.finish()?;
    let tz = tz.map_err(|e| AppError::field("tz", e))?.name().to_string();
    let (success, failed, cancelled) = (
        ExecutionStatus::Success.as_str(),
        ExecutionStatus::Failed.as_str(),
        ExecutionStatus::Cancelled.as_str(),
    );
    // Every day of the range (zeros included), counted in the asked zone by when runs ended.
    let per_day = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH range AS ( \
               SELECT generate_series((now() AT TIME ZONE $1)::date - ($2::int - 1), \
                                      (now() AT TIME ZONE $1)::date, interval '1 day')::date AS day \
             ), ended AS ( \
               SELECT (finished_at AT TIME ZONE $1)::date AS day, status FROM executions \
               WHERE finished_at >= now() - make_interval(days => $2::int + 1) \
                 AND ($3::uuid IS NULL OR task_id = $3) AND parent_id IS NULL \
             ) \
             SELECT to_char(r.day, 'YYYY-MM-DD') AS day, \
                    count(e.status) FILTER (WHERE e.status = $4) AS n_success, \
                    count(e.status) FILTER (WHERE e.status = $5) AS n_failed, \
                    count(e.status) FILTER (WHERE e.status = $6) AS n_cancelled \
             FROM range r LEFT JOIN ended e ON e.day = r.day GROUP BY r.day ORDER BY r.day",
            [
                tz.clone().into(),
                (days as i32).into(),
                q.task_id.into(),
                success.into(),
                failed.into(),
                cancelled.into(),
            ],
        ))
        .await?;
    let count = |row: &sea_orm::QueryResult, col: &str| -> Result<u64, AppError> {
        Ok(row.try_get::<i64>("", col)?.max(0) as u64)
    };
    let days_out = per_day
        .iter()
        .map(|row| {
            Ok(DayOutcomes {
                day: row.try_get("", "day")?,
                success: count(row, "n_success")?,
                failed: count(row, "n_failed")?,
                cancelled: count(row, "n_cancelled")?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let runs = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT * FROM ( \
               SELECT id, task_id, finished_at, status, size, \
                      (extract(epoch FROM finished_at - started_at) * 1000)::bigint AS duration_ms \
               FROM executions \
               WHERE finished_at >= now() - make_interval(days => $1::int) \
                 AND status IN ($3, $4, $5) AND ($2::uuid IS NULL OR task_id = $2) \
                 AND parent_id IS NULL \
               ORDER BY finished_at DESC LIMIT $6 \
             ) last ORDER BY finished_at",
            [
                (days as i32).into(),
                q.task_id.into(),
                success.into(),
                failed.into(),
                cancelled.into(),
                MAX_RUNS.into(),
            ],
        ))
        .await?;
    let runs = runs
        .iter()
        .filter_map(|row| {
            let status: String = row.try_get("", "status").ok()?;
            Some(RunPoint {
                execution_id: row.try_get("", "id").ok()?,
                task_id: row.try_get("", "task_id").ok()?,
                finished_at: row.try_get("", "finished_at").ok()?,
                status: ExecutionStatus::parse(&status)?,
                duration_ms: unsigned(row.try_get("", "duration_ms").ok()?),
                size: unsigned(row.try_get("", "size").ok()?),
            })
        })
        .collect();
    Ok(ExecutionStats {
        tz,
        days: days_out,
        runs,
    })
}

fn unsigned(v: Option<i64>) -> Option<u64> {
    v.map(|n| n.max(0) as u64)
}
