//! Subcommands that are more than a call into `startup`.

pub mod dump;
pub mod restore;
pub mod secrets;
