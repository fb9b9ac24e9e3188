//! The catalog: pgward's own PostgreSQL database, external (configured URL) or embedded.

pub mod embedded;
pub mod watch;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sea_orm::{DatabaseConnection, SqlxPostgresConnector};
use sea_orm_migration::MigratorTrait;
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::Config;
pub use embedded::EmbeddedCatalog;

/// How long an API request waits for a catalog connection before it answers 503 `catalog_unavailable`:
/// an outage must not hold every request for half a minute.
pub const REQUEST_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(800);
/// Background work (queues, the periodic pass) can wait longer for a busy pool.
pub const BACKGROUND_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects with explicit options (a URL or the embedded server's socket).
pub async fn connect(
    opts: PgConnectOptions,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<DatabaseConnection> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .connect_with(opts)
        .await
        .context("connecting to the catalog database")?;
    Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
}

/// Connection options for the configured external catalog.
pub fn external_options(cfg: &Config) -> anyhow::Result<Option<PgConnectOptions>> {
    let Some(url) = &cfg.catalog.url else {
        return Ok(None);
    };
    let opts = PgConnectOptions::from_str(url.expose_secret())
        .map_err(|_| anyhow::anyhow!("catalog.url is not a valid PostgreSQL URL"))?;
    Ok(Some(opts.application_name("pgward")))
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    pgward_migrations::Migrator::up(db, None)
        .await
        .context("running catalog migrations")
}
