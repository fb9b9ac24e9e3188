use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok` when the process is up.
    pub status: String,
}

impl Health {
    /// What `/healthz` says while the process is up.
    pub fn alive() -> Self {
        Self {
            status: "ok".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// `ready` once migrations ran, the catalog answers and every background part of this process runs;
    /// `not_ready` otherwise.
    pub status: String,
    pub catalog: bool,
    /// What keeps this process from being ready, one line each (`catalog: …`, `backup workers: …`).
    #[serde(default)]
    pub problems: Vec<String>,
}

/// A PostgreSQL client installation pgward found (pg_dump, pg_restore, psql of one major version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PgClient {
    pub major: u32,
    /// Full version as printed by `pg_dump --version`, e.g. `17.11`.
    pub version: String,
    pub bin_dir: String,
    /// Whether psql and pg_restore were found beside pg_dump.
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemInfo {
    pub version: String,
    /// Majors for which a full client set (pg_dump, pg_restore, psql) is available.
    pub pg_client_majors: Vec<u32>,
    pub pg_clients: Vec<PgClient>,
    /// `embedded` when pgward runs its own catalog server, `external` otherwise.
    pub catalog: String,
}
