//! Destinations: where backups are stored (local directory, S3-compatible, GCS, Azure Blob), all through
//! `object_store` except local disk, which the engine writes with temp-file + fsync + rename. Credentials
//! are encrypted at rest and write-only.

mod cleanup;
mod handlers;
mod secrets;
pub mod service;
mod store;

crate::features::api::routes! { test_config, list, create, get, update, delete, test_saved }
