//! Replacing a database with a restored copy in one short step. The restore goes into a new database
//! on the same server; only once it is complete and checked does one transaction rename the original
//! to a kept name and the copy to the original's name, so the original is never half-restored. Renames
//! need a connection to another database of the server (the maintenance database).

use std::time::Duration;

use sqlx::Connection;

use super::ConnInfo;
use super::admin::{AdminError, connect};
use super::stats::quote_ident;

/// How long ended sessions (and pgward's own just-closed restore connections) get to go away.
const SESSIONS_GONE_WITHIN: Duration = Duration::from_secs(15);

/// A session connected to a database, as an operator would want to see it before ending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub pid: i32,
    pub user: String,
    pub application: String,
    pub client: String,
}

impl std::fmt::Display for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let app = if self.application.is_empty() {
            "no application name"
        } else {
            &self.application
        };
        write!(
            f,
            "pid {} ({}, {app}, {})",
            self.pid, self.user, self.client
        )
    }
}

/// Why a swap did not happen; the original database is untouched in every case.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SwapError {
    /// Other sessions use the database and ending them was not allowed (or they did not end).
    #[error("{} session(s) are connected to \"{database}\": {}", .sessions.len(), list(.sessions))]
    InUse {
        database: String,
        sessions: Vec<Session>,
    },
    #[error(transparent)]
    Admin(#[from] AdminError),
}

fn list(sessions: &[Session]) -> String {
    let mut shown: Vec<String> = sessions.iter().take(5).map(ToString::to_string).collect();
    if sessions.len() > 5 {
        shown.push(format!("and {} more", sessions.len() - 5));
    }
    shown.join("; ")
}

