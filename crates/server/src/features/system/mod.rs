//! `GET /api/v1/system`: what this pgward is and which PostgreSQL clients it can use.

use actix_web::{get, web};
use pgward_api_types::{PgClient, SystemInfo};

use crate::features::api::{Authed, NotAuthenticated};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(system_info);
}

#[utoipa::path(
    operation_id = "system_info",
    tag = "system",
    responses(
        (status = 200, description = "version and PostgreSQL clients found", body = SystemInfo),
        NotAuthenticated,
    )
)]
#[get("/system")]
async fn system_info(ctx: Authed) -> web::Json<SystemInfo> {
    let state = &ctx.state;
    let pg_clients = state
        .pg
        .installs
        .iter()
        .filter(|i| i.has_pg_dump || i.has_psql)
        .map(|i| PgClient {
            major: i.major,
            version: i.version.clone(),
            bin_dir: i.bin_dir.display().to_string(),
            complete: i.is_complete_client(),
        })
        .collect();
    web::Json(SystemInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        pg_client_majors: state.pg.client_majors(),
        pg_clients,
        catalog: if state.embedded_catalog {
            "embedded".into()
        } else {
            "external".into()
        },
    })
}
