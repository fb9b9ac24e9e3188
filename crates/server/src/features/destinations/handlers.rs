use actix_web::{HttpResponse, delete, get, patch, post, web};
use pgward_api_types::{
    ApiError, CreateDestinationRequest, Destination, DestinationList, DestinationTestResult,
    TestDestinationRequest, UpdateDestinationRequest,
};
use uuid::Uuid;

use super::service;
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::state::AppState;

/// All destinations (secrets removed).
#[utoipa::path(
    operation_id = "list_destinations",
    tag = "destinations",
    responses(
        (status = 200, description = "destinations", body = DestinationList),
        (status = 401, description = "not authenticated", body = ApiError),
    )
)]
#[get("/destinations")]
async fn list(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<DestinationList>, AppError> {
    Ok(web::Json(DestinationList {
        items: service::list(&state).await?,
    }))
}

/// Create a destination. It is probed (write, read back, delete) first unless `skip_test` is set.
#[utoipa::path(
    operation_id = "create_destination",
    tag = "destinations",
    request_body = CreateDestinationRequest,
    responses(
        (status = 201, description = "created", body = Destination),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 409, description = "the name is taken", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "invalid fields, or the probe failed (`connection_test_failed`)", body = ApiError),
    )
)]
#[post("/destinations")]
async fn create(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: web::Json<CreateDestinationRequest>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(service::create(&state, body.into_inner()).await?))
}

/// One destination.
#[utoipa::path(
    operation_id = "get_destination",
    tag = "destinations",
    params(("id" = Uuid, Path, description = "destination id")),
    responses(
        (status = 200, description = "the destination", body = Destination),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such destination", body = ApiError),
    )
)]
#[get("/destinations/{id}")]
async fn get(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<web::Json<Destination>, AppError> {
    Ok(web::Json(service::get(&state, id.into_inner()).await?))
}

/// Rename or reconfigure a destination. A new configuration is probed before it is saved.
#[utoipa::path(
    operation_id = "update_destination",
    tag = "destinations",
    params(("id" = Uuid, Path, description = "destination id")),
    request_body = UpdateDestinationRequest,
    responses(
        (status = 200, description = "updated", body = Destination),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such destination", body = ApiError),
        (status = 409, description = "the name is taken", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "invalid fields, or the probe failed", body = ApiError),
    )
)]
#[patch("/destinations/{id}")]
async fn update(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<UpdateDestinationRequest>,
) -> Result<web::Json<Destination>, AppError> {
    Ok(web::Json(
        service::update(&state, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Remove a destination from pgward (stored backups are not touched).
#[utoipa::path(
    operation_id = "delete_destination",
    tag = "destinations",
    params(("id" = Uuid, Path, description = "destination id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such destination", body = ApiError),
    )
)]
#[delete("/destinations/{id}")]
async fn delete(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    service::delete(&state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Probe a saved destination and record the outcome in its health.
#[utoipa::path(
    operation_id = "test_destination",
    tag = "destinations",
    params(("id" = Uuid, Path, description = "destination id")),
    responses(
        (status = 200, description = "the outcome; `ok: false` is a failed probe, not an error", body = DestinationTestResult),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such destination", body = ApiError),
    )
)]
#[post("/destinations/{id}/test")]
async fn test_saved(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<web::Json<DestinationTestResult>, AppError> {
    Ok(web::Json(
        service::test_saved(&state, id.into_inner()).await?,
    ))
}

/// Probe an unsaved configuration.
#[utoipa::path(
    operation_id = "test_destination_config",
    tag = "destinations",
    request_body = TestDestinationRequest,
    responses(
        (status = 200, description = "the outcome", body = DestinationTestResult),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "invalid configuration", body = ApiError),
    )
)]
#[post("/destinations/test-config")]
async fn test_config(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: web::Json<TestDestinationRequest>,
) -> Result<web::Json<DestinationTestResult>, AppError> {
    Ok(web::Json(
        service::test_config(&state, body.into_inner().config).await?,
    ))
}
