//! Configuration: defaults, then an optional TOML file, then `PGWARD_*` environment variables
//! (`PGWARD_SECTION__KEY`, e.g. `PGWARD_SERVER__BIND`). Built once at start-up and passed in explicitly.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where pgward keeps its own state: the embedded catalog, the generated secrets key.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub catalog: CatalogConfig,
    pub secrets: SecretsConfig,
    pub auth: AuthConfig,
    pub postgres: PostgresConfig,
    pub storage: StorageConfig,
    pub worker: WorkerConfig,
    pub webhooks: WebhooksConfig,
    pub outbound: OutboundConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Webhook deliveries one worker process sends at the same time.
    pub concurrency: usize,
    /// Delay before the second attempt of a failed delivery; it doubles with each further attempt.
    pub retry_base_secs: u64,
    /// The longest delay between two attempts.
    pub retry_max_secs: u64,
    /// Finished deliveries (and their attempts) older than this many days are removed from the log.
    pub log_retention_days: u32,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            retry_base_secs: 30,
            retry_max_secs: 3600,
            log_retention_days: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Run the workers (backups, webhook deliveries, health checks) inside `pgward serve` (`pgward
    /// worker` always does).
    pub in_process: bool,
    /// Backups one worker process runs at the same time.
    pub concurrency: usize,
    /// Seconds between scheduler passes (due runs, interrupted runs, lost jobs). Due runs are also
    /// created at each minute boundary, whatever this is.
    pub scheduler_interval_secs: u64,
    /// Backups of databases on one PostgreSQL server running at the same time, across all workers and
    /// every registration of that server (by resolved address and port); 0 for no limit. Spares a
    /// production server from several dumps at once.
    pub per_server_concurrency: usize,
    /// Restores one pgward process runs at the same time (more wait as queued).
    pub restore_concurrency: usize,
    /// Hours a database replaced by a restore (target `replace`) is kept under its dated name before
    /// housekeeping drops it, unless the request says otherwise.
    pub keep_replaced_hours: u32,
    /// Seconds between scheduled health checks of a database or destination that has no interval of
    /// its own.
    pub health_interval_secs: u64,
    /// Health checks one worker process runs at the same time.
    pub health_concurrency: usize,
    /// A successful backup whose size (or duration, for runs of 30 s and more) is further than this
    /// percentage from the median of the task's last 10 successful runs raises `backup_anomaly`.
    pub anomaly_threshold_percent: u32,
    /// How many times its stored size a backup without a recorded uncompressed size (an upload) may
    /// decompress to before a restore refuses it as a decompression bomb.
    pub max_decompression_ratio: u64,
    /// Scratch space for directory-format dumps (needs room for one uncompressed dump per running
    /// directory-format backup). Unset: `<data_dir>/work`.
    pub work_dir: Option<PathBuf>,
    /// Minutes without progress after which a backup fails as stalled, for tasks without a stall timeout
    /// of their own (a hung database or store must not hold a run for hours); 0 turns the default off.
    pub stall_timeout_minutes: u32,
    /// Minutes past a task's schedule interval without a successful backup before it raises
    /// `backup_overdue` (an hourly task: 60 + this).
    pub overdue_grace_minutes: u32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            in_process: true,
            concurrency: 2,
            scheduler_interval_secs: 15,
            per_server_concurrency: 2,
            restore_concurrency: 2,
            keep_replaced_hours: 168,
            health_interval_secs: 600,
            health_concurrency: 4,
            anomaly_threshold_percent: 50,
            max_decompression_ratio: 200,
            work_dir: None,
            stall_timeout_minutes: 30,
            overdue_grace_minutes: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Directories below which local destinations may live. Empty: only `<data_dir>/backups`. Keeps an
    /// API caller from making pgward write anywhere on the server's file system.
    pub local_roots: Vec<PathBuf>,
    /// Days a deleted backup stays in the trash (objects kept, restorable) before it is purged.
    pub trash_days: u32,
    /// Permissions (octal) of backup files and manifests written to local destinations.
    pub local_file_mode: String,
    /// Permissions (octal) of directories created in local destinations.
    pub local_dir_mode: String,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            local_roots: Vec::new(),
            trash_days: 7,
            local_file_mode: "0600".into(),
            local_dir_mode: "0700".into(),
        }
    }
}

