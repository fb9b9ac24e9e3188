//! API tokens for automation: shown once, stored as sha256, revocable.

mod handlers;
pub mod service;

crate::features::api::routes! { create, list, revoke }
