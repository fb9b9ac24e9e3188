//! The real `pgward serve` binary on the embedded default: no catalog URL, its own PostgreSQL.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pgward_api_types::SetupRequest;

use crate::support::fleet::pg_root;

/// A real `pgward serve` on the embedded catalog, its log read line by line.
pub(crate) struct Serve {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Serve {
    fn start(data_dir: &std::path::Path, port: u16) -> Self {
        Self::start_with(data_dir, port, &[])
    }

    /// `start` with more settings (environment variables).
    pub(crate) fn start_with(
        data_dir: &std::path::Path,
        port: u16,
        extra: &[(&str, String)],
    ) -> Self {
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
    pub(crate) fn log(&mut self) -> &[String] {
        self.seen.extend(self.lines.try_iter());
        &self.seen
    }

    /// Reads log lines until one contains `needle` (the server says it is listening, etc.).
    pub(crate) fn wait_for(&mut self, needle: &str) {
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

    pub(crate) fn stop(mut self) -> Vec<String> {
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

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn serve_runs_its_own_catalog_and_reuses_it_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    // The embedded server may run as the unprivileged `pgward` user: it must be able to enter the dir.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = pgward_api_client::Client::new(&base);

    let mut first = Serve::start(&data, port);
    first.wait_for("catalog migrations done");
    assert_eq!(client.health().await.unwrap().status, "ok");
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    client
        .setup(&SetupRequest {
            email: "op@example.com".into(),
            password: "embedded default pw".into(),
            name: None,
            setup_code: None,
        })
        .await
        .unwrap();
    // A session from before the password reset (it must not outlive the reset).
    let session = client
        .login("op@example.com", "embedded default pw")
        .await
        .unwrap();
    let info = client
        .with_token(session.access_token.clone())
        .system()
        .await
        .unwrap();
    assert_eq!(info.catalog, "embedded");
    let key = data.join("secret.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let log = first.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("generated a new secrets key")),
        "{log:#?}"
    );
    assert!(
        log.iter().any(|l| l.contains("embedded catalog stopped")),
        "{log:#?}"
    );
    assert!(
        !data.join("catalog/postmaster.pid").exists(),
        "the catalog server was not stopped"
    );

    // Password reset from the command line, against the same (stopped) embedded catalog.
    let mut reset = Command::new(env!("CARGO_BIN_EXE_pgward"))
        .args(["user", "reset-password", "--email", "op@example.com"])
        .env_clear()
        .env("PGWARD_DATA_DIR", &data)
        .env(
            "PGWARD_POSTGRES__BIN_DIRS",
            format!("[\"{}\"]", pg_root().display()),
        )
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut reset.stdin.take().unwrap(), b"a brand new password\n").unwrap();
    let reset = reset.wait_with_output().unwrap();
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    assert!(
        !data.join("catalog/postmaster.pid").exists(),
        "reset-password left the catalog running"
    );

    // A fresh client: the old one may hold a keep-alive connection to the stopped server.
    let client = pgward_api_client::Client::new(&base);
    let mut second = Serve::start(&data, port);
    second.wait_for("catalog migrations done");
    assert!(
        !client.auth_status().await.unwrap().setup_required,
        "the first run's user is gone"
    );
    let old = client
        .login("op@example.com", "embedded default pw")
        .await
        .unwrap_err();
    assert_eq!(old.status(), Some(401));
    client
        .login("op@example.com", "a brand new password")
        .await
        .unwrap();
    // The reset ended the sessions opened with the old password.
    let ended = client.refresh(&session.refresh_token).await.unwrap_err();
    assert_eq!(ended.status(), Some(401));
    let log = second.stop();
    assert!(
        !log.iter()
            .any(|l| l.contains("generated a new secrets key")),
        "the key was regenerated"
    );
}
