use actix_web::{get, web};
use pgward_api_types::{ApiError, EventListQuery, EventPage, HealthSummary};

use super::service;
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::state::AppState;

/// The event timeline, newest first: health transitions, runs, restores, retention, verifications.
#[utoipa::path(
    operation_id = "list_events",
    tag = "events",
    params(EventListQuery),
    responses(
        (status = 200, description = "a page of events", body = EventPage),
        (status = 400, description = "malformed query", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 422, description = "invalid limit or cursor", body = ApiError),
    )
)]
#[get("/events")]
async fn list(
    state: web::Data<AppState>,
    _auth: Authenticated,
    q: web::Query<EventListQuery>,
) -> Result<web::Json<EventPage>, AppError> {
    Ok(web::Json(service::list(&state, q.into_inner()).await?))
}

/// How many databases and destinations are healthy, unhealthy or not checked yet.
#[utoipa::path(
    operation_id = "health_summary",
    tag = "events",
    responses(
        (status = 200, description = "counts for the dashboard", body = HealthSummary),
        (status = 401, description = "not authenticated", body = ApiError),
    )
)]
#[get("/health/summary")]
async fn health_summary(
    state: web::Data<AppState>,
    _auth: Authenticated,
) -> Result<web::Json<HealthSummary>, AppError> {
    Ok(web::Json(service::health_summary(&state).await?))
}
