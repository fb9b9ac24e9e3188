//! Webhooks: notifications of events to HTTP receivers — custom (templated), generic JSON, and the
//! Healthchecks, Slack and Discord presets — delivered through the queue with retries and a log.

mod delivery;
mod handlers;
mod log;
mod render;
mod sealed;
mod send;
pub mod service;
mod validate;

crate::features::api::routes! {
    list, create, preview, get, update,
    delete, duplicate, send_test, deliveries, redeliver,
}
