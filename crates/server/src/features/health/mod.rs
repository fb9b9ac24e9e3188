//! Liveness and readiness, public and outside `/api/v1` so that load balancers need no token; and the
//! scheduled health checks of databases and destinations (`service`).

pub mod service;

use actix_web::{HttpResponse, get, web};
use pgward_api_types::{Health, Readiness};
use sea_orm::ConnectionTrait;

use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

/// The process is up.
#[utoipa::path(
    operation_id = "healthz",
    tag = "system",
    security(()),
    responses((status = 200, description = "alive", body = Health))
)]
#[get("/healthz")]
async fn healthz() -> web::Json<Health> {
    web::Json(Health::alive())
}

/// Migrations finished, the catalog answers, and every background part of this process runs.
#[utoipa::path(
    operation_id = "readyz",
    tag = "system",
    security(()),
    responses(
        (status = 200, description = "ready", body = Readiness),
        (status = 503, description = "starting, the catalog does not answer, or a background part is down (`problems` says which)", body = Readiness),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let probe = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        state.db.execute_unprepared("SELECT 1"),
    )
    .await;
    let catalog = matches!(probe, Ok(Ok(_)));
    let mut problems = Vec::new();
    if !state.is_ready() {
        problems.push("starting: catalog migrations have not finished".to_string());
    }
    if !catalog {
        let why = match probe {
            Ok(Err(e)) => e.to_string(),
            _ => "no answer within 1 s".to_string(),
        };
        problems.push(format!("catalog: {why}"));
    }
    for (part, why) in state.live.down() {
        problems.push(format!("{part}: {}", why.unwrap_or_else(|| "down".into())));
    }
    let body = Readiness {
        status: if problems.is_empty() {
            "ready"
        } else {
            "not_ready"
        }
        .into(),
        catalog,
        problems,
    };
    if body.problems.is_empty() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
