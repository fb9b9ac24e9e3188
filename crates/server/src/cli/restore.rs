//! `pgward restore`: one restore of a backup file through the same verified pipeline the restorations
//! feature uses, without the catalog. For scripts, disaster recovery without a running pgward, and the
//! restore benchmark in bench/.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use anyhow::{Context, bail};
use futures::StreamExt;
use pgward_engine::pg::{self, ConnInfo};
use pgward_engine::restore::{RestoreOptions, RestoreRequest, layout_of, run_restore};
use tokio_util::sync::CancellationToken;

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// Connection string of the database to restore into (or set PGWARD_RESTORE_URL, which keeps it out
    /// of `ps`).
    #[arg(long, env = "PGWARD_RESTORE_URL", hide_env_values = true)]
    pub connection: String,
    /// The backup file, named as pgward names them (`.sql|.dump|.tar` [`.zst|.gz|.lz4`] [`.age`]).
    #[arg(long)]
    pub from: PathBuf,
    /// The sha256 the file must have (from the execution or its manifest); checked before the end of
    /// the stream reaches psql / pg_restore.
    #[arg(long)]
    pub sha256: Option<String>,
    /// A file with age identities (`AGE-SECRET-KEY-1...`, one per line) for encrypted backups.
    #[arg(long)]
    pub identity_file: Option<PathBuf>,
    /// pg_restore --jobs (archives).
    #[arg(long, default_value_t = 1)]
    pub jobs: u32,
    /// All or nothing.
    #[arg(long)]
    pub single_transaction: bool,
    /// Drop existing objects first (archives).
    #[arg(long)]
    pub clean: bool,
    /// Skip ownership (archives).
    #[arg(long)]
    pub no_owner: bool,
    /// Scratch space for parallel and directory restores.
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    pub work_dir: PathBuf,
}

pub async fn run(args: RestoreArgs, bin_dirs: &[PathBuf]) -> anyhow::Result<()> {
    let conn =
        ConnInfo::parse(&args.connection).map_err(|e| anyhow::anyhow!("--connection: {e}"))?;
    let name = args
        .from
        .file_name()
        .and_then(|n| n.to_str())
        .context("--from has no file name")?;
    let Some((format, compression, encrypted)) = layout_of(name) else {
        bail!(
            "--from must be named like a pgward backup: <name>.(sql|dump|tar)[.zst|.gz|.lz4][.age]"
        );
    };
    let server = pg::probe(&conn, std::time::Duration::from_secs(15))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Clients by version: at least as new as the pg_dump that wrote the backup (from the manifest beside
    // it, when there is one) and as the target server, and no newer than needed (a newer pg_restore
    // emits settings an older server rejects).
    let manifest = args.from.with_file_name(format!("{name}.manifest.json"));
    let dump_major = std::fs::read(&manifest)
        .ok()
        .and_then(|raw| serde_json::from_slice::<pgward_engine::backup::Manifest>(&raw).ok())
        .and_then(|m| pg::major_of(&m.pg_dump_version))
        .unwrap_or(0);
    let needed = server.major.max(dump_major);
    let installs = pg::discover(bin_dirs);
    let client = installs.client_for(needed).with_context(|| {
        format!("no psql / pg_restore {needed} or newer found (postgres.bin_dirs)")
    })?;
    let identities = match &args.identity_file {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("reading {}", p.display()))?
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("AGE-SECRET-KEY-"))
            .map(str::to_string)
            .collect(),
        None => Vec::new(),
    };
    let file = tokio::fs::File::open(&args.from)
        .await
        .with_context(|| format!("opening {}", args.from.display()))?;
    let size = file.metadata().await?.len();
    let source = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20)
        .map(|r| r.map_err(|e| e.to_string()))
        .boxed();
    let started = Instant::now();
    let out = run_restore(RestoreRequest {
        client_bin_dir: client.bin_dir.clone(),
        conn,
        format,
        compression,
        encrypted,
        source,
        local_file: Some(args.from.clone()),
        expected_sha256: args.sha256.map(|s| s.trim().to_lowercase()),
        expected_size: Some(size),
        identities,
        options: RestoreOptions {
            clean: args.clean,
            single_transaction: args.single_transaction,
            jobs: args.jobs,
            no_owner: args.no_owner,
            ..Default::default()
        },
        work_dir: args.work_dir,
        bytes_read: Arc::new(AtomicU64::new(0)),
        cancel: CancellationToken::new(),
        // The operator's own file on the command line: only the work directory's free space bounds it.
        max_decoded: None,
        run_as: None,
    })
    .await
    .map_err(|e| match e {
        pgward_engine::restore::RestoreError::Client {
            client,
            exit,
            stderr,
        } => {
            anyhow::anyhow!("{client} failed ({exit}):\n{stderr}")
        }
        other => anyhow::anyhow!("{} ({})", other, other.code()),
    })?;
    let report = serde_json::json!({
        "from": args.from,
        "server_version": server.version,
        "client": client.version,
        "bytes_read": out.bytes_read,
        "sha256": out.sha256,
        "seconds": started.elapsed().as_secs_f64(),
    });
    println!("{report}");
    Ok(())
}
