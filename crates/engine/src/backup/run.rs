//! Orchestration of one backup: spawn pg_dump, run the encoder chain on a blocking thread, stream to every
//! target, and watch for cancel, timeout and stall. On any failure nothing is left at the final names.

use std::io::{self, Read};
use std::path::PathBuf;
use std::process::Stdio;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
    pub compression: Compression,
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
    #[error("pg_dump failed (exit {code:?}): {stderr}")]
    PgDump { code: Option<i32>, stderr: String },
    #[error("destination {id} failed: {message}")]
    Target { id: String, message: String },
    #[error("cancelled")]
    Cancelled,
    #[error("timed out after {0:?}")]
    Timeout(Duration),
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

    let mut cmd = tokio::process::Command::new(&req.pg_dump);
    // `pg_dump` is pg_dumpall here: roles and tablespaces only, as SQL.
    let args = if req.globals_only {
        vec!["--globals-only".to_string(), "--no-password".to_string()]
    } else {
        req.options.args(req.format)
    };
    cmd.args(args)
        .arg(format!("--dbname={}", req.conn.without_password()))
        .env("PGAPPNAME", "pgward")
        .env("PGCONNECT_TIMEOUT", "15")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(pw) = req.conn.password() {
        // Through the environment, never the command line (visible in `ps`).
        cmd.env("PGPASSWORD", pw);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| DumpError::Io(format!("starting {}: {e}", req.pg_dump.display())))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| DumpError::Io("no stdout".into()))?;
    let stdout = std::fs::File::from(
        stdout
            .into_owned_fd()
            .map_err(|e| DumpError::Io(e.to_string()))?,
    );
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

    let progress = req.progress.clone();
    let (compression, workers) = (req.compression, req.zstd_workers);
    let mut encoder =
        tokio::task::spawn_blocking(move || -> io::Result<(String, Vec<mpsc::Sender<Chunk>>)> {
            let outputs = senders.clone();
            let sink = Sink::new(senders, 1 << 20, progress.bytes_written.clone());
            let mut chain = Compress::new(Encrypt::new(sink, &recipients)?, compression, workers)?;
            let mut reader = Counting {
                inner: stdout,
                count: progress.bytes_read.clone(),
            };
            io::copy(&mut reader, &mut chain)?;
            let sha = chain.finish()?.finish()?.finish()?;
            Ok((sha, outputs))
        });

    // Supervise: finish, cancel, timeout, stall.
    let started = tokio::time::Instant::now();
    let mut last_read = (0u64, started);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let finished = loop {
        tokio::select! {
            res = &mut encoder => break Ok(res),
            _ = req.cancel.cancelled() => break Err(DumpError::Cancelled),
            _ = tick.tick() => {
                let now = tokio::time::Instant::now();
                if let Some(t) = req.timeout && now - started >= t {
                    break Err(DumpError::Timeout(t));
                }
                let read = req.progress.bytes_read.load(Ordering::Relaxed);
                if read != last_read.0 {
                    last_read = (read, now);
                } else if let Some(s) = req.stall_timeout && now - last_read.1 >= s {
                    break Err(DumpError::Stalled(s));
                }
            }
        }
    };
    let encoded = match finished {
        Ok(res) => res.map_err(|e| DumpError::Io(format!("encoder panicked: {e}")))?,
        Err(err) => {
            let _ = child.start_kill();
            // The encoder ends at EOF; dropping what it returns closes the channels, aborting uploads.
            let _ = encoder.await;
            let _ = child.wait().await;
            abort_all(uploads, &req.targets, &req.key).await;
            return Err(err);
        }
    };
    let status = child
        .wait()
        .await
        .map_err(|e| DumpError::Io(e.to_string()))?;
    let stderr_tail = stderr_task.await.unwrap_or_default();

    let (sha256, outputs) = match encoded {
        Ok(v) if status.success() => v,
        Ok(unfinished) => {
            // Dropping the senders (without Finish) is what tells the uploaders to abort.
            drop(unfinished);
            abort_all(uploads, &req.targets, &req.key).await;
            return Err(DumpError::PgDump {
                code: status.code(),
                stderr: stderr_tail,
            });
        }
        Err(e) => {
            // A destination that failed closes its channel; report its own error rather than the pipe's.
            let target_err = abort_all(uploads, &req.targets, &req.key).await;
            return Err(target_err.unwrap_or(if status.success() {
                DumpError::Io(format!("encoding the dump: {e}"))
            } else {
                DumpError::PgDump {
                    code: status.code(),
                    stderr: stderr_tail,
                }
            }));
        }
    };
    for o in &outputs {
        let _ = o.send(Chunk::Finish).await;
    }
    drop(outputs);
    let mut done = Vec::new();
    let mut failure = None;
    for u in uploads {
        match u.await {
            Ok((id, Ok(size))) => {
                let key = req
                    .targets
                    .iter()
                    .find(|t| t.id == id)
                    .map_or_else(|| req.key.clone(), |t| t.full_key(&req.key));
                done.push(TargetOutcome { id, key, size })
            }
            Ok((id, Err(message))) => failure = failure.or(Some(DumpError::Target { id, message })),
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
            first = Some(DumpError::Target { id, message });
        }
    }
    for t in targets {
        let _ = t.delete(key).await;
    }
    first
}

struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
