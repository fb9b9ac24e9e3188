//! Executions: every run of a task (scheduled, manual, API), its live progress, its stored objects;
//! plus the job that runs one (`runner`), the scheduling of due runs (`scheduler`), retention,
//! overdue tasks and uploaded dumps. Other parts of pgward use only `service`.

mod anomaly;
mod checks;
mod handlers;
mod notify;
mod options;
mod overdue;
mod rebuild;
mod retention;
mod runner;
mod scheduler;
mod selfbackup;
pub mod service;
mod slots;
mod stats;
mod upload;

crate::features::api::routes! {
    run_task, list, stats, get, manifest, rebuild_catalog, back_up_catalog, cancel, delete, untrash,
    download, download_url, download_by_link, retention_preview, upload,
}
