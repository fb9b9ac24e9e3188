//! Orchestration of one backup: spawn pg_dump, run the encoder chain on a blocking thread, stream to every
//! target, and watch for cancel, timeout and stall. On any failure nothing is left at the final names.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::encode::{Compress, Encrypt, Sink};
use super::options::{Compression, DumpFormat, DumpOptions};
use super::target::{Chunk, Target};
use crate::pg::ConnInfo;

const STDERR_TAIL: usize = 4096;

/// Live counters the caller can read while the dump runs (e.g. to publish progress every 2 s).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Bytes pg_dump produced.
    pub bytes_read: Arc<AtomicU64>,
    /// Bytes after compression and encryption (what is stored).
    pub bytes_written: Arc<AtomicU64>,
}

pub struct DumpRequest {
    pub pg_dump: PathBuf,
    pub conn: ConnInfo,
    pub format: DumpFormat,
    pub options: DumpOptions,
    /// pgward's compression of the whole stream.
    pub compression: Compression,
    /// pg_dump's compression inside an archive (custom, directory); see `Placement`.
    pub archive_compression: Compression,
    /// age public keys (`age1...`); empty for no encryption.
    pub recipients: Vec<String>,
    pub targets: Vec<Target>,
    /// Object key (path below the destination root), the same on every target.
    pub key: String,
    /// Multipart part size for object stores.
    pub part_size: usize,
    pub zstd_workers: u32,
    pub progress: Progress,
    pub cancel: CancellationToken,
    pub timeout: Option<Duration>,
    /// Fail when pg_dump produces nothing for this long.
    pub stall_timeout: Option<Duration>,
    /// Run `pg_dump` as pg_dumpall with `--globals-only` (the path must point at pg_dumpall).
    pub globals_only: bool,
    /// pg_dump `--jobs` for the directory format.
    pub jobs: u32,
    /// An exported snapshot (`pg_export_snapshot()`) pg_dump reads instead of taking its own.
    pub snapshot: Option<String>,
    /// Parent of the directory format's temporary directory (removed whatever happens).
    pub work_dir: PathBuf,
    /// Told about each multipart upload as it starts (to abort it after a crash).
    pub uploads_started: Option<mpsc::UnboundedSender<super::target::PendingUpload>>,
}

#[derive(Debug, Clone)]
pub struct TargetOutcome {
    pub id: String,
    pub key: String,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct DumpOutcome {
    pub bytes_read: u64,
    pub size: u64,
    pub sha256: String,
    pub targets: Vec<TargetOutcome>,
    pub stderr_tail: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum DumpError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("pg_dump failed ({exit}): {stderr}")]
    PgDump {
        exit: crate::pg::client::ClientExit,
        stderr: String,
    },
    #[error("destination {label} failed: {message}")]
    Target {
        id: String,
        label: String,
        message: String,
    },
    #[error("cancelled")]
    Cancelled,
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// pg_dump went quiet (a store that stops taking data is a `Target` failure that names it).
    #[error("stalled: pg_dump produced no data for {0:?}")]
    Stalled(Duration),
    #[error("{0}")]
    Io(String),
}

