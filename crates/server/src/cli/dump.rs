//! `pgward dump`: one ad-hoc backup through the same engine call the scheduler uses (so the same
//! manifest beside it), without the catalog. For scripts, migrations and the benchmarks in bench/.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use pgward_engine::backup::{
    BackupPlan, Compression, DumpFormat, DumpOptions, Progress, Target, TargetKind, naming,
    run_backup,
};
use pgward_engine::pg::{self, ConnInfo};
use tokio_util::sync::CancellationToken;

#[derive(clap::Args)]
pub struct DumpArgs {
    /// Connection string of the database to dump (or set PGWARD_DUMP_URL, which keeps it out of `ps`).
    #[arg(long, env = "PGWARD_DUMP_URL", hide_env_values = true)]
    pub connection: String,
    /// `custom`, `plain` or `directory` (dumped with --jobs into a temporary directory, stored as tar).
    #[arg(long, default_value = "custom")]
    pub format: String,
    /// pg_dump --jobs for the directory format.
    #[arg(long, default_value_t = 1)]
    pub jobs: u32,
    /// `zstd[:LEVEL]` (level 5 by default), `gzip[:LEVEL]`, `lz4` or `none`. Archives (custom,
    /// directory) are compressed by pg_dump inside the archive when an installed pg_dump can.
    #[arg(long, default_value = "zstd")]
    pub compression: String,
    /// age recipient (public key); repeat for several.
    #[arg(long = "recipient")]
    pub recipients: Vec<String>,
    /// Destination: `file:///dir` or `s3://bucket/prefix` (credentials from AWS_* variables); repeat to
    /// write to several at once.
    #[arg(long = "to", required = true)]
    pub to: Vec<String>,
    /// S3 endpoint for S3-compatible services (path-style requests, plain HTTP allowed).
    #[arg(long)]
    pub s3_endpoint: Option<String>,
    /// Object name below each destination. pgward gives it the extension of what it holds (`.dump`,
    /// `.sql.zst`, `.age`...), replacing one it already has.
    #[arg(long)]
    pub name: Option<String>,
    /// zstd worker threads (0: compress on the reading thread). 0 is the default: pg_dump, a separate
    /// process, is the slower side, and zstd's worker buffers would cost ~35 MiB (measured, bench/RESULTS.md).
    #[arg(long, default_value_t = 0)]
    pub zstd_workers: u32,
    /// Multipart part size in MiB for object stores (at least 5, S3's minimum).
    #[arg(long, default_value_t = 8)]
    pub part_size_mib: usize,
    /// Also dump roles and tablespaces (`pg_dumpall --globals-only`) beside the dump.
    #[arg(long)]
    pub globals: bool,
    /// Count every table's rows in the snapshot pg_dump reads and put them in the manifest.
    #[arg(long)]
    pub row_counts: bool,
}

pub fn parse_compression(s: &str) -> anyhow::Result<Compression> {
    let (alg, level) = s.split_once(':').map_or((s, None), |(a, l)| (a, Some(l)));
    let level = |d: i64| -> anyhow::Result<i64> {
        level.map_or(Ok(d), |l| l.parse().context("compression level"))
    };
    Ok(match alg {
        "none" => Compression::None,
        "zstd" => Compression::Zstd {
            level: i32::try_from(level(i64::from(Compression::DEFAULT_ZSTD_LEVEL))?)?,
        },
        "gzip" => Compression::Gzip {
            level: u32::try_from(level(i64::from(Compression::DEFAULT_GZIP_LEVEL))?)?,
        },
        "lz4" => Compression::Lz4,
        other => bail!("unknown compression {other:?}"),
    })
}

fn target(to: &str, endpoint: Option<&str>) -> anyhow::Result<Target> {
    if let Some(dir) = to.strip_prefix("file://") {
        let root = PathBuf::from(dir);
        return Ok(Target::new(
            to,
            TargetKind::Local {
                root,
                modes: Default::default(),
            },
            "",
        ));
    }
    if let Some(rest) = to.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(e) = endpoint {
            b = b
                .with_endpoint(e)
                .with_allow_http(true)
                .with_virtual_hosted_style_request(false);
        }
        let store = Arc::new(b.build().context("configuring S3")?);
        return Ok(Target::new(
            to,
            TargetKind::Object {
                store: store.clone(),
                multipart: Some(store),
            },
            prefix,
        ));
    }
    bail!("--to must be file:///dir or s3://bucket/prefix")
}

pub async fn run(args: DumpArgs, bin_dirs: &[PathBuf]) -> anyhow::Result<()> {
    let conn =
        ConnInfo::parse(&args.connection).map_err(|e| anyhow::anyhow!("--connection: {e}"))?;
    let format = match args.format.as_str() {
        "custom" => DumpFormat::Custom,
        "plain" => DumpFormat::Plain,
        "directory" => DumpFormat::Directory,
        other => bail!("unknown format {other:?}"),
    };
    let compression = parse_compression(&args.compression)?;
    let installs = Arc::new(pg::discover(bin_dirs));
    let stored =
        pgward_engine::backup::placement(format, compression, &installs).stream(compression);
    let ext = naming::extension(format, stored, !args.recipients.is_empty());
    let stem = match &args.name {
        // A restore reads the layout from the extension, so it must say what the object holds.
        Some(name) => naming::strip_extension(name).to_string(),
        None => format!(
            "{}-{}",
            naming::slug(&conn.database),
            chrono::Local::now().format("%Y%m%dT%H%M%S%z")
        ),
    };
    let key = format!("{stem}.{ext}");
    let targets = args
        .to
        .iter()
        .map(|to| target(to, args.s3_endpoint.as_deref()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let started = Instant::now();
    // The same whole backup a scheduled run does: dump, globals when asked, manifest beside it.
    let out = run_backup(BackupPlan {
        label: conn.database.clone(),
        conn,
        installs,
        connect_timeout: std::time::Duration::from_secs(15),
        format,
        options: DumpOptions::default(),
        compression,
        recipients: args.recipients,
        targets,
        key,
        part_size: Some(args.part_size_mib.max(5) << 20),
        zstd_workers: args.zstd_workers,
        jobs: args.jobs,
        include_globals: args.globals,
        shared_globals: None,
        count_rows: args.row_counts,
        work_dir: std::env::temp_dir(),
        timeout: None,
        stall_timeout: None,
        progress: Progress::default(),
        cancel: CancellationToken::new(),
        probed: None,
        uploads_started: None,
        origin: None,
    })
    .await?;
    let report = serde_json::json!({
        "object": out.copies.first().map(|t| t.key.clone()),
        // Beside the object, under the destination's prefix like it.
        "manifest": out.copies.first().map(|t| naming::manifest_key(&t.key)),
        "globals": out.globals.first().map(|t| t.key.clone()),
        "destinations": out.copies.iter().map(|t| &t.id).collect::<Vec<_>>(),
        "server_version": out.server_version,
        "pg_dump": out.client_version,
        "dump_bytes": out.bytes_read,
        "stored_bytes": out.size,
        "sha256": out.sha256,
        "seconds": started.elapsed().as_secs_f64(),
    });
    println!("{report}");
    Ok(())
}
