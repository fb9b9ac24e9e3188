//! Liveness and readiness, public and outside `/api/v1` so that load balancers need no token; and the
//! scheduled health checks of databases and destinations (`checks`).

pub mod checks;

use chrono::{DateTime, Utc};
use pgward_api_types::{HEALTH_INTERVAL_RANGE, HealthInfo, HealthStatus};

use actix_web::{HttpResponse, get, web};
use pgward_api_types::{Health, Readiness};
use sea_orm::ConnectionTrait;

use crate::state::AppState;

/// The health columns databases and destinations share, as the API shows them.
pub fn info(
    status: &str,
    last_checked_at: Option<DateTime<Utc>>,
    last_error: Option<&String>,
    latency_ms: Option<i32>,
    interval_secs: Option<i32>,
    next_check_at: Option<DateTime<Utc>>,
) -> HealthInfo {
    HealthInfo {
        status: HealthStatus::parse(status).unwrap_or(HealthStatus::Unknown),
        last_checked_at,
        last_error: last_error.cloned(),
        latency_ms: latency_ms.and_then(|l| u32::try_from(l).ok()),
        interval_secs: interval_secs.and_then(|i| u32::try_from(i).ok()),
        next_check_at,
    }
}

/// Checks a resource's own interval.
pub fn check_interval(secs: Option<u32>) -> Result<(), String> {
    match secs {
        Some(s) if !HEALTH_INTERVAL_RANGE.contains(&s) => Err(format!(
            "must be {} to {} seconds",
            HEALTH_INTERVAL_RANGE.start(),
            HEALTH_INTERVAL_RANGE.end()
        )),
        _ => Ok(()),
    }
}

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
