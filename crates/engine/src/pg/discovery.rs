//! Finding PostgreSQL installations: configured directories first, then the usual distribution layouts.
//!
//! pg_dump can dump servers of its own major and older ones, and a plain dump must be replayed by a psql at
//! least as new as the pg_dump that wrote it, so callers pick "the oldest client that is not older than the
//! server" through [`PgInstalls::client_for`].

use std::path::{Path, PathBuf};
use std::process::Command;

/// One PostgreSQL installation directory (`.../bin`) and what it contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgInstall {
    pub major: u32,
    pub version: String,
    pub bin_dir: PathBuf,
    pub has_pg_dump: bool,
    pub has_pg_restore: bool,
    pub has_psql: bool,
    pub has_pg_dumpall: bool,
    /// initdb, pg_ctl and postgres: enough to run a server (for the embedded catalog).
    pub has_server: bool,
}

impl PgInstall {
    /// pg_dump, pg_restore and psql are all there.
    pub fn is_complete_client(&self) -> bool {
        self.has_pg_dump && self.has_pg_restore && self.has_psql
    }

    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
}

/// Every installation found, at most one client set and one server set per major.
#[derive(Debug, Clone, Default)]
pub struct PgInstalls {
    pub installs: Vec<PgInstall>,
}

impl PgInstalls {
    /// Majors with a complete client set, ascending.
    pub fn client_majors(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .installs
            .iter()
            .filter(|i| i.is_complete_client())
            .map(|i| i.major)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The newest major with a complete client set.
    pub fn newest_client_major(&self) -> Option<u32> {
        self.client_majors().last().copied()
    }

    /// The client set to use against a server of `server_major`: the same major if present, otherwise the
    /// nearest newer one.
    pub fn client_for(&self, server_major: u32) -> Option<&PgInstall> {
        self.installs
            .iter()
            .filter(|i| i.is_complete_client() && i.major >= server_major)
            .min_by_key(|i| i.major)
    }

    /// The newest installation that can run a server.
    pub fn newest_server(&self) -> Option<&PgInstall> {
        self.installs
            .iter()
            .filter(|i| i.has_server)
            .max_by_key(|i| i.major)
    }

    pub fn server(&self, major: u32) -> Option<&PgInstall> {
        self.installs
            .iter()
            .find(|i| i.has_server && i.major == major)
    }
}

/// Searches `dirs` (each either a `bin` directory, an installation root with `bin/`, or a directory of
/// roots such as `<dir>/17/bin`), then what `scripts/deps.sh` installs (`$PGWARD_CACHE/pg/*/bin`,
/// by default `~/.cache/pgward/pg/*/bin`), then `/usr/lib/postgresql/*/bin`, `/usr/pgsql-*/bin` and
/// `/usr/local/pgsql/bin`. Earlier directories win when two hold the same major.
pub fn discover(dirs: &[PathBuf]) -> PgInstalls {
    let mut candidates: Vec<PathBuf> = Vec::new();
    for d in dirs {
        candidates.extend(expand(d));
    }
    // A newcomer who ran scripts/deps.sh finds its clients without a setting.
    let cache = std::env::var_os("PGWARD_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/pgward")));
    if let Some(cache) = cache {
        candidates.extend(children_bins(&cache.join("pg")));
    }
    candidates.extend(children_bins(Path::new("/usr/lib/postgresql")));
    candidates.extend(glob_prefix(Path::new("/usr"), "pgsql-"));
    candidates.push(PathBuf::from("/usr/local/pgsql/bin"));

    // Each inspection runs `--version`; at once rather than one after another (a command such as
    // `pgward restore` pays for discovery before it starts its client). Order is kept: earlier wins.
    let inspected: Vec<Option<PgInstall>> = std::thread::scope(|scope| {
        let handles: Vec<_> = candidates
            .iter()
            .map(|bin| scope.spawn(move || inspect(bin)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let mut found: Vec<PgInstall> = Vec::new();
    for install in inspected {
        let Some(install) = install else {
            continue;
        };
        if found.iter().any(|f| f.bin_dir == install.bin_dir) {
            continue;
        }
        // Keep the first of each major for clients and for servers; a dir with both counts once.
        let dup_client = install.is_complete_client()
            && found
                .iter()
                .any(|f| f.major == install.major && f.is_complete_client());
        let dup_server = install.has_server
            && found
                .iter()
                .any(|f| f.major == install.major && f.has_server);
        let adds_client = install.is_complete_client() && !dup_client;
        let adds_server = install.has_server && !dup_server;
        if adds_client || adds_server {
            found.push(install);
        }
    }
    found.sort_by_key(|i| i.major);
    PgInstalls { installs: found }
}

fn expand(d: &Path) -> Vec<PathBuf> {
    if d.file_name().is_some_and(|n| n == "bin") {
        return vec![d.to_path_buf()];
    }
    if d.join("bin").is_dir() {
        return vec![d.join("bin")];
    }
    children_bins(d)
}

fn children_bins(d: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(d) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.is_dir())
        .collect();
    // Newest first so that a directory of versions prefers the newest patch release of a major.
    v.sort();
    v.reverse();
    v
}

fn glob_prefix(d: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(d) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path().join("bin"))
        .filter(|p| p.is_dir())
        .collect()
}

fn inspect(bin: &Path) -> Option<PgInstall> {
    let exists = |n: &str| bin.join(n).is_file();
    let has_server = exists("initdb") && exists("pg_ctl") && exists("postgres");
    let probe_bin = ["pg_dump", "postgres", "psql"]
        .into_iter()
        .find(|n| exists(n))?;
    let version = version_of(&bin.join(probe_bin))?;
    let major = major_of(&version)?;
    Some(PgInstall {
        major,
        version,
        bin_dir: bin.canonicalize().unwrap_or_else(|_| bin.to_path_buf()),
        has_pg_dump: exists("pg_dump"),
        has_pg_restore: exists("pg_restore"),
        has_psql: exists("psql"),
        has_pg_dumpall: exists("pg_dumpall"),
        has_server,
    })
}

/// Runs `<exe> --version` and returns `17.11` from `pg_dump (PostgreSQL) 17.11 (Debian 17.11-1)`.
fn version_of(exe: &Path) -> Option<String> {
    let out = Command::new(exe).arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&out.stdout))
}

