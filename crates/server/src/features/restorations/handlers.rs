use actix_web::{HttpResponse, get, post, web};
use pgward_api_types::{
    ApiError, CreateRestorationRequest, Execution, Restoration, RestorationListQuery,
    RestorationPage,
};
use serde::Deserialize;
use uuid::Uuid;

use super::service;
use crate::error::AppError;
use crate::features::api::{
    Authed, JsonBody, MalformedQuery, NoSuchExecution, NoSuchRestoration, NotAuthenticated,
    PageQuery,
};

/// Restore a successful backup. Everything that can be checked before reading the backup is checked
/// here (copy, options, identities, target reachable, a client new enough); the restore then runs in
/// the background: follow it with `GET /restorations/{id}`.
#[utoipa::path(
    operation_id = "create_restoration",
    tag = "restorations",
    responses(
        (status = 202, description = "accepted and queued", body = Restoration),
        (status = 409, description = "the new database exists already (`conflict`), or sessions are connected to the database a `replace` would swap out and `end_sessions` was not given (`database_in_use`)", body = ApiError),
        (status = 422, description = "invalid request (`validation_failed`), target unreachable (`connection_test_failed`) or no installed client can do it (`no_suitable_client`)", body = ApiError),
        NotAuthenticated, JsonBody,
    )
)]
#[post("/restorations")]
async fn create(
    ctx: Authed,
    req: web::Json<CreateRestorationRequest>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Accepted().json(service::create(&ctx.state, req.into_inner()).await?))
}

/// Restorations, newest first, with filters and cursor pagination.
#[utoipa::path(
    operation_id = "list_restorations",
    tag = "restorations",
    params(RestorationListQuery),
    responses(
        (status = 200, description = "a page of restorations", body = RestorationPage),
        NotAuthenticated, PageQuery,
    )
)]
#[get("/restorations")]
async fn list(
    ctx: Authed,
    q: web::Query<RestorationListQuery>,
) -> Result<web::Json<RestorationPage>, AppError> {
    Ok(web::Json(service::list(&ctx.state, q.into_inner()).await?))
}

/// One restoration with live progress (bytes read, rate), its outcome, error code and the client's
/// error output.
#[utoipa::path(
    operation_id = "get_restoration",
    tag = "restorations",
    params(("id" = Uuid, Path, description = "restoration id")),
    responses(
        (status = 200, description = "the restoration", body = Restoration),
        NotAuthenticated, NoSuchRestoration,
    )
)]
#[get("/restorations/{id}")]
async fn get(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<Restoration>, AppError> {
    Ok(web::Json(service::get(&ctx.state, id.into_inner()).await?))
}

/// Cancel a queued or running restoration (a running client is stopped; in single-transaction mode the
/// target is left as it was).
#[utoipa::path(
    operation_id = "cancel_restoration",
    tag = "restorations",
    params(("id" = Uuid, Path, description = "restoration id")),
    responses(
        (status = 200, description = "cancel requested", body = Restoration),
        (status = 409, description = "already finished", body = ApiError),
        NotAuthenticated, NoSuchRestoration,
    )
)]
#[post("/restorations/{id}/cancel")]
async fn cancel(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<Restoration>, AppError> {
    Ok(web::Json(
        service::cancel(&ctx.state, id.into_inner()).await?,
    ))
}

/// Verify a backup: re-read every stored copy and check its size, its sha256 against the catalog and
/// its manifest. Runs in the background; the execution shows `verify_status` and, per copy,
/// `verified_at` / `verify_error`.
#[utoipa::path(
    operation_id = "verify_execution",
    tag = "executions",
    params(("id" = Uuid, Path, description = "execution id")),
    responses(
        (status = 202, description = "verification started", body = Execution),
        (status = 409, description = "not a successful backup", body = ApiError),
        NotAuthenticated, NoSuchExecution,
    )
)]
#[post("/executions/{id}/verify")]
async fn verify(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Accepted()
        .json(super::checks::start_verify(&ctx.state, id.into_inner()).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct TestRestoreQuery {
    /// The registered database whose server hosts the scratch database; default: the task's
    /// `verification.test_restore_database_id`.
    database_id: Option<Uuid>,
}

/// Test-restore a backup: restore it into a scratch database, compare every table's row count with
/// the counts taken at backup time, drop the scratch database. Runs in the background; the execution
/// shows `test_restore_status` and `test_restore_message`, the restore itself is listed under
/// restorations.
#[utoipa::path(
    operation_id = "test_restore_execution",
    tag = "executions",
    params(("id" = Uuid, Path, description = "execution id"), TestRestoreQuery),
    responses(
        (status = 202, description = "test-restore started", body = Execution),
        (status = 409, description = "not a successful backup", body = ApiError),
        (status = 422, description = "no scratch server given or configured", body = ApiError),
        NotAuthenticated, MalformedQuery, NoSuchExecution,
    )
)]
#[post("/executions/{id}/test-restore")]
async fn test_restore(
    ctx: Authed,
    id: web::Path<Uuid>,
    q: web::Query<TestRestoreQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Accepted()
        .json(super::checks::start_test_restore(&ctx.state, id.into_inner(), q.database_id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct ContentsQuery {
    /// Which copy; the first one when omitted.
    destination_id: Option<Uuid>,
}

/// The table of contents of a custom or directory backup: its schemas, tables and every archive entry,
/// to choose what a selective restore brings back (`options.schemas`, `options.tables`).
#[utoipa::path(
    operation_id = "execution_contents",
    tag = "executions",
    params(("id" = Uuid, Path, description = "execution id"), ContentsQuery),
    responses(
        (status = 200, description = "the archive's contents", body = pgward_api_types::ArchiveContents),
        (status = 404, description = "no such execution or stored copy", body = ApiError),
        (status = 422, description = "a plain or encrypted dump, or no pg_restore (`no_suitable_client`)", body = ApiError),
        NotAuthenticated, MalformedQuery,
    )
)]
#[get("/executions/{id}/contents")]
async fn contents(
    ctx: Authed,
    id: web::Path<Uuid>,
    q: web::Query<ContentsQuery>,
) -> Result<web::Json<pgward_api_types::ArchiveContents>, AppError> {
    Ok(web::Json(
        service::contents(&ctx.state, id.into_inner(), q.destination_id).await?,
    ))
}
