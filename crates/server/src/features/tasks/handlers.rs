use actix_web::{HttpResponse, delete, get, patch, post, web};
use pgward_api_types::{ApiError, NextRuns, Task, TaskList, TaskSpec, UpdateTaskRequest};
use uuid::Uuid;

use super::service;
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::state::AppState;

/// All backup tasks.
#[utoipa::path(
    operation_id = "list_tasks",
    tag = "tasks",
    responses(
        (status = 200, description = "tasks", body = TaskList),
        (status = 401, description = "not authenticated", body = ApiError),
    )
)]
#[get("/tasks")]
async fn list(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<TaskList>, AppError> {
    Ok(web::Json(TaskList {
        items: service::list(&state).await?,
    }))
}

/// Create a backup task.
#[utoipa::path(
    operation_id = "create_task",
    tag = "tasks",
    request_body = TaskSpec,
    responses(
        (status = 201, description = "created", body = Task),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 409, description = "the name is taken", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "invalid fields (cron, time zone, contradictory options ...)", body = ApiError),
    )
)]
#[post("/tasks")]
async fn create(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: web::Json<TaskSpec>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(service::create(&state, body.into_inner()).await?))
}

/// One task.
#[utoipa::path(
    operation_id = "get_task",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "task id")),
    responses(
        (status = 200, description = "the task", body = Task),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such task", body = ApiError),
    )
)]
#[get("/tasks/{id}")]
async fn get(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<web::Json<Task>, AppError> {
    Ok(web::Json(service::get(&state, id.into_inner()).await?))
}

/// Change any field of a task; omitted fields stay.
#[utoipa::path(
    operation_id = "update_task",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "task id")),
    request_body = UpdateTaskRequest,
    responses(
        (status = 200, description = "updated", body = Task),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such task", body = ApiError),
        (status = 409, description = "the name is taken", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "invalid fields", body = ApiError),
    )
)]
#[patch("/tasks/{id}")]
async fn update(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<UpdateTaskRequest>,
) -> Result<web::Json<Task>, AppError> {
    Ok(web::Json(
        service::update(&state, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Delete a task (its stored backups are not touched).
#[utoipa::path(
    operation_id = "delete_task",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "task id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such task", body = ApiError),
    )
)]
#[delete("/tasks/{id}")]
async fn delete(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    service::delete(&state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Copy a task as "<name> (copy)", inactive.
#[utoipa::path(
    operation_id = "duplicate_task",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "task id")),
    responses(
        (status = 201, description = "the copy", body = Task),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such task", body = ApiError),
    )
)]
#[post("/tasks/{id}/duplicate")]
async fn duplicate(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(service::duplicate(&state, id.into_inner()).await?))
}

/// The next 10 run times in the task's time zone.
#[utoipa::path(
    operation_id = "task_next_runs",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "task id")),
    responses(
        (status = 200, description = "upcoming runs", body = NextRuns),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such task", body = ApiError),
    )
)]
#[get("/tasks/{id}/next-runs")]
async fn next_runs(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<web::Json<NextRuns>, AppError> {
    Ok(web::Json(
        service::next_runs(&state, id.into_inner()).await?,
    ))
}
