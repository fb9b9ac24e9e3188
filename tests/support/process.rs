//! Real `pgward` processes beside the in-process test apps: `pgward serve` on its embedded catalog (its log
//! read line by line), `pgward <cmd>` on a test app's catalog; a free port for them, and waiting until a
//! pgward says it is ready.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;

use super::TestApp;
use super::fleet::pg_root;
use super::poll::eventually_every;

/// The fleet's PostgreSQL clients, as pgward's `PGWARD_POSTGRES__BIN_DIRS` setting takes them.
pub fn bin_dirs() -> String {
    format!("[\"{}\"]", pg_root().display())
}

/// `pgward <args>` as an operator runs it by hand beside the tests: this process's environment, the
/// fleet's PostgreSQL clients, warnings only.
pub fn pgward(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pgward"));
    cmd.args(args)
        .env("PGWARD_POSTGRES__BIN_DIRS", bin_dirs())
        .env("PGWARD_LOG__LEVEL", "warn");
    cmd
}

/// `pgward <args>` with nothing of this process's environment but PATH (the test command exports
/// PGWARD_* variables of its own), and the fleet's PostgreSQL clients.
fn pgward_alone(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pgward"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PGWARD_POSTGRES__BIN_DIRS", bin_dirs());
    cmd
}

/// [`pgward_alone`] on `app`'s catalog, with its secrets key and data directory: what every pgward
/// process that shares a test app's catalog starts from.
pub fn pgward_of(app: &TestApp, args: &[&str]) -> Command {
    let cfg = &app.config;
    let mut cmd = pgward_alone(args);
    cmd.env(
        "PGWARD_CATALOG__URL",
        cfg.catalog.url.as_ref().unwrap().expose_secret(),
    )
    .env(
        "PGWARD_SECRETS__KEY",
        cfg.secrets.key.as_ref().unwrap().expose_secret(),
    )
    .env("PGWARD_DATA_DIR", &cfg.data_dir);
    cmd
}

/// Fails the test unless the process that left `out` exited successfully; the failure is its stderr.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Where a real `pgward serve` on its embedded catalog can run: a temporary directory the embedded
/// server may enter (it may run as the unprivileged `pgward` user; removed when dropped), the data
/// directory in it, a free port and the base URL there.
pub fn serve_place() -> (tempfile::TempDir, std::path::PathBuf, u16, String) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    (tmp, data, port, format!("http://127.0.0.1:{port}"))
}

/// A port nothing listens on at the moment.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind port 0")
        .local_addr()
        .expect("addr")
        .port()
}

/// Waits until `GET <base>/readyz` answers 2xx (an unanswered request counts as not yet), looking again
/// every `every`; fails with `what` after `within`.
pub async fn wait_ready(base: &str, within: Duration, every: Duration, what: &str) {
    let http = reqwest::Client::new();
    eventually_every(
        within,
        every,
        async || {
            http.get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        },
        |_| what.to_string(),
    )
    .await;
}

/// Another `pgward serve` on `app`'s catalog, on a free port, its scheduler passes `scheduler_secs` apart
/// (plus `extra` settings), once it answers ready (up to a minute; `what` names it in the failure); and
/// its base URL. One way for the tests that need a second process on the same catalog.
pub async fn serve_beside(
    app: &TestApp,
    scheduler_secs: u64,
    extra: &[(&str, String)],
    what: &str,
) -> (Worker, String) {
    let port = free_port();
    let mut settings = vec![("PGWARD_SERVER__BIND", format!("127.0.0.1:{port}"))];
    settings.extend_from_slice(extra);
    let serve = Worker::start_cmd(app, "serve", scheduler_secs, &settings);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(
        &base,
        Duration::from_secs(60),
        Duration::from_millis(100),
        what,
    )
    .await;
    (serve, base)
}

/// A real `pgward serve` on the embedded catalog, its log read line by line.
pub struct Serve {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Serve {
    pub fn start(data_dir: &std::path::Path, port: u16) -> Self {
        Self::start_with(data_dir, port, &[])
    }

    /// `start` with more settings (environment variables).
    pub fn start_with(data_dir: &std::path::Path, port: u16, extra: &[(&str, String)]) -> Self {
        let mut child = pgward_alone(&["serve"])
            .env("PGWARD_DATA_DIR", data_dir)
            .env("PGWARD_SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("PGWARD_SERVER__WORKERS", "1")
            .env("PGWARD_LOG__LEVEL", "info")
            .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pgward serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Every log line so far.
    pub fn log(&mut self) -> &[String] {
        self.seen.extend(self.lines.try_iter());
        &self.seen
    }

    /// Reads log lines until one contains `needle` (the server says it is listening, etc.).
    pub fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = l.contains(needle);
                    self.seen.push(l);
                    if hit {
                        return;
                    }
                }
                Err(_) => panic!(
                    "pgward never logged {needle:?}; log:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub fn stop(mut self) -> Vec<String> {
        signal(&self.child, nix::sys::signal::Signal::SIGTERM);
        let status = self.child.wait().unwrap();
        self.seen.extend(self.lines.try_iter());
        assert!(
            status.success(),
            "pgward exited with {status}; log:\n{}",
            self.seen.join("\n")
        );
        self.seen
    }
}

/// Sends `sig` to the process `child` (a pgward asked to stop, or killed outright).
fn signal(child: &Child, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
}

/// A real `pgward` process on the test app's catalog (killed when dropped).
pub struct Worker(Child);

impl Worker {
    /// `pgward worker`, its scheduler passes `scheduler_secs` apart.
    pub fn start(app: &TestApp, scheduler_secs: u64) -> Self {
        Self::start_cmd(app, "worker", scheduler_secs, &[])
    }

    /// `pgward <cmd>` with the app's catalog, secrets key and data directory, plus `extra` settings.
    pub fn start_cmd(
        app: &TestApp,
        cmd: &str,
        scheduler_secs: u64,
        extra: &[(&str, String)],
    ) -> Self {
        let child = pgward_of(app, &[cmd])
            .env(
                "PGWARD_STORAGE__LOCAL_ROOTS",
                format!("[\"{}\"]", std::env::temp_dir().display()),
            )
            .env(
                "PGWARD_WORKER__SCHEDULER_INTERVAL_SECS",
                scheduler_secs.to_string(),
            )
            .env("PGWARD_LOG__LEVEL", "warn")
            // As the in-process test apps: everything dialled is on this machine.
            .env(
                "PGWARD_OUTBOUND__ALLOW_LOOPBACK",
                r#"["databases","destinations","webhooks"]"#,
            )
            .env("PGWARD_OUTBOUND__ALLOW_CATALOG_SERVER", "true")
            .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pgward");
        Self(child)
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    pub fn kill9(mut self) {
        signal(&self.0, nix::sys::signal::Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
