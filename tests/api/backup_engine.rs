//! The streaming backup pipeline (crates/engine) against real PostgreSQL servers and a real S3 endpoint.

use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use pgward_engine::backup::{
    Compression, DumpError, DumpFormat, DumpOptions, DumpRequest, Progress, Target, TargetKind,
    run_dump,
};
use pgward_engine::pg::ConnInfo;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::support::fleet;
use crate::support::fleet::PgServer;
use crate::support::pagila::{self, client_bin};
use crate::support::process::free_port;
use crate::support::storage::s3;

fn request(server: &PgServer, db: &str, targets: Vec<Target>, key: &str) -> DumpRequest {
    DumpRequest {
        pg_dump: client_bin(server.major, "pg_dump"),
        conn: ConnInfo::parse(&server.url(db)).unwrap(),
        format: DumpFormat::Custom,
        options: DumpOptions::default(),
        compression: Compression::Zstd { level: 3 },
        archive_compression: Compression::None,
        recipients: Vec::new(),
        targets,
        key: key.to_string(),
        part_size: 5 * 1024 * 1024,
        zstd_workers: 0,
        jobs: 1,
        snapshot: None,
        work_dir: std::env::temp_dir(),
        progress: Progress::default(),
        cancel: CancellationToken::new(),
        timeout: None,
        stall_timeout: None,
        uploads_started: None,
        globals_only: false,
    }
}

fn local(dir: &Path) -> Target {
    Target::new(
        "local",
        TargetKind::Local {
            root: dir.to_path_buf(),
            modes: Default::default(),
        },
        "",
    )
}

/// Both kinds of target at once: the local directory `dir` and `bucket` on the test S3 store.
fn local_and_s3(dir: &Path, bucket: &str) -> Vec<Target> {
    vec![
        local(dir),
        Target::new(
            "s3",
            TargetKind::Object {
                store: s3().store(bucket),
                multipart: None,
            },
            "",
        ),
    ]
}

/// Undoes the pipeline: age (if an identity is given), then the compression named by the extension.
fn decode(stored: &[u8], key: &str, identity: Option<&age::x25519::Identity>) -> Vec<u8> {
    let mut bytes = stored.to_vec();
    if let Some(id) = identity {
        let d = age::Decryptor::new(&bytes[..]).unwrap();
        let mut r = d
            .decrypt(std::iter::once(id as &dyn age::Identity))
            .unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        bytes = out;
    }
    let key = key.trim_end_matches(".age");
    let mut out = Vec::new();
    if key.ends_with(".zst") {
        zstd::stream::read::Decoder::new(&bytes[..])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
    } else if key.ends_with(".gz") {
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
    } else if key.ends_with(".lz4") {
        lz4_flex::frame::FrameDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
    } else {
        out = bytes;
    }
    out
}

