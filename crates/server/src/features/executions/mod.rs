//! Executions: every run of a task (scheduled, manual, API), its live progress, its stored objects;
//! plus the job that runs one (`runner`), the scheduling of due runs (`scheduler`), retention,
//! overdue tasks and uploaded dumps. Other parts of pgward use only `service`.

mod anomaly;
mod checks;
mod handlers;
mod notify;
mod options;
mod overdue;
mod retention;
mod runner;
mod scheduler;
pub mod service;
mod slots;
mod upload;

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
