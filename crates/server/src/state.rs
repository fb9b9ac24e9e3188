//! What every handler can reach: built once in `startup.rs` and shared through `web::Data`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pgward_engine::pg::PgInstalls;
use sea_orm::DatabaseConnection;

use crate::auth::Auth;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::Config;
use crate::crypto::SecretBox;

#[derive(Clone)]
pub struct AppState {
    /// The catalog. API requests get a pool that gives up fast during an outage; background work (see
    /// `background::start`) gets `background_db` here instead.
    pub db: DatabaseConnection,
    pub background_db: DatabaseConnection,
    pub config: Arc<Config>,
    pub auth: Auth,
    pub secrets: SecretBox,
    pub pg: Arc<PgInstalls>,
    pub login_limiter: Arc<LoginLimiter>,
    /// The one-time code first-user setup needs when pgward listens beyond loopback.
    pub setup_code: Option<Arc<secrecy::SecretString>>,
    /// The user psql runs as (pgward as root), else `None`.
    pub client_user: Option<pgward_engine::pg::client::ClientUser>,
    /// What pgward may dial on a user's behalf.
    pub outbound: crate::outbound::Outbound,
    pub ready: Arc<AtomicBool>,
    /// The supervised background parts of this process, for `/readyz`.
    pub live: Arc<crate::background::supervise::Liveness>,
    /// Whether the catalog answers, as the probe loop last saw it.
    pub catalog_watch: Arc<crate::catalog::watch::CatalogWatch>,
    pub embedded_catalog: bool,
    /// The catalog database's URL (the embedded server's socket, or `catalog.url`): what the
    /// self-backup dumps. Never dialled on a user's behalf.
    pub catalog_url: Option<Arc<secrecy::SecretString>>,
    /// The job queues (backups, webhook deliveries, health checks).
    pub queues: crate::background::queues::Queues,
}

impl AppState {
    /// This state for work that outlives a request (backups, restores, checks, the periodic pass): the
    /// background pool, which waits for a busy catalog instead of failing fast like a request must.
    pub fn background(&self) -> AppState {
        AppState {
            db: self.background_db.clone(),
            ..self.clone()
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}
