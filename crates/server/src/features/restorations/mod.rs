//! Restorations: replay a stored backup into the source database, another registered database, an
//! ad-hoc connection or a new database. A restore runs in the pgward process that accepted it, because
//! its secrets (an ad-hoc connection string, age identities) exist only in that process's memory and are
//! never written to the catalog or the queue. The row's heartbeat is the lease: if that process dies,
//! the scheduler's reaper marks the restore failed ("interrupted").

mod checks;
mod handlers;
mod runner;
pub mod service;

crate::features::api::routes! { create, list, get, cancel, verify, test_restore, contents }
