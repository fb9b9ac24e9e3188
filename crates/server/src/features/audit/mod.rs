//! The audit log: every mutation, download and failed sign-in, with who, what, when and from where.
//! Recorded by one middleware around the API (`middleware`), read by admins through `GET /audit`.

mod handlers;
pub mod middleware;
pub mod service;

crate::features::api::routes! { list }
