//! API tokens for automation: shown once, stored as sha256, revocable.

mod handlers;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::create)
        .service(handlers::list)
        .service(handlers::revoke);
}
