//! Registered PostgreSQL databases: the source of every backup. Connection strings are validated, tested
//! before they are saved (unless the caller opts out), encrypted at rest and never returned.

mod handlers;
pub mod service;

// test-connection before `{id}` routes so that it is not taken for an id.
crate::features::api::routes! { test_connection, list, create, get, update, delete, test_saved }
