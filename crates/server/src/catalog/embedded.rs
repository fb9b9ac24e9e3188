//! The embedded default: when no catalog URL is configured, pgward runs its own PostgreSQL server in
//! `<data_dir>/catalog`, reachable only through a unix socket in a private directory. It is initialised on
//! first start, reused afterwards and stopped when pgward exits. PostgreSQL refuses to run as root, so when
//! pgward is root the server runs as the unprivileged system user `pgward` (created if missing).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use nix::unistd::{Gid, Uid, User, chown};
use pgward_engine::pg::{PgInstall, PgInstalls};
use sqlx::postgres::PgConnectOptions;

const OS_USER: &str = "pgward";
const DB_USER: &str = "pgward";
const DB_NAME: &str = "pgward";

#[derive(Debug)]
pub struct EmbeddedCatalog {
    install: PgInstall,
    data: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    run_as: Option<(Uid, Gid)>,
}

impl EmbeddedCatalog {
    /// Initialises (first run) and starts the server, returning once it accepts connections.
    pub fn start(data_dir: &Path, installs: &PgInstalls) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        let data = data_dir.join("catalog");
        let socket_dir = data_dir.join("run");
        let log_file = data_dir.join("catalog.log");

        // A data directory is tied to the major that created it.
        let install = match std::fs::read_to_string(data.join("PG_VERSION")) {
            Ok(v) => {
                let major: u32 = v.trim().parse().context("reading catalog/PG_VERSION")?;
                installs.server(major).cloned().with_context(|| {
                    format!("the embedded catalog was created by PostgreSQL {major}, whose server binaries were not found; add their directory to postgres.bin_dirs")
                })?
            }
            Err(_) => installs.newest_server().cloned().context(
                "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found for the embedded catalog; set postgres.bin_dirs or catalog.url",
            )?,
        };

