//! Real PostgreSQL servers of every supported major, started once per test process.
//!
//! Binaries come from scripts/deps.sh (`$PGWARD_CACHE/pg/<major>/bin`). initdb refuses root, so when the
//! tests run as root the servers run as the unprivileged user `pgward`. The servers are children of a
//! thread that lives as long as the test process and get SIGQUIT when it ends (PR_SET_PDEATHSIG), so a
//! crashed or interrupted test run leaves no server behind.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::poll::eventually_blocking;

pub const MAJORS: [u32; 6] = [13, 14, 15, 16, 17, 18];
/// The superuser password of every fleet server; tests grep logs and responses for it.
pub const SUPERUSER_PASSWORD: &str = "fleet-Sup3r-s3cret-pw";

#[derive(Debug, Clone)]
pub struct PgServer {
    pub major: u32,
    pub port: u16,
}

impl PgServer {
    /// `postgres://postgres:<pw>@127.0.0.1:<port>/<db>`
    pub fn url(&self, db: &str) -> String {
        self.url_at(self.port, db)
    }

    /// [`PgServer::url`] with another port: a forwarder's in front of this server, or one nobody
    /// listens on (a database that is gone).
    pub fn url_at(&self, port: u16, db: &str) -> String {
        format!("postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{port}/{db}")
    }

    pub fn url_as(&self, user: &str, password: &str, db: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }
}

pub struct Fleet {
    pub servers: Vec<PgServer>,
}

impl Fleet {
    pub fn get(&self, major: u32) -> &PgServer {
        self.servers
            .iter()
            .find(|s| s.major == major)
            .unwrap_or_else(|| panic!("no PostgreSQL {major} in the fleet"))
    }

    /// The server that hosts the test catalogs.
    pub fn catalog(&self) -> &PgServer {
        self.get(17)
    }
}

pub fn pg_root() -> PathBuf {
    std::env::var_os("PGWARD_PG_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::cache_dir().join("pg"))
}

pub fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        // PDEATHSIG fires when the *thread* that forked the child exits, so fork from one that never does.
        std::thread::Builder::new()
            .name("pg-fleet".into())
            .spawn(move || {
                let result = std::panic::catch_unwind(start_all);
                let _ = tx.send(result);
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn fleet thread");
        match rx.recv().expect("fleet thread") {
            Ok(f) => f,
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

fn run_as() -> Option<(u32, u32)> {
    if !nix::unistd::Uid::effective().is_root() {
        return None;
    }
    let user = nix::unistd::User::from_name("pgward").ok().flatten().expect(
        "tests run as root need the unprivileged user 'pgward' for PostgreSQL (scripts/deps.sh creates it)",
    );
    Some((user.uid.as_raw(), user.gid.as_raw()))
}

fn start_all() -> Fleet {
    let base = std::env::temp_dir();
    clean_stale(&base);
    let root = base.join(format!("pgward-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&root).expect("fleet dir");
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))
        .expect("chmod fleet dir");
    let owner = run_as();
    let handles: Vec<_> = MAJORS
        .iter()
        .map(|&major| {
            let root = root.clone();
            std::thread::spawn(move || init_one(&root, major, owner))
        })
        .collect();
    let prepared: Vec<(u32, PathBuf, PathBuf, u16)> = handles
        .into_iter()
        .map(|h| h.join().expect("initdb thread"))
        .collect();
    // Start from this (the long-lived) thread so that PDEATHSIG is tied to it.
    let servers = prepared
        .into_iter()
        .map(|(major, bin, data, port)| {
            start_one(&bin, &data, port, owner);
            PgServer { major, port }
        })
        .collect::<Vec<_>>();
    for s in &servers {
        wait_ready(s);
    }
    Fleet { servers }
}

fn clean_stale(base: &Path) {
    let Ok(rd) = std::fs::read_dir(base) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("pgward-fleet-")
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn init_one(root: &Path, major: u32, owner: Option<(u32, u32)>) -> (u32, PathBuf, PathBuf, u16) {
    let bin = pg_root().join(major.to_string()).join("bin");
    assert!(
        bin.join("initdb").is_file(),
        "PostgreSQL {major} not found in {}: run scripts/deps.sh",
        bin.display()
    );
    let dir = root.join(format!("pg{major}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, SUPERUSER_PASSWORD).expect("pwfile");
    let data = dir.join("data");
    if let Some((uid, gid)) = owner {
        nix::unistd::chown(&dir, Some(uid.into()), Some(gid.into())).expect("chown");
        nix::unistd::chown(&pwfile, Some(uid.into()), Some(gid.into())).expect("chown");
    }
    let mut cmd = Command::new(bin.join("initdb"));
    cmd.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C",
        "--auth=scram-sha-256",
    ]);
    cmd.arg(format!("--pwfile={}", pwfile.display()))
        .current_dir(&dir);
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
    let out = cmd.output().expect("run initdb");
    assert!(
        out.status.success(),
        "initdb {major} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (major, bin, data, super::process::free_port())
}

fn start_one(bin: &Path, data: &Path, port: u16, owner: Option<(u32, u32)>) {
    let sock = data.parent().expect("parent");
    let log = std::fs::File::create(sock.join("server.log")).expect("log file");
    if let Some((uid, gid)) = owner {
        nix::unistd::chown(&sock.join("server.log"), Some(uid.into()), Some(gid.into()))
            .expect("chown");
    }
    let mut cmd = Command::new(bin.join("postgres"));
    cmd.arg("-D").arg(data).args([
        "-p",
        &port.to_string(),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "max_connections=400",
    ]);
    cmd.args(["-c", "fsync=off", "-c", "shared_buffers=32MB"])
        .arg("-k")
        .arg(sock);
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup"))
        .stderr(log)
        .current_dir(sock);
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
    super::keeper::die_with_parent(&mut cmd, nix::sys::signal::Signal::SIGQUIT);
    // The child is reaped by nobody on purpose: it lives as long as the test process.
    let child = cmd.spawn().expect("start postgres");
    std::mem::forget(child);
}

fn wait_ready(s: &PgServer) {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Poll until a real query succeeds: a listening postmaster may still answer "starting up".
    eventually_blocking(
        Duration::from_secs(60),
        Duration::from_millis(50),
        || {
            rt.block_on(async {
                let mut c = sqlx::PgConnection::connect(&s.url("postgres")).await.ok()?;
                sqlx::query("SELECT 1").execute(&mut c).await.ok()?;
                c.close().await.ok()
            })
        },
        |_| format!("PostgreSQL {} did not start on port {}", s.major, s.port),
    );
}
