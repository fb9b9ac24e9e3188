//! Whether the catalog answers, as this process last saw it.
//!
//! One probe loop (composed in `startup.rs`) asks the catalog every couple of seconds and records the
//! answer here; the log gets one line when the catalog goes away and one when it is back, however many
//! requests failed meanwhile. Requests that fail because the catalog is unreachable answer 503
//! `catalog_unavailable` (see `is_unreachable`), and the reaper waits until heartbeats had a lease's time
//! to be written again before it declares anything interrupted (`steady_for`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Seen {
    up: bool,
    /// When the catalog last changed from unreachable to answering (or when watching began).
    since: Instant,
    why: Option<String>,
}

#[derive(Debug)]
pub struct CatalogWatch {
    seen: Mutex<Seen>,
}

impl Default for CatalogWatch {
    fn default() -> Self {
        Self {
            seen: Mutex::new(Seen {
                up: true,
                // No outage seen yet: as if the catalog had always answered (a fresh process reaps
                // runs abandoned long ago at once).
                since: Instant::now()
                    .checked_sub(Duration::from_secs(3600))
                    .unwrap_or_else(Instant::now),
                why: None,
            }),
        }
    }
}

/// How long a finished run waits for the catalog to record its outcome before giving up.
const OUTAGE_PATIENCE: Duration = Duration::from_secs(30 * 60);

/// Runs a catalog write again while the catalog is unreachable (up to half an hour), so that an outcome
/// reached during an outage is recorded once the catalog is back instead of being dropped.
pub async fn outlast<T, F, Fut>(what: &str, mut op: F) -> Result<T, sea_orm::DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sea_orm::DbErr>>,
{
    let deadline = Instant::now() + OUTAGE_PATIENCE;
    let mut wait = Duration::from_millis(500);
    let mut said = false;
    loop {
        match op().await {
            Err(e) if is_unreachable(&e) && Instant::now() < deadline => {
                if !said {
                    tracing::warn!(error = %e, "{what}: the catalog does not answer; trying again until it does");
                    said = true;
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
            other => {
                if said && other.is_ok() {
                    tracing::info!("{what}: recorded after the catalog came back");
                }
                return other;
            }
        }
    }
}

impl CatalogWatch {
    /// The catalog answered.
    pub fn answered(&self) {
        let Ok(mut s) = self.seen.lock() else { return };
        if !s.up {
            let down_for = s.since.elapsed();
            tracing::info!(down_secs = down_for.as_secs(), "the catalog answers again");
            s.up = true;
            s.since = Instant::now();
            s.why = None;
        }
    }

    /// The catalog did not answer.
    pub fn failed(&self, why: &str) {
        let Ok(mut s) = self.seen.lock() else { return };
        if s.up {
            tracing::error!(error = %why, "the catalog does not answer: API calls get 503 catalog_unavailable and background work waits until it is back");
            s.up = false;
            s.since = Instant::now();
        }
        s.why = Some(why.to_string());
    }

    pub fn is_up(&self) -> bool {
        self.seen.lock().map(|s| s.up).unwrap_or(false)
    }

    /// Why the catalog is unreachable, when it is.
    pub fn problem(&self) -> Option<String> {
        let s = self.seen.lock().ok()?;
        (!s.up).then(|| s.why.clone().unwrap_or_else(|| "does not answer".into()))
    }

    /// How long the catalog has answered without a break (zero while it does not).
    pub fn steady_for(&self) -> Duration {
        self.seen
            .lock()
            .map(|s| {
                if s.up {
                    s.since.elapsed()
                } else {
                    Duration::ZERO
                }
            })
            .unwrap_or_default()
    }
}

/// Whether a catalog error means "the catalog is not reachable" (down, restarting, failing over, pool
/// timed out) rather than a fault of the query.
pub fn is_unreachable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        // No connection could be had, whatever the reason (refused, reset during the handshake, EOF).
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            sqlx_unreachable(e)
        }
        _ => false,
    }
}

pub fn sqlx_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        // A connection that broke mid-message (the server went away under it).
        | sqlx::Error::Protocol(_) => true,
        // admin_shutdown, crash_shutdown, cannot_connect_now, and the connection_exception class.
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
        _ => false,
    }
}

/// `is_unreachable` anywhere in an error's chain.
pub fn chain_is_unreachable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<sea_orm::DbErr>()
            .is_some_and(is_unreachable)
            || c.downcast_ref::<sqlx::Error>()
                .is_some_and(sqlx_unreachable)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_one_state_change_each_way() {
        let w = CatalogWatch::default();
        assert!(w.is_up());
        w.failed("connection refused");
        w.failed("connection refused");
        assert!(!w.is_up());
        assert_eq!(w.problem().as_deref(), Some("connection refused"));
        assert_eq!(w.steady_for(), Duration::ZERO);
        w.answered();
        assert!(w.is_up());
        assert!(w.problem().is_none());
        assert!(w.steady_for() < Duration::from_secs(1));
        assert!(CatalogWatch::default().steady_for() > Duration::from_secs(60));
    }

    #[test]
    fn pool_timeouts_and_shutdowns_read_as_unreachable_and_query_faults_do_not() {
        assert!(is_unreachable(&sea_orm::DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout
        )));
        assert!(sqlx_unreachable(&sqlx::Error::PoolTimedOut));
        assert!(!sqlx_unreachable(&sqlx::Error::RowNotFound));
        assert!(!is_unreachable(&sea_orm::DbErr::RecordNotFound("x".into())));
        let wrapped = anyhow::Error::new(sea_orm::DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout,
        ))
        .context("listing tasks");
        assert!(chain_is_unreachable(&wrapped));
    }
}
