//! Restorations on the real fleet: every major and format round trip, cross-version, SQL errors that
//! must fail, integrity failures with distinct codes (and an untouched target in single-transaction mode).

use std::time::Duration;

use pgward_api_client::Client;
use pgward_api_types::*;
use uuid::Uuid;

use crate::support::fixtures::{
    add_database, api_token, empty_db, local_destination, pagila_db, restore, restore_into,
    restore_into_new, restore_to, run_now, run_ok, task, wait_restored, with_disk,
};
use crate::support::fleet::{MAJORS, PgServer};
use crate::support::metrics::{self, parse_metrics};
use crate::support::pagila;
use crate::support::poll::{eventually, eventually_every};
use crate::support::process::{Worker, assert_success, pgward, serve_beside};
use crate::support::refused;
use crate::support::{TestApp, fleet, spawn_app};

/// A second `pgward serve` on the test app's catalog (restores run in the process that accepted them,
/// so this is how a test watches or kills the one doing a restore), ready to answer; and its base URL.
async fn second_server(app: &TestApp) -> (Worker, String) {
    let spa_dir = app.config.server.spa_dir.display().to_string();
    serve_beside(
        app,
        3600,
        &[
            ("PGWARD_WORKER__IN_PROCESS", "false".into()),
            ("PGWARD_SERVER__SPA_DIR", spa_dir),
        ],
        "the second pgward never became ready",
    )
    .await
}

/// A client of the second `pgward serve`, with an API token of `admin`'s user (the same key signs both).
async fn remote_client(admin: &Client, base: &str) -> Client {
    let token = api_token(admin, "other").await;
    Client::new(base).with_token(&token)
}

/// A pagila database on `server`, registered, with one successful backup in `format`.
async fn backed_up(
    admin: &Client,
    server: &PgServer,
    dest: Uuid,
    format: BackupFormat,
    recipients: Vec<String>,
) -> (String, Uuid, Execution) {
    let (db, database) = pagila_db(admin, server).await;
    let mut spec = task(&format!("{db} {format:?}"), database, vec![dest]);
    spec.format = format;
    if format == BackupFormat::Directory {
        spec.parallel_jobs = 2;
    }
    spec.encryption_recipients = recipients;
    let done = run_ok(admin, admin.create_task(&spec).await.unwrap().id).await;
    (db, database, done)
}

fn assert_same(server: &PgServer, source: &str, target_server: &PgServer, target: &str) {
    assert_eq!(
        pagila::schema_dump(target_server, target),
        pagila::schema_dump(server, source),
        "schema of {target} differs from {source}"
    );
    assert_eq!(
        pagila::row_checksums(target_server, target),
        pagila::row_checksums(server, source),
        "rows of {target} differ from {source}"
    );
}

