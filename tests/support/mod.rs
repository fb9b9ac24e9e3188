//! Test fixtures: a fleet of real PostgreSQL servers (majors 13-18), a per-test catalog database cloned
//! from a migrated template, an in-process pgward on port 0, real `pgward` processes, captured logs, a
//! webhook receiver, what most tests arrange first (databases, destinations, tasks) and one way to wait
//! for what happens in the background (`poll::eventually`).

pub mod app;
pub mod emulators;
pub mod fixtures;
pub mod fleet;
pub mod keeper;
pub mod logs;
pub mod metrics;
pub mod pagila;
pub mod poll;
pub mod process;
pub mod procs;
pub mod receiver;
pub mod storage;

pub use app::{TestApp, spawn_app, spawn_app_with};
pub use fleet::fleet;

/// The HTTP status `call` was refused with; panics when it succeeded or reached no server.
pub async fn refused<T: std::fmt::Debug>(
    call: impl std::future::Future<Output = Result<T, pgward_api_client::ClientError>>,
) -> u16 {
    match call.await {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(e) => e.status().unwrap_or_else(|| panic!("no HTTP status: {e}")),
    }
}

/// Root of the repository (tests/ lives there).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// Where scripts/deps.sh put the test tools and PostgreSQL binaries.
pub fn cache_dir() -> std::path::PathBuf {
    std::env::var_os("PGWARD_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".cache/pgward")
        })
}