        let run_as = if Uid::effective().is_root() {
            Some(ensure_os_user()?)
        } else {
            None
        };
        if run_as.is_some() {
            ensure_traversable(&data_dir)?;
        }
        let me = Self {
            install,
            data,
            socket_dir,
            log_file,
            run_as,
        };
        me.prepare_dirs()?;
        if !me.data.join("PG_VERSION").exists() {
            me.initdb()?;
        }
        if !me.is_running() {
            me.start_server()?;
        }
        tracing::info!(
            major = me.install.major,
            data = %me.data.display(),
            "embedded catalog PostgreSQL {} running",
            me.install.version
        );
        Ok(me)
    }

    fn start_server(&self) -> anyhow::Result<()> {
        self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            &self.log_file.to_string_lossy(),
            "-o",
            &format!(
                "-c listen_addresses='' -k {} -c unix_socket_permissions=0700",
                self.socket_dir.display()
            ),
        ])
        .context("starting the embedded catalog server")
    }

    /// Starts the server again after its postmaster died (killed, OOM). Fails while the old server's
    /// processes still hold its shared memory; the caller retries.
    pub fn restart_if_dead(&self) -> anyhow::Result<bool> {
        if self.is_running() {
            return Ok(false);
        }
        tracing::warn!("the embedded catalog server is not running; starting it again");
        self.start_server()?;
        tracing::info!("embedded catalog server started again");
        Ok(true)
    }

    pub fn major(&self) -> u32 {
        self.install.major
    }

    /// Options for the maintenance database (`postgres`), used once to create the catalog database.
    pub fn admin_options(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username(DB_USER)
            .database("postgres")
            .application_name("pgward")
    }

    /// The catalog database as a libpq URL over its socket (for pg_dump of the self-backup).
    pub fn url(&self) -> String {
        let dir: String =
            url::form_urlencoded::byte_serialize(self.socket_dir.to_string_lossy().as_bytes())
                .collect();
        format!("postgres://{DB_USER}@{dir}/{DB_NAME}")
    }

    pub fn options(&self) -> PgConnectOptions {
        self.admin_options().database(DB_NAME)
    }

    /// Creates the catalog database on first start.
    pub async fn ensure_database(&self) -> anyhow::Result<()> {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect_with(&self.admin_options())
            .await
            .context("connecting to the embedded catalog")?;
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(DB_NAME)
                .fetch_optional(&mut c)
                .await?;
        if exists.is_none() {
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DB_NAME}")))
                .execute(&mut c)
                .await?;
        }
        let _ = c.close().await;
        Ok(())
    }

    /// Fast shutdown: open transactions are rolled back, committed data is safe.
    pub fn stop(&self) {
        match self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"]) {
            Ok(()) => tracing::info!("embedded catalog stopped"),
            Err(e) => tracing::warn!(
                error = format!("{e:#}"),
                "stopping the embedded catalog failed"
            ),
        }
    }

    pub fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .args(["status", "-D"])
            .arg(&self.data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn prepare_dirs(&self) -> anyhow::Result<()> {
        for d in [&self.data, &self.socket_dir] {
            std::fs::create_dir_all(d)?;
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))?;
            if let Some((uid, gid)) = self.run_as {
                chown(d.as_path(), Some(uid), Some(gid))
                    .with_context(|| format!("chown {}", d.display()))?;
            }
        }
        if let Some((uid, gid)) = self.run_as {
            if !self.log_file.exists() {
                std::fs::write(&self.log_file, b"")?;
            }
            chown(self.log_file.as_path(), Some(uid), Some(gid))?;
        }
        Ok(())
    }

    fn initdb(&self) -> anyhow::Result<()> {
        tracing::info!(data = %self.data.display(), "initialising the embedded catalog (first start)");
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(&self.data)
            .args([
                "-U",
                DB_USER,
                "-E",
                "UTF8",
                "--locale=C",
                "--auth-local=trust",
                "--auth-host=reject",
            ])
            .output()
            .context("running initdb")?;
        if !out.status.success() {
            bail!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    fn pg_ctl(&self, args: &[&str]) -> anyhow::Result<()> {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(args)
            .output()
            .context("running pg_ctl")?;
        if !out.status.success() {
            let tail = std::fs::read_to_string(&self.log_file).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            bail!(
                "pg_ctl {} failed: {} {}",
                args.first().unwrap_or(&""),
                String::from_utf8_lossy(&out.stderr).trim(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(())
    }

    fn command(&self, bin: &str) -> Command {
        let mut c = Command::new(self.install.bin(bin));
        c.current_dir(self.data.parent().unwrap_or(Path::new("/")));
        if let Some((uid, gid)) = self.run_as {
            c.uid(uid.as_raw()).gid(gid.as_raw());
        }
        c
    }
}

/// The server runs as another user, so every directory above its data must be enterable by others.
fn ensure_traversable(dir: &Path) -> anyhow::Result<()> {
    for d in dir.ancestors() {
        let mode = std::fs::metadata(d)?.permissions().mode();
        if mode & 0o001 == 0 {
            if d == dir {
                // Our own data directory: allow entering (not listing); secret.key stays 0600.
                std::fs::set_permissions(
                    d,
                    std::fs::Permissions::from_mode((mode & 0o777) | 0o711),
                )?;
                continue;
            }
            bail!(
                "the embedded catalog runs as user '{OS_USER}', which cannot enter {}; choose a data_dir outside it (e.g. PGWARD_DATA_DIR=/var/lib/pgward)",
                d.display()
            );
        }
    }
    Ok(())
}

/// Finds or creates the unprivileged OS user that runs the embedded server when pgward is root.
fn ensure_os_user() -> anyhow::Result<(Uid, Gid)> {
    ensure_system_user(OS_USER)
}

/// Finds or creates the unprivileged system user `name` (no home, no login shell).
pub fn ensure_system_user(name: &str) -> anyhow::Result<(Uid, Gid)> {
    if let Some(u) = User::from_name(name)? {
        return Ok((u.uid, u.gid));
    }
    let status = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ])
        .status()
        .with_context(|| format!("running useradd to create the '{name}' user"))?;
    if !status.success() {
        bail!(
            "useradd {name} failed; create an unprivileged user named {name} or run pgward as a normal user"
        );
    }
    let u = User::from_name(name)?.with_context(|| format!("user {name} missing after useradd"))?;
    Ok((u.uid, u.gid))
}
