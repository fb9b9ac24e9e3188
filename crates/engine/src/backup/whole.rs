//! One whole backup as a single all-or-nothing call: probe the server and pick its client, read its
//! size (and, when asked, row counts in the snapshot pg_dump reads), dump to every destination, dump the
//! globals beside it, write the manifest beside both. Either every destination holds the dump, its
//! globals and its manifest, or none holds anything of this run. The scheduler's runs and `pgward dump`
//! both come through here, so both write the same manifest.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::manifest::{Manifest, recipient_fingerprint};
use super::naming;
use super::options::{Compression, DumpFormat, DumpOptions, Placement};
use super::run::{DumpError, DumpRequest, Progress, TargetOutcome, run_dump};
use super::target::{PendingUpload, Target};
use crate::pg::client::ClientExit;
use crate::pg::stats::{SnapshotCounter, database_stats};
use crate::pg::{ConnInfo, PgInstall, PgInstalls, ServerInfo, probe};

/// Everything one backup needs; secrets (the connection string, store credentials) only in memory.
pub struct BackupPlan {
    /// The database as people know it, for messages (its registered name, or its database name).
    pub label: String,
    pub conn: ConnInfo,
    /// The installed PostgreSQL clients; the one matching the server's major is used.
    pub installs: Arc<PgInstalls>,
    pub connect_timeout: Duration,
    pub format: DumpFormat,
    pub options: DumpOptions,
    /// The compression asked for; where it happens is the engine's choice ([`placement`]).
    pub compression: Compression,
    /// age public keys; empty for no encryption.
    pub recipients: Vec<String>,
    pub targets: Vec<Target>,
    /// Object name below every destination; its extension names the stream compression of
    /// [`placement`] (`naming::extension`).
    pub key: String,
    /// Multipart part size; `None`: chosen from the database's size (see [`part_size`]).
    pub part_size: Option<usize>,
    pub zstd_workers: u32,
    /// pg_dump `--jobs` (directory format).
    pub jobs: u32,
    /// Roles and tablespaces (`pg_dumpall --globals-only`) beside the dump.
    pub include_globals: bool,
    /// A globals file the run stored once for several dumps (a whole-server run): named in the
    /// manifest, not dumped again. Only without `include_globals`.
    pub shared_globals: Option<String>,
    /// Row counts per table, taken in the snapshot pg_dump reads, go into the manifest (what a
    /// test-restore compares with).
    pub count_rows: bool,
    pub work_dir: PathBuf,
    pub timeout: Option<Duration>,
    pub stall_timeout: Option<Duration>,
    pub progress: Progress,
    pub cancel: CancellationToken,
    /// Told which server and client this run uses, once known (before the dump starts).
    pub probed: Option<oneshot::Sender<Probed>>,
    /// Told about each multipart upload as it starts (to abort it after a crash).
    pub uploads_started: Option<mpsc::UnboundedSender<PendingUpload>>,
    /// The catalog's run this backup belongs to, written into the manifest.
    pub origin: Option<super::manifest::Origin>,
}

/// The server and client of a run.
#[derive(Debug, Clone)]
pub struct Probed {
    pub server_version: String,
    pub client_version: String,
}

/// A backup stored everywhere.
#[derive(Debug, Clone)]
pub struct BackupOutcome {
    pub server_version: String,
    pub client_version: String,
    /// Bytes pg_dump produced.
    pub bytes_read: u64,
    /// Bytes stored per copy of the dump.
    pub size: u64,
    pub sha256: String,
    /// pg_dump's warnings (it succeeded).
    pub stderr_tail: String,
    /// The dump's copies, one per destination.
    pub copies: Vec<TargetOutcome>,
    /// The globals' copies (empty without `include_globals`).
    pub globals: Vec<TargetOutcome>,
    /// What was written beside the dump as `<key>.manifest.json`.
    pub manifest: Manifest,
}

/// Why a backup did not happen. Nothing of it is left on any destination.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackupError {
    #[error("database \"{label}\" unreachable: {message}")]
    Unreachable { label: String, message: String },
    #[error("no pg_dump for PostgreSQL {major} is installed (postgres.bin_dirs)")]
    NoClient { major: u32 },
    #[error("cancelled")]
    Cancelled,
    #[error("pg_dump failed ({exit})")]
    PgDump { exit: ClientExit, stderr: String },
    #[error("pg_dumpall --globals-only failed ({exit})")]
    Globals { exit: ClientExit, stderr: String },
    #[error("pg_dumpall --globals-only failed: {0}")]
    GlobalsStore(DumpError),
    #[error("writing the manifest to destination {label}: {message}")]
    Manifest { label: String, message: String },
    /// The dump itself (a destination, a timeout, a stall, a bad request): its own message.
    #[error("{0}")]
    Dump(DumpError),
}

impl BackupError {
    /// The client's error output, when a client failed.
    pub fn stderr(&self) -> Option<&str> {
        match self {
            Self::PgDump { stderr, .. } | Self::Globals { stderr, .. } => Some(stderr),
            _ => None,
        }
    }
}

