//! Registered PostgreSQL databases: the source of every backup. Connection strings are validated, tested
//! before they are saved (unless the caller opts out), encrypted at rest and never returned.

mod handlers;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // test-connection before `{id}` routes so that it is not taken for an id.
    cfg.service(handlers::test_connection)
        .service(handlers::list)
        .service(handlers::create)
        .service(handlers::get)
        .service(handlers::update)
        .service(handlers::delete)
        .service(handlers::test_saved);
}
