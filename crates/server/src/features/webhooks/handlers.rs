use actix_web::{HttpResponse, delete, get, patch, post, web};
use pgward_api_types::{
    ApiError, CreateWebhookRequest, UpdateWebhookRequest, Webhook, WebhookDelivery,
    WebhookDeliveryPage, WebhookDeliveryQuery, WebhookList, WebhookPreview, WebhookPreviewRequest,
};
use uuid::Uuid;

use super::{delivery, service};
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::state::AppState;

/// All webhooks, by name, each with its newest delivery's outcome.
#[utoipa::path(
    operation_id = "list_webhooks",
    tag = "webhooks",
    responses(
        (status = 200, description = "the webhooks", body = WebhookList),
        (status = 401, description = "not authenticated", body = ApiError),
    )
)]
#[get("/webhooks")]
async fn list(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<WebhookList>, AppError> {
    Ok(web::Json(service::list(&state).await?))
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
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "created", body = Webhook),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 409, description = "the name is taken", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "invalid fields (the template's message names the line)", body = ApiError),
    )
)]
#[post("/webhooks")]
async fn create(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: web::Json<CreateWebhookRequest>,
) -> Result<HttpResponse, AppError> {
    let w = service::create(&state, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(w))
}

/// Render a webhook's request for a sample event without sending it (the template editor's preview).
#[utoipa::path(
    operation_id = "preview_webhook",
    tag = "webhooks",
    request_body = WebhookPreviewRequest,
    responses(
        (status = 200, description = "the request that would be sent, and the template's variables", body = WebhookPreview),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "the template does not compile or render", body = ApiError),
    )
)]
#[post("/webhooks/preview")]
async fn preview(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: web::Json<WebhookPreviewRequest>,
) -> Result<web::Json<WebhookPreview>, AppError> {
    Ok(web::Json(service::preview(&state, body.into_inner())?))
}

/// One webhook.
#[utoipa::path(
    operation_id = "get_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    responses(
        (status = 200, description = "the webhook", body = Webhook),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such webhook", body = ApiError),
    )
)]
#[get("/webhooks/{id}")]
async fn get(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<web::Json<Webhook>, AppError> {
    Ok(web::Json(service::get(&state, id.into_inner()).await?))
}

/// Change a webhook; omitted fields are kept.
#[utoipa::path(
    operation_id = "update_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "updated", body = Webhook),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such webhook", body = ApiError),
        (status = 409, description = "the name is taken", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "invalid fields", body = ApiError),
    )
)]
#[patch("/webhooks/{id}")]
async fn update(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<UpdateWebhookRequest>,
) -> Result<web::Json<Webhook>, AppError> {
    Ok(web::Json(
        service::update(&state, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Delete a webhook and its delivery log.
#[utoipa::path(
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such webhook", body = ApiError),
    )
)]
#[delete("/webhooks/{id}")]
async fn delete(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    service::delete(&state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Copy a webhook (secrets included) under a new name; the copy starts inactive.
#[utoipa::path(
    operation_id = "duplicate_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    responses(
        (status = 201, description = "the copy", body = Webhook),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such webhook", body = ApiError),
    )
)]
#[post("/webhooks/{id}/duplicate")]
async fn duplicate(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let w = service::duplicate(&state, id.into_inner()).await?;
    Ok(HttpResponse::Created().json(w))
}

/// Send a sample event now (one attempt, logged); inactive webhooks can be tested too.
#[utoipa::path(
    operation_id = "test_webhook",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    responses(
        (status = 200, description = "the delivery with its attempt; `status: failed` is a failed send, not an error", body = WebhookDelivery),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such webhook", body = ApiError),
    )
)]
#[post("/webhooks/{id}/test")]
async fn send_test(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<web::Json<WebhookDelivery>, AppError> {
    Ok(web::Json(
        delivery::send_test(&state, id.into_inner()).await?,
    ))
}

/// A webhook's delivery log, newest first: every attempt with its request and response or error.
#[utoipa::path(
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id"), WebhookDeliveryQuery),
    responses(
        (status = 200, description = "a page of deliveries", body = WebhookDeliveryPage),
        (status = 400, description = "malformed query", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such webhook", body = ApiError),
        (status = 422, description = "invalid limit or cursor", body = ApiError),
    )
)]
#[get("/webhooks/{id}/deliveries")]
async fn deliveries(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
    query: web::Query<WebhookDeliveryQuery>,
) -> Result<web::Json<WebhookDeliveryPage>, AppError> {
    Ok(web::Json(
        delivery::list(&state, id.into_inner(), query.into_inner()).await?,
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
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such webhook or delivery", body = ApiError),
        (status = 409, description = "the delivery is still under way, or it is a run's start whose outcome was delivered since", body = ApiError),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
async fn redeliver(
    state: web::Data<AppState>,
    _auth: Authenticated,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, delivery_id) = path.into_inner();
    let d = delivery::redeliver(&state, id, delivery_id).await?;
    Ok(HttpResponse::Accepted().json(d))
}
