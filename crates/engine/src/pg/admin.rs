//! Creating, finding and dropping databases on a server pgward restores into (a new database, a
//! test-restore's scratch database): statements that cannot run in a transaction, on a connection of
//! their own.

use std::time::Duration;

use sqlx::{ConnectOptions, Connection};

use super::ConnInfo;
use super::stats::quote_ident;

/// Why an administrative statement did not run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AdminError {
    #[error("timed out connecting")]
    Timeout,
    #[error("{0}")]
    Connect(String),
    #[error("{0}")]
    Statement(String),
}

/// A connection of pgward's own (application_name `pgward`, statements not logged), within `timeout`.
pub async fn connect(
    admin: &ConnInfo,
    timeout: Duration,
) -> Result<sqlx::PgConnection, AdminError> {
    let opts = admin
        .connect_options()
        .application_name("pgward")
        .log_statements(tracing::log::LevelFilter::Off);
    tokio::time::timeout(timeout, opts.connect())
        .await
        .map_err(|_| AdminError::Timeout)?
        .map_err(|e| AdminError::Connect(e.to_string()))
}

/// Whether database `name` exists on the server of `admin`.
pub async fn database_exists(
    admin: &ConnInfo,
    name: &str,
    timeout: Duration,
) -> Result<bool, AdminError> {
    let mut c = connect(admin, timeout).await?;
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut c)
        .await
        .map_err(|e| AdminError::Statement(e.to_string()))?;
    let _ = c.close().await;
    Ok(found.is_some())
}

pub async fn create_database(
    admin: &ConnInfo,
    name: &str,
    timeout: Duration,
) -> Result<(), AdminError> {
    execute(
        admin,
        &format!("CREATE DATABASE {}", quote_ident(name)),
        timeout,
    )
    .await
}

pub async fn drop_database(
    admin: &ConnInfo,
    name: &str,
    timeout: Duration,
) -> Result<(), AdminError> {
    // FORCE (PostgreSQL 13+) ends sessions a killed client may have left for a moment.
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    execute(admin, &sql, timeout).await
}

/// Runs one statement outside a transaction (CREATE/DROP DATABASE cannot run inside one).
async fn execute(admin: &ConnInfo, sql: &str, timeout: Duration) -> Result<(), AdminError> {
    let mut c = connect(admin, timeout).await?;
    // Audited: the only statements are the ones above, with the database name quoted by `quote_ident`.
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .map_err(|e| AdminError::Statement(e.to_string()))?;
    let _ = c.close().await;
    Ok(())
}
