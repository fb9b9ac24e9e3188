//! Keeping background loops alive and saying which are not.
//!
//! Every long-running loop of a pgward process (the queue workers, the periodic pass, the catalog watch)
//! runs under `spawn`: when it ends, with an error or a panic, it is started again after a backoff
//! (1 s doubling to 60 s), and the log says so once per outage, not once per retry. `Liveness` is what
//! `/readyz` reads: a loop counts as up once it has run for a few seconds without failing.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;

/// How a supervised loop is restarted.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// How long a (re)started loop must keep running before it counts as up again.
    pub settle: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            settle: Duration::from_secs(3),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
        }
    }
}

/// The state of one supervised part, as `/readyz` shows it.
#[derive(Debug, Clone)]
pub struct PartState {
    pub up: bool,
    /// Why it is down (its last error), when it is.
    pub detail: Option<String>,
}

/// The supervised parts of this process and whether each is up.
#[derive(Debug, Default)]
pub struct Liveness {
    parts: Mutex<BTreeMap<String, PartState>>,
    /// Set when the process stops: the loops end, and are neither restarted nor reported as failing
    /// (they would otherwise meet the catalog's pools closing under them).
    stopping: tokio_util::sync::CancellationToken,
}

impl Liveness {
    /// Ends every supervised loop of this process before its resources go away.
    pub fn stop(&self) {
        self.stopping.cancel();
    }

    pub fn set(&self, name: &str, up: bool, detail: Option<String>) {
        if let Ok(mut parts) = self.parts.lock() {
            parts.insert(name.to_string(), PartState { up, detail });
        }
    }

    pub fn snapshot(&self) -> BTreeMap<String, PartState> {
        self.parts.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// The parts that are down, with why.
    pub fn down(&self) -> Vec<(String, Option<String>)> {
        self.snapshot()
            .into_iter()
            .filter(|(_, s)| !s.up)
            .map(|(n, s)| (n, s.detail))
            .collect()
    }
}

/// Runs `make()`'s future for as long as the process lives, starting it again whenever it ends. The
/// `attempt` passed in counts restarts (0 first), so a loop can use a fresh name where one must be
/// unique (apalis registers workers by name).
pub fn spawn<F, Fut>(live: Arc<Liveness>, name: &'static str, make: F)
where
    F: FnMut(u32) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    spawn_with(Policy::default(), live, name, make);
}

/// `spawn` with its own timing.
pub fn spawn_with<F, Fut>(policy: Policy, live: Arc<Liveness>, name: &'static str, mut make: F)
where
    F: FnMut(u32) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    // Up from the start (a first start that fails at once is down a moment later); after a failure, a
    // part counts as up again only once it has kept running for `settle`.
    live.set(name, true, None);
    tokio::spawn(async move {
        let mut backoff = policy.backoff_min;
        let mut attempt = 0u32;
        // Whether the log already said this part is down (said once per outage).
        let mut failing = false;
        loop {
            let started = Instant::now();
            let mut run =
                std::pin::pin!(std::panic::AssertUnwindSafe(make(attempt)).catch_unwind());
            let mut settled = attempt == 0;
            let outcome = loop {
                tokio::select! {
                    // First: a loop that fails because the process is stopping is not a failure.
                    biased;
                    _ = live.stopping.cancelled() => return,
                    out = &mut run => break out,
                    _ = tokio::time::sleep(policy.settle), if !settled => {
                        settled = true;
                        live.set(name, true, None);
                        if failing {
                            tracing::info!(part = name, "{name} is running again");
                            failing = false;
                        }
                    }
                }
            };
            let why = match outcome {
                Ok(Ok(())) => "it ended".to_string(),
                Ok(Err(e)) => format!("{e:#}"),
                Err(panic) => format!(
                    "it panicked: {}",
                    panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default()
                ),
            };
            if live.stopping.is_cancelled() {
                return;
            }
            if started.elapsed() > policy.backoff_max {
                backoff = policy.backoff_min;
            }
            live.set(name, false, Some(why.clone()));
            if !failing {
                tracing::warn!(part = name, error = %why, "{name} stopped; restarting it (with backoff until it runs again)");
                failing = true;
            } else {
                tracing::debug!(part = name, error = %why, "{name} failed to start again");
            }
            tokio::select! {
                _ = live.stopping.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(policy.backoff_max);
            attempt = attempt.wrapping_add(1);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const FAST: Policy = Policy {
        settle: Duration::from_millis(50),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(80),
    };

    async fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ok() {
            assert!(Instant::now() < deadline, "never: {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// How a test loop's start (by attempt) goes.
    enum Start {
        Fails(&'static str),
        Panics,
        Runs,
    }

    /// Supervises a loop whose starts go as `start` says; returns its liveness and how often it was
    /// started.
    fn supervised(
        start: impl Fn(u32) -> Start + Send + 'static,
    ) -> (Arc<Liveness>, Arc<AtomicU32>) {
        let live = Arc::new(Liveness::default());
        let runs = Arc::new(AtomicU32::new(0));
        let counter = runs.clone();
        spawn_with(FAST, live.clone(), "loop", move |attempt| {
            counter.fetch_add(1, Ordering::SeqCst);
            let start = start(attempt);
            async move {
                match start {
                    Start::Fails(why) => anyhow::bail!(why),
                    Start::Panics => panic!("boom"),
                    Start::Runs => std::future::pending::<anyhow::Result<()>>().await,
                }
            }
        });
        (live, runs)
    }

    #[tokio::test]
    async fn a_failing_loop_is_started_again_and_reported_down_until_it_runs() {
        let (live, runs) = supervised(|attempt| {
            if attempt < 3 {
                Start::Fails("catalog unreachable")
            } else {
                Start::Runs
            }
        });
        eventually("reported down with its reason", || {
            live.down().first().and_then(|d| d.1.clone()).as_deref() == Some("catalog unreachable")
        })
        .await;
        eventually("up after the fourth start", || live.down().is_empty()).await;
        assert_eq!(runs.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_panicking_loop_is_started_again() {
        let (live, runs) = supervised(|attempt| {
            if attempt == 0 {
                Start::Panics
            } else {
                Start::Runs
            }
        });
        eventually("restarted", || runs.load(Ordering::SeqCst) == 2).await;
        eventually("up", || live.down().is_empty()).await;
    }

    #[tokio::test]
    async fn stopping_the_process_ends_a_running_loop() {
        let live = Arc::new(Liveness::default());
        // The sender lives in the loop's future: the receiver hears of it when the future is dropped.
        let (alive, ended) = tokio::sync::oneshot::channel::<()>();
        let mut alive = Some(alive);
        spawn_with(FAST, live.clone(), "loop", move |_| {
            let alive = alive.take();
            async move {
                let _alive = alive;
                std::future::pending::<anyhow::Result<()>>().await
            }
        });
        live.stop();
        tokio::time::timeout(Duration::from_secs(10), ended)
            .await
            .expect("the loop was ended")
            .expect_err("ended, not finished");
    }
}
