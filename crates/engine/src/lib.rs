//! pgward's data plane. It knows PostgreSQL and storage, and nothing about HTTP or the catalog.

pub mod abort;
pub mod backup;
pub mod net;
pub mod pg;
pub mod restore;
pub mod toc;
