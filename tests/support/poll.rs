//! Waiting for what happens in the background, one way for every test: `eventually` calls a probe until
//! it answers "done", and once the time is up fails the test with a message built from what the probe saw
//! last.

use std::time::{Duration, Instant};

/// How often `eventually` looks again.
pub const EVERY: Duration = Duration::from_millis(100);

/// What a probe answers: done (with a value for the caller) or not yet (with what it saw instead, for the
/// failure message).
pub trait Polled {
    type Value;
    type Seen;
    fn done(self) -> Result<Self::Value, Self::Seen>;
}

/// Done as `Ok(value)`; not yet as `Err(seen)`.
impl<T, S> Polled for Result<T, S> {
    type Value = T;
    type Seen = S;
    fn done(self) -> Result<T, S> {
        self
    }
}

/// Done as `Some(value)`.
impl<T> Polled for Option<T> {
    type Value = T;
    type Seen = ();
    fn done(self) -> Result<T, ()> {
        self.ok_or(())
    }
}

/// Done as `true`.
impl Polled for bool {
    type Value = ();
    type Seen = ();
    fn done(self) -> Result<(), ()> {
        if self { Ok(()) } else { Err(()) }
    }
}

/// Calls `probe` until it answers done and returns its value, looking again every 100 ms ([`EVERY`]).
/// The probe runs at least once; when it is not done and `within` has passed, the test fails with
/// `what(seen)`, `seen` being what the probe saw last. The message is built only then, so it may read
/// logs or other state at no cost while things go well.
pub async fn eventually<P: Polled>(
    within: Duration,
    probe: impl AsyncFnMut() -> P,
    what: impl FnOnce(&P::Seen) -> String,
) -> P::Value {
    eventually_every(within, EVERY, probe, what).await
}

/// [`eventually`], looking again every `every` (for a wait that polls faster or slower than the default).
pub async fn eventually_every<P: Polled>(
    within: Duration,
    every: Duration,
    mut probe: impl AsyncFnMut() -> P,
    what: impl FnOnce(&P::Seen) -> String,
) -> P::Value {
    let deadline = Instant::now() + within;
    loop {
        match probe().await.done() {
            Ok(value) => return value,
            Err(seen) => {
                if Instant::now() >= deadline {
                    panic!("{}", what(&seen));
                }
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// [`eventually_every`] for code that runs outside the tokio runtime (starting the shared servers,
/// watching `/proc`): the thread sleeps between looks.
pub fn eventually_blocking<P: Polled>(
    within: Duration,
    every: Duration,
    mut probe: impl FnMut() -> P,
    what: impl FnOnce(&P::Seen) -> String,
) -> P::Value {
    let deadline = Instant::now() + within;
    loop {
        match probe().done() {
            Ok(value) => return value,
            Err(seen) => {
                if Instant::now() >= deadline {
                    panic!("{}", what(&seen));
                }
            }
        }
        std::thread::sleep(every);
    }
}
