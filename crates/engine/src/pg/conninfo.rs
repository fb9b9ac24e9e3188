//! Connection strings: parsed once, validated, and shown only in masked form.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use url::Url;

/// Query parameters whose values are secrets and must never be displayed.
const SECRET_PARAMS: &[&str] = &["password", "sslpassword", "passfile", "sslkey"];
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
}

impl ConnInfo {
    pub fn parse(raw: &str) -> Result<Self, ConnInfoError> {
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
        })
    }

    /// The same server and credentials, another database.
    pub fn with_database(&self, database: &str) -> Result<Self, ConnInfoError> {
        let mut u = Url::parse(&self.raw).map_err(|_| ConnInfoError::NotAUrl)?;
        u.path_segments_mut()
            .map_err(|_| ConnInfoError::NotAUrl)?
            .clear()
            .push(database);
        Self::parse(u.as_str())
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
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != "password")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
        u.to_string()
    }

    pub fn connect_options(&self) -> PgConnectOptions {
        // Validated in `parse`, so this cannot fail; fall back to defaults rather than panic.
        PgConnectOptions::from_str(&self.raw).unwrap_or_default()
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
            "postgres://alice:s3cr%40t@db.example.com:6543/app?sslmode=require&password=x2",
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
}