/// Part size for multipart uploads: big enough that 9,000 parts hold the database (objects up to 5 TiB
/// fit in S3's 10,000-part limit), never below 8 MiB.
pub fn part_size(database_bytes: i64) -> usize {
    let per_part = (database_bytes.max(0) as u64).div_ceil(9_000);
    per_part.clamp(8 << 20, 5 << 30) as usize
}

/// Where the compression of a `format` backup happens with these clients installed. The caller names
/// the object after it (`naming::extension(format, placement.stream(compression), encrypted)`), and
/// [`run_backup`] makes the same choice.
pub fn placement(format: DumpFormat, compression: Compression, installs: &PgInstalls) -> Placement {
    Placement::choose(format, compression, installs.newest_client_major())
}

/// The source server of `plan`, or why it cannot be reached.
async fn probe_source(plan: &BackupPlan) -> Result<ServerInfo, BackupError> {
    probe(&plan.conn, plan.connect_timeout)
        .await
        .map_err(|e| BackupError::Unreachable {
            label: plan.label.clone(),
            message: e.to_string(),
        })
}

/// The installed client for `major` (which serves `server`), announced with the server's version to
/// whoever waits on `plan.probed`.
fn pick_client(
    plan: &mut BackupPlan,
    server: &ServerInfo,
    major: u32,
) -> Result<PgInstall, BackupError> {
    let client = plan
        .installs
        .client_for(major)
        .ok_or(BackupError::NoClient {
            major: server.major,
        })?
        .clone();
    if let Some(tx) = plan.probed.take() {
        let _ = tx.send(Probed {
            server_version: server.version.clone(),
            client_version: client.version.clone(),
        });
    }
    Ok(client)
}

/// Runs the whole backup described by `plan`.
#[tracing::instrument(name = "backup", skip_all, fields(key = %plan.key))]
pub async fn run_backup(mut plan: BackupPlan) -> Result<BackupOutcome, BackupError> {
    let server = probe_source(&plan).await?;
    let placement = placement(plan.format, plan.compression, &plan.installs);
    let encrypted = !plan.recipients.is_empty();
    let ext = naming::extension(plan.format, placement.stream(plan.compression), encrypted);
    if !plan.key.ends_with(&format!(".{ext}")) {
        return Err(BackupError::Dump(DumpError::Invalid(format!(
            "the object name {} does not end in .{ext}",
            plan.key
        ))));
    }
    // One client for the dump and the globals, so the recorded pg_dump version is what a restore
    // needs at least.
    let major = placement.client_major(plan.compression, server.major);
    let client = pick_client(&mut plan, &server, major)?;
    let (database_size, table_count) = database_stats(&plan.conn, plan.connect_timeout).await;
    // Counted while pg_dump runs, in the snapshot it reads: exactly the rows of the dump.
    let counter = if plan.count_rows {
        match SnapshotCounter::start(&plan.conn, plan.connect_timeout).await {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "no exported snapshot; the manifest gets no row counts");
                None
            }
        }
    } else {
        None
    };
    let dumped = run_dump(DumpRequest {
        pg_dump: client.bin("pg_dump"),
        conn: plan.conn.clone(),
        format: plan.format,
        options: plan.options.clone(),
        compression: placement.stream(plan.compression),
        archive_compression: placement.archive(plan.compression),
        recipients: plan.recipients.clone(),
        targets: plan.targets.clone(),
        key: plan.key.clone(),
        part_size: plan
            .part_size
            .unwrap_or_else(|| part_size(database_size.unwrap_or(0))),
        zstd_workers: plan.zstd_workers,
        jobs: plan.jobs,
        snapshot: counter.as_ref().map(|c| c.snapshot.clone()),
        work_dir: plan.work_dir.clone(),
        progress: plan.progress.clone(),
        cancel: plan.cancel.clone(),
        timeout: plan.timeout,
        stall_timeout: plan.stall_timeout,
        uploads_started: plan.uploads_started.clone(),
        globals_only: false,
    })
    .await;
    let row_counts = match counter {
        Some(c) => c.finish().await,
        None => None,
    };
    let dump = dumped.map_err(|e| match e {
        DumpError::Cancelled => BackupError::Cancelled,
        DumpError::PgDump { exit, stderr } => BackupError::PgDump { exit, stderr },
        other => BackupError::Dump(other),
    })?;
    // From here on, a failure removes what this run stored (run_dump already did for its own failures).
    let mut stored = vec![plan.key.clone()];

    let mut globals = Vec::new();
    if plan.include_globals {
        let key = naming::globals_key(&plan.key, plan.compression, encrypted);
        let res = run_dump(globals_request(
            &plan,
            &client,
            key.clone(),
            Progress::default(),
        ))
        .await;
        match res {
            Ok(g) => {
                stored.push(key);
                globals = g.targets;
            }
            Err(e) => {
                remove(&plan.targets, &stored).await;
                return Err(match e {
                    DumpError::Cancelled => BackupError::Cancelled,
                    DumpError::PgDump { exit, stderr } => BackupError::Globals { exit, stderr },
                    other => BackupError::GlobalsStore(other),
                });
            }
        }
    }

    let manifest = Manifest {
        pgward_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: Utc::now(),
        object: plan.key.clone(),
        format: plan.format,
        compression: plan.compression,
        compressed_in: placement,
        options: plan.options.clone(),
        server_version: server.version.clone(),
        pg_dump_version: client.version.clone(),
        database: plan.conn.database.clone(),
        database_size,
        table_count,
        dump_bytes: dump.bytes_read,
        size: dump.size,
        sha256: dump.sha256.clone(),
        recipient_fingerprints: plan
            .recipients
            .iter()
            .map(|r| recipient_fingerprint(r))
            .collect(),
        row_counts,
        origin: plan.origin.clone(),
        globals: (!globals.is_empty())
            .then(|| naming::globals_key(&plan.key, plan.compression, encrypted))
            .or_else(|| plan.shared_globals.clone()),
    };
    let manifest_key = naming::manifest_key(&plan.key);
    let json = match serde_json::to_vec_pretty(&manifest) {
        Ok(j) => bytes::Bytes::from(j),
        Err(e) => {
            remove(&plan.targets, &stored).await;
            return Err(BackupError::Dump(DumpError::Io(e.to_string())));
        }
    };
    stored.push(manifest_key.clone());
    for t in &plan.targets {
        if let Err(message) = t.put_small(&manifest_key, json.clone()).await {
            remove(&plan.targets, &stored).await;
            return Err(BackupError::Manifest {
                label: t.label.clone(),
                message,
            });
        }
    }
    Ok(BackupOutcome {
        server_version: server.version,
        client_version: client.version,
        bytes_read: dump.bytes_read,
        size: dump.size,
        sha256: dump.sha256,
        stderr_tail: dump.stderr_tail,
        copies: dump.targets,
        globals,
        manifest,
    })
}

