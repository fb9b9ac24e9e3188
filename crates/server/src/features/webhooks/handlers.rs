use actix_web::{HttpResponse, delete, get, patch, post, web};
use pgward_api_types::{
    ApiError, CreateWebhookRequest, UpdateWebhookRequest, Webhook, WebhookDelivery,
    WebhookDeliveryPage, WebhookDeliveryQuery, WebhookList, WebhookPreview, WebhookPreviewRequest,
};
use uuid::Uuid;

use super::{delivery, service};
use crate::error::AppError;
use crate::features::api::{
    Authed, JsonBody, NameTaken, NoSuchWebhook, NotAuthenticated, PageQuery,
};

/// All webhooks, by name, each with its newest delivery's outcome.
#[utoipa::path(
    operation_id = "list_webhooks",
    tag = "webhooks",
    responses((status = 200, description = "the webhooks", body = WebhookList), NotAuthenticated)
)]
#[get("/webhooks")]
async fn list(ctx: Authed) -> Result<web::Json<WebhookList>, AppError> {
    Ok(web::Json(service::list(&ctx.state).await?))
}

/// Create a webhook. The URL, header values and secret are stored encrypted and never shown again.
///
/// Template variables (minijinja syntax, e.g. `{{ task.name }}`, `{{ size | tojson }}`): `event`,
/// `event_id`, `title`, `icon`, `status`, `timezone`, `task` (`id`, `name`), `database` (`id`, `name`),
/// `destination`, `execution` and `restoration` (as the API returns them), `execution_id`,
/// `restoration_id`, `size`, `size_human`, `duration_ms`, `duration_secs`, `duration_human`, `error`,
/// `stderr_tail`, `occurred_at`, `started_at`, `finished_at` (RFC 3339 in the task's time zone) and
/// their `*_text` forms, `links` (`app`, `event`, `execution`, `execution_api`, `restoration`,
/// `restoration_api`, `task`), `data` (the event's raw data).
#[utoipa::path(
    operation_id = "create_webhook",
    tag = "webhooks",
    responses(
        (status = 201, description = "created", body = Webhook),
        (status = 422, description = "invalid fields (the template's message names the line)", body = ApiError),
        NotAuthenticated, JsonBody, NameTaken,
    )
)]
#[post("/webhooks")]
async fn create(
    ctx: Authed,
    body: web::Json<CreateWebhookRequest>,
) -> Result<HttpResponse, AppError> {
    let w = service::create(&ctx.state, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(w))
}

/// Render a webhook's request for a sample event without sending it (the template editor's preview).
#[utoipa::path(
    operation_id = "preview_webhook",
    tag = "webhooks",
    responses(
        (status = 200, description = "the request that would be sent, and the template's variables", body = WebhookPreview),
        (status = 422, description = "the template does not compile or render", body = ApiError),
        NotAuthenticated, JsonBody,
    )
)]
#[post("/webhooks/preview")]
async fn preview(
    ctx: Authed,
    body: web::Json<WebhookPreviewRequest>,
) -> Result<web::Json<WebhookPreview>, AppError> {
    Ok(web::Json(service::preview(&ctx.state, body.into_inner())?))
}

/// One webhook.
#[utoipa::path(
    operation_id = "get_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    responses(
        (status = 200, description = "the webhook", body = Webhook),
        NotAuthenticated, NoSuchWebhook,
    )
)]
#[get("/webhooks/{id}")]
async fn get(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<Webhook>, AppError> {
    Ok(web::Json(service::get(&ctx.state, id.into_inner()).await?))
}

/// Change a webhook; omitted fields are kept.
#[utoipa::path(
    operation_id = "update_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    responses(
        (status = 200, description = "updated", body = Webhook),
        (status = 422, description = "invalid fields", body = ApiError),
        NotAuthenticated, JsonBody, NoSuchWebhook, NameTaken,
    )
)]
#[patch("/webhooks/{id}")]
async fn update(
    ctx: Authed,
    id: web::Path<Uuid>,
    body: web::Json<UpdateWebhookRequest>,
) -> Result<web::Json<Webhook>, AppError> {
    Ok(web::Json(
        service::update(&ctx.state, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Delete a webhook and its delivery log.
#[utoipa::path(
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    responses((status = 204, description = "deleted"), NotAuthenticated, NoSuchWebhook)
)]
#[delete("/webhooks/{id}")]
async fn delete(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    service::delete(&ctx.state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Copy a webhook (secrets included) under a new name; the copy starts inactive.
#[utoipa::path(
    operation_id = "duplicate_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    responses((status = 201, description = "the copy", body = Webhook), NotAuthenticated, NoSuchWebhook)
)]
#[post("/webhooks/{id}/duplicate")]
async fn duplicate(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    let w = service::duplicate(&ctx.state, id.into_inner()).await?;
    Ok(HttpResponse::Created().json(w))
}

/// Send a sample event now (one attempt, logged); inactive webhooks can be tested too.
#[utoipa::path(
    operation_id = "test_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    responses(
        (status = 200, description = "the delivery with its attempt; `status: failed` is a failed send, not an error", body = WebhookDelivery),
        NotAuthenticated, NoSuchWebhook,
    )
)]
#[post("/webhooks/{id}/test")]
async fn send_test(
    ctx: Authed,
    id: web::Path<Uuid>,
) -> Result<web::Json<WebhookDelivery>, AppError> {
    Ok(web::Json(
        delivery::send_test(&ctx.state, id.into_inner()).await?,
    ))
}

/// A webhook's delivery log, newest first: every attempt with its request and response or error. For a
/// viewer, the request bodies are empty.
#[utoipa::path(
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id"), WebhookDeliveryQuery),
    responses(
        (status = 200, description = "a page of deliveries", body = WebhookDeliveryPage),
        NotAuthenticated, PageQuery, NoSuchWebhook,
    )
)]
#[get("/webhooks/{id}/deliveries")]
async fn deliveries(
    ctx: Authed,
    id: web::Path<Uuid>,
    query: web::Query<WebhookDeliveryQuery>,
) -> Result<web::Json<WebhookDeliveryPage>, AppError> {
    Ok(web::Json(
        delivery::list(
            &ctx.state,
            id.into_inner(),
            query.into_inner(),
            ctx.auth.role,
        )
        .await?,
    ))
}

/// Send a delivery's event again as a new delivery (through the queue, with retries); answers with it.
#[utoipa::path(
    operation_id = "redeliver_webhook_delivery",
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "webhook id"),
        ("delivery_id" = Uuid, Path, description = "delivery id"),
    ),
    responses(
        (status = 202, description = "queued as a new delivery", body = WebhookDelivery),
        (status = 404, description = "no such webhook or delivery", body = ApiError),
        (status = 409, description = "the delivery is still under way, or it is a run's start whose outcome was delivered since", body = ApiError),
        NotAuthenticated,
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
async fn redeliver(ctx: Authed, path: web::Path<(Uuid, Uuid)>) -> Result<HttpResponse, AppError> {
    let (id, delivery_id) = path.into_inner();
    let d = delivery::redeliver(&ctx.state, id, delivery_id).await?;
    Ok(HttpResponse::Accepted().json(d))
}
