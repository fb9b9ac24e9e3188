//! Backup tasks: what to back up, where to, when (cron in a time zone), how (format, compression,
//! encryption, pg_dump options) and how long to keep it.

mod handlers;
mod schedule;
pub mod service;
mod stored;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::create)
        .service(handlers::get)
        .service(handlers::update)
        .service(handlers::delete)
        .service(handlers::duplicate)
        .service(handlers::next_runs);
}
