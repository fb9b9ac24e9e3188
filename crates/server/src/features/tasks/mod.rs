//! Backup tasks: what to back up, where to, when (cron in a time zone), how (format, compression,
//! encryption, pg_dump options) and how long to keep it.

mod handlers;
mod schedule;
pub mod service;
mod stored;

crate::features::api::routes! { list, create, get, update, delete, duplicate, next_runs }
