//! The periodic pass: every `worker.scheduler_interval_secs` (and, for scheduling alone, at each minute
//! boundary), each pgward process (serve and worker) asks
//! every feature to do its share of time-driven work: create due runs, re-enqueue what a queue lost, reap
//! work whose process died, announce outcomes nobody announced, run due checks, apply retention, retry
//! cleanups. Every step is idempotent and safe to run in several processes at once (claims are atomic
//! updates of catalog rows); one failing step is logged and does not stop the others.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};

use crate::features::{destinations, executions, health, restorations, webhooks};
use crate::state::AppState;

/// Running work (a backup, a restore, a check) whose process has not reported for this long is
/// considered interrupted. Heartbeats come every few seconds.
pub const LEASE: Duration = Duration::from_secs(30);

/// How far back the outcome sweep looks: a process that died between recording an outcome and
/// announcing it is found by the next pass of any pgward process, or after a restart within this window
/// (older news would mislead more than it tells).
pub const ANNOUNCE_WINDOW: chrono::Duration = chrono::Duration::hours(1);

/// Housekeeping (retention of every task, the trash, finished queue jobs) runs every this many passes.
const HOUSEKEEPING_EVERY: u64 = 20;

/// Logs a failed step and goes on: the next pass tries again.
macro_rules! step {
    ($what:literal, $e:expr) => {
        if let Err(e) = $e {
            tracing::error!(error = %e, concat!($what, " failed"));
        }
    };
}

/// The pass, until the process ends (supervised: see `super::start`). While the catalog does not answer,
/// passes are skipped (the catalog watch says so once); after an outage, nothing is declared interrupted
/// until running work had a lease's time to heartbeat again.
pub async fn run(state: AppState, every: Duration) -> anyhow::Result<()> {
    let mut timer = tokio::time::interval(every);
    let mut passes: u64 = 0;
    // Schedules have minute resolution: at each minute boundary the due runs are created at once, not up
    // to an interval late (the whole pass keeps its own interval). The deadline outlives a pass that runs
    // over a boundary, so that boundary is still looked at as soon as the pass ends.
    let mut boundary = tokio::time::Instant::now() + until_next_minute(Utc::now());
    loop {
        tokio::select! {
            _ = timer.tick() => {}
            () = tokio::time::sleep_until(boundary) => {
                if state.catalog_watch.is_up() {
                    step!(
                        "scheduling due runs",
                        executions::service::schedule_due_at_boundary(&state).await
                    );
                }
                boundary = tokio::time::Instant::now() + until_next_minute(Utc::now());
                continue;
            }
        }
        if !state.catalog_watch.is_up() {
            continue;
        }
        let now = Utc::now();
        passes += 1;
        if passes % HOUSEKEEPING_EVERY == 1 {
            housekeeping(&state, now).await;
        }
        one(&state, now, state.catalog_watch.steady_for() > LEASE).await;
    }
}

/// How long until just after the next minute boundary (a little after, so that a run due at the boundary
/// is due by the wall clock when the pass looks).
fn until_next_minute(now: DateTime<Utc>) -> Duration {
    let into_minute = u64::from(now.second()) * 1000 + u64::from(now.timestamp_subsec_millis());
    Duration::from_millis(60_000 - into_minute.min(59_999) + 20)
}

/// Retention also runs here (besides after each success), so expired backups go even when a task
/// stopped running.
#[tracing::instrument(name = "housekeeping", skip_all)]
async fn housekeeping(state: &AppState, now: DateTime<Utc>) {
    step!(
        "periodic retention",
        executions::service::apply_retention_everywhere(state, now).await
    );
    step!(
        "purging the trash",
        executions::service::purge_expired_trash(state, now).await
    );
    step!(
        "dropping originals kept after a replace",
        restorations::service::drop_expired_originals(state, now).await
    );
    step!(
        "pruning old self-backups of the catalog",
        executions::service::prune_self_backups(state).await
    );
    step!(
        "pruning the audit log",
        crate::features::audit::service::prune(state, now).await
    );
    step!(
        "pruning finished queue jobs",
        super::queues::prune_finished(&state.db, now - chrono::Duration::days(2)).await
    );
}

#[tracing::instrument(name = "periodic_pass", skip_all)]
async fn one(state: &AppState, now: DateTime<Utc>, may_reap: bool) {
    step!(
        "scheduling due runs",
        executions::service::schedule_due(state, now).await
    );
    step!(
        "scheduling the catalog's self-backup",
        executions::service::schedule_self_backup(state, now).await
    );
    if may_reap {
        step!(
            "reaping interrupted executions",
            executions::service::reap_interrupted(state, now, LEASE).await
        );
    }
    step!(
        "announcing missed backup outcomes",
        executions::service::announce_missed_outcomes(state, now, ANNOUNCE_WINDOW).await
    );
    step!(
        "announcing missed restore outcomes",
        restorations::service::announce_missed_outcomes(state, now, ANNOUNCE_WINDOW).await
    );
    if may_reap {
        step!(
            "reaping interrupted restorations",
            restorations::service::reap_interrupted(state, now, LEASE).await
        );
        step!(
            "reaping interrupted checks",
            executions::service::reap_checks(state, now, LEASE).await
        );
    }
    step!(
        "scheduled verifications and test-restores",
        restorations::service::run_due_checks(state, now).await
    );
    step!(
        "scheduled health checks",
        health::service::run_due(state, now).await
    );
    step!(
        "checking for overdue backups",
        executions::service::check_overdue(state, now).await
    );
    step!(
        "retrying storage cleanups",
        destinations::service::retry_cleanups(state, now).await
    );
    step!(
        "re-enqueueing queued executions",
        executions::service::sweep_queued(state, now).await
    );
    step!(
        "re-enqueueing webhook deliveries",
        webhooks::service::sweep(state, now).await
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheduling_wake_comes_just_after_the_next_minute_boundary() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            until_next_minute(at("2026-12-07T02:00:00Z")),
            Duration::from_millis(60_020)
        );
        assert_eq!(
            until_next_minute(at("2026-12-07T01:59:59.990Z")),
            Duration::from_millis(30)
        );
        assert_eq!(
            until_next_minute(at("2026-12-07T01:59:30.500Z")),
            Duration::from_millis(29_520)
        );
    }
}