/// Runs one dump to every target. Either every target holds the complete object under `key`, or none
/// holds anything (partial files removed, multipart uploads aborted, completed copies deleted).
pub async fn run_dump(req: DumpRequest) -> Result<DumpOutcome, DumpError> {
    if req.targets.is_empty() {
        return Err(DumpError::Invalid("no destination".into()));
    }
    let recipients = req
        .recipients
        .iter()
        .map(|r| {
            age::x25519::Recipient::from_str(r.trim())
                .map_err(|e| DumpError::Invalid(format!("age recipient {r:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;

    // One uploader per target, each behind a small bounded channel.
    let mut senders = Vec::new();
    let mut uploads = Vec::new();
    for t in &req.targets {
        let (tx, rx) = mpsc::channel::<Chunk>(4);
        senders.push(tx);
        let (t, key, part, started) = (
            t.clone(),
            req.key.clone(),
            req.part_size,
            req.uploads_started.clone(),
        );
        uploads.push(tokio::spawn(async move {
            (t.id.clone(), t.upload(&key, rx, part, started).await)
        }));
    }

    // Which destination is not taking data, when a stall is declared (its channel is full).
    let gauges: Vec<mpsc::WeakSender<Chunk>> = senders.iter().map(|s| s.downgrade()).collect();
    let started = tokio::time::Instant::now();
    let progress = req.progress.clone();
    // Set on failure: the encoder stops at its next read or write (a tar of files has no pipe to close).
    let stop = Arc::new(AtomicBool::new(false));
    let (compression, workers) = (req.compression, req.zstd_workers);

    // The directory format cannot stream: pg_dump writes a directory with parallel jobs first, which is
    // then tarred through the same chain. The directory lives exactly as long as `_scratch`.
    let directory = req.format == DumpFormat::Directory && !req.globals_only;
    let mut _scratch = None;
    let (mut child, stderr_task, encoder) = if directory {
        let scratch = work_dir_in(&req.work_dir).map_err(DumpError::Io)?;
        let out = scratch.path().join("dump");
        let mut args = req.options.args(req.format, req.archive_compression);
        args.extend(req.snapshot.iter().map(|s| format!("--snapshot={s}")));
        args.push(format!("--jobs={}", req.jobs.max(1)));
        args.push(format!("--file={}", out.display()));
        let (mut child, stderr_task) = spawn_client(&req, args, Stdio::null())?;
        let size_of = {
            let (out, read) = (out.clone(), progress.bytes_read.clone());
            move || {
                let n = dir_size(&out);
                read.store(n, Ordering::Relaxed);
                n
            }
        };
        let waited = match supervise(child.wait(), &req, started, size_of).await {
            Ok(Ok(status)) => Ok(status),
            Ok(Err(e)) => Err(DumpError::Io(format!("waiting for pg_dump: {e}"))),
            Err(e) => Err(e),
        };
        let status = match waited {
            Ok(status) => status,
            Err(e) => {
                crate::restore::kill_group(&mut child);
                let _ = child.wait().await;
                drop(senders);
                abort_all(uploads, &req.targets, &req.key).await;
                return Err(e);
            }
        };
        if !status.success() {
            drop(senders);
            abort_all(uploads, &req.targets, &req.key).await;
            return Err(DumpError::PgDump {
                exit: status.into(),
                stderr: stderr_task.await.unwrap_or_default(),
            });
        }
        // What pg_dump produced (the ticks may all have come before it finished).
        progress.bytes_read.store(dir_size(&out), Ordering::Relaxed);
        _scratch = Some(scratch);
        let written = progress.bytes_written.clone();
        let stop_enc = stop.clone();
        let encoder = tokio::task::spawn_blocking(
            move || -> io::Result<(String, Vec<mpsc::Sender<Chunk>>)> {
                let outputs = senders.clone();
                let sink = Sink::new(senders, 1 << 20, written);
                let mut chain =
                    Compress::new(Encrypt::new(sink, &recipients)?, compression, workers)?;
                let mut tar = tar::Builder::new(Guard {
                    inner: &mut chain,
                    stop: stop_enc,
                });
                tar.follow_symlinks(false);
                tar.append_dir_all("dump", &out)?;
                tar.finish()?;
                drop(tar);
                let sha = chain.finish()?.finish()?.finish()?;
                Ok((sha, outputs))
            },
        );
        (None, stderr_task, encoder)
    } else {
        // `pg_dump` is pg_dumpall here: roles and tablespaces only, as SQL.
        let args = if req.globals_only {
            vec!["--globals-only".to_string(), "--no-password".to_string()]
        } else {
            let mut a = req.options.args(req.format, req.archive_compression);
            a.extend(req.snapshot.iter().map(|s| format!("--snapshot={s}")));
            a
        };
        let (mut child, stderr_task) = spawn_client(&req, args, Stdio::piped())?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| DumpError::Io("no stdout".into()))?;
        let stdout = std::fs::File::from(
            stdout
                .into_owned_fd()
                .map_err(|e| DumpError::Io(e.to_string()))?,
        );
        // A pipe of 1 MiB instead of 64 KiB: pg_dump writes ahead instead of waiting for each read, and
        // pgward wakes once per MiB rather than per few KiB (on 2 cores every cycle pgward spends is
        // taken from pg_dump or its server). The kernel's pipe-max-size may refuse it; the default pipe
        // then still works.
        let _ = nix::fcntl::fcntl(&stdout, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
        let progress = progress.clone();
        let stop_enc = stop.clone();
        let encoder = tokio::task::spawn_blocking(
            move || -> io::Result<(String, Vec<mpsc::Sender<Chunk>>)> {
                let outputs = senders.clone();
                let sink = Sink::new(senders, 1 << 20, progress.bytes_written.clone());
                let mut chain =
                    Compress::new(Encrypt::new(sink, &recipients)?, compression, workers)?;
                let mut reader = Counting {
                    inner: stdout,
                    count: progress.bytes_read.clone(),
                    stop: stop_enc,
                };
                copy_in_large_reads(&mut reader, &mut chain)?;
                let sha = chain.finish()?.finish()?.finish()?;
                Ok((sha, outputs))
            },
        );
        (Some(child), stderr_task, encoder)
    };

    // Supervise the encoding: finish, cancel, timeout, stall (nothing read or written).
    let moved = {
        let p = progress.clone();
        move || p.bytes_read.load(Ordering::Relaxed) + p.bytes_written.load(Ordering::Relaxed)
    };
    let mut encoder = encoder;
    let finished = supervise(&mut encoder, &req, started, moved).await;
    let encoded = match finished {
        Ok(res) => res.map_err(|e| DumpError::Io(format!("encoder panicked: {e}")))?,
        Err(err) => {
            let err = match err {
                DumpError::Stalled(after) => stalled_side(&gauges, &req.targets, after),
                other => other,
            };
            if let Some(child) = child.as_mut() {
                crate::restore::kill_group(child);
            }
            // The encoder ends at EOF; dropping what it returns closes the channels, aborting uploads.
            // (For a directory dump, it is stopped by the closed channels of the aborted uploads.)
            stop.store(true, Ordering::Relaxed);
            let _ = encoder.await;
            if let Some(child) = child.as_mut() {
                let _ = child.wait().await;
            }
            abort_all(uploads, &req.targets, &req.key).await;
            return Err(err);
        }
    };
    let status = match child.as_mut() {
        Some(child) => Some(
            child
                .wait()
                .await
                .map_err(|e| DumpError::Io(e.to_string()))?,
        ),
        None => None,
    };
    let dumped = status.is_none_or(|s| s.success());
    let exit = status.map_or(crate::pg::client::ClientExit::Unknown, Into::into);
    let stderr_tail = stderr_task.await.unwrap_or_default();

    let (sha256, outputs) = match encoded {
        Ok(v) if dumped => v,
        Ok(unfinished) => {
            // Dropping the senders (without Finish) is what tells the uploaders to abort.
            drop(unfinished);
            abort_all(uploads, &req.targets, &req.key).await;
            return Err(DumpError::PgDump {
                exit,
                stderr: stderr_tail,
            });
        }
        Err(e) => {
            // A destination that failed closes its channel; report its own error rather than the pipe's.
            let target_err = abort_all(uploads, &req.targets, &req.key).await;
            return Err(target_err.unwrap_or(if dumped {
                DumpError::Io(format!("encoding the dump: {e}"))
            } else {
                DumpError::PgDump {
                    exit,
                    stderr: stderr_tail,
                }
            }));
        }
    };
    // After the last byte the destinations still have to take it: a store that stopped answering is
    // ended by the stall timeout here too, and named.
    let deadline = req
        .stall_timeout
        .map(|s| (tokio::time::Instant::now() + s, s));
    let finishing = async {
        for o in &outputs {
            let _ = o.send(Chunk::Finish).await;
        }
    };
    let finished_in_time = match deadline {
        Some((at, _)) => tokio::time::timeout_at(at, finishing).await.is_ok(),
        None => {
            finishing.await;
            true
        }
    };
    drop(outputs);
    let mut done = Vec::new();
    let mut failure = None;
    for (i, mut u) in uploads.into_iter().enumerate() {
        let joined = match deadline {
            Some((at, _)) if finished_in_time => tokio::time::timeout_at(at, &mut u).await.ok(),
            Some(_) => None,
            None => Some((&mut u).await),
        };
        let Some(joined) = joined else {
            // Stopped here; its multipart upload (recorded as it started) is aborted by the caller.
            u.abort();
            let t = &req.targets[i];
            failure = failure.or(Some(DumpError::Target {
                id: t.id.clone(),
                label: t.label.clone(),
                message: format!(
                    "the store stopped answering: the upload did not finish within {:?} of the \
                     last byte (stall timeout)",
                    deadline.map(|d| d.1).unwrap_or_default()
                ),
            }));
            continue;
        };
        match joined {
            Ok((id, Ok(size))) => {
                let key = req
                    .targets
                    .iter()
                    .find(|t| t.id == id)
                    .map_or_else(|| req.key.clone(), |t| t.full_key(&req.key));
                done.push(TargetOutcome { id, key, size })
            }
            Ok((id, Err(message))) => {
                let label = label_of(&req.targets, &id);
                failure = failure.or(Some(DumpError::Target { id, label, message }))
            }
            Err(e) => failure = failure.or(Some(DumpError::Io(format!("upload task: {e}")))),
        }
    }
    if let Some(f) = failure {
        // All or nothing: remove the copies that did complete.
        for t in &req.targets {
            let _ = t.delete(&req.key).await;
        }
        return Err(f);
    }
    Ok(DumpOutcome {
        bytes_read: req.progress.bytes_read.load(Ordering::Relaxed),
        size: req.progress.bytes_written.load(Ordering::Relaxed),
        sha256,
        targets: done,
        stderr_tail,
    })
}

/// A stall is the store's when a destination's channel is full (it stopped taking data, so pg_dump is
/// held back by it); otherwise pg_dump went quiet.
fn stalled_side(
    gauges: &[mpsc::WeakSender<Chunk>],
    targets: &[Target],
    after: Duration,
) -> DumpError {
    let full = gauges
        .iter()
        .zip(targets)
        .find(|(g, _)| g.upgrade().is_some_and(|tx| tx.capacity() == 0));
    match full {
        Some((_, t)) => DumpError::Target {
            id: t.id.clone(),
            label: t.label.clone(),
            message: format!(
                "the store stopped answering: it took no data for {after:?} (stall timeout)"
            ),
        },
        None => DumpError::Stalled(after),
    }
}

fn label_of(targets: &[Target], id: &str) -> String {
    targets
        .iter()
        .find(|t| t.id == id)
        .map_or_else(|| id.to_string(), |t| t.label.clone())
}

/// Waits for every uploader after their channels closed (which aborts them) and removes anything that
/// reached a final name. Returns the first real destination error, if any.
async fn abort_all(
    uploads: Vec<tokio::task::JoinHandle<(String, Result<u64, String>)>>,
    targets: &[Target],
    key: &str,
) -> Option<DumpError> {
    let mut first = None;
    for u in uploads {
        if let Ok((id, Err(message))) = u.await
            && message != "aborted"
            && first.is_none()
        {
            let label = label_of(targets, &id);
            first = Some(DumpError::Target { id, label, message });
        }
    }
    for t in targets {
        let _ = t.delete(key).await;
    }
    first
}

/// The size of the pipe from pg_dump and of each read from it.
const PIPE_SIZE: i32 = 1 << 20;

/// `io::copy` with reads of up to a pipe's size (io::copy reads 8 KiB at a time: a syscall and a
/// wake-up of pg_dump per 8 KiB).
fn copy_in_large_reads(r: &mut impl Read, w: &mut impl Write) -> io::Result<u64> {
    let mut buf = vec![0u8; PIPE_SIZE as usize];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..n])?;
        total += n as u64;
    }
}

struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("stopped"));
        }
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Writes through to `inner` until `stop` is set.
struct Guard<W> {
    inner: W,
    stop: Arc<AtomicBool>,
}