/// A server's globals stored on their own (a whole-server run dumps them once for all its databases).
#[derive(Debug, Clone)]
pub struct GlobalsOutcome {
    pub server_version: String,
    pub client_version: String,
    pub size: u64,
    pub sha256: String,
    pub copies: Vec<TargetOutcome>,
}

/// `pg_dumpall --globals-only` of the server of `plan.conn` to every destination under `plan.key`
/// (`naming::globals_key` of the run's name), compressed and encrypted as `plan` says; all or nothing
/// like [`run_backup`]. Dump format, options, jobs and row counts of `plan` do not apply.
#[tracing::instrument(name = "globals", skip_all, fields(key = %plan.key))]
pub async fn run_globals(mut plan: BackupPlan) -> Result<GlobalsOutcome, BackupError> {
    let server = probe_source(&plan).await?;
    let client = pick_client(&mut plan, &server, server.major)?;
    let g = run_dump(globals_request(
        &plan,
        &client,
        plan.key.clone(),
        plan.progress.clone(),
    ))
    .await
    .map_err(|e| match e {
        DumpError::Cancelled => BackupError::Cancelled,
        DumpError::PgDump { exit, stderr } => BackupError::Globals { exit, stderr },
        other => BackupError::GlobalsStore(other),
    })?;
    Ok(GlobalsOutcome {
        server_version: server.version,
        client_version: client.version,
        size: g.size,
        sha256: g.sha256,
        copies: g.targets,
    })
}

/// Best effort: what cannot be removed now is logged (the caller's reaper or cleanup records retry).
async fn remove(targets: &[Target], keys: &[String]) {
    for t in targets {
        for key in keys {
            if let Err(e) = t.delete(key).await {
                tracing::warn!(destination = %t.label, key = %key, error = %e, "removing part of a failed backup failed");
            }
        }
    }
}

/// `pg_dumpall --globals-only` of `plan`'s server to `key` on every destination. Plain SQL, so pgward
/// compresses it whatever the placement of the dump's own compression.
fn globals_request(
    plan: &BackupPlan,
    client: &PgInstall,
    key: String,
    progress: Progress,
) -> DumpRequest {
    DumpRequest {
        pg_dump: client.bin("pg_dumpall"),
        conn: plan.conn.clone(),
        format: DumpFormat::Plain,
        options: DumpOptions::default(),
        compression: plan.compression,
        archive_compression: Compression::None,
        recipients: plan.recipients.clone(),
        targets: plan.targets.clone(),
        key,
        part_size: 8 << 20,
        zstd_workers: 0,
        jobs: 1,
        snapshot: None,
        work_dir: plan.work_dir.clone(),
        progress,
        cancel: plan.cancel.clone(),
        timeout: plan.timeout,
        stall_timeout: None,
        uploads_started: plan.uploads_started.clone(),
        globals_only: true,
    }
}
