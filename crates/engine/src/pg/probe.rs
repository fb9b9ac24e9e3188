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
    /// Something answered at that address and port, but not PostgreSQL (a web server, another database).
    NotPostgres,
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
            Self::NotPostgres => "not_postgres",
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

/// A driver message without the `(crate::module:line)` it may end with: where in a library an error
/// was raised means nothing to an operator.
fn without_source_location(message: &str) -> String {
    match message.rfind(" (") {
        Some(i)
            if message.ends_with(')')
                && message[i + 2..message.len() - 1].contains("::")
                && message[i + 2..message.len() - 1]
                    .rsplit(':')
                    .next()
                    .is_some_and(|line| line.chars().all(|c| c.is_ascii_digit())) =>
        {
            message[..i].to_string()
        }
        _ => message.to_string(),
    }
}

fn not_postgres(conn: &ConnInfo, detail: &str) -> (ProbeErrorKind, String) {
    tracing::debug!(%detail, "the peer does not speak the PostgreSQL protocol");
    (
        ProbeErrorKind::NotPostgres,
        format!(
            "{}:{} answered, but not as a PostgreSQL server: check the host and port (PostgreSQL \
             listens on 5432 unless configured otherwise)",
            conn.host, conn.port
        ),
    )
}

fn classify(conn: &ConnInfo, e: &sqlx::Error, latency: Duration) -> ProbeError {
    let (kind, message) = match e {
        // Something accepted the connection and then said what PostgreSQL never says (a message
        // length from a web server's text) before closing.
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            not_postgres(conn, &io.to_string())
        }
        sqlx::Error::Io(io) => (
            ProbeErrorKind::Unreachable,
            format!(
                "cannot reach {}:{}: {io}. Check the host and port, and that the server accepts \
                 connections from pgward's host (listen_addresses, pg_hba.conf, firewalls)",
                conn.host, conn.port
            ),
        ),
        sqlx::Error::Tls(t) => (
            ProbeErrorKind::Tls,
            format!(
                "TLS handshake failed: {t}. Check sslmode and, for verify-ca or verify-full, the \
                 server's certificate and sslrootcert"
            ),
        ),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") | Some("28000") => (
                ProbeErrorKind::AuthenticationFailed,
                format!(
                    "authentication failed for user \"{}\": check the user name and password (and \
                     pg_hba.conf's method for pgward's host)",
                    conn.username
                ),
            ),
            Some("3D000") => (
                ProbeErrorKind::DatabaseNotFound,
                format!(
                    "database \"{}\" does not exist on {}:{}: check its name (the path of the \
                     connection string)",
                    conn.database, conn.host, conn.port
                ),
            ),
            _ => (
                ProbeErrorKind::Other,
                format!("the server refused the connection: {}", db.message()),
            ),
        },
        // The driver's words for a peer that does not speak the protocol name its own source file
        // ("unexpected response from SSLRequest: 0x48 (sqlx_postgres::connection::tls:95)"): the
        // operator needs to hear that the port is wrong.
        sqlx::Error::Protocol(detail) => not_postgres(conn, detail),
        other => (
            ProbeErrorKind::Other,
            format!(
                "connection failed: {}",
                without_source_location(&other.to_string())
            ),
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_source_locations_are_cut_from_messages() {
        assert_eq!(
            without_source_location("unexpected data (sqlx_postgres::connection::tls:95)"),
            "unexpected data"
        );
        assert_eq!(
            without_source_location("pool timed out (see docs)"),
            "pool timed out (see docs)"
        );
    }

    /// A port where something else listens (here: a web server) is named as such, without the driver's
    /// source location.
    #[tokio::test]
    async fn a_port_that_is_not_postgresql_says_so() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    let _ = s.read(&mut buf).await;
                    let _ = s
                        .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    // Like a web server after a bad request: it says so and closes its side.
                    let _ = s.shutdown().await;
                    while s.read(&mut buf).await.is_ok_and(|n| n > 0) {}
                });
            }
        });
        for mode in ["disable", "prefer"] {
            let url = format!("postgresql://u:pw@127.0.0.1:{port}/db?sslmode={mode}");
            let e = probe(&ConnInfo::parse(&url).unwrap(), Duration::from_secs(10))
                .await
                .unwrap_err();
            assert_eq!(e.kind, ProbeErrorKind::NotPostgres, "{mode}: {}", e.message);
        }
        let conn = ConnInfo::parse(&format!("postgresql://u:pw@127.0.0.1:{port}/db")).unwrap();
        let e = probe(&conn, Duration::from_secs(10)).await.unwrap_err();
        assert_eq!(e.kind, ProbeErrorKind::NotPostgres, "{}", e.message);
        assert!(
            e.message.contains(&format!(
                "127.0.0.1:{port} answered, but not as a PostgreSQL server"
            )),
            "{}",
            e.message
        );
        assert!(!e.message.contains("sqlx"), "{}", e.message);
    }
}
