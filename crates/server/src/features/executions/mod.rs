//! Executions: every run of a task (scheduled, manual, API), its live progress, its stored objects;
//! plus the job that runs one (`runner`), the queue it travels on (`jobs`, apalis on PostgreSQL) and the
//! scheduler that creates due runs (`scheduler`).

mod handlers;
pub mod jobs;
pub mod overdue;
pub mod retention;
pub mod runner;
pub mod scheduler;
pub mod service;
pub mod upload;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::run_task)
        .service(handlers::list)
        .service(handlers::get)
        .service(handlers::cancel)
        .service(handlers::delete)
        .service(handlers::untrash)
        .service(handlers::download)
        .service(handlers::download_url)
        .service(handlers::download_by_link)
        .service(handlers::retention_preview)
        .service(handlers::upload);
}
