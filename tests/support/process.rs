//! Real `pgward` processes beside the in-process test apps: `pgward serve` on its embedded catalog (its log
//! read line by line), `pgward <cmd>` on a test app's catalog; a free port for them, and waiting until a
//! pgward says it is ready.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;

use super::TestApp;
use super::fleet::pg_root;
use super::poll::eventually_every;

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
        let mut child = Command::new(env!("CARGO_BIN_EXE_pgward"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PGWARD_DATA_DIR", data_dir)
            .env("PGWARD_SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("PGWARD_SERVER__WORKERS", "1")
            .env(
                "PGWARD_POSTGRES__BIN_DIRS",
                format!("[\"{}\"]", pg_root().display()),
            )
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
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
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
        let cfg = &app.config;
        let child = Command::new(env!("CARGO_BIN_EXE_pgward"))
            .arg(cmd)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "PGWARD_CATALOG__URL",
                cfg.catalog.url.as_ref().unwrap().expose_secret(),
            )
            .env(
                "PGWARD_SECRETS__KEY",
                cfg.secrets.key.as_ref().unwrap().expose_secret(),
            )
            .env("PGWARD_DATA_DIR", &cfg.data_dir)
            .env(
                "PGWARD_POSTGRES__BIN_DIRS",
                format!("[\"{}\"]", pg_root().display()),
            )
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
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let _ = self.0.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
