use actix_web::{HttpResponse, delete, get, post, web};
use pgward_api_types::{ApiError, ApiTokenList, CreateApiTokenRequest, CreatedApiToken};
use uuid::Uuid;

use super::service;
use crate::error::AppError;
use crate::features::api::{Authed, JsonBody, NotAuthenticated};

/// Create an API token. The token is in this response only; store it now.
#[utoipa::path(
    operation_id = "create_api_token",
    tag = "tokens",
    responses(
        (status = 201, description = "token created", body = CreatedApiToken),
        (status = 403, description = "an API token cannot create tokens: log in", body = ApiError),
        (status = 422, description = "invalid name or expiry", body = ApiError),
        NotAuthenticated, JsonBody,
    )
)]
#[post("/tokens")]
async fn create(
    ctx: Authed,
    body: web::Json<CreateApiTokenRequest>,
) -> Result<HttpResponse, AppError> {
    let created = service::create(&ctx.state, &ctx.auth, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The caller's active API tokens (without their secrets).
#[utoipa::path(
    operation_id = "list_api_tokens",
    tag = "tokens",
    responses((status = 200, description = "tokens", body = ApiTokenList), NotAuthenticated)
)]
#[get("/tokens")]
async fn list(ctx: Authed) -> Result<web::Json<ApiTokenList>, AppError> {
    Ok(web::Json(ApiTokenList {
        items: service::list(
            &ctx.state,
            ctx.auth.user.id,
            crate::auth::extractor::role_of(&ctx.auth.user),
        )
        .await?,
    }))
}

/// Revoke an API token; it stops working immediately.
#[utoipa::path(
    operation_id = "revoke_api_token",
    tag = "tokens",
    params(("id" = Uuid, Path, description = "token id")),
    responses(
        (status = 204, description = "revoked"),
        (status = 404, description = "no such active token", body = ApiError),
        NotAuthenticated,
    )
)]
#[delete("/tokens/{id}")]
async fn revoke(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    service::revoke(&ctx.state, ctx.auth.user.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
