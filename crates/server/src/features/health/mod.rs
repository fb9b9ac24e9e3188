//! Liveness and readiness, public and outside `/api/v1` so that load balancers need no token; and the
//! scheduled health checks of databases and destinations (`checks`).

pub mod checks;

use actix_web::{HttpResponse, get, web};
use pgward_api_types::{Health, Readiness};
use sea_orm::ConnectionTrait;

use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

/// The process is up.
#[utoipa::path(
    operation_id = "healthz",tag = "system", security(()), responses((status = 200, description = "alive", body = Health)))]
#[get("/healthz")]
async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
    })
}

/// Migrations finished and the catalog answers.
#[utoipa::path(
    operation_id = "readyz",
    tag = "system",
    security(()),
    responses(
        (status = 200, description = "ready", body = Readiness),
        (status = 503, description = "starting, or the catalog does not answer", body = Readiness),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let catalog = state.db.execute_unprepared("SELECT 1").await.is_ok();
    if state.is_ready() && catalog {
        HttpResponse::Ok().json(Readiness {
            status: "ready".into(),
            catalog,
        })
    } else {
        HttpResponse::ServiceUnavailable().json(Readiness {
            status: "not_ready".into(),
            catalog,
        })
    }
}
