use actix_web::{get, web};
use pgward_api_types::{EventListQuery, EventPage, HealthSummary};

use super::service;
use crate::error::AppError;
use crate::features::api::{Authed, NotAuthenticated, PageQuery};

/// The event timeline, newest first: health transitions, runs, restores, retention, verifications.
#[utoipa::path(
    operation_id = "list_events",
    tag = "events",
    params(EventListQuery),
    responses(
        (status = 200, description = "a page of events", body = EventPage),
        NotAuthenticated, PageQuery,
    )
)]
#[get("/events")]
async fn list(
    ctx: Authed,
    q: web::Query<EventListQuery>,
) -> Result<web::Json<EventPage>, AppError> {
    Ok(web::Json(service::list(&ctx.state, q.into_inner()).await?))
}

/// How many databases and destinations are healthy, unhealthy or not checked yet.
#[utoipa::path(
    operation_id = "health_summary",
    tag = "events",
    responses(
        (status = 200, description = "counts for the dashboard", body = HealthSummary),
        NotAuthenticated,
    )
)]
#[get("/health/summary")]
async fn health_summary(ctx: Authed) -> Result<web::Json<HealthSummary>, AppError> {
    Ok(web::Json(service::health_summary(&ctx.state).await?))
}
