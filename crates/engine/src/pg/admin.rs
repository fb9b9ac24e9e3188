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

/// Empties database `conn` names, for a "clean" restore of a plain dump (which has no list of its
/// objects to drop): every schema but the system ones is dropped with what it holds (tables, functions,
/// extensions in it) and `public` is recreated as a new database has it. One statement, so it happens
/// wholly or not at all.
pub async fn empty_database(conn: &ConnInfo, timeout: Duration) -> Result<(), AdminError> {
    let mut c = connect(conn, timeout).await?;
    let sql = r#"DO $clean$
DECLARE s text;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema')
             AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp\_%'
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
  IF current_setting('server_version_num')::int >= 150000 THEN
    EXECUTE 'CREATE SCHEMA public AUTHORIZATION pg_database_owner';
    EXECUTE 'GRANT USAGE ON SCHEMA public TO PUBLIC';
  ELSE
    EXECUTE 'CREATE SCHEMA public';
    EXECUTE 'GRANT ALL ON SCHEMA public TO PUBLIC';
  END IF;
  EXECUTE 'COMMENT ON SCHEMA public IS ''standard public schema''';
END
$clean$"#;
    let out = sqlx::raw_sql(sql)
        .execute(&mut c)
        .await
        .map(|_| ())
        .map_err(|e| AdminError::Statement(e.to_string()));
    let _ = c.close().await;
    out
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
