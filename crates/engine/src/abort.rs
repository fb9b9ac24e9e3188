//! Background tasks tied to a scope.

/// Aborts a background task when dropped (also on early return or unwinding).
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
