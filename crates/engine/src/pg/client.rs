//! How pgward starts PostgreSQL client programs (pg_dump, pg_dumpall, pg_restore, psql).
//!
//! A client is a trust boundary: it reads what a dump says and it connects where a connection string
//! points. So it never inherits pgward's environment (which holds `PGWARD_SECRETS__KEY`, the catalog URL
//! and cloud credentials): it starts from an empty environment plus an allow-list, cannot read a
//! `.pgpass`, a service file or a `psqlrc`, runs in its own process group (so `--jobs` workers are
//! killed with it), and dies with the thread that started it.

use std::path::Path;
use std::process::Stdio;

/// Environment variables a client may see, besides those set here. Nothing of pgward's own.
const INHERITED: &[&str] = &["TZ"];

/// An unprivileged OS user a client runs as when pgward runs as root (psql, which reads what a dump
/// says). Not the embedded catalog's user: that one owns the catalog's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientUser {
    pub uid: u32,
    pub gid: u32,
}

/// A client command with a cleared environment. Callers add arguments and, when there is one, the
/// password (`PGPASSWORD`); nothing else from the environment reaches the client.
#[expect(
    unsafe_code,
    reason = "pre_exec is the only way to ask for a parent-death signal between fork and exec"
)]
pub fn command(bin: &Path, application_name: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.env_clear();
    for key in INHERITED {
        if let Ok(v) = std::env::var(key) {
            cmd.env(key, v);
        }
    }
    cmd.env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C.UTF-8")
        .env("PGAPPNAME", application_name)
        .env("PGCONNECT_TIMEOUT", "15")
        // No password file, service file or system-wide pg_service.conf: what the connection string
        // says (and what pgward validated) is everything the client uses.
        .env("PGPASSFILE", "/dev/null")
        .env("PGSERVICEFILE", "/dev/null")
        .env("PGSYSCONFDIR", "/nonexistent")
        .env("PSQLRC", "/dev/null")
        .stdin(Stdio::null())
        // Its own process group: --jobs forks workers, and a kill must reach them too.
        .process_group(0)
        .kill_on_drop(true);
    let parent = nix::unistd::getpid();
    // SAFETY: prctl and getppid are async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // A pgward killed with -9 must not leave a dump running or a restore committing. SIGTERM,
            // not SIGKILL: pg_dump and pg_restore forward it to their --jobs workers (which are not
            // pgward's children and would otherwise go on), cancel their queries and exit; psql dies
            // of it. Set after the user switch (a credential change clears it).
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                .map_err(std::io::Error::from)?;
            // pgward may have died between the fork and the prctl: then no signal would ever come, so
            // the child gives up (an error here ends it before exec).
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other(
                    "pgward ended while starting a client",
                ));
            }
            Ok(())
        });
    }
    cmd
}

/// How a client process ended, as people read it: `exit 1`, `killed by SIGKILL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientExit {
    Code(i32),
    Signal(i32),
    /// Not waited for (the process could not be reaped).
    Unknown,
}

impl From<std::process::ExitStatus> for ClientExit {
    fn from(s: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (s.code(), s.signal()) {
            (Some(c), _) => Self::Code(c),
            (None, Some(sig)) => Self::Signal(sig),
            (None, None) => Self::Unknown,
        }
    }
}

impl std::fmt::Display for ClientExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(c) => write!(f, "exit {c}"),
            Self::Signal(sig) => match nix::sys::signal::Signal::try_from(*sig) {
                Ok(s) => write!(f, "killed by {}", s.as_str()),
                Err(_) => write!(f, "killed by signal {sig}"),
            },
            Self::Unknown => f.write_str("exit status unknown"),
        }
    }
}

/// `command`, run as `user` when there is one (supplementary groups are dropped with the switch).
pub fn command_as(
    bin: &Path,
    application_name: &str,
    user: Option<ClientUser>,
) -> tokio::process::Command {
    let mut cmd = command(bin, application_name);
    if let Some(u) = user {
        cmd.uid(u.uid).gid(u.gid);
    }
    cmd
}

/// Whether a psql of this version (`psql (PostgreSQL) 17.6`) knows `\restrict`, which pgward relies on
/// to replay plain dumps without running their meta-commands: 13.22, 14.19, 15.14, 16.10, 17.6, 18+.
pub fn psql_supports_restrict(version: &str) -> bool {
    let Some(v) = version
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
    else {
        return false;
    };
    let mut parts = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    // Pre-releases (18beta1 …) may predate restricted mode: only releases count.
    if ["beta", "rc", "devel", "alpha"]
        .iter()
        .any(|p| v.contains(p))
    {
        return false;
    }
    let needed = match major {
        0..=12 => return false,
        13 => 22,
        14 => 19,
        15 => 14,
        16 => 10,
        17 => 6,
        _ => 0,
    };
    minor >= needed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_read_as_numbers_and_signal_names() {
        assert_eq!(ClientExit::Code(1).to_string(), "exit 1");
        assert_eq!(ClientExit::Signal(9).to_string(), "killed by SIGKILL");
        assert_eq!(ClientExit::Signal(15).to_string(), "killed by SIGTERM");
    }

    #[test]
    fn restrict_support_follows_the_august_2025_minors() {
        assert!(psql_supports_restrict("psql (PostgreSQL) 17.6"));
        assert!(psql_supports_restrict("psql (PostgreSQL) 18.0"));
        assert!(psql_supports_restrict("psql (PostgreSQL) 14.23"));
        assert!(!psql_supports_restrict("psql (PostgreSQL) 15.13"));
        assert!(!psql_supports_restrict("psql (PostgreSQL) 12.22"));
        assert!(!psql_supports_restrict(
            "psql (PostgreSQL) 18beta1 (Debian)"
        ));
        assert!(!psql_supports_restrict("nonsense"));
    }

    #[tokio::test]
    async fn a_client_sees_none_of_pgwards_environment() {
        // The test process has its own variables (PATH, HOME, ...); none may pass.
        let out = command(Path::new("/usr/bin/env"), "x")
            .stdout(Stdio::piped())
            .output()
            .await
            .unwrap();
        let env = String::from_utf8_lossy(&out.stdout);
        assert!(!env.contains("HOME="), "{env}");
        assert!(env.contains("PGPASSFILE=/dev/null"), "{env}");
    }
}
