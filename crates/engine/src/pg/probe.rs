//! Reaching a PostgreSQL server: connect, read its version, disconnect.

use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection};

use super::ConnInfo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// e.g. `17.11` (from `server_version`, without distribution suffixes).
    pub version: String,
    pub major: u32,
    pub latency: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeErrorKind {
    Unreachable,
    Timeout,
    AuthenticationFailed,
    DatabaseNotFound,
    Tls,
    /// The outbound policy refused the address (nothing was dialled).
    AddressNotAllowed,
    Other,
}

impl ProbeErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unreachable => "unreachable",
            Self::Timeout => "timeout",
            Self::AuthenticationFailed => "authentication_failed",
            Self::DatabaseNotFound => "database_not_found",
            Self::Tls => "tls",
            Self::AddressNotAllowed => "address_not_allowed",
            Self::Other => "other",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProbeError {
    pub kind: ProbeErrorKind,
    pub message: String,
    pub latency: Duration,
}

/// Connects once with `timeout` for the whole attempt and reads the server version.
#[tracing::instrument(skip_all, fields(target = %conn.masked))]
pub async fn probe(conn: &ConnInfo, timeout: Duration) -> Result<ServerInfo, ProbeError> {
    let started = Instant::now();
    let opts = conn
        .connect_options()
        .application_name("pgward")
        .log_statements(tracing::log::LevelFilter::Off);
    let attempt = async {
        let mut c = opts.connect().await?;
        let row: (String, i32) = sqlx::query_as(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int",
        )
        .fetch_one(&mut c)
        .await?;
        let _ = c.close().await;
        Ok::<_, sqlx::Error>(row)
    };
    let result = tokio::time::timeout(timeout, attempt).await;
    let latency = started.elapsed();
    match result {
        Err(_) => Err(ProbeError {
            kind: ProbeErrorKind::Timeout,
            message: format!(
                "no answer from {}:{} within {} s",
                conn.host,
                conn.port,
                timeout.as_secs()
            ),
            latency,
        }),
        Ok(Err(e)) => Err(classify(conn, &e, latency)),
        Ok(Ok((version, num))) => {
            let version = version
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            Ok(ServerInfo {
                version,
                major: (num / 10000) as u32,
                latency,
            })
        }
    }
}

fn classify(conn: &ConnInfo, e: &sqlx::Error, latency: Duration) -> ProbeError {
    let (kind, message) = match e {
        sqlx::Error::Io(io) => (
            ProbeErrorKind::Unreachable,
            format!("cannot reach {}:{}: {io}", conn.host, conn.port),
        ),
        sqlx::Error::Tls(t) => (ProbeErrorKind::Tls, format!("TLS handshake failed: {t}")),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") | Some("28000") => (
                ProbeErrorKind::AuthenticationFailed,
                format!("authentication failed for user \"{}\"", conn.username),
            ),
            Some("3D000") => (
                ProbeErrorKind::DatabaseNotFound,
                format!("database \"{}\" does not exist", conn.database),
            ),
            _ => (
                ProbeErrorKind::Other,
                format!("the server refused the connection: {}", db.message()),
            ),
        },
        other => (ProbeErrorKind::Other, format!("connection failed: {other}")),
    };
    // Belt and braces: whatever a driver puts into an error, the password never leaves this function.
    let message = match url::Url::parse(conn.expose())
        .ok()
        .and_then(|u| u.password().map(str::to_string))
    {
        Some(pw) if !pw.is_empty() => message.replace(&pw, "***"),
        _ => message,
    };
    ProbeError {
        kind,
        message,
        latency,
    }
}
