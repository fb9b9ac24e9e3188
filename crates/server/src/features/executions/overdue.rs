//! The dead man's switch inside pgward: a task whose last successful backup is older than its schedule's
//! interval plus a grace period (`worker.overdue_grace_minutes`) raises `backup_overdue` once, shows in
//! `/metrics` (`pgward_task_overdue`) and on the dashboard, until a backup succeeds again. That is how a
//! pgward that stopped elsewhere in a fleet, a task paused by mistake or a string of failures is noticed
//! without an outside monitor. Paused tasks count: pausing is exactly the mistake this catches; the clock
//! starts again at every edit of the task (pausing, resuming), so a deliberate pause alerts once.

use chrono::{DateTime, Utc};
use pgward_entity::tasks as task_rows;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};

use crate::error::AppError;

/// The stored status value the raw SQL below names.
const SUCCESS: &str = pgward_api_types::ExecutionStatus::Success.as_str();
use crate::features::tasks::service as tasks;
use crate::state::AppState;

/// The time between two runs of a schedule, around `now` (its next two run times).
pub fn interval(
    cron: &croner::Cron,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Option<chrono::Duration> {
    let next = tasks::next_run_times(cron, tz, now, 2);
    match next.as_slice() {
        [a, b] => Some(*b - *a),
        _ => None,
    }
}

/// One pass over every task at `now`. Returns the tasks that became overdue in this pass.
#[tracing::instrument(skip_all)]
pub async fn check(state: &AppState, now: DateTime<Utc>) -> Result<Vec<uuid::Uuid>, AppError> {
    let grace = chrono::Duration::minutes(i64::from(state.config.worker.overdue_grace_minutes));
    let last_success: std::collections::HashMap<uuid::Uuid, DateTime<Utc>> = state
        .db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT task_id, max(finished_at) AS at FROM executions \
             WHERE status = '{SUCCESS}' AND task_id IS NOT NULL AND parent_id IS NULL GROUP BY task_id"
            ),
        ))
        .await?
        .into_iter()
        .filter_map(|r| Some((r.try_get("", "task_id").ok()?, r.try_get("", "at").ok()?)))
        .collect();
    let mut raised = Vec::new();
    for t in task_rows::Entity::find().all(&state.db).await? {
        let (Ok(cron), Ok(tz)) = (tasks::parse_cron(&t.schedule), tasks::parse_tz(&t.timezone))
        else {
            continue;
        };
        let Some(every) = interval(&cron, tz, now) else {
            continue;
        };
        // Since the newest success, or since the task was set up as it is now.
        let since = last_success
            .get(&t.id)
            .copied()
            .map_or(t.updated_at, |s| s.max(t.updated_at));
        let overdue = now - since > every + grace;
        if !overdue {
            if t.overdue_since.is_some() {
                tasks::clear_overdue(state, t.id).await?;
            }
            continue;
        }
        if !tasks::mark_overdue(state, t.id, now).await? {
            continue;
        }
        tracing::warn!(task_id = %t.id, task = %t.name, "backup overdue: no successful backup within the schedule's interval plus the grace period");
        crate::features::events::service::emit(
            state,
            pgward_api_types::EventKind::BackupOverdue,
            crate::features::events::service::Refs {
                task: Some(t.id),
                database: Some(t.database_id),
                ..Default::default()
            },
            serde_json::json!({
                "task": { "id": t.id, "name": t.name, "active": t.active, "schedule": t.schedule, "timezone": t.timezone },
                "error": format!(
                    "no successful backup of task {} since {} (expected every {} min, plus {} min of grace)",
                    t.name,
                    since.to_rfc3339(),
                    every.num_minutes(),
                    grace.num_minutes()
                ),
                "last_success_at": last_success.get(&t.id),
                "interval_secs": every.num_seconds(),
                "grace_secs": grace.num_seconds(),
                "overdue_since": now,
            }),
        )
        .await;
        raised.push(t.id);
    }
    Ok(raised)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_the_time_between_two_runs() {
        let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        let now = Utc::now();
        let hourly = tasks::parse_cron("0 * * * *").unwrap();
        assert_eq!(interval(&hourly, tz, now), Some(chrono::Duration::hours(1)));
        let daily = tasks::parse_cron("30 2 * * *").unwrap();
        let d = interval(&daily, tz, now).unwrap();
        // A day, give or take a daylight-saving change.
        assert!((23..=25).contains(&d.num_hours()), "{d}");
    }
}