impl<W: Write> Write for Guard<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("stopped"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Starts pg_dump (or pg_dumpall) with `args`; the password goes through the environment, never the
/// command line (visible in `ps`). Returns the child and a task collecting the tail of its stderr.
fn spawn_client(
    req: &DumpRequest,
    args: Vec<String>,
    stdout: Stdio,
) -> Result<(tokio::process::Child, tokio::task::JoinHandle<String>), DumpError> {
    let mut cmd = crate::pg::client::command(&req.pg_dump, "pgward");
    cmd.args(args)
        .arg(format!("--dbname={}", req.conn.without_password()))
        .stdout(stdout)
        .stderr(Stdio::piped());
    if let Some(pw) = req.conn.password() {
        cmd.env("PGPASSWORD", pw);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| DumpError::Io(format!("starting {}: {e}", req.pg_dump.display())))?;
    let mut stderr = child
        .stderr
        .take()
        .ok_or_else(|| DumpError::Io("no stderr".into()))?;
    let stderr_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        let start = buf.len().saturating_sub(STDERR_TAIL);
        String::from_utf8_lossy(&buf[start..]).trim().to_string()
    });
    Ok((child, stderr_task))
}

/// Awaits `work` while watching for cancel, the overall timeout (counted from `started`) and a stall:
/// `moved` (a counter of bytes) not changing for the stall timeout.
async fn supervise<F: std::future::Future>(
    work: F,
    req: &DumpRequest,
    started: tokio::time::Instant,
    mut moved: impl FnMut() -> u64,
) -> Result<F::Output, DumpError> {
    tokio::pin!(work);
    let mut last = (moved(), tokio::time::Instant::now());
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            out = &mut work => return Ok(out),
            _ = req.cancel.cancelled() => return Err(DumpError::Cancelled),
            _ = tick.tick() => {
                let now = tokio::time::Instant::now();
                if let Some(t) = req.timeout && now - started >= t {
                    return Err(DumpError::Timeout(t));
                }
                let n = moved();
                if n != last.0 {
                    last = (n, now);
                } else if let Some(s) = req.stall_timeout && now - last.1 >= s {
                    return Err(DumpError::Stalled(s));
                }
            }
        }
    }
}

/// Bytes below `dir` (the progress of a directory-format dump while pg_dump writes it).
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// A scratch directory below `parent`, removed when dropped, and by `sweep_work_dir` if this process
/// is killed before that.
pub fn work_dir_in(parent: &Path) -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix(&format!("{WORK_PREFIX}{}-", std::process::id()))
        .tempdir_in(parent)
        .map_err(|e| format!("creating a work directory in {}: {e}", parent.display()))
}

/// Name prefix of scratch directories: `pgward-dump-<pid>-<random>`.
const WORK_PREFIX: &str = "pgward-dump-";

/// Removes work directories left by pgward processes that no longer run (killed with -9 mid-dump), so
/// the "always removed" promise holds across crashes. Directories of live processes are left alone
/// (several workers may share a work directory). Returns what was removed.
pub fn sweep_work_dir(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(WORK_PREFIX)
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = pid == std::process::id() as i32
            || nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        if !alive && std::fs::remove_dir_all(e.path()).is_ok() {
            removed.push(e.path());
        }
    }
    removed
}
