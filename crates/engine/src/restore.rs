//! The restore pipeline: stored object -> sha256 and byte count -> age decryption -> decompression ->
//! psql (plain) or pg_restore (custom, directory).
//!
//! Integrity before commit: the last bytes of the decoded stream reach the client only after the whole
//! object was read and its size and sha256 matched the recorded ones. psql and pg_restore cannot finish (so
//! cannot commit a single-transaction restore) before they have read everything; on any integrity failure
//! the client is killed and the server rolls its transaction back. Parallel custom restores and directory
//! archives need a file or a directory: they are written to a scratch directory first, verified, and only
//! then handed to pg_restore.
//!
//! Failure is failure: psql runs with `ON_ERROR_STOP=1`, pg_restore with `--exit-on-error`; any non-zero
//! exit is a failed restore with the client's stderr.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::backup::{Compression, DumpFormat};
use crate::pg::ConnInfo;

const STDERR_TAIL: usize = 8192;
/// Decoded bytes held back from the client until the object is verified. Larger than any read psql or
/// pg_restore needs to finish a statement, so neither can reach its end (and commit) early.
const HOLD_BACK: usize = 256 * 1024;

/// What the object's name says about its contents: `<name>.<sql|dump|tar>[.zst|.gz|.lz4][.age]`.
pub fn layout_of(key: &str) -> Option<(DumpFormat, Compression, bool)> {
    let (rest, encrypted) = match key.strip_suffix(".age") {
        Some(r) => (r, true),
        None => (key, false),
    };
    let (rest, compression) = if let Some(r) = rest.strip_suffix(".zst") {
        (r, Compression::Zstd { level: 3 })
    } else if let Some(r) = rest.strip_suffix(".gz") {
        (r, Compression::Gzip { level: 6 })
    } else if let Some(r) = rest.strip_suffix(".lz4") {
        (r, Compression::Lz4)
    } else {
        (rest, Compression::None)
    };
    let format = if rest.ends_with(".sql") {
        DumpFormat::Plain
    } else if rest.ends_with(".dump") {
        DumpFormat::Custom
    } else if rest.ends_with(".tar") {
        DumpFormat::Directory
    } else {
        return None;
    };
    Some((format, compression, encrypted))
}

/// How the archive is replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Drop existing objects first (`--clean --if-exists`; archives only).
    pub clean: bool,
    /// All or nothing: one transaction (not with parallel jobs).
    pub single_transaction: bool,
    /// pg_restore `--jobs` (archives only).
    pub jobs: u32,
    pub no_owner: bool,
    pub no_privileges: bool,
    /// Restore only these schemas / tables (archives only; pg_restore `--schema` / `--table`).
    pub schemas: Vec<String>,
    pub tables: Vec<String>,
    /// For `pg_dumpall --globals-only` files: roles and tablespaces that exist already are expected
    /// (`CREATE ROLE postgres` always is), so "already exists" errors are tolerated; any other error
    /// still fails the restore.
    pub globals: bool,
}

impl RestoreOptions {
    /// Options that make no sense for `format`, as (field, reason).
    pub fn check(&self, format: DumpFormat) -> Vec<(&'static str, String)> {
        let mut bad = Vec::new();
        if format == DumpFormat::Plain {
            let archive_only = [
                ("clean", self.clean),
                ("jobs", self.jobs > 1),
                ("no_owner", self.no_owner),
                ("no_privileges", self.no_privileges),
                ("schemas", !self.schemas.is_empty()),
                ("tables", !self.tables.is_empty()),
            ];
            for (field, set) in archive_only {
                if set {
                    bad.push((
                        field,
                        "plain SQL dumps replay as written: this needs a custom or directory dump"
                            .to_string(),
                    ));
                }
            }
        }
        if !self.schemas.is_empty() && !self.tables.is_empty() {
            bad.push((
                "tables",
                "choose whole schemas or single tables, not both".to_string(),
            ));
        }
        if self.single_transaction && self.jobs > 1 {
            bad.push((
                "jobs",
                "parallel jobs cannot run in a single transaction".to_string(),
            ));
        }
        if self.jobs > 32 {
            bad.push(("jobs", "at most 32".to_string()));
        }
        bad
    }

    fn pg_restore_args(&self, format: DumpFormat) -> Vec<String> {
        let mut a = vec![
            "--exit-on-error".to_string(),
            "--no-password".to_string(),
            match format {
                DumpFormat::Directory => "--format=directory",
                _ => "--format=custom",
            }
            .to_string(),
        ];
        if self.single_transaction {
            a.push("--single-transaction".into());
        }
        if self.jobs > 1 {
            a.push(format!("--jobs={}", self.jobs));
        }
        if self.clean {
            a.extend(["--clean".to_string(), "--if-exists".to_string()]);
        }
        if self.no_owner {
            a.push("--no-owner".into());
        }
        if self.no_privileges {
            a.push("--no-privileges".into());
        }
        // pg_restore's --table takes a bare name (no schema): `schema.table` becomes --schema and
        // --table, which select that table. --strict-names fails a name that matches nothing, instead
        // of restoring nothing and reporting success.
        let mut schemas: Vec<&str> = self.schemas.iter().map(String::as_str).collect();
        for t in &self.tables {
            let (schema, table) = t.split_once('.').unwrap_or(("", t.as_str()));
            if !schema.is_empty() && !schemas.contains(&schema) {
                schemas.push(schema);
            }
            a.push(format!("--table={table}"));
        }
        for s in schemas {
            a.push(format!("--schema={s}"));
        }
        if !self.schemas.is_empty() || !self.tables.is_empty() {
            a.push("--strict-names".into());
        }
        a
    }
}

