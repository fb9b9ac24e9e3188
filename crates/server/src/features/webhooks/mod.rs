//! Webhooks: notifications of events to HTTP receivers — custom (templated), generic JSON, and the
//! Healthchecks, Slack and Discord presets — delivered through the queue with retries and a log.

mod delivery;
mod handlers;
mod log;
mod render;
mod sealed;
mod send;
pub mod service;
mod validate;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::create)
        .service(handlers::preview)
        .service(handlers::get)
        .service(handlers::update)
        .service(handlers::delete)
        .service(handlers::duplicate)
        .service(handlers::send_test)
        .service(handlers::deliveries)
        .service(handlers::redeliver);
}
