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
    let mut look = Look::new(within, what);
    loop {
        if let Some(value) = look.at(probe().await) {
            return value;
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
    let mut look = Look::new(within, what);
    loop {
        if let Some(value) = look.at(probe()) {
            return value;
        }
        std::thread::sleep(every);
    }
}

/// What the waits share whether they sleep the task or the thread between looks: a deadline, and the
/// failure message built (once) from what the probe saw last when it has passed.
struct Look<W> {
    deadline: Instant,
    what: Option<W>,
}

impl<W> Look<W> {
    fn new(within: Duration, what: W) -> Self {
        Self {
            deadline: Instant::now() + within,
            what: Some(what),
        }
    }

    /// The probe's value if it is done; `None` to look again; the test fails if it is not done and the
    /// deadline has passed.
    fn at<P: Polled>(&mut self, polled: P) -> Option<P::Value>
    where
        W: FnOnce(&P::Seen) -> String,
    {
        match polled.done() {
            Ok(value) => Some(value),
            Err(seen) => {
                if Instant::now() >= self.deadline {
                    let what = self.what.take().expect("a wait fails once");
                    panic!("{}", what(&seen));
                }
                None
            }
        }
    }
}
