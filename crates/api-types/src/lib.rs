//! The wire contract of the pgward API.
//!
//! Everything a client can send or receive lives here, so the server, the typed client and the SPA can
//! never disagree about a field. No HTTP framework and no database types: this crate builds for wasm32.

pub mod audit;
pub mod auth;
pub mod databases;
pub mod destinations;
pub mod error;
pub mod events;
pub mod executions;
pub mod restorations;
pub mod system;
pub mod tasks;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub use audit::*;
pub use auth::*;
pub use databases::*;
pub use destinations::*;
pub use error::*;
pub use events::*;
pub use executions::*;
pub use restorations::*;
pub use system::*;
pub use tasks::*;
pub use tokens::*;
pub use users::*;
pub use webhooks::*;

/// Prefix of the versioned API; every JSON route lives below it.
pub const API_PREFIX: &str = "/api/v1";