pub struct RestoreRequest {
    /// The `bin` directory of the client set to use (psql, pg_restore).
    pub client_bin_dir: PathBuf,
    /// The database to restore into.
    pub conn: ConnInfo,
    pub format: DumpFormat,
    pub compression: Compression,
    pub encrypted: bool,
    /// The stored object, as it was written.
    pub source: BoxStream<'static, Result<Bytes, String>>,
    /// The recorded checksum and size; `None` skips that check (nothing was recorded).
    pub expected_sha256: Option<String>,
    pub expected_size: Option<u64>,
    /// age identities (`AGE-SECRET-KEY-1...`), held only in memory for this restore.
    pub identities: Vec<String>,
    pub options: RestoreOptions,
    /// Parent of the scratch directory for parallel custom and directory restores.
    pub work_dir: PathBuf,
    /// Object bytes read so far.
    pub bytes_read: Arc<AtomicU64>,
    pub cancel: CancellationToken,
    /// The decoded (decrypted, decompressed) stream is refused beyond this many bytes: a decompression
    /// bomb stops there. Spooled restores are also held to the work directory's free space.
    pub max_decoded: Option<u64>,
    /// psql runs as this user (pgward as root): what a dump might still make it do, it does without
    /// root's rights. It reads only its standard input, so it needs no access to the work directory.
    pub run_as: Option<crate::pg::client::ClientUser>,
}

#[derive(Debug, Clone)]
pub struct RestoreOutcome {
    pub bytes_read: u64,
    pub sha256: String,
    pub stderr_tail: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RestoreError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("reading the backup failed: {0}")]
    Source(String),
    #[error("the backup is truncated: {got} of {expected} bytes")]
    Truncated { expected: u64, got: u64 },
    #[error("the backup is corrupted: sha256 {actual} does not match the recorded {expected}")]
    ChecksumMismatch { expected: String, actual: String },
    #[error("cannot decrypt the backup: {0}")]
    Decryption(String),
    #[error("the backup's compressed stream is corrupt: {0}")]
    CorruptStream(String),
    #[error("{client} failed ({exit})")]
    Client {
        client: &'static str,
        exit: crate::pg::client::ClientExit,
        stderr: String,
    },
    #[error("the archive is refused: {0}")]
    UnsafeArchive(String),
    #[error(
        "the backup decompresses to more than {0} bytes, more than its recorded size (or the allowed \
         ratio, or the work directory's free space) allows"
    )]
    DecompressionLimit(u64),
    #[error("the dump tries to run a psql meta-command, which pgward never executes: {0}")]
    MetaCommand(String),
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Io(String),
}

impl RestoreError {
    /// A stable machine-readable code for the catalog and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_request",
            Self::Source(_) => "backup_unreadable",
            Self::Truncated { .. } => "backup_truncated",
            Self::ChecksumMismatch { .. } => "checksum_mismatch",
            Self::Decryption(_) => "decryption_failed",
            Self::CorruptStream(_) => "corrupt_stream",
            Self::Client { .. } => "restore_failed",
            Self::UnsafeArchive(_) => "unsafe_archive",
            Self::DecompressionLimit(_) => "decompression_limit",
            Self::MetaCommand(_) => "dump_meta_command",
            Self::Cancelled => "cancelled",
            Self::Io(_) => "io_error",
        }
    }
}

/// How the decoded stream reaches the client.
enum Mode {
    /// Into the client's stdin (plain with psql, custom with one job).
    Pipe,
    /// Into a file, then `pg_restore` (custom with parallel jobs or a selection).
    File,
    /// Unpacked into a directory, then `pg_restore --format=directory`.
    Unpack,
}

