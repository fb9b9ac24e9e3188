//! pgward's server: configuration, the catalog, authentication, the HTTP API and (later) the workers.
//! `startup.rs` is the one place where these are put together.

pub mod auth;
pub mod background;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod edge;
pub mod error;
pub mod features;
pub mod openapi;
pub mod outbound;
pub mod spa;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use config::Config;
pub use startup::Application;
