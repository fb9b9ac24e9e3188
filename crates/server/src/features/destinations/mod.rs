//! Destinations: where backups are stored (local directory, S3-compatible, GCS, Azure Blob), all through
//! `object_store` except local disk, which the engine writes with temp-file + fsync + rename. Credentials
//! are encrypted at rest and write-only.

mod cleanup;
mod handlers;
mod secrets;
pub mod service;
mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::test_config)
        .service(handlers::list)
        .service(handlers::create)
        .service(handlers::get)
        .service(handlers::update)
        .service(handlers::delete)
        .service(handlers::test_saved);
}
