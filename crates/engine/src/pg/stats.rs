//! What pgward reads from a source database besides the dump: its size and table count for the
//! manifest, and row counts taken in the very snapshot pg_dump reads (checked again after a restore).

use std::time::Duration;

use super::ConnInfo;

/// Database size and table count for the manifest (best effort).
pub async fn database_stats(conn: &ConnInfo, timeout: Duration) -> (Option<i64>, Option<i64>) {
    use sqlx::Connection;
    let attempt = async {
        let mut c = super::admin::connect(conn, timeout).await.ok()?;
        let row: (i64, i64) = sqlx::query_as(
            "SELECT pg_database_size(current_database()), \
             (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
              WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema'))",
        )
        .fetch_one(&mut c)
        .await
        .ok()?;
        let _ = c.close().await;
        Some(row)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Some((s, t))) => (Some(s), Some(t)),
        _ => (None, None),
    }
}

/// Row counts taken in a snapshot that pg_dump reads too (`pg_dump --snapshot`), so the counts are
/// exactly those of the dump however busy the database is. The exporting transaction stays open until
/// `finish`, i.e. until pg_dump is done with the snapshot.
pub struct SnapshotCounter {
    pub snapshot: String,
    done: tokio::sync::oneshot::Sender<()>,
    counts: tokio::task::JoinHandle<Option<std::collections::BTreeMap<String, i64>>>,
}

impl SnapshotCounter {
    pub async fn start(conn: &ConnInfo, timeout: Duration) -> Result<Self, String> {
        use sqlx::Connection;
        let mut c = super::admin::connect(conn, timeout)
            .await
            .map_err(|e| match e {
                super::admin::AdminError::Timeout => "timed out".to_string(),
                e => e.to_string(),
            })?;
        sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        let (done, wait) = tokio::sync::oneshot::channel::<()>();
        let counts = tokio::spawn(async move {
            let counted = count_rows(&mut c).await;
            // Keep the snapshot alive until pg_dump is finished with it, whatever counting did.
            let _ = wait.await;
            let _ = sqlx::raw_sql("COMMIT").execute(&mut c).await;
            let _ = c.close().await;
            counted
        });
        Ok(Self {
            snapshot,
            done,
            counts,
        })
    }

    pub async fn finish(self) -> Option<std::collections::BTreeMap<String, i64>> {
        let _ = self.done.send(());
        self.counts.await.ok().flatten()
    }
}

/// Rows of every user table, in the connection's current transaction.
pub async fn count_rows(
    c: &mut sqlx::PgConnection,
) -> Option<std::collections::BTreeMap<String, i64>> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'",
    )
    .fetch_all(&mut *c)
    .await
    .ok()?;
    let mut counts = std::collections::BTreeMap::new();
    for (schema, table) in tables {
        let q = format!(
            "SELECT count(*) FROM {}.{}",
            quote_ident(&schema),
            quote_ident(&table)
        );
        // Audited: both names are quoted identifiers read from pg_class.
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(q))
            .fetch_one(&mut *c)
            .await
            .ok()?;
        counts.insert(format!("{schema}.{table}"), n);
    }
    Some(counts)
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Rows of every user table of the database `conn` names, on a connection of its own.
pub async fn count_rows_in(
    conn: &ConnInfo,
    timeout: Duration,
) -> Result<std::collections::BTreeMap<String, i64>, super::admin::AdminError> {
    use sqlx::Connection;
    let mut c = super::admin::connect(conn, timeout).await?;
    let counts = count_rows(&mut c).await;
    let _ = c.close().await;
    counts.ok_or_else(|| super::admin::AdminError::Statement("counting rows failed".into()))
}
