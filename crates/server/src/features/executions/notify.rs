//! A run's events, with the facts notifications show.

use pgward_entity::executions;
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::features::databases;
use crate::state::AppState;

/// Records an execution event with the facts a notification shows: the task, its database and the
/// execution as the API returns it (times in the task's time zone, size, duration, error, stderr tail).
pub async fn execution_event(state: &AppState, id: Uuid, kind: pgward_api_types::EventKind) {
    let Ok(Some(e)) = executions::Entity::find_by_id(id).one(&state.db).await else {
        return;
    };
    let database_name = match e.database_id {
        Some(d) => databases::service::get(state, d).await.ok().map(|d| d.name),
        None => None,
    };
    let exec = super::service::to_dto(&e);
    let mut data = serde_json::json!({
        "task": { "id": e.task_id, "name": e.task_name, "timezone": e.timezone },
        "database": { "id": e.database_id, "name": database_name },
        "execution": crate::features::events::service::execution_data(&exec),
        "destination_ids": e.destination_ids,
    });
    // Why it failed, where a receiver looks first (also inside `execution.message`).
    if kind == pgward_api_types::EventKind::ExecutionFailed {
        data["error"] = serde_json::json!(e.message);
        data["stderr_tail"] = serde_json::json!(e.stderr_tail);
    }
    crate::features::events::service::emit(
        state,
        kind,
        crate::features::events::service::Refs::execution(&e),
        data,
    )
    .await;
}