/// Restores a decoded dump into a new database with the client of the server's major and returns the
/// restored database's row-count fingerprint. Errors fail the test (ON_ERROR_STOP / --exit-on-error).
fn restore(server: &PgServer, dump: &[u8], format: DumpFormat) -> String {
    let db = format!("r_{}", uuid::Uuid::new_v4().simple());
    pagila::create_db(server, &db);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), dump).unwrap();
    let unpacked = tempfile::tempdir().unwrap();
    let pg_restore = |archive: &Path, extra: &[&str]| {
        std::process::Command::new(client_bin(server.major, "pg_restore"))
            .args(["--exit-on-error", "--no-owner", "-d", &server.url(&db)])
            .args(extra)
            .arg(archive)
            .output()
            .unwrap()
    };
    let out = match format {
        DumpFormat::Plain => pagila::psql(server, &db, &["-f", &file.path().to_string_lossy()]),
        DumpFormat::Custom => pg_restore(file.path(), &[]),
        DumpFormat::Directory => {
            // The stored object is a tar of pg_dump's directory, rooted at `dump/`.
            tar::Archive::new(dump).unpack(unpacked.path()).unwrap();
            pg_restore(
                &unpacked.path().join("dump"),
                &["--format=directory", "--jobs=2"],
            )
        }
    };
    assert!(
        out.status.success(),
        "restore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    pagila::fingerprint(server, &db)
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[tokio::test]
async fn a_dump_streams_to_local_and_s3_at_once_and_restores() {
    let server = fleet().get(16);
    let db = format!("p_{}", uuid::Uuid::new_v4().simple());
    pagila::load(server, &db, 1);
    let expected = pagila::fingerprint(server, &db);
    let dir = tempfile::tempdir().unwrap();
    let bucket = s3().bucket().await;
    let targets = local_and_s3(dir.path(), &bucket);
    let key = "nightly/2026/11/25/nightly-20261125T020000+0100-abcd1234.dump.zst";

    let req = request(server, &db, targets.clone(), key);
    let progress = req.progress.clone();
    let out = run_dump(req).await.unwrap();

    assert_eq!(out.targets.len(), 2);
    assert!(out.bytes_read > out.size, "zstd made it smaller: {out:?}");
    assert_eq!(
        progress
            .bytes_written
            .load(std::sync::atomic::Ordering::Relaxed),
        out.size
    );
    for t in &targets {
        let stored = t.get_all(key).await.unwrap();
        assert_eq!(stored.len() as u64, out.size, "{}", t.id);
        assert_eq!(
            sha(&stored),
            out.sha256,
            "{}: stored bytes differ from the recorded checksum",
            t.id
        );
    }
    let stored = targets[1].get_all(key).await.unwrap();
    assert_eq!(
        restore(server, &decode(&stored, key, None), DumpFormat::Custom),
        expected
    );
    assert_eq!(s3().pending_uploads(&bucket).await, 0);
}

#[tokio::test]
async fn every_format_and_compression_round_trips() {
    let server = fleet().get(17);
    let db = format!("p_{}", uuid::Uuid::new_v4().simple());
    pagila::load(server, &db, 1);
    let expected = pagila::fingerprint(server, &db);
    let dir = tempfile::tempdir().unwrap();
    for format in [DumpFormat::Plain, DumpFormat::Custom, DumpFormat::Directory] {
        for compression in [
            Compression::None,
            Compression::Zstd { level: 3 },
            Compression::Gzip { level: 6 },
            Compression::Lz4,
        ] {
            let ext = pgward_engine::backup::naming::extension(format, compression, false);
            let key = format!("matrix/{format:?}.{ext}");
            let mut req = request(server, &db, vec![local(dir.path())], &key);
            req.format = format;
            req.compression = compression;
            req.jobs = 2;
            let out = run_dump(req)
                .await
                .unwrap_or_else(|e| panic!("{format:?} {compression:?}: {e}"));
            let stored = std::fs::read(dir.path().join(&key)).unwrap();
            assert_eq!(sha(&stored), out.sha256);
            assert_eq!(
                restore(server, &decode(&stored, &key, None), format),
                expected,
                "{format:?} {compression:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_encrypted_backup_opens_only_with_its_identity() {
    let server = fleet().get(15);
    let db = format!("p_{}", uuid::Uuid::new_v4().simple());
    pagila::load(server, &db, 1);
    let identity = age::x25519::Identity::generate();
    let other = age::x25519::Identity::generate();
    let dir = tempfile::tempdir().unwrap();
    let key = "enc/x.dump.zst.age";
    let mut req = request(server, &db, vec![local(dir.path())], key);
    req.recipients = vec![
        identity.to_public().to_string(),
        other.to_public().to_string(),
    ];
    run_dump(req).await.unwrap();

    let stored = std::fs::read(dir.path().join(key)).unwrap();
    assert!(
        stored.starts_with(b"age-encryption.org/v1"),
        "not an age file"
    );
    let stranger = age::x25519::Identity::generate();
    let d = age::Decryptor::new(&stored[..]).unwrap();
    assert!(
        d.decrypt(std::iter::once(&stranger as &dyn age::Identity))
            .is_err()
    );
    assert_eq!(
        restore(
            server,
            &decode(&stored, key, Some(&identity)),
            DumpFormat::Custom
        ),
        pagila::fingerprint(server, &db)
    );
    let bad = request(server, &db, vec![local(dir.path())], "enc/y");
    let bad = DumpRequest {
        recipients: vec!["age1notakey".into()],
        ..bad
    };
    assert!(matches!(run_dump(bad).await, Err(DumpError::Invalid(_))));
    let _ = age::x25519::Recipient::from_str(&identity.to_public().to_string()).unwrap();
}

#[tokio::test]
async fn a_failing_pg_dump_leaves_nothing_behind() {
    let server = fleet().get(18);
    let db = format!("p_{}", uuid::Uuid::new_v4().simple());
    pagila::load(server, &db, 1);
    let dir = tempfile::tempdir().unwrap();
    let bucket = s3().bucket().await;
    let targets = local_and_s3(dir.path(), &bucket);
    let mut req = request(server, &db, targets.clone(), "fail/x.dump.zst");
    req.options.tables = vec!["no_such_table".into()];
    let err = run_dump(req).await.unwrap_err();
    let DumpError::PgDump { stderr, .. } = &err else {
        panic!("{err}")
    };
    assert!(stderr.contains("no matching tables"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .flat_map(|e| walk(&e.path()))
            .count(),
        0,
        "files left behind"
    );
    assert!(targets[1].get_all("fail/x.dump.zst").await.is_err());
    assert_eq!(s3().pending_uploads(&bucket).await, 0);
}

#[tokio::test]
async fn cancel_stops_the_dump_and_removes_partial_data() {
    let server = fleet().get(16);
    let db = format!("p_{}", uuid::Uuid::new_v4().simple());
    pagila::load(server, &db, 2);
    let dir = tempfile::tempdir().unwrap();
    let bucket = s3().bucket().await;
    let targets = local_and_s3(dir.path(), &bucket);
    let mut req = request(server, &db, targets.clone(), "cancel/x.dump");
    req.compression = Compression::None;
    let cancel = req.cancel.clone();
    cancel.cancel();
    assert!(matches!(run_dump(req).await, Err(DumpError::Cancelled)));
    assert_eq!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .flat_map(|e| walk(&e.path()))
            .count(),
        0
    );
    assert_eq!(s3().pending_uploads(&bucket).await, 0);
}

#[tokio::test]
async fn an_unreachable_storage_fails_the_dump_with_its_reason() {
    let server = fleet().get(14);
    let db = format!("p_{}", uuid::Uuid::new_v4().simple());
    pagila::load(server, &db, 1);
    let port = free_port();
    let store = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(format!("http://127.0.0.1:{port}"))
        .with_bucket_name("nowhere")
        .with_region("us-east-1")
        .with_access_key_id("k")
        .with_secret_access_key("s")
        .with_allow_http(true)
        .with_retry(object_store::RetryConfig {
            max_retries: 1,
            ..Default::default()
        })
        .build()
        .unwrap();
    let target = Target::new(
        "dead-s3",
        TargetKind::Object {
            store: std::sync::Arc::new(store),
            multipart: None,
        },
        "",
    );
    let err = run_dump(request(server, &db, vec![target], "x.dump.zst"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DumpError::Target { id, .. } if id == "dead-s3"),
        "{err}"
    );
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    if p.is_dir() {
        std::fs::read_dir(p)
            .unwrap()
            .flatten()
            .flat_map(|e| walk(&e.path()))
            .collect()
    } else {
        vec![p.to_path_buf()]
    }
}

/// An open transaction holding an exclusive lock on pagila's `film` in `db`: a pg_dump of it waits (and
/// produces nothing) until the lock goes with a ROLLBACK or the connection.
async fn lock_film(server: &PgServer, db: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    let mut locker = sqlx::PgConnection::connect(&server.url(db)).await.unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("LOCK TABLE public.film IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    locker
}

/// Holds an exclusive lock on a pagila table, so pg_dump waits and produces nothing.
async fn blocked_dump(
    stall: Option<std::time::Duration>,
    timeout: Option<std::time::Duration>,
) -> DumpError {
    let server = fleet().get(17);
    let db = format!("p_{}", uuid::Uuid::new_v4().simple());
    pagila::load(server, &db, 1);
    let mut locker = lock_film(server, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut req = request(server, &db, vec![local(dir.path())], "blocked/x.dump.zst");
    req.stall_timeout = stall;
    req.timeout = timeout;
    let err = run_dump(req).await.unwrap_err();
    assert_eq!(walk(dir.path()).len(), 0, "nothing may be left behind");
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    err
}

#[tokio::test]
async fn a_dump_that_produces_nothing_fails_as_stalled() {
    let err = blocked_dump(Some(std::time::Duration::from_secs(1)), None).await;
    assert!(matches!(err, DumpError::Stalled(_)), "{err}");
}

#[tokio::test]
async fn a_dump_that_takes_too_long_fails_as_timed_out() {
    let err = blocked_dump(None, Some(std::time::Duration::from_secs(1))).await;
    assert!(matches!(err, DumpError::Timeout(_)), "{err}");
}

#[tokio::test]
async fn a_directory_dump_runs_parallel_jobs_through_the_pipeline_and_removes_its_work_directory() {
    let server = fleet().get(16);
    let db = format!("p_{}", uuid::Uuid::new_v4().simple());
    pagila::load(server, &db, 1);
    let work = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bucket = s3().bucket().await;
    let targets = local_and_s3(dir.path(), &bucket);
    let key = "dir/2026/11/25/dir-20261125T020000+0100-abcd1234.tar.zst";
    let mut req = request(server, &db, targets.clone(), key);
    req.format = DumpFormat::Directory;
    req.jobs = 3;
    req.work_dir = work.path().to_path_buf();
    let progress = req.progress.clone();
    let out = run_dump(req).await.unwrap();

    assert_eq!(walk(work.path()).len(), 0, "the work directory is removed");
    assert!(
        progress
            .bytes_read
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0,
        "progress counts what pg_dump wrote"
    );
    for t in &targets {
        let stored = t.get_all(key).await.unwrap();
        assert_eq!(sha(&stored), out.sha256, "{}", t.id);
    }
    let stored = targets[1].get_all(key).await.unwrap();
    assert_eq!(
        restore(server, &decode(&stored, key, None), DumpFormat::Directory),
        pagila::fingerprint(server, &db)
    );

    // A directory dump that fails (here: stalled behind a lock) leaves no work directory either.
    let mut locker = lock_film(server, &db).await;
    let mut req = request(server, &db, vec![local(dir.path())], "dir/blocked.tar.zst");
    req.format = DumpFormat::Directory;
    req.jobs = 2;
    req.work_dir = work.path().to_path_buf();
    req.stall_timeout = Some(std::time::Duration::from_secs(1));
    let err = run_dump(req).await.unwrap_err();
    assert!(matches!(err, DumpError::Stalled(_)), "{err}");
    assert_eq!(walk(work.path()).len(), 0, "the work directory is removed");
    assert!(!dir.path().join("dir/blocked.tar.zst").exists());
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
}

#[test]
fn work_directories_of_dead_processes_are_swept_and_live_ones_kept() {
    let work = tempfile::tempdir().unwrap();
    // A process that has exited: its pid no longer names a live process.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let stale = work.path().join(format!("pgward-dump-{dead}-x1"));
    let live = work
        .path()
        .join(format!("pgward-dump-{}-x2", std::process::id()));
    let other = work.path().join("not-ours");
    for d in [&stale, &live, &other] {
        std::fs::create_dir_all(d.join("dump")).unwrap();
        std::fs::write(d.join("dump/toc.dat"), b"x").unwrap();
    }
    let removed = pgward_engine::backup::sweep_work_dir(work.path());
    assert_eq!(removed, vec![stale.clone()]);
    assert!(!stale.exists() && live.exists() && other.exists());
}

/// A probe object that a killed process left (written, never deleted) is swept by a later probe's
/// `remove_stale`: only those old enough, only directly below the prefix, on disk and on S3.
#[tokio::test]
async fn stale_probe_objects_are_swept_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Target::new(
        "local",
        TargetKind::Local {
            root: dir.path().to_path_buf(),
            modes: Default::default(),
        },
        "pre",
    );
    for key in [
        ".pgward-probe-old",
        ".pgward-probe-new",
        "keep.dump",
        "t/.pgward-probe-deep",
    ] {
        disk.put_small(key, bytes::Bytes::from_static(b"x"))
            .await
            .unwrap();
    }
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for key in [".pgward-probe-old", "keep.dump", "t/.pgward-probe-deep"] {
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("pre").join(key))
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    let hour = std::time::Duration::from_secs(3600);
    assert_eq!(disk.remove_stale(".pgward-probe-", hour).await.unwrap(), 1);
    let left = |p: &Path| p.exists();
    let root = dir.path().join("pre");
    assert!(!left(&root.join(".pgward-probe-old")));
    assert!(
        left(&root.join(".pgward-probe-new")),
        "too young to be stale"
    );
    assert!(left(&root.join("keep.dump")));
    assert!(
        left(&root.join("t/.pgward-probe-deep")),
        "only directly below the prefix"
    );

    // S3 sets its own times: everything counts as old with an age of zero.
    let bucket = s3().bucket().await;
    let remote = Target::new(
        "s3",
        TargetKind::Object {
            store: s3().store(&bucket),
            multipart: None,
        },
        "pre",
    );
    for key in [".pgward-probe-a", "keep.dump", "t/.pgward-probe-deep"] {
        remote
            .put_small(key, bytes::Bytes::from_static(b"x"))
            .await
            .unwrap();
    }
    let none = std::time::Duration::ZERO;
    assert_eq!(
        remote.remove_stale(".pgward-probe-", none).await.unwrap(),
        1
    );
    assert!(remote.get_all(".pgward-probe-a").await.is_err());
    assert!(remote.get_all("keep.dump").await.is_ok());
    assert!(remote.get_all("t/.pgward-probe-deep").await.is_ok());
}
