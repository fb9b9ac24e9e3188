use actix_web::{HttpResponse, delete, get, patch, post, web};
use pgward_api_types::{ApiError, NextRuns, Task, TaskList, TaskSpec, UpdateTaskRequest};
use uuid::Uuid;

use super::service;
use crate::error::AppError;
use crate::features::api::{Authed, JsonBody, NameTaken, NoSuchTask, NotAuthenticated};

/// All backup tasks.
#[utoipa::path(
    operation_id = "list_tasks",
    tag = "tasks",
    responses((status = 200, description = "tasks", body = TaskList), NotAuthenticated)
)]
#[get("/tasks")]
async fn list(ctx: Authed) -> Result<web::Json<TaskList>, AppError> {
    Ok(web::Json(TaskList {
        items: service::list(&ctx.state).await?,
    }))
}

/// Create a backup task.
#[utoipa::path(
    operation_id = "create_task",
    tag = "tasks",
    responses(
        (status = 201, description = "created", body = Task),
        (status = 422, description = "invalid fields (cron, time zone, contradictory options ...)", body = ApiError),
        NotAuthenticated, JsonBody, NameTaken,
    )
)]
#[post("/tasks")]
async fn create(ctx: Authed, body: web::Json<TaskSpec>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(service::create(&ctx.state, body.into_inner()).await?))
}

/// One task.
#[utoipa::path(
    operation_id = "get_task",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "task id")),
    responses((status = 200, description = "the task", body = Task), NotAuthenticated, NoSuchTask)
)]
#[get("/tasks/{id}")]
async fn get(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<Task>, AppError> {
    Ok(web::Json(service::get(&ctx.state, id.into_inner()).await?))
}

/// Change any field of a task; omitted fields stay.
#[utoipa::path(
    operation_id = "update_task",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "task id")),
    responses(
        (status = 200, description = "updated", body = Task),
        (status = 422, description = "invalid fields", body = ApiError),
        NotAuthenticated, JsonBody, NoSuchTask, NameTaken,
    )
)]
#[patch("/tasks/{id}")]
async fn update(
    ctx: Authed,
    id: web::Path<Uuid>,
    body: web::Json<UpdateTaskRequest>,
) -> Result<web::Json<Task>, AppError> {
    Ok(web::Json(
        service::update(&ctx.state, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Delete a task (its stored backups are not touched).
#[utoipa::path(
    operation_id = "delete_task",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "task id")),
    responses((status = 204, description = "deleted"), NotAuthenticated, NoSuchTask)
)]
#[delete("/tasks/{id}")]
async fn delete(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    service::delete(&ctx.state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Copy a task as "<name> (copy)", inactive.
#[utoipa::path(
    operation_id = "duplicate_task",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "task id")),
    responses((status = 201, description = "the copy", body = Task), NotAuthenticated, NoSuchTask)
)]
#[post("/tasks/{id}/duplicate")]
async fn duplicate(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(service::duplicate(&ctx.state, id.into_inner()).await?))
}

/// The next 10 run times in the task's time zone.
#[utoipa::path(
    operation_id = "task_next_runs",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "task id")),
    responses(
        (status = 200, description = "upcoming runs", body = NextRuns),
        NotAuthenticated, NoSuchTask,
    )
)]
#[get("/tasks/{id}/next-runs")]
async fn next_runs(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<NextRuns>, AppError> {
    Ok(web::Json(
        service::next_runs(&ctx.state, id.into_inner()).await?,
    ))
}
