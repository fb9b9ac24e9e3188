//! A successful run whose size or duration is far from its task's usual ones raises `backup_anomaly`.

use pgward_api_types::ExecutionStatus;
use pgward_entity::executions;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::state::AppState;

pub(super) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub(super) fn seconds(e: &executions::Model) -> Option<f64> {
    Some((e.finished_at? - e.started_at?).num_milliseconds() as f64 / 1000.0)
}

/// `backup_anomaly`: this run's size (or, for runs of 30 s and more, its duration) is further than
/// `worker.anomaly_threshold_percent` from the median of the task's previous 10 successful runs (at
/// least 3 are needed). A sudden drop in size is how an emptied table or a wrong database shows.
pub(super) async fn detect_anomaly(state: &AppState, e: &executions::Model) {
    use sea_orm::QuerySelect;
    let Some(task) = e.task_id else { return };
    let Ok(previous) = executions::Entity::find()
        .filter(executions::Column::TaskId.eq(task))
        // Runs compare with runs (a whole-server run's databases are not runs of their own).
        .filter(executions::Column::ParentId.is_null())
        .filter(executions::Column::Status.is_in([
            ExecutionStatus::Success.as_str(),
            ExecutionStatus::Deleted.as_str(),
        ]))
        .filter(executions::Column::Size.is_not_null())
        .filter(executions::Column::Id.ne(e.id))
        .filter(executions::Column::Id.lt(e.id))
        .order_by_desc(executions::Column::Id)
        .limit(10)
        .all(&state.db)
        .await
    else {
        return;
    };
    if previous.len() < 3 {
        return;
    }
    // The task's own threshold, else the server's.
    let own = crate::features::tasks::service::find(state, task)
        .await
        .ok()
        .and_then(|(_, spec)| spec.anomaly_threshold_percent);
    let threshold = f64::from(own.unwrap_or(state.config.worker.anomaly_threshold_percent));
    let mut findings = Vec::new();
    let size_median = median(
        previous
            .iter()
            .filter_map(|p| p.size)
            .map(|s| s as f64)
            .collect(),
    );
    if let Some(size) = e.size
        && size_median > 0.0
    {
        let change = (size as f64 - size_median) / size_median * 100.0;
        if change.abs() > threshold {
            findings.push(("size", size as f64, size_median, change));
        }
    }
    let durations: Vec<f64> = previous.iter().filter_map(seconds).collect();
    if let Some(d) = seconds(e)
        && durations.len() >= 3
    {
        let m = median(durations);
        let change = (d - m) / m.max(0.001) * 100.0;
        if m >= 30.0 && change.abs() > threshold {
            findings.push(("duration", d, m, change));
        }
    }
    for (metric, value, median, change) in findings {
        tracing::warn!(
            metric,
            value,
            median,
            change_percent = change,
            "backup anomaly"
        );
        crate::features::events::service::emit(
            state,
            pgward_api_types::EventKind::BackupAnomaly,
            crate::features::events::service::Refs::execution(e),
            serde_json::json!({
                "metric": metric,
                "value": value,
                "median": median,
                "change_percent": (change * 10.0).round() / 10.0,
                "threshold_percent": threshold,
                "runs_compared": previous.len(),
                "task": { "id": e.task_id, "name": e.task_name },
                "execution": crate::features::events::service::execution_data(&super::service::to_dto(e)),
            }),
        )
        .await;
    }
}
