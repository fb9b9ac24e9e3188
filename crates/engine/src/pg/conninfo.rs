//! Connection strings: parsed once, validated, and shown only in masked form.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use url::Url;

/// Query parameters whose values are secrets and must never be displayed.
const SECRET_PARAMS: &[&str] = &["sslpassword", "sslkey"];

/// The libpq parameters a connection string may carry in its query. Everything else is refused:
/// `host`, `hostaddr`, `port`, `dbname`, `user` would connect somewhere other than what the URL (and the
/// API) shows, `service`/`servicefile`/`passfile` would read connection settings from pgward's machine,
/// and unknown names may mean something to a later libpq. What is here changes how, never where.
pub const ALLOWED_PARAMS: &[&str] = &[
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslnegotiation",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "channel_binding",
    "require_auth",
    "gssencmode",
    "application_name",
    "connect_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "options",
];
const MAX_LEN: usize = 2048;

/// The parts of a `postgres://` connection string that are safe to show.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnInfo {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    /// The URL with every secret replaced by `***`.
    pub masked: String,
    raw: String,
    /// The address the host resolved to when the outbound policy allowed it (`pin`): clients connect
    /// there (libpq's `hostaddr`), while TLS still verifies the host name.
    pinned: Option<std::net::IpAddr>,
}

// A hand-written Debug keeps the raw string (and its password) out of every log line and panic message.
impl std::fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnInfo")
            .field("masked", &self.masked)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnInfoError {
    #[error("the connection string is empty")]
    Empty,
    #[error("the connection string is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("the connection string must be a URL like postgres://user:password@host:5432/dbname")]
    NotAUrl,
    #[error("the scheme must be postgres:// or postgresql://")]
    Scheme,
    #[error("the connection string has no host")]
    NoHost,
    #[error("the connection string has no user name")]
    NoUser,
    #[error("the port is not a number between 1 and 65535")]
    Port,
    #[error("the connection string is not accepted: {0}")]
    Invalid(String),
    #[error(
        "the parameter {0:?} is not accepted: a connection string says where to connect in its host, \
         port, user and database only (accepted parameters: see the README)"
    )]
    Parameter(String),
    #[error(
        "the host is a unix socket directory, which this pgward does not allow (postgres.allow_unix_sockets)"
    )]
    UnixSocket,
    #[error("the host {0:?} is not a single host name or address")]
    Host(String),
}

impl ConnInfo {
    /// Parses a connection string that names a TCP host (unix sockets refused).
    pub fn parse(raw: &str) -> Result<Self, ConnInfoError> {
        Self::parse_with(raw, false)
    }

