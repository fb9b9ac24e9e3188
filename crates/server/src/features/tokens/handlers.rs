use actix_web::{HttpResponse, delete, get, post, web};
use pgward_api_types::{ApiError, ApiTokenList, CreateApiTokenRequest, CreatedApiToken};
use uuid::Uuid;

use super::service;
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::state::AppState;

/// Create an API token. The token is in this response only; store it now.
#[utoipa::path(
    operation_id = "create_api_token",
    tag = "tokens",
    request_body = CreateApiTokenRequest,
    responses(
        (status = 201, description = "token created", body = CreatedApiToken),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 403, description = "an API token cannot create tokens: log in", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "invalid name or expiry", body = ApiError),
    )
)]
#[post("/tokens")]
async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: web::Json<CreateApiTokenRequest>,
) -> Result<HttpResponse, AppError> {
    let created = service::create(&state, &auth, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The caller's active API tokens (without their secrets).
#[utoipa::path(
    operation_id = "list_api_tokens",
    tag = "tokens",
    responses(
        (status = 200, description = "tokens", body = ApiTokenList),
        (status = 401, description = "not authenticated", body = ApiError),
    )
)]
#[get("/tokens")]
async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<ApiTokenList>, AppError> {
    Ok(web::Json(ApiTokenList {
        items: service::list(&state, auth.user.id).await?,
    }))
}

/// Revoke an API token; it stops working immediately.
#[utoipa::path(
    operation_id = "revoke_api_token",
    tag = "tokens",
    params(("id" = Uuid, Path, description = "token id")),
    responses(
        (status = 204, description = "revoked"),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such active token", body = ApiError),
    )
)]
#[delete("/tokens/{id}")]
async fn revoke(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    service::revoke(&state, auth.user.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
