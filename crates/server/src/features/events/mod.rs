//! Events: what happened (health transitions, runs, restores, retention, failed verifications), stored
//! with the data notifications are rendered from, and listed as a timeline.

mod handlers;
pub mod service;
mod stored;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::health_summary);
}
