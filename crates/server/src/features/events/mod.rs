//! Events: what happened (health transitions, runs, restores, retention, failed verifications), stored
//! with the data notifications are rendered from, and listed as a timeline.

mod handlers;
pub mod service;
mod stored;

crate::features::api::routes! { list, health_summary }