#[tokio::test]
async fn every_major_and_format_round_trips_into_a_new_database() {
    let (app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let mut pending = Vec::new();
    for major in MAJORS {
        let server = fleet().get(major);
        for (i, format) in [
            BackupFormat::Plain,
            BackupFormat::Custom,
            BackupFormat::Directory,
        ]
        .into_iter()
        .enumerate()
        {
            let (db, database, exec) = backed_up(&admin, server, dest, format, vec![]).await;
            let name = format!("r{major}_{}", Uuid::new_v4().simple());
            let mut req = restore_into_new(exec.id, database, &name);
            // Exercise the modes: one transaction for plain, parallel jobs for archives (the custom
            // archive is then spooled to scratch space, the directory one unpacked).
            match (format, i) {
                (BackupFormat::Plain, _) => req.options.single_transaction = true,
                (_, _) if major % 2 == 0 => req.options.jobs = Some(2),
                _ => {}
            }
            let r = admin.create_restoration(&req).await.unwrap();
            assert_eq!(r.target_kind, RestoreTargetKind::NewDatabase);
            pending.push((server, db, name, format, exec, r.id));
        }
    }
    for (server, db, name, format, exec, id) in pending {
        // Archives are compressed by pg_dump inside (so a pg_dump of 16 or newer for older servers),
        // plain SQL by pgward around the stream, dumped by the server's own client (the fleet has no
        // client of 13: scripts/deps.sh installs 14's for it).
        let key = &exec.objects[0].key;
        let (ext, dumped_by) = match format {
            BackupFormat::Plain => (".sql.zst", server.major.max(14)),
            BackupFormat::Custom => (".dump", server.major.max(16)),
            BackupFormat::Directory => (".tar", server.major.max(16)),
        };
        assert!(key.ends_with(ext), "{format:?} of {}: {key}", server.major);
        assert!(
            exec.pg_dump_version
                .as_deref()
                .is_some_and(|v| v.starts_with(&format!("{dumped_by}."))),
            "{format:?} of {}: {exec:?}",
            server.major
        );
        let r = wait_restored(&admin, id).await;
        assert_eq!(
            r.status,
            RestorationStatus::Success,
            "PostgreSQL {} {format:?}: {r:?}",
            server.major
        );
        assert_eq!(
            Some(r.bytes_read),
            r.total_bytes,
            "progress reached the whole object"
        );
        assert_same(server, &db, server, &name);
    }
    let work = app.config.work_dir();
    assert_eq!(
        std::fs::read_dir(&work).map(|d| d.count()).unwrap_or(0),
        0,
        "scratch space is emptied"
    );
}

#[tokio::test]
async fn a_dump_of_14_restores_into_17_and_18() {
    let (_app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let old = fleet().get(14);
    for format in [BackupFormat::Plain, BackupFormat::Custom] {
        let (db, _, exec) = backed_up(&admin, old, dest, format, vec![]).await;
        for major in [17, 18] {
            let server = fleet().get(major);
            let name = format!("x_{}", Uuid::new_v4().simple());
            pagila::create_db(server, &name);
            // 17 by an ad-hoc connection (tested, never stored), 18 as a registered database.
            let target = if major == 17 {
                RestoreTarget::Connection {
                    connection_string: server.url(&name),
                }
            } else {
                RestoreTarget::Database {
                    database_id: add_database(&admin, server, &name).await,
                }
            };
            let r = restore(&admin, &restore_to(exec.id, target)).await;
            assert_eq!(
                r.status,
                RestorationStatus::Success,
                "{format:?} into {major}: {r:?}"
            );
            assert!(
                r.client_version
                    .as_deref()
                    .is_some_and(|v| v.contains(&format!(" {major}."))),
                "a {major} client restores into {major}: {r:?}"
            );
            assert_eq!(
                pagila::row_checksums(server, &name),
                pagila::row_checksums(old, &db),
                "{format:?} into {major}"
            );
        }
    }
}

#[tokio::test]
async fn a_restore_whose_sql_fails_is_failed_with_the_error_text() {
    let (_app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(16);
    for format in [BackupFormat::Plain, BackupFormat::Custom] {
        let (_db, _, exec) = backed_up(&admin, server, dest, format, vec![]).await;
        // Back into its own source, without clean: every CREATE collides with what is there.
        let r = restore(&admin, &restore_to(exec.id, RestoreTarget::Source)).await;
        assert_eq!(r.status, RestorationStatus::Failed, "{format:?}: {r:?}");
        assert_eq!(r.error_code.as_deref(), Some("restore_failed"), "{r:?}");
        let stderr = r.stderr_tail.clone().unwrap_or_default();
        assert!(stderr.contains("already exists"), "{format:?}: {stderr}");
        assert!(
            r.message
                .as_deref()
                .unwrap_or("")
                .contains("already exists"),
            "{r:?}"
        );
    }
    // A target holding a conflicting object: without clean the restore fails, with clean the archive
    // replaces it. (Not into the source itself: pg_restore --clean cannot drop the inherited keys of
    // pagila's partitioned payment table, a PostgreSQL limitation that pgward reports as a failure.)
    let (db, _, exec) = backed_up(&admin, server, dest, BackupFormat::Custom, vec![]).await;
    let target = format!("c_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &target);
    let out = pagila::psql(
        server,
        &target,
        &["-c", "CREATE TABLE public.language (x int)"],
    );
    assert!(out.status.success());
    let target_id = add_database(&admin, server, &target).await;
    for clean in [false, true] {
        let mut req = restore_into(exec.id, target_id);
        req.options.clean = clean;
        req.options.single_transaction = true;
        let r = restore(&admin, &req).await;
        if clean {
            assert_eq!(r.status, RestorationStatus::Success, "{r:?}");
        } else {
            assert_eq!(r.error_code.as_deref(), Some("restore_failed"), "{r:?}");
        }
    }
    assert_eq!(
        pagila::row_checksums(server, &target),
        pagila::row_checksums(server, &db)
    );
}

/// Damages the stored copy of `exec` on the local destination in `dir`.
fn damage(dir: &std::path::Path, exec: &Execution, how: &str) {
    let path = dir.join(&exec.objects[0].key);
    let mut bytes = std::fs::read(&path).unwrap();
    match how {
        "flip" => {
            let at = bytes.len() / 2;
            bytes[at] ^= 0x5a;
        }
        "truncate" => bytes.truncate(bytes.len() / 2),
        _ => unreachable!(),
    }
    std::fs::write(&path, bytes).unwrap();
}

#[tokio::test]
async fn damaged_or_undecryptable_backups_fail_with_distinct_codes_and_leave_the_target_unchanged()
{
    let (_app, admin, dest, dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(17);
    let identity = age::x25519::Identity::generate();
    let stranger = age::x25519::Identity::generate();
    use age::secrecy::ExposeSecret;

    // One empty registered target; in single-transaction mode nothing of a failed restore may stay.
    let target = format!("t_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &target);
    let target_id = add_database(&admin, server, &target).await;
    let before = pagila::schema_dump(server, &target);

    let cases: [(&str, BackupFormat, Option<&str>, &str); 4] = [
        ("flip", BackupFormat::Plain, None, "checksum_mismatch"),
        ("truncate", BackupFormat::Custom, None, "backup_truncated"),
        ("flip", BackupFormat::Custom, None, "checksum_mismatch"),
        (
            "stranger",
            BackupFormat::Plain,
            Some("key"),
            "decryption_failed",
        ),
    ];
    for (how, format, encrypted, code) in cases {
        let recipients = if encrypted.is_some() {
            vec![identity.to_public().to_string()]
        } else {
            vec![]
        };
        let (_, _, exec) = backed_up(&admin, server, dest, format, recipients).await;
        let identities = if encrypted.is_some() {
            vec![stranger.to_string().expose_secret().to_string()]
        } else {
            vec![]
        };
        if how != "stranger" {
            damage(&dir, &exec, how);
        }
        let mut req = restore_into(exec.id, target_id);
        req.options.single_transaction = true;
        req.identities = identities;
        let r = restore(&admin, &req).await;
        assert_eq!(
            r.status,
            RestorationStatus::Failed,
            "{how} {format:?}: {r:?}"
        );
        assert_eq!(
            r.error_code.as_deref(),
            Some(code),
            "{how} {format:?}: {r:?}"
        );
        assert_eq!(
            pagila::schema_dump(server, &target),
            before,
            "{how} {format:?} changed the target"
        );
    }

    // The right identity opens it; a missing one is refused up front.
    let (db, _, exec) = backed_up(
        &admin,
        server,
        dest,
        BackupFormat::Custom,
        vec![identity.to_public().to_string()],
    )
    .await;
    let mut req = restore_into_new(
        exec.id,
        target_id,
        &format!("ok_{}", Uuid::new_v4().simple()),
    );
    let refused = admin.create_restoration(&req).await.unwrap_err();
    assert_eq!(refused.status(), Some(422), "{refused:?}");
    req.identities = vec![identity.to_string().expose_secret().to_string()];
    let r = restore(&admin, &req).await;
    assert_eq!(r.status, RestorationStatus::Success, "{r:?}");
    let name = r.new_database_name.clone().unwrap();
    assert_same(server, &db, server, &name);
    // The identity is nowhere in what the API returns.
    let listed = serde_json::to_string(
        &admin
            .list_restorations(&RestorationListQuery::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        !listed.contains("AGE-SECRET-KEY"),
        "identities must never be returned"
    );
}

#[tokio::test]
async fn bad_restore_requests_are_refused_and_record_nothing() {
    let (_app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(15);
    let (_, database, exec) = backed_up(&admin, server, dest, BackupFormat::Plain, vec![]).await;
    let base = restore_into_new(exec.id, database, "fresh_db");
    let cases = [
        (
            "archive options on a plain dump",
            CreateRestorationRequest {
                options: RestoreOptions {
                    no_owner: true,
                    ..Default::default()
                },
                ..base.clone()
            },
            422,
        ),
        (
            "bad database name",
            restore_into_new(exec.id, database, "drop table x; --"),
            422,
        ),
        (
            "existing database",
            restore_into_new(exec.id, database, "postgres"),
            409,
        ),
        (
            "unknown execution",
            CreateRestorationRequest {
                execution_id: Uuid::new_v4(),
                ..base.clone()
            },
            422,
        ),
        (
            "unreachable connection",
            CreateRestorationRequest {
                target: RestoreTarget::Connection {
                    connection_string: "postgres://u:secret@127.0.0.1:1/x".into(),
                },
                ..base.clone()
            },
            422,
        ),
        (
            "identity that is not a key",
            CreateRestorationRequest {
                identities: vec!["AGE-SECRET-KEY-1NOTAKEY".into()],
                ..base.clone()
            },
            422,
        ),
    ];
    for (what, req, status) in cases {
        let e = admin.create_restoration(&req).await.unwrap_err();
        assert_eq!(e.status(), Some(status), "{what}: {e:?}");
        assert!(
            !format!("{e:?}").contains("secret@"),
            "{what}: the password leaked"
        );
    }
    let page = admin
        .list_restorations(&RestorationListQuery::default())
        .await
        .unwrap();
    assert!(page.items.is_empty(), "{page:?}");
}

#[tokio::test]
async fn a_restore_whose_process_is_killed_is_failed_as_interrupted() {
    let (app, admin, dest, dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(18);
    let (_, database, exec) = backed_up(&admin, server, dest, BackupFormat::Plain, vec![]).await;

    // The stored object becomes a FIFO the test feeds: half the bytes, then nothing, so the restore is
    // certainly mid-stream when its process dies, however fast the machine.
    let path = dir.join(&exec.objects[0].key);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let feeder = std::thread::spawn({
        let path = path.clone();
        move || {
            use std::io::Write;
            let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            // The reader may die mid-write (that is the point): a broken pipe is expected then.
            let _ = w
                .write_all(&bytes[..bytes.len() / 2])
                .and_then(|_| w.flush());
            // Held open (no end of file) until the test is done with it.
            w
        }
    });

    // A second `pgward serve` on the same catalog takes the restore; restores run where accepted.
    let (other, base) = second_server(&app).await;
    let remote = remote_client(&admin, &base).await;
    let r = remote
        .create_restoration(&restore_into_new(
            exec.id,
            database,
            &format!("k_{}", Uuid::new_v4().simple()),
        ))
        .await
        .unwrap();
    eventually_every(
        Duration::from_secs(60),
        Duration::from_millis(50),
        async || {
            let now = admin.get_restoration(r.id).await.unwrap();
            assert!(!now.status.is_final(), "finished before the kill: {now:?}");
            if now.status == RestorationStatus::Running && now.bytes_read > 0 {
                Ok(())
            } else {
                Err(now)
            }
        },
        |now| format!("the restore never got going: {now:?}"),
    )
    .await;
    other.kill9();

    // Any process's scheduler pass after the lease ran out fails it; nothing stays running.
    let (state, _c) = app.background().await;
    let later = chrono::Utc::now() + chrono::Duration::seconds(31);
    let reaped = pgward_server::features::restorations::service::reap_interrupted(
        &state,
        later,
        pgward_server::background::LEASE,
    )
    .await
    .unwrap();
    assert_eq!(reaped, vec![r.id]);
    let done = admin.get_restoration(r.id).await.unwrap();
    assert_eq!(done.status, RestorationStatus::Failed, "{done:?}");
    assert_eq!(done.error_code.as_deref(), Some("interrupted"), "{done:?}");
    // Notifications hear of it as of any failed restore.
    let failed: Vec<Event> = admin
        .list_events(&EventListQuery {
            kind: Some(EventKind::RestorationFailed),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.restoration_id == Some(r.id))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    // The database created for it is gone, as after any failed restore into a new database.
    let name = done.new_database_name.clone().unwrap();
    let left = pagila::query(
        server,
        "postgres",
        &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
    );
    assert_eq!(left, "0");
    drop(feeder.join().unwrap());
}

async fn wait_check(admin: &Client, id: Uuid, test_restore: bool) -> Execution {
    eventually(
        Duration::from_secs(300),
        async || {
            let e = admin.get_execution(id).await.unwrap();
            let s = if test_restore {
                e.test_restore_status
            } else {
                e.verify_status
            };
            if matches!(s, Some(CheckStatus::Ok | CheckStatus::Failed)) {
                Ok(e)
            } else {
                Err(e)
            }
        },
        |e| format!("check of {id} did not finish: {e:?}"),
    )
    .await
}

#[tokio::test]
async fn verification_flags_a_tampered_copy_and_runs_on_the_task_schedule() {
    let (app, admin, local, dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(16);
    let (_, _, exec) = backed_up(&admin, server, local, BackupFormat::Custom, vec![]).await;

    let e = admin.verify_execution(exec.id).await.unwrap();
    assert_eq!(e.verify_status, Some(CheckStatus::Running));
    let e = wait_check(&admin, exec.id, false).await;
    assert_eq!(e.verify_status, Some(CheckStatus::Ok), "{e:?}");
    assert!(
        e.objects
            .iter()
            .all(|o| o.verified_at.is_some() && o.verify_error.is_none())
    );

    damage(&dir, &exec, "flip");
    admin.verify_execution(exec.id).await.unwrap();
    let e = wait_check(&admin, exec.id, false).await;
    assert_eq!(e.verify_status, Some(CheckStatus::Failed), "{e:?}");
    let err = e.objects[0].verify_error.clone().unwrap();
    assert!(err.contains("sha256"), "{err}");
    let task = admin.get_task(exec.task_id.unwrap()).await.unwrap();
    assert_eq!(task.last_verify_ok, Some(false), "{task:?}");

    // On a schedule: a scheduler pass after the cron came due verifies every backup of the task.
    let mut spec = task.spec.clone();
    spec.verification.verify_schedule = Some("0 * * * *".into());
    admin
        .update_task(
            task.id,
            &UpdateTaskRequest {
                verification: Some(spec.verification),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    std::fs::write(dir.join(&exec.objects[0].key), b"gone").unwrap();
    let (state, _c) = app.background().await;
    let before = admin.get_execution(exec.id).await.unwrap().verified_at;
    let later = chrono::Utc::now() + chrono::Duration::minutes(61);
    pgward_server::features::restorations::service::run_due_checks(&state, later)
        .await
        .unwrap();
    let e = eventually(
        Duration::from_secs(60),
        async || {
            let e = admin.get_execution(exec.id).await.unwrap();
            if e.verified_at != before && e.verify_status == Some(CheckStatus::Failed) {
                Ok(e)
            } else {
                Err(e)
            }
        },
        |e| format!("the scheduled verification never ran: {e:?}"),
    )
    .await;
    assert!(
        e.objects[0].verify_error.clone().unwrap().contains("size"),
        "{e:?}"
    );
    // Claimed once: a second pass at the same time starts nothing new.
    pgward_server::features::restorations::service::run_due_checks(&state, later)
        .await
        .unwrap();
    let t = admin.get_task(task.id).await.unwrap();
    assert_eq!(t.last_verify_ok, Some(false));
}

#[tokio::test]
async fn test_restore_after_backup_marks_the_task_and_a_broken_backup_fails_it() {
    let (app, admin, local, dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(17);
    let (_, database) = pagila_db(&admin, server).await;
    let mut spec = task("proven", database, vec![local]);
    spec.verification = VerificationPolicy {
        test_restore: true,
        test_restore_database_id: Some(database),
        test_restore_after_backup: true,
        ..Default::default()
    };
    let t = admin.create_task(&spec).await.unwrap();
    let done = run_ok(&admin, t.id).await;
    let e = wait_check(&admin, done.id, true).await;
    assert_eq!(e.test_restore_status, Some(CheckStatus::Ok), "{e:?}");
    let msg = e.test_restore_message.clone().unwrap();
    assert!(msg.contains("row count matches"), "{msg}");
    let task = admin.get_task(t.id).await.unwrap();
    assert_eq!(task.last_test_restore_ok, Some(true), "{task:?}");
    assert!(task.last_test_restored_at.is_some());
    // Prometheus sees the proof too (an alert on pgward_task_test_restored == 0).
    let test_restored = || async {
        let text = app.metrics(&admin).await;
        metrics::sample(
            &parse_metrics(&text),
            "pgward_task_test_restored",
            ("task", "proven"),
        )
    };
    assert_eq!(test_restored().await, Some(1.0));
    // The manifest carries the counts the test-restore compared against.
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(format!("{}.manifest.json", done.objects[0].key))).unwrap(),
    )
    .unwrap();
    assert!(
        manifest["row_counts"]["public.film"].as_i64().unwrap() > 0,
        "{manifest}"
    );

    // A broken backup fails its test-restore, and the task says so.
    damage(&dir, &done, "truncate");
    admin.test_restore_execution(done.id, None).await.unwrap();
    let e = wait_check(&admin, done.id, true).await;
    assert_eq!(e.test_restore_status, Some(CheckStatus::Failed), "{e:?}");
    assert!(
        e.test_restore_message
            .clone()
            .unwrap()
            .contains("backup_truncated"),
        "{e:?}"
    );
    let task = admin.get_task(t.id).await.unwrap();
    assert_eq!(task.last_test_restore_ok, Some(false), "{task:?}");
    assert_eq!(test_restored().await, Some(0.0));
    // The scratch server cannot be deleted from under the task.
    let (_, host_id) = empty_db(&admin, server, "h").await;
    admin
        .update_task(
            t.id,
            &UpdateTaskRequest {
                verification: Some(VerificationPolicy {
                    test_restore_database_id: Some(host_id),
                    ..task.spec.verification.clone()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(refused(admin.delete_database(host_id)).await, 409);
    // Scratch databases never stay.
    let left = pagila::query(
        server,
        "postgres",
        "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgward_test_%'",
    );
    assert_eq!(left, "0");
}

/// Peak resident memory of a process (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test]
async fn a_100_mb_uploaded_dump_is_stored_and_restored_with_flat_memory() {
    use base64::Engine;
    use sha2::Digest;
    use std::io::Write;
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dest, _dir) = local_destination(&admin, "uploads").await;
    let server = fleet().get(18);
    let (_, database) = empty_db(&admin, server, "u").await;

    // A plain dump of incompressible rows, zstd-compressed to just over 100 MB.
    let rows = 100_000u32;
    let file = tempfile::NamedTempFile::new().unwrap();
    let (first, last) = {
        let mut z =
            zstd::stream::write::Encoder::new(std::fs::File::create(file.path()).unwrap(), 1)
                .unwrap();
        writeln!(
            z,
            "CREATE TABLE public.blob (id integer PRIMARY KEY, data text NOT NULL);"
        )
        .unwrap();
        writeln!(z, "COPY public.blob (id, data) FROM stdin;").unwrap();
        let mut seed = sha2::Sha256::digest(b"pgward upload");
        let (mut first, mut last) = (String::new(), String::new());
        for id in 1..=rows {
            let mut raw = Vec::with_capacity(1024);
            while raw.len() < 1024 {
                seed = sha2::Sha256::digest(seed);
                raw.extend_from_slice(&seed);
            }
            let data = base64::engine::general_purpose::STANDARD.encode(&raw);
            writeln!(z, "{id}\t{data}").unwrap();
            if id == 1 {
                first = data.clone();
            }
            last = data;
        }
        writeln!(z, "\\.").unwrap();
        z.finish().unwrap();
        (first, last)
    };
    let size = std::fs::metadata(file.path()).unwrap().len();
    assert!(size > 100_000_000, "the dump is {size} bytes");

    // A separate `pgward serve` takes upload and restore, so its memory can be watched.
    let (other, base) = second_server(&app).await;
    let before = peak_rss(other.pid());
    let token = api_token(&admin, "uploader").await;
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(
        tokio::fs::File::open(file.path()).await.unwrap(),
    ));
    let resp = reqwest::Client::new()
        .post(format!(
            "{base}/api/v1/uploads?destination_id={dest}&filename=legacy.sql.zst"
        ))
        .bearer_auth(&token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let exec: Execution = resp.json().await.unwrap();
    assert_eq!(exec.trigger, ExecutionTrigger::Upload);
    assert_eq!(exec.size, Some(size));

    let remote = Client::new(&base).with_token(&token);
    let name = format!("up_{}", Uuid::new_v4().simple());
    let r = remote
        .create_restoration(&restore_into_new(exec.id, database, &name))
        .await
        .unwrap();
    let r = wait_restored(&admin, r.id).await;
    assert_eq!(r.status, RestorationStatus::Success, "{r:?}");
    let grown = peak_rss(other.pid()).saturating_sub(before);
    drop(other);

    let got = pagila::query(
        server,
        &name,
        "SELECT count(*), (SELECT data FROM public.blob WHERE id = 1), \
         (SELECT data FROM public.blob ORDER BY id DESC LIMIT 1) FROM public.blob",
    );
    assert_eq!(got, format!("{rows}|{first}|{last}"));
    // Flat: 100 MB went through upload and restore; the process grew by a few buffers, not by the file.
    assert!(
        grown < 64 << 20,
        "peak RSS grew by {} MiB while uploading and restoring {} MiB",
        grown >> 20,
        size >> 20
    );
}

#[tokio::test]
async fn contents_list_an_archive_and_a_selective_restore_brings_back_only_what_was_chosen() {
    let (_app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(15);
    let (db, database) = pagila_db(&admin, server).await;
    let out = pagila::psql(
        server,
        &db,
        &[
            "-c",
            "CREATE SCHEMA extra; CREATE TABLE extra.notes (id int PRIMARY KEY, body text); \
             INSERT INTO extra.notes VALUES (1, 'a'), (2, 'b'), (3, 'c');",
        ],
    );
    assert!(out.status.success());
    for format in [BackupFormat::Custom, BackupFormat::Directory] {
        let mut spec = task(&format!("toc {format:?}"), database, vec![dest]);
        spec.format = format;
        let exec = run_ok(&admin, admin.create_task(&spec).await.unwrap().id).await;

        let toc = admin.execution_contents(exec.id).await.unwrap();
        assert!(
            toc.schemas.contains(&"extra".to_string()),
            "{:?}",
            toc.schemas
        );
        assert!(
            toc.tables.contains(&"extra.notes".to_string()),
            "{:?}",
            toc.tables
        );
        assert!(
            toc.tables.contains(&"public.film".to_string()),
            "{:?}",
            toc.tables
        );
        assert!(
            toc.entries
                .iter()
                .any(|e| e.kind == "TABLE DATA" && e.name == "film"),
            "{format:?}"
        );

        let name = format!("s_{}", Uuid::new_v4().simple());
        let mut req = restore_into_new(exec.id, database, &name);
        req.options.schemas = vec!["extra".into()];
        let r = restore(&admin, &req).await;
        assert_eq!(r.status, RestorationStatus::Success, "{format:?}: {r:?}");
        let got = pagila::query(
            server,
            &name,
            "SELECT (SELECT count(*) FROM extra.notes), to_regclass('public.film') IS NULL",
        );
        assert_eq!(got, "3|t", "{format:?}");

        // Single tables by `schema.table`, as the table of contents lists them; a name that matches
        // nothing fails instead of restoring nothing "successfully".
        let name = format!("s_{}", Uuid::new_v4().simple());
        let mut req = restore_into_new(exec.id, database, &name);
        req.options.tables = vec!["extra.notes".into()];
        let r = restore(&admin, &req).await;
        assert_eq!(r.status, RestorationStatus::Success, "{format:?}: {r:?}");
        let got = pagila::query(server, &name, "SELECT count(*) FROM extra.notes");
        assert_eq!(got, "3", "{format:?}");
        let mut req =
            restore_into_new(exec.id, database, &format!("s_{}", Uuid::new_v4().simple()));
        req.options.tables = vec!["extra.no_such_table".into()];
        let r = restore(&admin, &req).await;
        assert_eq!(
            r.error_code.as_deref(),
            Some("restore_failed"),
            "{format:?}: {r:?}"
        );
    }
    // Plain dumps have no table of contents.
    let mut spec = task("toc plain", database, vec![dest]);
    spec.format = BackupFormat::Plain;
    let exec = run_now(&admin, admin.create_task(&spec).await.unwrap().id).await;
    let e = admin.execution_contents(exec.id).await.unwrap_err();
    assert_eq!(e.status(), Some(422), "{e:?}");
}

#[tokio::test]
async fn globals_first_brings_the_roles_over_and_tolerates_the_ones_that_exist() {
    let (_app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let (old, new) = (fleet().get(16), fleet().get(17));
    let role = format!("reporting_{}", &Uuid::new_v4().simple().to_string()[..8]);
    let (db, database) = pagila_db(&admin, old).await;
    let out = pagila::psql(old, &db, &["-c", &format!("CREATE ROLE {role} NOLOGIN")]);
    assert!(out.status.success());
    let mut spec = task("with globals", database, vec![dest]);
    spec.include_globals = true;
    let exec = run_ok(&admin, admin.create_task(&spec).await.unwrap().id).await;

    let (_, host_id) = empty_db(&admin, new, "h").await;
    let name = format!("g_{}", Uuid::new_v4().simple());
    let mut req = restore_into_new(exec.id, host_id, &name);
    req.options.globals_first = true;
    let r = restore(&admin, &req).await;
    assert_eq!(r.status, RestorationStatus::Success, "{r:?}");
    let roles = pagila::query(
        new,
        "postgres",
        &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{role}'"),
    );
    assert_eq!(roles, "1");
    // (Schema dumps of two majors differ in their preamble; the rows must not.)
    assert_eq!(
        pagila::row_checksums(new, &name),
        pagila::row_checksums(old, &db)
    );
}

#[tokio::test]
async fn pgward_restore_on_the_command_line_restores_a_file_and_refuses_a_wrong_checksum() {
    let (_app, admin, dest, dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(16);
    let (db, _, exec) = backed_up(&admin, server, dest, BackupFormat::Custom, vec![]).await;
    let file = dir.join(&exec.objects[0].key);
    let run = |target: &str, sha: &str| {
        pgward(&["restore", "--from"])
            .arg(&file)
            .args(["--sha256", sha, "--jobs", "2"])
            .env("PGWARD_RESTORE_URL", server.url(target))
            .output()
            .unwrap()
    };
    let good = format!("c_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &good);
    assert_success(&run(&good, exec.sha256.as_deref().unwrap()));
    assert_same(server, &db, server, &good);

    let bad = format!("c_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &bad);
    let out = run(&bad, &"0".repeat(64));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum_mismatch"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let films = pagila::query(
        server,
        &bad,
        "SELECT count(*) FROM pg_class WHERE relname = 'film'",
    );
    assert_eq!(films, "0", "nothing restored from a bad file");
}

/// Backups written before pg_dump compressed archives itself (pgward compressed the stream: `.dump.zst`,
/// `.sql.gz`, `.tar.lz4`), made by that code of tests/data/legacy/source.sql on PostgreSQL 17, restore
/// as they did: in one job and in two, into 17 and 18.
#[tokio::test]
async fn backups_made_before_archives_compressed_themselves_still_restore() {
    let legacy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/legacy");
    let source_sql = std::fs::read_to_string(legacy.join("source.sql")).unwrap();
    let rows = "SELECT (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM shop_customer c) || \
                (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM shop_order o) || \
                (SELECT count(*) FROM shop_open_order)::text";
    for major in [17, 18] {
        let server = fleet().get(major);
        let expected = pagila::query(server, &pagila::db_with(server, "src", &source_sql), rows);
        for (file, jobs) in [
            ("legacy.dump.zst", "1"),
            ("legacy.dump.zst", "2"),
            ("legacy.sql.gz", "1"),
            ("legacy.tar.lz4", "2"),
        ] {
            let target = format!("l_{}", Uuid::new_v4().simple());
            pagila::create_db(server, &target);
            let out = pgward(&["restore", "--from"])
                .arg(legacy.join(file))
                .args(["--jobs", jobs])
                .env("PGWARD_RESTORE_URL", server.url(&target))
                .output()
                .unwrap();
            assert_success(&out);
            assert_eq!(
                pagila::query(server, &target, rows),
                expected,
                "{file} with {jobs} job(s) into {major}"
            );
        }
    }
}

#[tokio::test]
async fn a_killed_pgward_leaves_no_psql_and_its_single_transaction_restore_commits_nothing() {
    use sqlx::Connection;
    let (app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(18);
    // The backup: a table with rows, then one the restore will wait for.
    let source = pagila::db_with(
        server,
        "s",
        "CREATE TABLE a AS SELECT g FROM generate_series(1, 20000) g; \
         CREATE TABLE zz_wait (x int);",
    );
    let source_id = add_database(&admin, server, &source).await;
    let mut spec = task("plain", source_id, vec![dest]);
    spec.format = BackupFormat::Plain;
    let exec = run_ok(&admin, admin.create_task(&spec).await.unwrap().id).await;

    // The existing target, and an open transaction in it that makes the restore wait at zz_wait (after
    // it created `a`), so pgward is certainly killed mid-restore.
    let target = pagila::db_with(server, "t", "CREATE TABLE kept AS SELECT 1 AS k");
    let state = |server: &PgServer, db: &str| {
        let rows = pagila::psql(
            server,
            db,
            &[
                "-At",
                "-c",
                "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class \
                 WHERE relnamespace = 'public'::regnamespace; SELECT count(*) FROM kept",
            ],
        );
        assert!(rows.status.success(), "{rows:?}");
        (
            pagila::schema_dump(server, db),
            String::from_utf8_lossy(&rows.stdout).into_owned(),
        )
    };
    let before = state(server, &target);
    let target_id = add_database(&admin, server, &target).await;
    let mut blocker = sqlx::PgConnection::connect(&server.url(&target))
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN; CREATE TABLE zz_wait (y int)")
        .execute(&mut blocker)
        .await
        .unwrap();

    let (other, base) = second_server(&app).await;
    let remote = remote_client(&admin, &base).await;
    remote
        .create_restoration(&CreateRestorationRequest {
            options: RestoreOptions {
                single_transaction: true,
                ..Default::default()
            },
            ..restore_into(exec.id, target_id)
        })
        .await
        .unwrap();
    let mut watcher = sqlx::PgConnection::connect(&server.url("postgres"))
        .await
        .unwrap();
    eventually_every(
        Duration::from_secs(60),
        Duration::from_millis(50),
        async || {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            )
            .bind(&target)
            .fetch_one(&mut watcher)
            .await
            .unwrap();
            waiting > 0
        },
        |_| "the restore never reached zz_wait".into(),
    )
    .await;
    let clients: Vec<u32> = crate::support::procs::descendants_of(other.pid())
        .into_iter()
        .map(|(pid, _)| pid)
        .collect();
    assert!(!clients.is_empty(), "psql runs under the second pgward");

    other.kill9();
    crate::support::procs::wait_gone(&clients, Duration::from_secs(1));

    // The restore's server session can only end now without a COMMIT: its client is gone.
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut blocker)
        .await
        .unwrap();
    drop(blocker);
    eventually_every(
        Duration::from_secs(30),
        Duration::from_millis(50),
        async || {
            let left: i64 =
                sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
                    .bind(&target)
                    .fetch_one(&mut watcher)
                    .await
                    .unwrap();
            left == 0
        },
        |_| "the restore's session never ended".into(),
    )
    .await;
    assert_eq!(state(server, &target), before, "the target changed");
}

/// No replace's working copy (`pgward_replace_*`) is left on `server`.
fn assert_no_working_copy(server: &PgServer) {
    assert_eq!(
        pagila::query(
            server,
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgward_replace_%'"
        ),
        "0"
    );
}

/// A session held open on `db` (as an application would), until dropped.
async fn hold_session(server: &PgServer, db: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&server.url(db)).await.unwrap();
    sqlx::query("SELECT 1").execute(&mut c).await.unwrap();
    c
}

#[tokio::test]
async fn replace_restores_into_the_source_only_with_consent_to_end_its_sessions() {
    let (app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(17);
    let (db, database) = pagila_db(&admin, server).await;
    // Row counts are recorded in the manifest (for test-restores), so the copy is checked against them.
    let mut spec = task(&db, database, vec![dest]);
    spec.verification.test_restore = true;
    spec.verification.test_restore_database_id = Some(database);
    spec.verification.test_restore_schedule = Some("0 3 1 1 *".into());
    let exec = run_ok(&admin, admin.create_task(&spec).await.unwrap().id).await;
    let (schema, rows) = (
        pagila::schema_dump(server, &db),
        pagila::row_checksums(server, &db),
    );
    // The source moves on after the backup: rows go, a table appears, a setting and a grant are made.
    let changed = pagila::psql(
        server,
        &db,
        &[
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!(
                "DELETE FROM payment WHERE payment_id % 3 = 0; CREATE TABLE scratch (x int); \
                 ALTER DATABASE \"{db}\" SET work_mem = '7MB'; \
                 REVOKE CONNECT ON DATABASE \"{db}\" FROM PUBLIC; \
                 GRANT CONNECT ON DATABASE \"{db}\" TO PUBLIC;"
            ),
        ],
    );
    assert!(changed.status.success(), "{changed:?}");
    assert_ne!(pagila::row_checksums(server, &db), rows);

    let replace = |end_sessions: bool, confirm: &str| {
        restore_to(
            exec.id,
            RestoreTarget::Replace {
                database_id: None,
                confirm_name: confirm.into(),
                end_sessions,
                drop_previous: false,
                keep_hours: Some(2),
            },
        )
    };
    // A wrong confirmation is refused and records nothing.
    let e = admin
        .create_restoration(&replace(true, "another_db"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422), "{e:?}");
    assert!(format!("{e:?}").contains("confirm_name"), "{e:?}");

    // A client holds a session: without consent the replace is refused up front.
    let mut held = hold_session(server, &db).await;
    let e = admin
        .create_restoration(&replace(false, &db))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409), "{e:?}");
    assert_eq!(e.code(), Some(ErrorCode::DatabaseInUse), "{e:?}");
    assert!(
        admin
            .list_restorations(&RestorationListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Untouched: the session still works and the source still has its changes.
    use sqlx::Connection;
    held.ping()
        .await
        .expect("the held session survives a refused replace");
    assert!(pagila::query(server, &db, "SELECT to_regclass('scratch') IS NOT NULL") == "t");

    // With consent: the held session is ended, and the source holds exactly the backup.
    let r = restore(&admin, &replace(true, &db)).await;
    assert_eq!(r.status, RestorationStatus::Success, "{r:?}");
    assert_eq!(r.target_kind, RestoreTargetKind::Replace);
    assert!(held.ping().await.is_err(), "the held session was ended");
    assert_eq!(pagila::schema_dump(server, &db), schema);
    assert_eq!(pagila::row_checksums(server, &db), rows);
    let note = r.message.clone().unwrap_or_default();
    assert!(note.contains("every table's row count matches"), "{note}");
    // The original is kept, with its changes, under a dated name until the time asked for.
    let kept = r.previous_database_name.clone().expect("a kept original");
    assert!(kept.starts_with(&format!("{db}_before_")), "{kept}");
    assert!(pagila::query(server, &kept, "SELECT to_regclass('scratch') IS NOT NULL") == "t");
    let until = r.previous_kept_until.expect("kept until");
    let hours = (until - r.finished_at.unwrap()).num_minutes();
    assert!((119..=120).contains(&hours), "{until} {r:?}");
    // The replacement took over the original's settings and grants (owner is the same user here).
    assert_eq!(
        pagila::query(
            server,
            &db,
            "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s \
             JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()"
        ),
        "work_mem=7MB"
    );
    // The registered database still works: the next backup reads the replacement.
    let again = run_ok(&admin, exec.task_id.unwrap()).await;
    assert_eq!(again.status, ExecutionStatus::Success);

    // Housekeeping drops the kept original once its time is up, and not before.
    let exists = |name: &str| {
        pagila::query(
            server,
            "postgres",
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
        ) == "1"
    };
    let (state, _catalog) = app.background().await;
    let n = pgward_server::features::restorations::service::drop_expired_originals(
        &state,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(n, 0);
    assert!(exists(&kept));
    let n = pgward_server::features::restorations::service::drop_expired_originals(
        &state,
        until + chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    assert!(!exists(&kept));
    let r = admin.get_restoration(r.id).await.unwrap();
    assert!(r.previous_dropped_at.is_some(), "{r:?}");
    // No working copy is left behind.
    assert_no_working_copy(server);
}

#[tokio::test]
async fn a_replace_whose_copy_fails_leaves_the_original_untouched() {
    let (_app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(16);
    let (db, _, exec) = backed_up(&admin, server, dest, BackupFormat::Plain, vec![]).await;
    let before = pagila::row_checksums(server, &db);
    // The backup references a role the server no longer has: the restore of the copy fails.
    let role = format!("gone_{}", &Uuid::new_v4().simple().to_string()[..8]);
    let prep = pagila::psql(
        server,
        &db,
        &[
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("CREATE ROLE {role}; ALTER TABLE film OWNER TO {role};"),
        ],
    );
    assert!(prep.status.success(), "{prep:?}");
    let exec = run_ok(&admin, exec.task_id.unwrap()).await;
    let undo = pagila::psql(
        server,
        &db,
        &[
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("ALTER TABLE film OWNER TO CURRENT_USER; DROP ROLE {role};"),
        ],
    );
    assert!(undo.status.success(), "{undo:?}");
    let r = restore(
        &admin,
        &restore_to(
            exec.id,
            RestoreTarget::Replace {
                database_id: None,
                confirm_name: db.clone(),
                end_sessions: true,
                drop_previous: true,
                keep_hours: None,
            },
        ),
    )
    .await;
    assert_eq!(r.status, RestorationStatus::Failed, "{r:?}");
    assert_eq!(r.error_code.as_deref(), Some("restore_failed"), "{r:?}");
    assert!(
        r.message
            .as_deref()
            .unwrap_or_default()
            .contains("untouched"),
        "{r:?}"
    );
    assert!(r.previous_database_name.is_none());
    assert_eq!(pagila::row_checksums(server, &db), before);
    assert_no_working_copy(server);
}

#[tokio::test]
async fn clean_restores_a_plain_dump_over_its_own_source() {
    let (_app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(14);
    let (db, _, exec) = backed_up(&admin, server, dest, BackupFormat::Plain, vec![]).await;
    let (schema, rows) = (
        pagila::schema_dump(server, &db),
        pagila::row_checksums(server, &db),
    );
    let changed = pagila::psql(
        server,
        &db,
        &[
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "DELETE FROM payment WHERE payment_id % 2 = 0; CREATE SCHEMA extra; CREATE TABLE extra.t (x int)",
        ],
    );
    assert!(changed.status.success(), "{changed:?}");
    let mut req = restore_to(exec.id, RestoreTarget::Source);
    req.options.clean = true;
    req.options.single_transaction = true;
    let r = restore(&admin, &req).await;
    assert_eq!(r.status, RestorationStatus::Success, "{r:?}");
    // The recreated `public` has the privileges a new database gives it, but as explicit grants
    // (the server's record of initial privileges is of the schema that was dropped), which pg_dump
    // then writes out.
    let after = pagila::schema_dump(server, &db)
        .replace("GRANT ALL ON SCHEMA public TO PUBLIC;\n\n\n\n", "");
    assert!(after == schema, "the schema differs from the backup's");
    assert_eq!(pagila::row_checksums(server, &db), rows);
    assert_eq!(
        pagila::query(server, &db, "SELECT to_regnamespace('extra') IS NULL"),
        "t",
        "the schema created after the backup is gone"
    );
}