/// Restores one object. On success the client exited 0 after reading a verified stream.
pub async fn run_restore(req: RestoreRequest) -> Result<RestoreOutcome, RestoreError> {
    let bad = req.options.check(req.format);
    if let Some((field, why)) = bad.first() {
        return Err(RestoreError::Invalid(format!("{field}: {why}")));
    }
    let identities = parse_identities(&req.identities)?;
    if req.format == DumpFormat::Plain {
        require_restricted_psql(&req.client_bin_dir).await?;
    }
    if req.encrypted && identities.is_empty() {
        return Err(RestoreError::Decryption(
            "the backup is encrypted: supply an age identity (AGE-SECRET-KEY-1...)".into(),
        ));
    }
    // pg_restore --schema / --table restore objects of a schema but not the schema itself.
    let mut needed: Vec<String> = req.options.schemas.clone();
    for t in &req.options.tables {
        if let Some((schema, _)) = t.split_once('.')
            && !needed.iter().any(|s| s == schema)
        {
            needed.push(schema.to_string());
        }
    }
    if !needed.is_empty() {
        ensure_schemas((&req.client_bin_dir, &req.conn, req.run_as), &needed).await?;
    }
    let mode = match req.format {
        // A plain dump may carry its own BEGIN/COMMIT (large objects), which would end psql's single
        // transaction mid-stream: all-or-nothing plain restores replay a verified scratch copy.
        DumpFormat::Plain if req.options.single_transaction => Mode::File,
        DumpFormat::Plain => Mode::Pipe,
        // A selective restore lets pg_restore stop reading early (possibly committed before the object
        // was verified): it gets a verified file instead, as parallel restores do.
        DumpFormat::Custom
            if req.options.jobs <= 1
                && req.options.schemas.is_empty()
                && req.options.tables.is_empty() =>
        {
            Mode::Pipe
        }
        DumpFormat::Custom => Mode::File,
        DumpFormat::Directory => Mode::Unpack,
    };
    let scratch = match mode {
        Mode::Pipe => None,
        _ => Some(crate::backup::work_dir_in(&req.work_dir).map_err(RestoreError::Io)?),
    };

    // Object chunks flow through a small bounded channel into the blocking decoder.
    let (tx, rx) = mpsc::channel::<Result<Bytes, String>>(4);
    let mut source = req.source;
    let feeder = tokio::spawn(async move {
        while let Some(chunk) = source.next().await {
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    let stop = Arc::new(AtomicBool::new(false));
    let raw = Shared(Arc::new(Mutex::new(Raw {
        rx,
        cur: Bytes::new(),
        hasher: Sha256::new(),
        count: 0,
        progress: req.bytes_read.clone(),
        source_error: None,
        stop: stop.clone(),
    })));

    let client_name = if req.format == DumpFormat::Plain {
        "psql"
    } else {
        "pg_restore"
    };
    // The client reading stdin starts now, so the stream flows straight into it.
    let (mut child, stderr_task, stdin) = match mode {
        Mode::Pipe => {
            let args = if req.format == DumpFormat::Plain {
                psql_args(&req.options)
            } else {
                req.options.pg_restore_args(req.format)
            };
            let (mut child, stderr) = spawn(
                (&req.client_bin_dir, &req.conn, req.run_as),
                client_name,
                args,
                None,
                Stdio::piped(),
            )?;
            let stdin = child
                .stdin
                .take()
                .ok_or_else(|| RestoreError::Io("no stdin".into()))?;
            let stdin = std::fs::File::from(
                stdin
                    .into_owned_fd()
                    .map_err(|e| RestoreError::Io(e.to_string()))?,
            );
            (Some(child), Some(stderr), Some(stdin))
        }
        _ => (None, None, None),
    };
    // A second handle on the client's stdin, held here: the client sees the end of its input only when
    // this one is dropped too, which happens after verification, or after the client was killed — never
    // because the decoder thread panicked or was abandoned on cancel.
    let stdin_guard = match &stdin {
        Some(f) => Some(f.try_clone().map_err(|e| RestoreError::Io(e.to_string()))?),
        None => None,
    };

    let out_path = scratch.as_ref().map(|s| s.path().join("archive"));
    // A spooled stream must also fit where it is spooled.
    let limit = match &scratch {
        Some(s) => {
            let free = nix::sys::statvfs::statvfs(s.path())
                .map(|v| v.blocks_available().saturating_mul(v.fragment_size()))
                .ok();
            match (req.max_decoded, free) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
        None => req.max_decoded,
    };
    // Replaying globals must not change the role pgward itself connects as (pg_dumpall carries its
    // password, which would lock pgward out of the target server).
    let skip_role = req.options.globals.then(|| req.conn.username.clone());
    let decode = {
        let (raw, compression, encrypted) = (raw.clone(), req.compression, req.encrypted);
        let out_path = out_path.clone();
        let format = req.format;
        tokio::task::spawn_blocking(move || {
            let layout = Layout {
                format,
                compression,
                encrypted,
                identities,
                skip_role,
                limit,
            };
            let decoded = decode_into(raw.clone(), layout, stdin, out_path);
            // Read what the decoder left (trailing bytes, or everything after a decode error), so the
            // checksum covers the whole object.
            if let Ok(mut r) = raw.0.lock() {
                r.drain();
            }
            decoded
        })
    };
    let mut decode = decode;
    let decoded = tokio::select! {
        r = &mut decode => r,
        _ = req.cancel.cancelled() => {
            // Kill the client before its input can end, then stop the decoder and wait for it (it may
            // still be writing into the scratch directory).
            if let Some(c) = child.as_mut() {
                kill_group(c);
                let _ = c.wait().await;
            }
            stop.store(true, Ordering::Relaxed);
            feeder.abort();
            let _ = decode.await;
            drop(stdin_guard);
            return Err(RestoreError::Cancelled);
        }
    };
    let decoded = match decoded {
        Ok(d) => d,
        Err(e) => {
            if let Some(c) = child.as_mut() {
                kill_group(c);
                let _ = c.wait().await;
            }
            feeder.abort();
            return Err(RestoreError::Io(format!("decoder panicked: {e}")));
        }
    };
    feeder.abort();

    // Classify: the object itself first (size, checksum), then how decoding went.
    let (count, sha, source_error) = {
        let mut r = raw
            .0
            .lock()
            .map_err(|_| RestoreError::Io("poisoned".into()))?;
        let sha = hex::encode(std::mem::take(&mut r.hasher).finalize());
        (r.count, sha, r.source_error.clone())
    };
    let integrity = if let Some(e) = source_error {
        Some(RestoreError::Source(e))
    } else if let Some(expected) = req.expected_size.filter(|e| count < *e) {
        Some(RestoreError::Truncated {
            expected,
            got: count,
        })
    } else if let Some(expected) = req.expected_size.filter(|e| count > *e) {
        Some(RestoreError::ChecksumMismatch {
            expected: format!("{expected} bytes"),
            actual: format!("{count} bytes"),
        })
    } else if let Some(expected) = req.expected_sha256.as_ref().filter(|e| **e != sha) {
        Some(RestoreError::ChecksumMismatch {
            expected: expected.clone(),
            actual: sha.clone(),
        })
    } else {
        match &decoded.failure {
            Some(Failure::Decrypt(m)) => Some(RestoreError::Decryption(m.clone())),
            Some(Failure::Decode(m)) => Some(RestoreError::CorruptStream(m.clone())),
            Some(Failure::Unsafe(m)) => Some(RestoreError::UnsafeArchive(m.clone())),
            Some(Failure::Limit(n)) => Some(RestoreError::DecompressionLimit(*n)),
            _ => None,
        }
    };
    let Decoded { failure, held } = decoded;
    if let Some(err) = integrity {
        // The client never saw the end of the stream; killing it rolls its transaction back. Only then
        // may its stdin close.
        if let Some(c) = child.as_mut() {
            kill_group(c);
            let _ = c.wait().await;
        }
        drop(held);
        drop(stdin_guard);
        return Err(err);
    }
    // Spooled modes: nothing has touched the target yet; a scratch file or directory that could not be
    // written completely (disk full) must not be handed to pg_restore.
    if child.is_none()
        && let Some(Failure::Write(e)) = &failure
    {
        return Err(RestoreError::Io(format!(
            "writing the backup to scratch space in {}: {e}",
            req.work_dir.display()
        )));
    }

    let (mut child, stderr_task) = match (child, stderr_task) {
        (Some(c), Some(s)) => {
            // Verified: release the held-back tail (unless the client already quit) and close stdin.
            if let Some(held) = held {
                let _ = tokio::task::spawn_blocking(move || held.release()).await;
            }
            drop(stdin_guard);
            (c, s)
        }
        _ => {
            let scratch = scratch
                .as_ref()
                .ok_or_else(|| RestoreError::Io("no scratch directory".into()))?;
            let archive = match req.format {
                DumpFormat::Directory => scratch.path().join("archive/dump"),
                _ => scratch.path().join("archive"),
            };
            if req.format == DumpFormat::Plain {
                // The verified copy reaches psql on its standard input, opened here: psql (possibly
                // another user) needs no access to the scratch directory.
                let file = std::fs::File::open(&archive)
                    .map_err(|e| RestoreError::Io(format!("opening {}: {e}", archive.display())))?;
                spawn(
                    (&req.client_bin_dir, &req.conn, req.run_as),
                    client_name,
                    psql_args(&req.options),
                    None,
                    Stdio::from(file),
                )?
            } else {
                spawn(
                    (&req.client_bin_dir, &req.conn, req.run_as),
                    client_name,
                    req.options.pg_restore_args(req.format),
                    Some(&archive),
                    Stdio::null(),
                )?
            }
        }
    };
    let status = tokio::select! {
        s = child.wait() => s.map_err(|e| RestoreError::Io(e.to_string()))?,
        _ = req.cancel.cancelled() => {
            kill_group(&mut child);
            let _ = child.wait().await;
            return Err(RestoreError::Cancelled);
        }
    };
    let ClientErrors {
        tail: stderr_tail,
        unexpected: unexpected_errors,
        refused_meta,
    } = stderr_task.await.unwrap_or_default();
    drop(scratch);
    // Restricted psql never ran it; whether or not psql went on (globals do), the dump is refused.
    if let Some(line) = refused_meta {
        return Err(RestoreError::MetaCommand(line));
    }
    let unexpected = req.options.globals && unexpected_errors > 0;
    if !status.success() || unexpected {
        return Err(RestoreError::Client {
            client: client_name,
            exit: status.into(),
            stderr: stderr_tail,
        });
    }
    if let Some(Failure::Write(e)) = failure {
        // The client exited 0 without reading everything: not a restore we can call complete.
        return Err(RestoreError::Io(format!(
            "{client_name} stopped reading the backup: {e}"
        )));
    }
    Ok(RestoreOutcome {
        bytes_read: count,
        sha256: sha,
        stderr_tail,
    })
}

/// Plain dumps are only replayed by a psql that can be put in restricted mode (see `pg::restrict`).
async fn require_restricted_psql(bin_dir: &Path) -> Result<(), RestoreError> {
    let psql = bin_dir.join("psql");
    let out = crate::pg::client::command(&psql, "pgward")
        .arg("--version")
        .output()
        .await
        .map_err(|e| RestoreError::Io(format!("running {} --version: {e}", psql.display())))?;
    let version = String::from_utf8_lossy(&out.stdout);
    if crate::pg::client::psql_supports_restrict(&version) {
        Ok(())
    } else {
        Err(RestoreError::Invalid(format!(
            "{} ({}) cannot replay a plain dump safely: it has no restricted mode (\\restrict, since \
             13.22, 14.19, 15.14, 16.10, 17.6); install a newer PostgreSQL client",
            psql.display(),
            version.trim()
        )))
    }
}

/// psql for plain dumps: no psqlrc, stop at the first error (globals files: keep going, judged after).
fn psql_args(o: &RestoreOptions) -> Vec<String> {
    let stop = if o.globals { 0 } else { 1 };
    let mut a = vec![
        "--no-psqlrc".to_string(),
        "--quiet".to_string(),
        "--no-password".to_string(),
        format!("--set=ON_ERROR_STOP={stop}"),
    ];
    if o.single_transaction {
        a.push("--single-transaction".into());
    }
    a
}

/// SIGKILL to the client and every worker it forked (its process group).
pub(crate) fn kill_group(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.start_kill();
}

/// Creates the chosen schemas in the target if they are missing (a selective restore needs them).
async fn ensure_schemas(
    (bin_dir, conn, run_as): (&Path, &ConnInfo, Option<crate::pg::client::ClientUser>),
    schemas: &[String],
) -> Result<(), RestoreError> {
    let sql: String = schemas
        .iter()
        .map(|s| {
            format!(
                "CREATE SCHEMA IF NOT EXISTS \"{}\";",
                s.replace('"', "\"\"")
            )
        })
        .collect();
    let (child, stderr) = spawn(
        (bin_dir, conn, run_as),
        "psql",
        vec![
            "--no-psqlrc".into(),
            "--quiet".into(),
            "--no-password".into(),
            "--set=ON_ERROR_STOP=1".into(),
            format!("--command={sql}"),
        ],
        None,
        Stdio::null(),
    )?;
    let status = child
        .wait_with_output()
        .await
        .map_err(|e| RestoreError::Io(e.to_string()))?
        .status;
    if !status.success() {
        return Err(RestoreError::Client {
            client: "psql",
            exit: status.into(),
            stderr: stderr.await.unwrap_or_default().tail,
        });
    }
    Ok(())
}

fn parse_identities(raw: &[String]) -> Result<Vec<age::x25519::Identity>, RestoreError> {
    raw.iter()
        .map(|s| {
            age::x25519::Identity::from_str(s.trim()).map_err(|_| {
                // Never echo the value: it is a secret key.
                RestoreError::Invalid(
                    "an identity is not an age secret key (AGE-SECRET-KEY-1...)".into(),
                )
            })
        })
        .collect()
}

/// Starts psql or pg_restore against the target; the password goes through the environment. psql runs
/// as `run_as` when given (pg_restore reads archives from the scratch directory, so it stays pgward's).
fn spawn(
    (bin_dir, conn, run_as): (&Path, &ConnInfo, Option<crate::pg::client::ClientUser>),
    client: &str,
    args: Vec<String>,
    archive: Option<&Path>,
    stdin: Stdio,
) -> Result<(tokio::process::Child, tokio::task::JoinHandle<ClientErrors>), RestoreError> {
    let bin = bin_dir.join(client);
    let run_as = if client == "psql" { run_as } else { None };
    let mut cmd = crate::pg::client::command_as(&bin, "pgward-restore", run_as);
    cmd.args(args)
        .arg(format!("--dbname={}", conn.without_password()))
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(a) = archive {
        cmd.arg(a);
    }
    if let Some(pw) = conn.password() {
        cmd.env("PGPASSWORD", pw);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| RestoreError::Io(format!("starting {}: {e}", bin.display())))?;
    let mut stderr = child
        .stderr
        .take()
        .ok_or_else(|| RestoreError::Io("no stderr".into()))?;
    // The whole stream is scanned line by line (a tail alone could hide an early error among many
    // expected ones); only the tail is kept.
    let task = tokio::spawn(async move {
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(&mut stderr).lines();
        let (mut tail, mut unexpected) = (std::collections::VecDeque::<String>::new(), 0usize);
        let mut refused_meta = None;
        let mut size = 0usize;
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("ERROR:") && !line.contains("already exists") {
                unexpected += 1;
            }
            if refused_meta.is_none()
                && crate::pg::restrict::REFUSED_MARKERS
                    .iter()
                    .any(|m| line.contains(m))
            {
                refused_meta = Some(line.chars().take(300).collect());
            }
            size += line.len() + 1;
            tail.push_back(line);
            while size > STDERR_TAIL && tail.len() > 1 {
                size -= tail.pop_front().map_or(0, |l| l.len() + 1);
            }
        }
        let text = tail.into_iter().collect::<Vec<_>>().join("\n");
        ClientErrors {
            tail: text.trim().to_string(),
            unexpected,
            refused_meta,
        }
    });
    Ok((child, task))
}

/// What a client's stderr said, scanned line by line.
#[derive(Default)]
struct ClientErrors {
    tail: String,
    /// ERROR lines other than "already exists" (judged for globals, which run without ON_ERROR_STOP).
    unexpected: usize,
    /// The first meta-command restricted psql refused.
    refused_meta: Option<String>,
}

enum Failure {
    Decrypt(String),
    Decode(String),
    /// A tar entry that is not a plain file or directory, or that points outside the archive.
    Unsafe(String),
    /// The decoded stream went past its limit.
    Limit(u64),
    /// Writing to the client or the scratch space failed (the client quit early, disk full...).
    Write(String),
}

struct Decoded {
    failure: Option<Failure>,
    held: Option<HoldBack>,
}

/// raw -> age (if encrypted) -> decompression.
fn decoder(
    raw: impl Read + Send + 'static,
    compression: Compression,
    encrypted: bool,
    identities: &[age::x25519::Identity],
) -> Result<Box<dyn Read + Send>, Failure> {
    let plain: Box<dyn Read + Send> = if encrypted {
        let d = age::Decryptor::new(raw)
            .map_err(|e| Failure::Decrypt(format!("not an age file: {e}")))?;
        match d.decrypt(identities.iter().map(|i| i as &dyn age::Identity)) {
            Ok(r) => Box::new(r),
            Err(age::DecryptError::NoMatchingKeys) => {
                return Err(Failure::Decrypt(
                    "none of the given identities can open this backup".into(),
                ));
            }
            Err(e) => return Err(Failure::Decrypt(e.to_string())),
        }
    } else {
        Box::new(raw)
    };
    Ok(match compression {
        Compression::None => plain,
        Compression::Zstd { .. } => Box::new(
            zstd::stream::read::Decoder::new(plain).map_err(|e| Failure::Decode(e.to_string()))?,
        ),
        Compression::Gzip { .. } => Box::new(flate2::read::MultiGzDecoder::new(plain)),
        Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(plain)),
    })
}

/// Runs on a blocking thread: raw -> age -> decompression -> stdin (held back) / file / unpacked tar.
/// What the stored object is and how to read it.
struct Layout {
    format: DumpFormat,
    compression: Compression,
    encrypted: bool,
    identities: Vec<age::x25519::Identity>,
    /// Globals only: the role whose statements are skipped.
    skip_role: Option<String>,
    /// Most decoded bytes accepted.
    limit: Option<u64>,
}

fn decode_into(
    raw: Shared,
    layout: Layout,
    stdin: Option<std::fs::File>,
    out_path: Option<PathBuf>,
) -> Decoded {
    let Layout {
        format,
        compression,
        encrypted,
        identities,
        skip_role,
        limit,
    } = layout;
    let fail = |f| Decoded {
        failure: Some(f),
        held: None,
    };
    // The client's stdin must stay open on every failure until the client is killed: closing it would
    // be the end of input, and psql would commit a single-transaction restore of a partial stream.
    let mut stdin = stdin.map(|inner| HoldBack {
        inner,
        buf: Vec::with_capacity(2 * HOLD_BACK),
    });
    let fail_held = |f, held: Option<HoldBack>| Decoded {
        failure: Some(f),
        held,
    };
    let mut decoded = match decoder(raw, compression, encrypted, &identities) {
        Ok(d) => d,
        Err(f) => return fail_held(f, stdin.take()),
    };
    if let Some(max) = limit {
        decoded = Box::new(Limited {
            inner: decoded,
            left: max,
            max,
        });
    }
    if let Some(role) = skip_role {
        decoded = Box::new(SkipRole::new(decoded, &role));
    }
    if format == DumpFormat::Plain {
        decoded = Box::new(crate::pg::restrict::Restricted::new(
            decoded,
            &crate::pg::restrict::new_key(),
        ));
    }
    // Reading errors are the stream's (decryption or decompression); writing errors the output's.
    let classify = |e: &io::Error| {
        let m = e.to_string();
        if let Some(n) = m
            .strip_prefix(LIMIT_ERROR)
            .and_then(|n| n.trim().parse().ok())
        {
            Failure::Limit(n)
        } else if encrypted && (m.contains("decrypt") || m.contains("age") || m.contains("MAC")) {
            Failure::Decrypt(m)
        } else {
            Failure::Decode(m)
        }
    };
    match (stdin, out_path) {
        (Some(mut hold), _) => match copy_split(&mut decoded, &mut hold) {
            Ok(()) => Decoded {
                failure: None,
                held: Some(hold),
            },
            Err(Side::Read(e)) => fail_held(classify(&e), Some(hold)),
            Err(Side::Write(e)) => fail_held(Failure::Write(e.to_string()), Some(hold)),
        },
        (None, Some(path)) if format == DumpFormat::Directory => {
            let mut archive = tar::Archive::new(ReadSide(&mut decoded));
            match unpack_checked(&mut archive, &path) {
                Ok(()) => Decoded {
                    failure: None,
                    held: None,
                },
                Err(f) => fail(f),
            }
        }
        (None, Some(path)) => {
            let file = std::fs::File::create(&path).map(io::BufWriter::new);
            let mut file = match file {
                Ok(f) => f,
                Err(e) => return fail(Failure::Write(e.to_string())),
            };
            match copy_split(&mut decoded, &mut file).and_then(|_| {
                file.into_inner()
                    .map_err(|e| Side::Write(e.into_error()))?
                    .sync_all()
                    .map_err(Side::Write)
            }) {
                Ok(()) => Decoded {
                    failure: None,
                    held: None,
                },
                Err(Side::Read(e)) => fail(classify(&e)),
                Err(Side::Write(e)) => fail(Failure::Write(e.to_string())),
            }
        }
        (None, None) => fail(Failure::Write("no output".into())),
    }
}

enum Side {
    Read(io::Error),
    Write(io::Error),
}

/// How a `Limited` read error starts (the limit follows), so the decoder can tell it from corruption.
const LIMIT_ERROR: &str = "decompression limit reached:";

/// Passes at most `max` bytes, then fails: what a decompressor may produce from one object.
struct Limited {
    inner: Box<dyn Read + Send>,
    left: u64,
    max: u64,
}

impl Read for Limited {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more than allowed means the stream is too long; exactly `max` is fine.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(format!("{LIMIT_ERROR} {}", self.max))),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Whether a tar entry may be unpacked: only plain files and directories, with a relative name that
/// stays below the archive's root. A symlink or hard link would let pg_restore read any host file into
/// the target database; a device or FIFO could block or read the machine.
fn check_entry(entry: &tar::Entry<'_, impl Read>) -> Result<PathBuf, String> {
    use std::path::Component;
    let path = entry
        .path()
        .map_err(|e| format!("an entry name is not valid: {e}"))?
        .into_owned();
    let kind = entry.header().entry_type();
    if !(kind.is_file() || kind.is_dir() || kind == tar::EntryType::Continuous) {
        return Err(format!(
            "entry {} is a {:?}; only plain files and directories are accepted",
            path.display(),
            kind
        ));
    }
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "entry {} is absolute or leaves the archive (..)",
            path.display()
        ));
    }
    Ok(path)
}