impl StorageConfig {
    /// The local destinations' permissions; an unreadable setting falls back to owner-only.
    pub fn local_modes(&self) -> pgward_engine::backup::LocalModes {
        let d = pgward_engine::backup::LocalModes::default();
        let parse = |s: &str, default: u32| {
            u32::from_str_radix(s.trim().trim_start_matches("0o"), 8)
                .ok()
                .filter(|m| *m <= 0o777)
                .unwrap_or(default)
        };
        pgward_engine::backup::LocalModes {
            file: parse(&self.local_file_mode, d.file),
            dir: parse(&self.local_dir_mode, d.dir),
        }
    }
}

impl Config {
    /// Where directory-format dumps are written before they are tarred into the destinations.
    pub fn work_dir(&self) -> PathBuf {
        self.worker
            .work_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("work"))
    }

    /// The effective allowed roots for local destinations.
    pub fn local_roots(&self) -> Vec<PathBuf> {
        if self.storage.local_roots.is_empty() {
            vec![self.data_dir.join("backups")]
        } else {
            self.storage.local_roots.clone()
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// Directory with the built SPA (index.html, style.css, boot.js, spa.js, spa_bg.wasm, and the split
    /// loader with its page modules), used when the binary embeds none.
    pub spa_dir: PathBuf,
    /// Largest accepted JSON body in bytes.
    pub body_limit: usize,
    /// Largest accepted upload (`POST /uploads`), bytes; 0 = no limit.
    pub upload_limit: u64,
    /// Serve `/metrics` without a token (for a Prometheus on a trusted network).
    pub metrics_public: bool,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client (login
    /// throttling). Empty: the connecting address is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where people reach pgward's web UI, for links in notifications. Unset: `http://<bind>`.
    pub public_url: Option<String>,
    /// The path pgward is served under behind a reverse proxy, e.g. `/pgward`. Requests may arrive with
    /// it (a proxy passing the path on) or without it (a proxy stripping it); the web app, its assets,
    /// the API docs and the links pgward writes carry it. Unset: the path of `public_url`, else none.
    pub base_path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    /// PostgreSQL URL of the catalog. Unset: pgward runs its own server in `<data_dir>/catalog`.
    #[serde(skip_serializing)]
    pub url: Option<SecretString>,
    pub max_connections: u32,
    /// pgward backs its own catalog up to the first destination added: `auto` (on for the embedded
    /// catalog, off for an external one, which its operator backs up), `on` or `off`.
    pub self_backup: SelfBackup,
    /// When (five-field cron, UTC).
    pub self_backup_schedule: String,
    /// How many successful self-backups stay (older ones are deleted).
    pub self_backup_keep: u32,
    /// age public keys the self-backup is encrypted to (it holds password hashes and the sealed
    /// secrets; recommended). Empty: not encrypted.
    pub self_backup_recipients: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SelfBackup {
    Auto,
    On,
    Off,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsConfig {
    /// Base64 of 32 random bytes: the AES-256-GCM key for secrets at rest. Unset: read or generate
    /// `<data_dir>/secret.key`.
    #[serde(skip_serializing)]
    pub key: Option<SecretString>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// Login attempts allowed per client IP per minute.
    pub login_per_minute: u32,
    /// Lifetime of an API token created without `expires_in_days`.
    pub api_token_ttl_days: u32,
    /// Audit log entries older than this are deleted by the periodic housekeeping (0: kept forever).
    pub audit_retention_days: u32,
    /// The first-user setup code when pgward listens beyond loopback; unset: a random one, printed to
    /// the log at start while no user exists.
    #[serde(skip_serializing)]
    pub setup_code: Option<SecretString>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// Extra directories searched for PostgreSQL binaries before the usual layouts.
    pub bin_dirs: Vec<PathBuf>,
    /// Seconds allowed for connecting to a registered database.
    pub connect_timeout_secs: u64,
    /// Connection strings may name a unix socket directory as their host. Off: a local socket often
    /// trusts whoever connects (the embedded catalog's does).
    pub allow_unix_sockets: bool,
    /// When pgward runs as root, psql runs as this unprivileged system user (created if missing).
    pub client_user: String,
}

/// Which peers pgward dials on a user's behalf may sit on loopback or private addresses. Link-local and
/// cloud metadata addresses are never dialled, nor the catalog's own endpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundConfig {
    /// Kinds of peer that may be on a loopback address (127.0.0.0/8, ::1).
    pub allow_loopback: Vec<PeerKindSetting>,
    /// Kinds of peer that may be on a private address (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    pub allow_private: Vec<PeerKindSetting>,
    /// Databases may live on the PostgreSQL server that holds an external catalog (its database itself
    /// stays refused).
    pub allow_catalog_server: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerKindSetting {
    Databases,
    Destinations,
    Webhooks,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        // Databases and object stores on the operator's own network are the common case; a webhook
        // needs no credentials to reach its target, so it is the kind that could probe a private
        // network for whoever holds a token. Loopback is this machine: nobody's by default.
        Self {
            allow_loopback: Vec::new(),
            allow_private: vec![PeerKindSetting::Databases, PeerKindSetting::Destinations],
            allow_catalog_server: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info,pgward_server=debug`.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("pgward-data"),
            server: ServerConfig::default(),
            catalog: CatalogConfig::default(),
            secrets: SecretsConfig::default(),
            auth: AuthConfig::default(),
            postgres: PostgresConfig::default(),
            storage: StorageConfig::default(),
            worker: WorkerConfig::default(),
            webhooks: WebhooksConfig::default(),
            outbound: OutboundConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            workers: 0,
            spa_dir: PathBuf::from("frontend/dist"),
            body_limit: 64 * 1024,
            upload_limit: 256 << 30,
            metrics_public: false,
            trusted_proxies: Vec::new(),
            public_url: None,
            base_path: None,
        }
    }
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
            self_backup: SelfBackup::Auto,
            self_backup_schedule: "45 2 * * *".into(),
            self_backup_keep: 14,
            self_backup_recipients: Vec::new(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 14 * 24 * 3600,
            login_per_minute: 10,
            api_token_ttl_days: 90,
            audit_retention_days: 365,
            setup_code: None,
        }
    }
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            bin_dirs: Vec::new(),
            connect_timeout_secs: 10,
            allow_unix_sockets: false,
            client_user: "pgward-client".into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

impl Config {
    /// Defaults -> `file` (if given, it must exist) -> environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            fig = fig.merge(Toml::file_exact(f));
        }
        // Only settings: `PGWARD_DATA_DIR` and `PGWARD_<SECTION>__<KEY>`. Other PGWARD_* variables (the
        // config file path, tooling such as PGWARD_CACHE) are not configuration; typos in sections still fail.
        let settings = Env::prefixed("PGWARD_")
            .filter(|k| k.as_str().eq_ignore_ascii_case("data_dir") || k.as_str().contains("__"))
            .split("__");
        fig = fig.merge(settings);
        let cfg: Config = fig.extract().map_err(Box::new)?;
        let c = &cfg.catalog;
        // The same cron rules as a task's schedule.
        if crate::features::tasks::service::parse_cron(&c.self_backup_schedule).is_err()
            || c.self_backup_keep == 0
        {
            return Err(Box::new(figment::Error::from(format!(
                "catalog.self_backup_schedule {:?} must be a five-field cron and catalog.self_backup_keep at least 1",
                c.self_backup_schedule
            ))));
        }
        for r in &c.self_backup_recipients {
            if pgward_engine::backup::validate_recipient(r).is_err() {
                return Err(Box::new(figment::Error::from(format!(
                    "catalog.self_backup_recipients: {r:?} is not an age public key (age1...)"
                ))));
            }
        }
        if let Some(b) = &cfg.server.base_path
            && !valid_base_path(b)
        {
            return Err(Box::new(figment::Error::from(format!(
                "server.base_path {b:?}: a path like /pgward (segments of letters, digits, '.', '_', '~' and '-')"
            ))));
        }
        Ok(cfg)
    }

    /// The path pgward is served under (`/pgward`), or empty; never ends with `/`.
    pub fn base_path(&self) -> String {
        let raw = match &self.server.base_path {
            Some(b) => b.clone(),
            None => self
                .server
                .public_url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .map(|u| u.path().to_string())
                .filter(|p| valid_base_path(p))
                .unwrap_or_default(),
        };
        raw.trim_end_matches('/').to_string()
    }

    /// The base of links in notifications.
    pub fn public_url(&self) -> String {
        self.server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.server.bind))
    }

    pub fn is_embedded_catalog(&self) -> bool {
        self.catalog.url.is_none()
    }

    /// Whether pgward backs its own catalog up (`catalog.self_backup`).
    pub fn self_backup_enabled(&self) -> bool {
        match self.catalog.self_backup {
            SelfBackup::On => true,
            SelfBackup::Off => false,
            SelfBackup::Auto => self.is_embedded_catalog(),
        }
    }
}

/// `/`, or `/` followed by path segments of unreserved characters (nothing a URL or HTML would need
/// escaped), optionally ending with `/`.
fn valid_base_path(p: &str) -> bool {
    p.starts_with('/')
        && p.trim_matches('/').split('/').all(|seg| {
            seg.is_empty() && p.trim_matches('/').is_empty()
                || !seg.is_empty()
                    && seg
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._~-".contains(c))
                    && seg != "."
                    && seg != ".."
        })
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closure signature is fixed by figment"
)]
mod tests {
    use super::*;

    #[test]
    fn environment_settings_override_the_file_and_other_pgward_variables_are_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "pgward.toml",
                "data_dir = \"/srv/pgward\"\n[server]\nbind = \"0.0.0.0:9000\"\n",
            )?;
            jail.set_env("PGWARD_SERVER__BIND", "127.0.0.1:9100");
            jail.set_env("PGWARD_POSTGRES__BIN_DIRS", "[\"/opt/pg\"]");
            jail.set_env("PGWARD_CACHE", "/root/.cache/pgward");
            let cfg = Config::load(Some(Path::new("pgward.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(cfg.data_dir, PathBuf::from("/srv/pgward"));
            assert_eq!(cfg.server.bind.to_string(), "127.0.0.1:9100");
            assert_eq!(cfg.postgres.bin_dirs, vec![PathBuf::from("/opt/pg")]);
            Ok(())
        });
    }

    #[test]
    fn a_misspelt_section_is_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PGWARD_SERVR__BIND", "127.0.0.1:9100");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn the_base_path_is_checked_and_defaults_to_the_public_urls_path() {
        figment::Jail::expect_with(|jail| {
            for bad in ["pgward", "/a b", "/a/../b", "/x\"<script>", "/%2e"] {
                jail.set_env("PGWARD_SERVER__BASE_PATH", bad);
                assert!(Config::load(None).is_err(), "{bad}");
            }
            jail.set_env("PGWARD_SERVER__BASE_PATH", "/tools/pgward/");
            assert_eq!(Config::load(None).unwrap().base_path(), "/tools/pgward");
            jail.set_env("PGWARD_SERVER__BASE_PATH", "/");
            assert_eq!(Config::load(None).unwrap().base_path(), "");
            Ok(())
        });
        let mut cfg = Config::default();
        assert_eq!(cfg.base_path(), "");
        cfg.server.public_url = Some("https://ops.example.com/pgward/".into());
        assert_eq!(cfg.base_path(), "/pgward");
        cfg.server.base_path = Some("/other".into());
        assert_eq!(cfg.base_path(), "/other");
    }
}