/// A connection to a database of `server`'s server other than the ones being renamed: `postgres`, else
/// `template1` (every server has one of them).
pub async fn maintenance(
    server: &ConnInfo,
    timeout: Duration,
) -> Result<sqlx::PgConnection, AdminError> {
    let mut last = AdminError::Timeout;
    for db in ["postgres", "template1"] {
        let Ok(conn) = server.with_database(db) else {
            continue;
        };
        match connect(&conn, timeout).await {
            Ok(c) => return Ok(c),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn statement(e: sqlx::Error) -> AdminError {
    AdminError::Statement(e.to_string())
}

/// Sessions other than this connection's on database `name`.
pub async fn sessions_on(
    c: &mut sqlx::PgConnection,
    name: &str,
) -> Result<Vec<Session>, AdminError> {
    type Row = (i32, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT pid, usename::text, application_name, \
                COALESCE(host(client_addr), 'local socket') \
         FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() ORDER BY pid",
    )
    .bind(name)
    .fetch_all(&mut *c)
    .await
    .map_err(statement)?;
    Ok(rows
        .into_iter()
        .map(|(pid, user, app, client)| Session {
            pid,
            user: user.unwrap_or_default(),
            application: app.unwrap_or_default(),
            client: client.unwrap_or_default(),
        })
        .collect())
}

/// The sessions on database `name` of `server`'s server (none: it may be replaced without ending any).
pub async fn sessions(
    server: &ConnInfo,
    name: &str,
    timeout: Duration,
) -> Result<Vec<Session>, AdminError> {
    let mut c = maintenance(server, timeout).await?;
    let out = sessions_on(&mut c, name).await;
    let _ = c.close().await;
    out
}

/// Waits until no other session is on `name`; the sessions still there after the wait otherwise.
async fn wait_until_unused(
    c: &mut sqlx::PgConnection,
    name: &str,
) -> Result<Vec<Session>, AdminError> {
    let deadline = tokio::time::Instant::now() + SESSIONS_GONE_WITHIN;
    loop {
        let left = sessions_on(c, name).await?;
        if left.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(left);
        }
        // Backends leave asynchronously after their client closed or was signalled; this polls the
        // server's own view until they have.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates `name` as an empty database shaped like `like` (encoding, collation, character type; from
/// template0 so nothing of template1 is in the way of the restore).
pub async fn create_like(
    server: &ConnInfo,
    like: &str,
    name: &str,
    timeout: Duration,
) -> Result<(), AdminError> {
    let mut c = maintenance(server, timeout).await?;
    let shape: Option<(String, String, String)> = sqlx::query_as(
        "SELECT pg_encoding_to_char(encoding)::text, datcollate::text, datctype::text \
         FROM pg_database WHERE datname = $1",
    )
    .bind(like)
    .fetch_optional(&mut c)
    .await
    .map_err(statement)?;
    let (encoding, collate, ctype) = shape
        .ok_or_else(|| AdminError::Statement(format!("database \"{like}\" does not exist")))?;
    let sql = format!(
        "CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}",
        quote_ident(name),
        quote_literal(&encoding),
        quote_literal(&collate),
        quote_literal(&ctype)
    );
    // Audited: the name is quoted by `quote_ident`, the rest are the server's own values as literals.
    let out = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut c)
        .await
        .map(|_| ())
        .map_err(statement);
    let _ = c.close().await;
    out
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// What the swap did besides the renames (each best effort: the restored data is in place either way).
#[derive(Debug, Default, Clone)]
pub struct Swapped {
    /// Sessions on the original that were ended.
    pub ended_sessions: usize,
    /// Properties of the original the copy could not take over (owner, settings, grants), and why.
    pub not_copied: Vec<String>,
}

/// Swaps `copy` in for `original` (kept as `kept`): carries the original's owner, per-database
/// settings and grants over to the copy, ends the original's sessions when `end_sessions` (after
/// refusing new ones), then renames both in one transaction. On any error nothing was renamed and the
/// original accepts connections as before.
pub async fn swap(
    server: &ConnInfo,
    original: &str,
    copy: &str,
    kept: &str,
    end_sessions: bool,
    timeout: Duration,
) -> Result<Swapped, SwapError> {
    let mut c = maintenance(server, timeout).await?;
    let mut out = Swapped {
        not_copied: carry_over(&mut c, original, copy).await,
        ..Swapped::default()
    };
    // The restore's own connections to the copy have closed; their backends may need a moment.
    let left = wait_until_unused(&mut c, copy).await?;
    if !left.is_empty() {
        return Err(SwapError::InUse {
            database: copy.to_string(),
            sessions: left,
        });
    }
    let q_original = quote_ident(original);
    let mut refused_connections = false;
    if end_sessions {
        exec(
            &mut c,
            &format!("ALTER DATABASE {q_original} WITH ALLOW_CONNECTIONS false"),
        )
        .await?;
        refused_connections = true;
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(original)
        .fetch_all(&mut c)
        .await
        .map_err(statement)?;
        out.ended_sessions = ended.into_iter().filter(|b| *b).count();
        let left = wait_until_unused(&mut c, original).await?;
        if !left.is_empty() {
            reopen(&mut c, &q_original).await;
            return Err(SwapError::InUse {
                database: original.to_string(),
                sessions: left,
            });
        }
    } else {
        let there = sessions_on(&mut c, original).await?;
        if !there.is_empty() {
            return Err(SwapError::InUse {
                database: original.to_string(),
                sessions: there,
            });
        }
    }
    let renamed = rename_both(&mut c, original, copy, kept, refused_connections).await;
    if let Err(e) = renamed {
        if refused_connections {
            reopen(&mut c, &q_original).await;
        }
        // A session that arrived between the check and the rename makes the rename fail with 55006.
        if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("55006") {
            let sessions = sessions_on(&mut c, original).await.unwrap_or_default();
            let _ = c.close().await;
            return Err(SwapError::InUse {
                database: original.to_string(),
                sessions,
            });
        }
        let _ = c.close().await;
        return Err(SwapError::Admin(statement(e)));
    }
    let _ = c.close().await;
    Ok(out)
}

async fn rename_both(
    c: &mut sqlx::PgConnection,
    original: &str,
    copy: &str,
    kept: &str,
    reopen_kept: bool,
) -> Result<(), sqlx::Error> {
    let mut tx = c.begin().await?;
    let mut sql = format!(
        "ALTER DATABASE {} RENAME TO {}; ALTER DATABASE {} RENAME TO {};",
        quote_ident(original),
        quote_ident(kept),
        quote_ident(copy),
        quote_ident(original)
    );
    if reopen_kept {
        // The kept original stays inspectable.
        sql.push_str(&format!(
            " ALTER DATABASE {} WITH ALLOW_CONNECTIONS true;",
            quote_ident(kept)
        ));
    }
    // Audited: every name is quoted by `quote_ident`.
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

async fn exec(c: &mut sqlx::PgConnection, sql: &str) -> Result<(), AdminError> {
    // Audited: callers build `sql` from names quoted by `quote_ident` and literals by `quote_literal`.
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut *c)
        .await
        .map(|_| ())
        .map_err(statement)
}

async fn reopen(c: &mut sqlx::PgConnection, quoted: &str) {
    if let Err(e) = exec(
        c,
        &format!("ALTER DATABASE {quoted} WITH ALLOW_CONNECTIONS true"),
    )
    .await
    {
        tracing::error!(error = %e, "could not let connections back into the original database");
    }
}

/// Gives `copy` the owner, per-database settings and database grants of `original`; returns what it
/// could not carry over.
async fn carry_over(c: &mut sqlx::PgConnection, original: &str, copy: &str) -> Vec<String> {
    let mut missed = Vec::new();
    let q_copy = quote_ident(copy);
    let owner: Option<String> = sqlx::query_scalar(
        "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = $1",
    )
    .bind(original)
    .fetch_optional(&mut *c)
    .await
    .ok()
    .flatten();
    if let Some(owner) = owner
        && let Err(e) = exec(
            c,
            &format!("ALTER DATABASE {q_copy} OWNER TO {}", quote_ident(&owner)),
        )
        .await
    {
        missed.push(format!("owner {owner}: {e}"));
    }
    let settings: Vec<String> = sqlx::query_scalar(
        "SELECT unnest(s.setconfig) FROM pg_db_role_setting s \
         JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0",
    )
    .bind(original)
    .fetch_all(&mut *c)
    .await
    .unwrap_or_default();
    for s in settings {
        let Some((name, value)) = s.split_once('=') else {
            continue;
        };
        if let Err(e) = exec(
            c,
            &format!(
                "ALTER DATABASE {q_copy} SET {} TO {}",
                quote_ident(name),
                quote_literal(value)
            ),
        )
        .await
        {
            missed.push(format!("setting {name}: {e}"));
        }
    }
    // Grants: a NULL acl means the defaults, which the new database has already.
    let grants: Option<Vec<(String, String, bool)>> = sqlx::query_as(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
                a.privilege_type, a.is_grantable \
         FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1 AND d.datacl IS NOT NULL",
    )
    .bind(original)
    .fetch_all(&mut *c)
    .await
    .ok()
    .filter(|g: &Vec<_>| !g.is_empty());
    if let Some(grants) = grants {
        let mut sql = format!("REVOKE ALL ON DATABASE {q_copy} FROM PUBLIC;");
        for (grantee, privilege, grantable) in grants {
            // privilege_type is one of PostgreSQL's keywords (CREATE, CONNECT, TEMPORARY); grantee is
            // quoted by the server's quote_ident or is PUBLIC.
            if !privilege.chars().all(|ch| ch.is_ascii_uppercase()) {
                continue;
            }
            sql.push_str(&format!(
                " GRANT {privilege} ON DATABASE {q_copy} TO {grantee}{};",
                if grantable { " WITH GRANT OPTION" } else { "" }
            ));
        }
        if let Err(e) = exec(c, &sql).await {
            missed.push(format!("grants: {e}"));
        }
    }
    missed
}

/// A free database name for the kept original: `<name>_before_<yyyymmdd_hhmm>`, shortened to fit 63
/// bytes, with `_2`, `_3`... when taken.
pub async fn kept_name(
    server: &ConnInfo,
    original: &str,
    at: chrono::DateTime<chrono::Utc>,
    timeout: Duration,
) -> Result<String, AdminError> {
    let mut c = maintenance(server, timeout).await?;
    let suffix = format!("_before_{}", at.format("%Y%m%d_%H%M"));
    let mut base = original.to_string();
    while base.len() + suffix.len() + 3 > 63 {
        base.pop();
    }
    let base = format!("{base}{suffix}");
    let mut candidate = base.clone();
    for n in 2..100 {
        let taken: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(&candidate)
            .fetch_optional(&mut c)
            .await
            .map_err(statement)?;
        if taken.is_none() {
            break;
        }
        candidate = format!("{base}_{n}");
    }
    let _ = c.close().await;
    Ok(candidate)
}
