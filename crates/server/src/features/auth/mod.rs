//! First-user setup, login, refresh, logout and `GET /me`.

mod handlers;
pub mod service;

crate::features::api::routes! { status, setup, login, refresh, logout, me, change_password }