/// Unpacks a directory archive entry by entry, refusing (before anything reaches pg_restore) what
/// `check_entry` refuses. The checksum is judged separately: if it holds, a failed write is local (disk
/// full, permissions), not a corrupt backup.
fn unpack_checked(archive: &mut tar::Archive<impl Read>, dest: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dest).map_err(|e| Failure::Write(format!("unpacking: {e}")))?;
    let entries = archive
        .entries()
        .map_err(|e| Failure::Decode(format!("reading the archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Failure::Decode(format!("reading the archive: {e}")))?;
        check_entry(&entry).map_err(Failure::Unsafe)?;
        entry
            .unpack_in(dest)
            .map_err(|e| Failure::Write(format!("unpacking: {e}")))?;
    }
    check_toc_names(&dest.join("dump")).map_err(Failure::Unsafe)
}

/// pg_restore opens every data file by the name the TOC gives: each must be a plain name inside the
/// archive directory (see `toc`).
fn check_toc_names(dir: &Path) -> Result<(), String> {
    let Ok(toc) = std::fs::read(dir.join("toc.dat")) else {
        // No TOC: pg_restore refuses the archive itself.
        return Ok(());
    };
    let mut names = crate::toc::data_files(&toc)?;
    for e in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("blobs") && name.ends_with(".toc") {
            let text = std::fs::read_to_string(e.path()).map_err(|e| e.to_string())?;
            names.extend(crate::toc::blob_files(&text));
        }
    }
    match names.iter().find(|n| !crate::toc::is_plain_name(n)) {
        Some(bad) => Err(format!(
            "the table of contents names the data file {bad:?}, outside the archive"
        )),
        None => Ok(()),
    }
}