fn parse_version(text: &str) -> Option<String> {
    let after = text.split(")").nth(1).unwrap_or(text);
    after
        .split_whitespace()
        .next()
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_string)
}

/// `17.11` -> 17, `9.6.24` -> 9, `18beta1` -> 18.
pub fn major_of(version: &str) -> Option<u32> {
    let digits: String = version.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_as_printed_by_distributions() {
        assert_eq!(
            parse_version("pg_dump (PostgreSQL) 17.11\n").as_deref(),
            Some("17.11")
        );
        assert_eq!(
            parse_version("psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)").as_deref(),
            Some("15.18")
        );
        assert_eq!(major_of("18beta1"), Some(18));
        assert_eq!(major_of("9.6.24"), Some(9));
    }

    #[test]
    fn picks_the_nearest_client_not_older_than_the_server() {
        let mk = |major, client: bool| PgInstall {
            major,
            version: format!("{major}.1"),
            bin_dir: PathBuf::from(format!("/x/{major}")),
            has_pg_dump: client,
            has_pg_restore: client,
            has_psql: client,
            has_pg_dumpall: client,
            has_server: true,
        };
        let all = PgInstalls {
            installs: vec![mk(13, false), mk(14, true), mk(17, true)],
        };
        assert_eq!(all.client_for(13).map(|i| i.major), Some(14));
        assert_eq!(all.client_for(15).map(|i| i.major), Some(17));
        assert_eq!(all.client_for(18), None);
        assert_eq!(all.client_majors(), vec![14, 17]);
    }
}
