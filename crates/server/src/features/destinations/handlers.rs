use actix_web::{HttpResponse, delete, get, patch, post, web};
use pgward_api_types::{
    ApiError, CreateDestinationRequest, Destination, DestinationList, DestinationTestResult,
    TestDestinationRequest, UpdateDestinationRequest,
};
use uuid::Uuid;

use super::service;
use crate::error::AppError;
use crate::features::api::{Authed, JsonBody, NameTaken, NoSuchDestination, NotAuthenticated};

/// All destinations (secrets removed).
#[utoipa::path(
    operation_id = "list_destinations",
    tag = "destinations",
    responses((status = 200, description = "destinations", body = DestinationList), NotAuthenticated)
)]
#[get("/destinations")]
async fn list(ctx: Authed) -> Result<web::Json<DestinationList>, AppError> {
    Ok(web::Json(DestinationList {
        items: service::list(&ctx.state).await?,
    }))
}

/// Create a destination. It is probed (write, read back, delete) first unless `skip_test` is set.
#[utoipa::path(
    operation_id = "create_destination",
    tag = "destinations",
    responses(
        (status = 201, description = "created", body = Destination),
        (status = 422, description = "invalid fields, or the probe failed (`connection_test_failed`)", body = ApiError),
        NotAuthenticated, JsonBody, NameTaken,
    )
)]
#[post("/destinations")]
async fn create(
    ctx: Authed,
    body: web::Json<CreateDestinationRequest>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(service::create(&ctx.state, body.into_inner()).await?))
}

/// One destination.
#[utoipa::path(
    operation_id = "get_destination",
    tag = "destinations",
    params(("id" = Uuid, Path, description = "destination id")),
    responses(
        (status = 200, description = "the destination", body = Destination),
        NotAuthenticated, NoSuchDestination,
    )
)]
#[get("/destinations/{id}")]
async fn get(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<Destination>, AppError> {
    Ok(web::Json(service::get(&ctx.state, id.into_inner()).await?))
}

/// Rename or reconfigure a destination. A new configuration is probed before it is saved.
#[utoipa::path(
    operation_id = "update_destination",
    tag = "destinations",
    params(("id" = Uuid, Path, description = "destination id")),
    responses(
        (status = 200, description = "updated", body = Destination),
        (status = 422, description = "invalid fields, or the probe failed", body = ApiError),
        NotAuthenticated, JsonBody, NoSuchDestination, NameTaken,
    )
)]
#[patch("/destinations/{id}")]
async fn update(
    ctx: Authed,
    id: web::Path<Uuid>,
    body: web::Json<UpdateDestinationRequest>,
) -> Result<web::Json<Destination>, AppError> {
    Ok(web::Json(
        service::update(&ctx.state, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Remove a destination from pgward (stored backups are not touched).
#[utoipa::path(
    operation_id = "delete_destination",
    tag = "destinations",
    params(("id" = Uuid, Path, description = "destination id")),
    responses((status = 204, description = "deleted"), NotAuthenticated, NoSuchDestination)
)]
#[delete("/destinations/{id}")]
async fn delete(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    service::delete(&ctx.state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Probe a saved destination and record the outcome in its health.
#[utoipa::path(
    operation_id = "test_destination",
    tag = "destinations",
    params(("id" = Uuid, Path, description = "destination id")),
    responses(
        (status = 200, description = "the outcome; `ok: false` is a failed probe, not an error", body = DestinationTestResult),
        NotAuthenticated, NoSuchDestination,
    )
)]
#[post("/destinations/{id}/test")]
async fn test_saved(
    ctx: Authed,
    id: web::Path<Uuid>,
) -> Result<web::Json<DestinationTestResult>, AppError> {
    Ok(web::Json(
        service::test_saved(&ctx.state, id.into_inner()).await?,
    ))
}

/// Probe an unsaved configuration.
#[utoipa::path(
    operation_id = "test_destination_config",
    tag = "destinations",
    responses(
        (status = 200, description = "the outcome", body = DestinationTestResult),
        (status = 422, description = "invalid configuration", body = ApiError),
        NotAuthenticated, JsonBody,
    )
)]
#[post("/destinations/test-config")]
async fn test_config(
    ctx: Authed,
    body: web::Json<TestDestinationRequest>,
) -> Result<web::Json<DestinationTestResult>, AppError> {
    Ok(web::Json(
        service::test_config(&ctx.state, body.into_inner().config).await?,
    ))
}