    /// Parses a connection string; `allow_unix_sockets` lets the host be a socket directory
    /// (percent-encoded, `postgres://user@%2Fvar%2Frun%2Fpostgresql/db`), which an operator must allow:
    /// a local socket often trusts whoever connects (pgward's own embedded catalog does).
    pub fn parse_with(raw: &str, allow_unix_sockets: bool) -> Result<Self, ConnInfoError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ConnInfoError::Empty);
        }
        if raw.len() > MAX_LEN {
            return Err(ConnInfoError::TooLong);
        }
        let url = Url::parse(raw).map_err(|e| match e {
            url::ParseError::InvalidPort => ConnInfoError::Port,
            url::ParseError::EmptyHost => ConnInfoError::NoHost,
            _ => ConnInfoError::NotAUrl,
        })?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(ConnInfoError::Scheme);
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(ConnInfoError::NoHost)?
            .to_string();
        // libpq decodes the host, treats one that starts with '/' (or '@' on some builds) as a socket
        // directory, and tries each of a comma-separated list in turn.
        let decoded_host = percent_decode(&host);
        if decoded_host.starts_with('/') || decoded_host.starts_with('@') {
            if !allow_unix_sockets {
                return Err(ConnInfoError::UnixSocket);
            }
        } else if decoded_host != host
            || host.contains(',')
            || host.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ConnInfoError::Host(host));
        }
        for (k, _) in url.query_pairs() {
            if !ALLOWED_PARAMS.contains(&k.as_ref()) {
                return Err(ConnInfoError::Parameter(k.into_owned()));
            }
        }
        if url.fragment().is_some() {
            return Err(ConnInfoError::NotAUrl);
        }
        let username = percent_decode(url.username());
        if username.is_empty() {
            return Err(ConnInfoError::NoUser);
        }
        let port = url.port().unwrap_or(5432);
        if port == 0 {
            return Err(ConnInfoError::Port);
        }
        let database = match url.path().trim_start_matches('/') {
            "" => username.clone(),
            db => percent_decode(db),
        };
        // sqlx must accept it too, otherwise probing would fail later with a less helpful message.
        PgConnectOptions::from_str(raw)
            .map_err(|e| ConnInfoError::Invalid(redact(&e.to_string(), &url)))?;

        let mut masked = url.clone();
        if masked.password().is_some() {
            let _ = masked.set_password(Some("***"));
        }
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                    "***".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        if pairs.is_empty() {
            masked.set_query(None);
        } else {
            masked.query_pairs_mut().clear().extend_pairs(pairs);
        }
        Ok(Self {
            host,
            port,
            database,
            username,
            masked: masked.to_string().replace("%2A%2A%2A", "***"),
            raw: raw.to_string(),
            pinned: None,
        })
    }

    /// The same server and credentials, another database.
    pub fn with_database(&self, database: &str) -> Result<Self, ConnInfoError> {
        let mut u = Url::parse(&self.raw).map_err(|_| ConnInfoError::NotAUrl)?;
        u.path_segments_mut()
            .map_err(|_| ConnInfoError::NotAUrl)?
            .clear()
            .push(database);
        let mut other = Self::parse_with(u.as_str(), self.is_unix_socket())?;
        other.pinned = self.pinned;
        Ok(other)
    }

    /// Resolves the host and checks it against the outbound policy; the result connects only to the
    /// allowed address it resolved to. A socket directory passes (`parse_with` decided on it already).
    pub async fn pin(
        mut self,
        policy: &crate::net::OutboundPolicy,
    ) -> Result<Self, crate::net::Refused> {
        if self.is_unix_socket() {
            return Ok(self);
        }
        let addrs = policy.resolve(&self.host, self.port).await?;
        self.pinned = addrs.first().copied();
        Ok(self)
    }

    /// The server this connects to, by identity rather than by spelling: the pinned address (every
    /// loopback address is one machine, an IPv4-mapped IPv6 address its IPv4) and the port; a socket
    /// directory and port. Registrations of one server as `127.0.0.1` and `localhost` get one key.
    pub fn server_key(&self) -> String {
        if self.is_unix_socket() {
            return format!("socket:{}:{}", self.host, self.port);
        }
        match self.pinned.map(|ip| ip.to_canonical()) {
            Some(ip) if ip.is_loopback() => format!("loopback:{}", self.port),
            Some(ip) => std::net::SocketAddr::new(ip, self.port).to_string(),
            None => format!("{}:{}", self.host.to_ascii_lowercase(), self.port),
        }
    }

    /// The address the connection is pinned to, if `pin` ran.
    pub fn pinned(&self) -> Option<std::net::IpAddr> {
        self.pinned
    }

    fn verifies_host_name(&self) -> bool {
        Url::parse(&self.raw).is_ok_and(|u| {
            u.query_pairs()
                .any(|(k, v)| k == "sslmode" && v == "verify-full")
        })
    }

    /// Whether the host is a socket directory.
    pub fn is_unix_socket(&self) -> bool {
        percent_decode(&self.host).starts_with(['/', '@'])
    }

    /// The secret connection string itself, for connecting. Never log or serialise it.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The password, if the URL has one (percent-decoded). For PGPASSWORD; never log it.
    pub fn password(&self) -> Option<String> {
        Url::parse(&self.raw)
            .ok()
            .and_then(|u| u.password().map(percent_decode))
            .filter(|p| !p.is_empty())
    }

    /// The URL without its password (and without secret query parameters), for client programs that get
    /// the password through PGPASSWORD instead of their command line.
    pub fn without_password(&self) -> String {
        let Ok(mut u) = Url::parse(&self.raw) else {
            return String::new();
        };
        let _ = u.set_password(None);
        let mut pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != "password")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if let Some(ip) = self.pinned {
            pairs.push(("hostaddr".into(), ip.to_string()));
        }
        if pairs.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
        u.to_string()
    }

    pub fn connect_options(&self) -> PgConnectOptions {
        // Validated in `parse`, so this cannot fail; fall back to defaults rather than panic.
        let opts = PgConnectOptions::from_str(&self.raw).unwrap_or_default();
        match self.pinned {
            // sqlx has no hostaddr: it dials the pinned address, unless TLS must verify the name
            // against the certificate (then it resolves the name again, moments after the check).
            Some(ip) if !self.verifies_host_name() => opts.host(&ip.to_string()),
            _ => opts,
        }
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// Error text from a parser may quote the input; strip the password if it does.
fn redact(msg: &str, url: &Url) -> String {
    match url.password() {
        Some(pw) if !pw.is_empty() => msg.replace(pw, "***"),
        _ => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_password_and_secret_parameters() {
        let c = ConnInfo::parse(
            "postgres://alice:s3cr%40t@db.example.com:6543/app?sslmode=require&sslpassword=x2",
        )
        .unwrap();
        assert_eq!(c.host, "db.example.com");
        assert_eq!(c.port, 6543);
        assert_eq!(c.database, "app");
        assert_eq!(c.username, "alice");
        assert!(!c.masked.contains("s3cr"), "{}", c.masked);
        assert!(!c.masked.contains("x2"), "{}", c.masked);
        assert!(c.masked.contains("sslmode=require"));
        assert!(!format!("{c:?}").contains("s3cr"));
    }

    #[test]
    fn refuses_every_parameter_that_could_redirect_the_connection() {
        for p in [
            "host=10.0.0.9",
            "hostaddr=10.0.0.9",
            "port=5433",
            "dbname=postgres",
            "user=postgres",
            "password=x",
            "service=prod",
            "servicefile=/etc/passwd",
            "passfile=/root/.pgpass",
            "target_session_attrs=any&host=x",
            "unknown_future_option=1",
        ] {
            let raw = format!("postgres://app@db.example.com/app?{p}");
            assert!(
                matches!(ConnInfo::parse(&raw), Err(ConnInfoError::Parameter(_))),
                "{raw}"
            );
        }
        for host in ["h1,h2", "%2Fvar%2Frun%2Fpostgresql", "%40abstract", "a%20b"] {
            let raw = format!("postgres://app@{host}/app");
            assert!(ConnInfo::parse(&raw).is_err(), "{raw}");
        }
        let socket = ConnInfo::parse_with("postgres://app@%2Ftmp/app", true).unwrap();
        assert!(socket.is_unix_socket());
        assert_eq!(
            ConnInfo::parse("postgres://app@%2Ftmp/app"),
            Err(ConnInfoError::UnixSocket)
        );
        assert!(
            ConnInfo::parse("postgres://app@db/app?sslmode=verify-full&connect_timeout=5").is_ok()
        );
    }

    #[test]
    fn defaults_port_and_database() {
        let c = ConnInfo::parse("postgresql://bob@localhost").unwrap();
        assert_eq!((c.port, c.database.as_str()), (5432, "bob"));
    }

    #[test]
    fn rejects_what_is_not_a_postgres_url() {
        assert_eq!(ConnInfo::parse(""), Err(ConnInfoError::Empty));
        assert_eq!(
            ConnInfo::parse("host=x user=y"),
            Err(ConnInfoError::NotAUrl)
        );
        assert_eq!(ConnInfo::parse("mysql://a@b/c"), Err(ConnInfoError::Scheme));
        assert_eq!(
            ConnInfo::parse("postgres://host/db"),
            Err(ConnInfoError::NoUser)
        );
        assert_eq!(
            ConnInfo::parse("postgres://u@h:99999/db"),
            Err(ConnInfoError::Port)
        );
    }

    #[tokio::test]
    async fn aliases_of_one_server_share_a_key() {
        let policy = crate::net::OutboundPolicy::permissive();
        let key = |raw: &'static str| {
            let policy = policy.clone();
            async move {
                ConnInfo::parse(raw)
                    .unwrap()
                    .pin(&policy)
                    .await
                    .unwrap()
                    .server_key()
            }
        };
        let a = key("postgres://u:p@127.0.0.1:5433/a").await;
        assert_eq!(a, key("postgres://u:p@localhost:5433/b").await);
        assert_eq!(a, key("postgres://u:p@[::1]:5433/c").await);
        assert_eq!(a, key("postgres://u:p@127.0.0.2:5433/c").await);
        assert_ne!(a, key("postgres://u:p@127.0.0.1:5434/a").await);
        assert_eq!(
            key("postgres://u:p@[::ffff:192.0.2.7]:5432/a").await,
            key("postgres://u:p@192.0.2.7:5432/b").await
        );
    }
}