/// `io::copy` that says which side failed.
fn copy_split(r: &mut dyn Read, w: &mut dyn Write) -> Result<(), Side> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return w.flush().map_err(Side::Write),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Side::Read(e)),
        };
        w.write_all(&buf[..n]).map_err(Side::Write)?;
    }
}

struct ReadSide<'a>(&'a mut Box<dyn Read + Send>);

impl Read for ReadSide<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// Passes bytes through to the client except the newest `HOLD_BACK`, released by `release`.
struct HoldBack {
    inner: std::fs::File,
    buf: Vec<u8>,
}

impl HoldBack {
    /// Writes the held tail and closes the client's stdin (end of input).
    fn release(mut self) -> io::Result<()> {
        self.inner.write_all(&self.buf)?;
        self.inner.flush()
    }
}

impl Write for HoldBack {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 2 * HOLD_BACK {
            let out = self.buf.len() - HOLD_BACK;
            self.inner.write_all(&self.buf[..out])?;
            self.buf.drain(..out);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The object as it arrives: hashed and counted on the way through.
struct Raw {
    rx: mpsc::Receiver<Result<Bytes, String>>,
    cur: Bytes,
    hasher: Sha256,
    count: u64,
    progress: Arc<AtomicU64>,
    source_error: Option<String>,
    stop: Arc<AtomicBool>,
}

impl Raw {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("stopped"));
        }
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => {
                    self.source_error = Some(e.clone());
                    return Err(io::Error::other(format!("reading the backup: {e}")));
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        let chunk = self.cur.split_to(n);
        buf[..n].copy_from_slice(&chunk);
        self.hasher.update(&chunk);
        self.count += n as u64;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    /// Reads the rest of the object (hashing it), so the checksum covers every byte.
    fn drain(&mut self) {
        let mut scratch = vec![0u8; 64 * 1024];
        while let Ok(n) = self.read(&mut scratch) {
            if n == 0 {
                break;
            }
        }
    }
}

#[derive(Clone)]
struct Shared(Arc<Mutex<Raw>>);

impl Read for Shared {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .read(buf)
    }
}

