//! pgward's integration tests: one binary, real PostgreSQL servers (13-18), real HTTP, a real browser.

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod backup_engine;
mod browser;
mod cloud_destinations;
mod databases;
mod destinations;
mod embedded;
mod events;
mod executions;
mod messages;
mod outages;
mod recovery;
mod restorations;
mod retention;
mod routes;
mod scheduling;
mod schemathesis;
mod sdk;
mod secrets;
mod security;
mod server_tasks;
mod system;
mod tasks;
mod teams;
mod tokens;
mod webhooks;
mod workers;
