//! Everything about talking to PostgreSQL servers: which client binaries exist, how to read a connection
//! string, and how to reach a server.

pub mod admin;
pub mod client;
pub mod conninfo;
pub mod databases;
pub mod discovery;
pub mod probe;
pub mod replace;
pub mod restrict;
pub mod stats;

pub use conninfo::{ConnInfo, ConnInfoError};
pub use discovery::{PgInstall, PgInstalls, discover, major_of};
pub use probe::{ProbeError, ProbeErrorKind, ServerInfo, probe};