/// Drops the `CREATE ROLE <role>;` and `ALTER ROLE <role> ...;` lines of a globals file (one statement
/// per line, as pg_dumpall writes them).
struct SkipRole {
    inner: io::BufReader<Box<dyn Read + Send>>,
    prefixes: [String; 4],
    line: Vec<u8>,
    pos: usize,
}

impl SkipRole {
    fn new(inner: Box<dyn Read + Send>, role: &str) -> Self {
        let quoted = format!("\"{}\"", role.replace('"', "\"\""));
        Self {
            inner: io::BufReader::new(inner),
            prefixes: [
                format!("CREATE ROLE {role};"),
                format!("ALTER ROLE {role} "),
                format!("CREATE ROLE {quoted};"),
                format!("ALTER ROLE {quoted} "),
            ],
            line: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for SkipRole {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::BufRead;
        while self.pos >= self.line.len() {
            self.line.clear();
            self.pos = 0;
            if self.inner.read_until(b'\n', &mut self.line)? == 0 {
                return Ok(0);
            }
            let skip = self
                .prefixes
                .iter()
                .any(|p| self.line.starts_with(p.as_bytes()));
            if skip {
                self.line.clear();
            }
        }
        let n = buf.len().min(self.line.len() - self.pos);
        buf[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// One entry of an archive's table of contents (`pg_restore --list`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TocEntry {
    pub id: u32,
    /// `TABLE`, `TABLE DATA`, `INDEX`, `FK CONSTRAINT`, `SCHEMA`, ...
    pub kind: String,
    pub schema: Option<String>,
    pub name: String,
    pub owner: Option<String>,
}

/// Kinds of `pg_restore --list` entries that are more than one word (longest first wins).
const MULTI_WORD_KINDS: &[&str] = &[
    "PUBLICATION TABLES IN SCHEMA",
    "TEXT SEARCH CONFIGURATION",
    "TEXT SEARCH DICTIONARY",
    "MATERIALIZED VIEW DATA",
    "TEXT SEARCH TEMPLATE",
    "FOREIGN DATA WRAPPER",
    "PROCEDURAL LANGUAGE",
    "DATABASE PROPERTIES",
    "TEXT SEARCH PARSER",
    "SEQUENCE OWNED BY",
    "SUBSCRIPTION TABLE",
    "PUBLICATION TABLE",
    "MATERIALIZED VIEW",
    "CHECK CONSTRAINT",
    "OPERATOR FAMILY",
    "STATISTICS DATA",
    "OPERATOR CLASS",
    "BLOB METADATA",
    "FOREIGN TABLE",
    "EVENT TRIGGER",
    "ACCESS METHOD",
    "FK CONSTRAINT",
    "LARGE OBJECT",
    "TABLE ATTACH",
    "INDEX ATTACH",
    "ROW SECURITY",
    "SEQUENCE SET",
    "USER MAPPING",
    "DEFAULT ACL",
    "TABLE DATA",
];

/// Parses `pg_restore --list` output (`3706; 0 16503 TABLE DATA public actor postgres`).
pub fn parse_toc(listing: &str) -> Vec<TocEntry> {
    listing
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .filter_map(|l| {
            let (id, rest) = l.split_once(';')?;
            let id = id.trim().parse().ok()?;
            let mut words = rest.split_whitespace();
            let (_catalog, _oid) = (words.next()?, words.next()?);
            let rest: Vec<&str> = words.collect();
            let joined = rest.join(" ");
            let kind = MULTI_WORD_KINDS
                .iter()
                .find(|k| joined.starts_with(&format!("{k} ")))
                .map(|k| k.to_string())
                .unwrap_or_else(|| rest.first().map(|s| s.to_string()).unwrap_or_default());
            let tail: Vec<&str> = rest[kind.split(' ').count()..].to_vec();
            let (schema, body) = tail.split_first()?;
            let (owner, name) = match body.split_last() {
                Some((o, n)) if !n.is_empty() => (Some(o.to_string()), n.join(" ")),
                Some((n, _)) => (None, n.to_string()),
                None => (None, String::new()),
            };
            Some(TocEntry {
                id,
                kind,
                schema: (*schema != "-").then(|| schema.to_string()),
                name,
                owner,
            })
        })
        .collect()
}

/// The table of contents of a custom or directory archive. Reads only as much of the object as the
/// TOC needs (the start of a custom archive; `toc.dat` of a directory one).
pub async fn list_contents(
    client_bin_dir: &Path,
    format: DumpFormat,
    compression: Compression,
    encrypted: bool,
    source: BoxStream<'static, Result<Bytes, String>>,
    identities: &[String],
    work_dir: &Path,
) -> Result<Vec<TocEntry>, RestoreError> {
    if format == DumpFormat::Plain {
        return Err(RestoreError::Invalid(
            "plain SQL dumps have no table of contents".into(),
        ));
    }
    let identities = parse_identities(identities)?;
    let scratch = crate::backup::work_dir_in(work_dir).map_err(RestoreError::Io)?;
    let (tx, rx) = mpsc::channel::<Result<Bytes, String>>(4);
    let mut source = source;
    let feeder = tokio::spawn(async move {
        while let Some(chunk) = source.next().await {
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
    });
    let raw = Shared(Arc::new(Mutex::new(Raw {
        rx,
        cur: Bytes::new(),
        hasher: Sha256::new(),
        count: 0,
        progress: Arc::new(AtomicU64::new(0)),
        source_error: None,
        stop: Arc::new(AtomicBool::new(false)),
    })));
    let toc = scratch.path().join("toc");
    let out = toc.clone();
    let extracted = tokio::task::spawn_blocking(move || -> Result<PathBuf, RestoreError> {
        let failed = |f: Failure| match f {
            Failure::Decrypt(m) => RestoreError::Decryption(m),
            Failure::Decode(m) | Failure::Write(m) => RestoreError::CorruptStream(m),
            Failure::Unsafe(m) => RestoreError::UnsafeArchive(m),
            Failure::Limit(n) => RestoreError::DecompressionLimit(n),
        };
        let mut decoded = decoder(raw, compression, encrypted, &identities).map_err(failed)?;
        std::fs::create_dir_all(&out).map_err(|e| RestoreError::Io(e.to_string()))?;
        if format == DumpFormat::Directory {
            let mut archive = tar::Archive::new(ReadSide(&mut decoded));
            for entry in archive
                .entries()
                .map_err(|e| RestoreError::CorruptStream(e.to_string()))?
            {
                let mut entry = entry.map_err(|e| RestoreError::CorruptStream(e.to_string()))?;
                let path = check_entry(&entry).map_err(RestoreError::UnsafeArchive)?;
                if path.ends_with("toc.dat") {
                    // A table of contents is small; a huge one is a bomb aimed at the work directory.
                    if entry.size() > 64 << 20 {
                        return Err(RestoreError::DecompressionLimit(64 << 20));
                    }
                    entry
                        .unpack(out.join("toc.dat"))
                        .map_err(|e| RestoreError::Io(e.to_string()))?;
                    return Ok(out);
                }
            }
            Err(RestoreError::CorruptStream(
                "no toc.dat in the archive".into(),
            ))
        } else {
            // The TOC sits at the start of a custom archive; 64 MiB is far more than any TOC.
            let file = out.join("archive.dump");
            let mut f =
                std::fs::File::create(&file).map_err(|e| RestoreError::Io(e.to_string()))?;
            let mut head = (&mut decoded).take(64 << 20);
            io::copy(&mut head, &mut f).map_err(|e| RestoreError::CorruptStream(e.to_string()))?;
            Ok(file)
        }
    })
    .await
    .map_err(|e| RestoreError::Io(format!("decoder panicked: {e}")))?;
    feeder.abort();
    let archive = extracted?;
    let out = crate::pg::client::command(&client_bin_dir.join("pg_restore"), "pgward")
        .arg("--list")
        .arg(match format {
            DumpFormat::Directory => "--format=directory",
            _ => "--format=custom",
        })
        .arg(&archive)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| RestoreError::Io(format!("running pg_restore --list: {e}")))?;
    drop(scratch);
    if !out.status.success() {
        return Err(RestoreError::Client {
            client: "pg_restore",
            exit: out.status.into(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(parse_toc(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_object_name_tells_format_compression_and_encryption() {
        assert_eq!(
            layout_of("a/b-20261125T020000+0100-abcd.dump.zst"),
            Some((DumpFormat::Custom, Compression::Zstd { level: 3 }, false))
        );
        assert_eq!(
            layout_of("x.sql.gz.age"),
            Some((DumpFormat::Plain, Compression::Gzip { level: 6 }, true))
        );
        assert_eq!(
            layout_of("x.tar.lz4"),
            Some((DumpFormat::Directory, Compression::Lz4, false))
        );
        assert_eq!(
            layout_of("x.tar"),
            Some((DumpFormat::Directory, Compression::None, false))
        );
        assert_eq!(layout_of("x.zip"), None);
    }

    #[test]
    fn toc_lines_parse_into_kind_schema_name_and_owner() {
        let listing = ";\n; Archive created at 2026-11-25\n;\n\
            215; 1259 16420 TABLE public actor postgres\n\
            3706; 0 16503 TABLE DATA public actor postgres\n\
            3; 2615 2200 SCHEMA - public pg_database_owner\n\
            4282; 0 0 COMMENT - SCHEMA public pg_database_owner\n\
            3550; 2606 16612 FK CONSTRAINT public film_actor film_actor_actor_id_fkey postgres\n\
            250; 1255 16401 FUNCTION public film_in_stock(integer, integer) postgres\n";
        let toc = parse_toc(listing);
        assert_eq!(toc.len(), 6);
        assert_eq!(
            toc[1],
            TocEntry {
                id: 3706,
                kind: "TABLE DATA".into(),
                schema: Some("public".into()),
                name: "actor".into(),
                owner: Some("postgres".into()),
            }
        );
        assert_eq!(
            (toc[2].schema.as_deref(), toc[2].name.as_str()),
            (None, "public")
        );
        assert_eq!(
            (toc[3].kind.as_str(), toc[3].name.as_str()),
            ("COMMENT", "SCHEMA public")
        );
        assert_eq!(toc[4].kind, "FK CONSTRAINT");
        assert_eq!(toc[4].name, "film_actor film_actor_actor_id_fkey");
        assert_eq!(toc[5].name, "film_in_stock(integer, integer)");
    }

    #[test]
    fn globals_skip_the_connecting_role_and_keep_the_others() {
        let sql = "CREATE ROLE postgres;\nALTER ROLE postgres WITH SUPERUSER PASSWORD 'x';\n\
                   CREATE ROLE reporting;\nALTER ROLE reporting WITH NOLOGIN;\nCREATE ROLE postgres_ro;\n";
        let mut r = SkipRole::new(
            Box::new(io::Cursor::new(sql.as_bytes().to_vec())),
            "postgres",
        );
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(
            out,
            "CREATE ROLE reporting;\nALTER ROLE reporting WITH NOLOGIN;\nCREATE ROLE postgres_ro;\n"
        );
    }

    #[test]
    fn plain_dumps_refuse_archive_only_options() {
        let o = RestoreOptions {
            clean: true,
            tables: vec!["public.film".into()],
            ..Default::default()
        };
        let fields: Vec<_> = o
            .check(DumpFormat::Plain)
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(fields, vec!["clean", "tables"]);
        assert!(o.check(DumpFormat::Custom).is_empty());
        let o = RestoreOptions {
            single_transaction: true,
            jobs: 4,
            ..Default::default()
        };
        assert_eq!(o.check(DumpFormat::Directory).len(), 1);
    }
}
