use std::io::Read;

use pgward_api_types::*;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::support::fixtures::{
    add_database, create_task, local_destination, new_database, new_destination, pagila_db,
    purge_trash_after_grace, run_now, run_ok, task, wait_final, with_disk,
};
use crate::support::fleet::{MAJORS, PgServer};
use crate::support::pagila::{self, client_bin};
use crate::support::process::{assert_success, free_port, pgward};
use crate::support::refused;
use crate::support::storage::{add_s3, s3, s3_destination};
use crate::support::{fleet, spawn_app, spawn_app_with};

/// Restores a stored custom-format backup the way the README tells a person to, without pgward: an
/// archive pg_dump compressed itself (no `.zst` suffix) goes to a pg_restore at least as new as that
/// pg_dump (16 for zstd). Returns the restored database's fingerprint.
fn restore_by_hand(server: &PgServer, stored: &[u8], key: &str) -> String {
    assert!(key.ends_with(".dump"), "{key}");
    let (dump, pg_restore) = (
        stored.to_vec(),
        client_bin(server.major.max(16), "pg_restore"),
    );
    let db = format!("r_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &db);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &dump).unwrap();
    let out = std::process::Command::new(pg_restore)
        .args(["--exit-on-error", "--no-owner", "-d", &server.url(&db)])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg_restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    pagila::fingerprint(server, &db)
}

/// What the archive's own header says about its compression (`pg_restore -l`), e.g. `zstd`.
fn archive_compression(file: &std::path::Path) -> String {
    let out = std::process::Command::new(client_bin(18, "pg_restore"))
        .arg("-l")
        .arg(file)
        .output()
        .unwrap();
    assert_success(&out);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(";     Compression: "))
        .unwrap_or_else(|| {
            panic!(
                "no compression line: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
        .trim()
        .to_string()
}

#[tokio::test]
async fn run_now_writes_a_verified_backup_with_manifest_to_local_and_s3_at_once() {
    let (app, admin, local, dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(16);
    let (db, database) = pagila_db(&admin, server).await;
    let bucket = s3().bucket().await;
    let remote = add_s3(&admin, "s3", s3().endpoint.clone(), &bucket, Some("prod")).await;
    let mut spec = task("Nightly Shop", database, vec![local, remote]);
    spec.include_globals = true;
    let t = admin.create_task(&spec).await.unwrap();

    let queued = admin.run_task(t.id).await.unwrap();
    assert_eq!(queued.trigger, ExecutionTrigger::Manual);
    let done = wait_final(&admin, queued.id).await;
    assert_eq!(done.status, ExecutionStatus::Success, "{done:?}");
    assert_eq!(
        done.objects.len(),
        4,
        "dump and globals on both destinations: {:?}",
        done.objects
    );
    assert!(done.server_version.as_deref().unwrap().starts_with("16."));
    let globals = done
        .objects
        .iter()
        .find(|o| o.destination_id == local && o.key.contains(".globals.sql.zst"))
        .expect("globals beside the dump");
    let mut roles = String::new();
    zstd::stream::read::Decoder::new(&std::fs::read(dir.join(&globals.key)).unwrap()[..])
        .unwrap()
        .read_to_string(&mut roles)
        .unwrap();
    assert!(roles.contains("CREATE ROLE postgres"), "{roles}");
    // pg_dump compressed the archive itself: what it wrote is what is stored.
    assert_eq!(done.bytes_read, done.size.unwrap());
    // Names carry the task's slug, date folders and local time with offset (Europe/Berlin).
    let local_obj = done
        .objects
        .iter()
        .find(|o| o.destination_id == local)
        .unwrap();
    let s3_obj = done
        .objects
        .iter()
        .find(|o| o.destination_id == remote)
        .unwrap();
    assert!(
        local_obj.key.starts_with("nightly-shop/"),
        "{}",
        local_obj.key
    );
    assert!(
        local_obj.key.ends_with(".dump")
            && (local_obj.key.contains("+0100-") || local_obj.key.contains("+0200-")),
        "{}",
        local_obj.key
    );
    assert_eq!(s3_obj.key, format!("prod/{}", local_obj.key));

    assert_eq!(archive_compression(&dir.join(&local_obj.key)), "zstd");
    let sha = done.sha256.clone().unwrap();
    let from_disk = std::fs::read(dir.join(&local_obj.key)).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&from_disk)), sha);
    let from_s3 = admin
        .download_execution(done.id, Some(remote))
        .await
        .unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&from_s3)),
        sha,
        "the S3 copy differs from the recorded checksum"
    );
    // A presigned URL downloads the same bytes straight from S3, without a token.
    let path = format!(
        "/api/v1/executions/{}/download-url?destination_id={remote}",
        done.id
    );
    let url = app
        .get(&path, Some(admin.token().unwrap()))
        .await
        .json::<DownloadUrl>()
        .await
        .unwrap();
    let direct = reqwest::get(&url.url).await.unwrap().bytes().await.unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&direct)),
        sha,
        "presigned download differs"
    );
    // A local copy gets a signed pgward link: no token needed, same bytes, streamed.
    let link = admin
        .download_url(done.id, Some(local), Some(60))
        .await
        .unwrap();
    assert_eq!(link.destination_id, local);
    assert!(link.url.starts_with(&app.address), "{}", link.url);
    let got = reqwest::get(&link.url).await.unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(hex::encode(Sha256::digest(got.bytes().await.unwrap())), sha);
    // Tampered links and access tokens are not tickets, and a ticket is not an access token.
    let ticket = link.url.rsplit('/').next().unwrap().to_string();
    let mut forged = ticket.clone();
    forged.pop();
    forged.push(if ticket.ends_with('A') { 'B' } else { 'A' });
    for bad in [forged, admin.token().unwrap().to_string()] {
        let r = reqwest::get(app.url(&format!("/api/v1/downloads/{bad}")))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
        let body: ApiError = r.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::NotFound);
    }
    let as_bearer = app.get("/api/v1/me", Some(&ticket)).await;
    assert_eq!(as_bearer.status().as_u16(), 401);
    // Without a destination the object-store copy is preferred (pgward stays out of the path).
    let default = admin.download_url(done.id, None, None).await.unwrap();
    assert_eq!(default.destination_id, remote);
    let out_of_range = admin
        .download_url(done.id, None, Some(5))
        .await
        .unwrap_err();
    assert_eq!(out_of_range.status(), Some(422));
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(format!("{}.manifest.json", local_obj.key))).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["sha256"], sha);
    assert!(manifest["table_count"].as_i64().unwrap() > 10);
    let s3_manifest = s3().store(&bucket);
    let got = object_store::ObjectStoreExt::get(
        &*s3_manifest,
        &format!("{}.manifest.json", s3_obj.key).as_str().into(),
    )
    .await
    .unwrap();
    assert!(!got.bytes().await.unwrap().is_empty());
    assert_eq!(
        restore_by_hand(server, &from_s3, &s3_obj.key),
        pagila::fingerprint(server, &db)
    );

    // Listing filters.
    let by_dest = admin
        .list_executions(&ExecutionListQuery {
            destination_id: Some(remote),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_dest.items.len(), 1);
    let failed = admin
        .list_executions(&ExecutionListQuery {
            status: Some(ExecutionStatus::Failed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(failed.items.is_empty());

    // Deleting the backup moves it to the trash: every copy stays until it is purged.
    let trashed = admin.delete_execution(done.id).await.unwrap();
    assert_eq!(trashed.status, ExecutionStatus::Trashed);
    assert!(trashed.purge_at.is_some());
    assert!(dir.join(&local_obj.key).exists());
    // Deleting it again changes nothing; the purge removes every copy and manifest, the record stays.
    assert_eq!(refused(admin.delete_execution(done.id)).await, 409);
    // Only the periodic purge destroys it, once its grace period is over.
    assert_eq!(purge_trash_after_grace(&app).await, 1);
    let deleted = admin.get_execution(done.id).await.unwrap();
    assert_eq!(deleted.status, ExecutionStatus::Deleted);
    assert!(
        !dir.join(&local_obj.key).exists()
            && !dir
                .join(format!("{}.manifest.json", local_obj.key))
                .exists()
    );
    assert!(
        object_store::ObjectStoreExt::get(&*s3_manifest, &s3_obj.key.as_str().into())
            .await
            .is_err()
    );
    // A link handed out earlier ends with the backup.
    assert_eq!(
        reqwest::get(&link.url).await.unwrap().status().as_u16(),
        404
    );
}

#[tokio::test]
async fn every_supported_major_is_backed_up_with_default_settings_and_restores() {
    let (_app, admin, dest, dir) = with_disk(spawn_app().await).await;
    let mut runs = Vec::new();
    for major in MAJORS {
        let server = fleet().get(major);
        let (db, database) = pagila_db(&admin, server).await;
        let t = create_task(&admin, &format!("pg{major}"), database, dest).await;
        runs.push((server, db, admin.run_task(t.id).await.unwrap().id));
    }
    for (server, db, id) in runs {
        let done = wait_final(&admin, id).await;
        assert_eq!(
            done.status,
            ExecutionStatus::Success,
            "PostgreSQL {}: {done:?}",
            server.major
        );
        let key = &done.objects[0].key;
        let stored = std::fs::read(dir.join(key)).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&stored)), done.sha256.unwrap());
        // By default pg_dump compresses the archive itself with zstd, on every major (a pg_dump of 16
        // or newer dumps the older servers).
        assert_eq!(
            archive_compression(&dir.join(key)),
            "zstd",
            "PostgreSQL {}",
            server.major
        );
        assert_eq!(
            restore_by_hand(server, &stored, key),
            pagila::fingerprint(server, &db),
            "PostgreSQL {}",
            server.major
        );
    }
}

#[tokio::test]
async fn a_second_run_while_one_is_queued_is_refused_and_a_queued_run_can_be_cancelled() {
    // No workers: runs stay queued, so the overlap rule is observable without racing a worker.
    let (_app, admin, dest, _) =
        with_disk(spawn_app_with(|c| c.worker.in_process = false).await).await;
    let database = add_database(&admin, fleet().get(17), "postgres").await;
    let t = create_task(&admin, "overlap", database, dest).await;
    let first = admin.run_task(t.id).await.unwrap();
    let second = admin.run_task(t.id).await.unwrap_err();
    assert_eq!(
        (second.status(), second.code()),
        (Some(409), Some(ErrorCode::Conflict))
    );
    let cancelled = admin.cancel_execution(first.id).await.unwrap();
    assert_eq!(cancelled.status, ExecutionStatus::Cancelled);
    assert_eq!(refused(admin.cancel_execution(first.id)).await, 409);
    admin.run_task(t.id).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_database_fails_the_run_with_a_clear_message() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let server = fleet().get(15);
    let port = free_port();
    let database = admin
        .create_database(&CreateDatabaseRequest {
            skip_connection_test: true,
            ..new_database("gone", server.url_at(port, "postgres"))
        })
        .await
        .unwrap()
        .id;
    let (dest, dir) = local_destination(&admin, "disk").await;
    let t = create_task(&admin, "unreachable", database, dest).await;
    let done = run_now(&admin, t.id).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert!(
        done.message
            .as_deref()
            .unwrap()
            .contains("database \"gone\" unreachable"),
        "the message names the database: {done:?}"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing may be left behind"
    );
}

#[tokio::test]
async fn concurrent_schedulers_create_each_due_run_exactly_once() {
    let (app, admin, dest, _) =
        with_disk(spawn_app_with(|c| c.worker.in_process = false).await).await;
    let database = add_database(&admin, fleet().get(17), "postgres").await;
    for i in 0..20 {
        let mut spec = task(&format!("every minute {i}"), database, vec![dest]);
        spec.schedule = "* * * * *".into();
        admin.create_task(&spec).await.unwrap();
    }
    // Three scheduler processes' worth of state on the same catalog, ticking at the same instant.
    let mut states = Vec::new();
    for _ in 0..3 {
        states.push(app.background().await.0);
    }
    let later = chrono::Utc::now() + chrono::Duration::minutes(3);
    let ticks = states
        .iter()
        .map(|s| pgward_server::features::executions::service::schedule_due(s, later));
    let queued: usize = futures::future::join_all(ticks)
        .await
        .into_iter()
        .map(|r| r.unwrap().len())
        .sum();
    assert_eq!(queued, 20);
    // Ticking again at the same time creates nothing new.
    assert!(
        pgward_server::features::executions::service::schedule_due(&states[0], later)
            .await
            .unwrap()
            .is_empty()
    );
    let all = admin
        .list_executions(&ExecutionListQuery {
            limit: Some(200),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(all.len(), 20);
    assert!(all.iter().all(|e| e.trigger == ExecutionTrigger::Schedule && e.status == ExecutionStatus::Queued));
}

#[tokio::test]
async fn an_unreachable_storage_fails_the_run_with_a_clear_message() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let database = add_database(&admin, fleet().get(17), "postgres").await;
    let port = free_port();
    let dead = admin
        .create_destination(&CreateDestinationRequest {
            skip_test: true,
            ..new_destination(
                "dead s3",
                s3_destination(format!("http://127.0.0.1:{port}"), "nowhere", None),
            )
        })
        .await
        .unwrap()
        .id;
    let t = create_task(&admin, "to nowhere", database, dead).await;
    let done = run_now(&admin, t.id).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    let msg = done.message.unwrap();
    // Named as people know it (the id is in the event data).
    assert!(msg.contains("destination \"dead s3\" failed"), "{msg}");
}

#[tokio::test]
async fn a_daily_0230_berlin_task_runs_at_the_documented_times_across_daylight_saving() {
    let (app, admin, dest, _) =
        with_disk(spawn_app_with(|c| c.worker.in_process = false).await).await;
    let database = add_database(&admin, fleet().get(17), "postgres").await;
    let t = create_task(&admin, "berlin nightly", database, dest).await;
    let (state, _c) = app.background().await;
    let mut catalog = app.catalog().await;
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    // Scheduler passes shortly after each expected run; each run is marked done before the next pass.
    let expected = [
        ("2027-03-27T02:31:00+01:00", "2027-03-27T02:30:00+01:00"),
        ("2027-03-28T03:01:00+02:00", "2027-03-28T03:00:00+02:00"), // 02:30 does not exist: first instant after
        ("2027-03-29T02:31:00+02:00", "2027-03-29T02:30:00+02:00"),
        ("2027-10-31T02:31:00+02:00", "2027-10-31T02:30:00+02:00"), // 02:30 happens twice: the first one
        ("2027-10-31T02:31:00+01:00", ""), // ... and not again an hour later
        ("2027-11-01T02:31:00+01:00", "2027-11-01T02:30:00+01:00"),
    ];
    for (now, due) in expected {
        let queued = pgward_server::features::executions::service::schedule_due(&state, at(now))
            .await
            .unwrap();
        if due.is_empty() {
            assert!(queued.is_empty(), "a run was queued at {now}");
            continue;
        }
        assert_eq!(queued.len(), 1, "no run queued at {now}");
        let e = admin.get_execution(queued[0]).await.unwrap();
        assert_eq!(e.scheduled_for.to_rfc3339(), due, "the run for {now}");
        sqlx::query("UPDATE executions SET status = 'success' WHERE id = $1")
            .bind(e.id)
            .execute(&mut catalog)
            .await
            .unwrap();
    }
    let _ = t;
}

#[tokio::test]
async fn a_directory_format_task_dumps_with_parallel_jobs_restores_and_leaves_no_scratch() {
    let (app, admin, dest, dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(18);
    let (db, database) = pagila_db(&admin, server).await;
    let mut spec = task("directory", database, vec![dest]);
    spec.format = BackupFormat::Directory;
    spec.parallel_jobs = 2;
    let t = admin.create_task(&spec).await.unwrap();
    assert_eq!(
        (t.spec.format, t.spec.parallel_jobs),
        (BackupFormat::Directory, 2)
    );

    let done = run_ok(&admin, t.id).await;
    let key = &done.objects[0].key;
    // pg_dump compressed every file of the directory itself: no compression around the tar.
    assert!(key.ends_with(".tar"), "{key}");
    let stored = std::fs::read(dir.join(key)).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&stored)), done.sha256.unwrap());

    // Unpack and restore the way the README describes: tar x; pg_restore -Fd -j.
    let unpacked = tempfile::tempdir().unwrap();
    tar::Archive::new(&stored[..])
        .unpack(unpacked.path())
        .unwrap();
    assert!(
        std::fs::read_dir(unpacked.path().join("dump"))
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".dat.zst")),
        "table data compressed by pg_dump"
    );
    let target = format!("r_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &target);
    let out = std::process::Command::new(client_bin(server.major, "pg_restore"))
        .args([
            "--exit-on-error",
            "--no-owner",
            "--jobs=2",
            "-d",
            &server.url(&target),
        ])
        .arg(unpacked.path().join("dump"))
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        pagila::fingerprint(server, &target),
        pagila::fingerprint(server, &db)
    );
    let work = app.config.work_dir();
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "{} must be empty after the run",
        work.display()
    );
}

#[tokio::test]
async fn backups_on_one_database_server_respect_the_per_server_limit() {
    let app = spawn_app_with(|c| {
        c.worker.concurrency = 3;
        c.worker.per_server_concurrency = 1;
    })
    .await;
    let admin = app.admin().await;
    let server = fleet().get(15);
    let (_, database) = pagila_db(&admin, server).await;
    let (dest, _dir) = local_destination(&admin, "disk").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let t = create_task(&admin, &format!("same server {n}"), database, dest).await;
        ids.push(admin.run_task(t.id).await.unwrap().id);
    }
    let mut runs = Vec::new();
    for id in ids {
        let e = wait_final(&admin, id).await;
        assert_eq!(e.status, ExecutionStatus::Success, "{e:?}");
        runs.push((e.started_at.unwrap(), e.finished_at.unwrap()));
    }
    // Three workers were free, but the server takes one backup at a time: the runs do not overlap.
    runs.sort();
    for pair in runs.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "runs overlapped on one server: {runs:?}"
        );
    }
}

/// `pgward dump` goes through the same engine call as a scheduled run, so it leaves the same manifest
/// beside the same kind of object (and the globals when asked): a backup made by hand is as restorable
/// and verifiable without the catalog as one made by the scheduler.
#[tokio::test]
async fn pgward_dump_writes_the_same_manifest_as_a_scheduled_backup() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let server = fleet().get(17);
    let db = crate::support::fixtures::small_db(server);
    let database = add_database(&admin, server, &db).await;
    let (dest, dir) = local_destination(&admin, "disk").await;
    let mut spec = task("same manifest", database, vec![dest]);
    spec.include_globals = true;
    // Row counts go into the manifest of a task that test-restores (scheduled far away, never run here).
    spec.verification.test_restore = true;
    spec.verification.test_restore_database_id = Some(database);
    spec.verification.test_restore_schedule = Some("0 3 1 1 *".into());
    let done = run_ok(&admin, admin.create_task(&spec).await.unwrap().id).await;
    let read = |path: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}")))
            .unwrap()
    };
    let dump_key = &done
        .objects
        .iter()
        .find(|o| !o.key.contains(".globals."))
        .unwrap()
        .key;
    let scheduled = read(dir.join(format!("{dump_key}.manifest.json")));

    let by_hand = tempfile::tempdir().unwrap();
    // The extension given is replaced by the one of what is stored.
    let out = pgward(&[
        "dump",
        "--globals",
        "--row-counts",
        "--name",
        "by-hand.sql.gz",
    ])
    .arg("--to")
    .arg(format!("file://{}", by_hand.path().display()))
    .env("PGWARD_DUMP_URL", server.url(&db))
    .output()
    .unwrap();
    assert_success(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let name = "by-hand.dump";
    assert_eq!(report["object"], name, "{report}");
    assert_eq!(
        report["manifest"],
        format!("{name}.manifest.json"),
        "{report}"
    );
    let manual = read(by_hand.path().join(format!("{name}.manifest.json")));
    let fields = |m: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = m.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    // The same fields, but for the run of a task the catalog knew (what a catalog rebuild reads).
    let mut run_fields = fields(&scheduled);
    run_fields.retain(|f| f != "origin");
    assert_eq!(fields(&manual), run_fields, "{manual:#}\n{scheduled:#}");
    assert_eq!(scheduled["origin"]["execution_id"], done.id.to_string());
    assert!(manual.get("origin").is_none(), "{manual:#}");
    assert_eq!(
        manual["globals"].as_str().map(|g| g.contains(".globals.")),
        Some(true),
        "{manual:#}"
    );
    for same in [
        "format",
        "compression",
        "options",
        "server_version",
        "pg_dump_version",
        "database",
        "table_count",
        "row_counts",
        "recipient_fingerprints",
        "pgward_version",
    ] {
        assert_eq!(manual[same], scheduled[same], "{same}");
    }
    assert_eq!(manual["object"], name);
    assert!(
        manual["row_counts"]
            .as_object()
            .is_some_and(|c| !c.is_empty())
    );
    // The object it describes, and the globals beside it, as the scheduled run stores them.
    let stored = std::fs::read(by_hand.path().join(name)).unwrap();
    assert_eq!(stored.len() as u64, manual["size"].as_u64().unwrap());
    assert_eq!(
        format!("{:x}", Sha256::digest(&stored)),
        manual["sha256"].as_str().unwrap()
    );
    assert!(done.objects.iter().any(|o| o.key.contains(".globals.")));
    let globals: Vec<_> = std::fs::read_dir(by_hand.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".globals."))
        .collect();
    assert_eq!(globals.len(), 1, "one globals file beside the dump");
}

#[tokio::test]
async fn stats_count_outcomes_per_day_in_the_asked_zone_and_list_runs_with_size_and_duration() {
    use crate::support::fixtures::{create_task, local_destination, run_ok};
    let app = spawn_app().await;
    let admin = app.admin().await;
    let server = crate::support::fleet().get(17);
    let db = crate::support::fixtures::small_db(server);
    let database = crate::support::fixtures::add_database(&admin, server, &db).await;
    let (dest, _dir) = local_destination(&admin, "stats disk").await;
    let task = create_task(&admin, "stats", database, dest).await;
    let ok = run_ok(&admin, task.id).await;

    let q = |tz: Option<&str>, days: Option<u32>| pgward_api_types::ExecutionStatsQuery {
        task_id: Some(task.id),
        days,
        tz: tz.map(str::to_string),
    };
    let stats = admin
        .execution_stats(&q(Some("Pacific/Kiritimati"), Some(7)))
        .await
        .unwrap();
    assert_eq!(stats.tz, "Pacific/Kiritimati");
    assert_eq!(
        stats.days.len(),
        7,
        "every day of the range, zeros included"
    );
    // The run ended today where the clocks are furthest ahead (UTC+14).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Pacific::Kiritimati)
        .format("%Y-%m-%d")
        .to_string();
    let last = stats.days.last().unwrap();
    assert_eq!(
        (last.day.as_str(), last.success, last.failed),
        (today.as_str(), 1, 0)
    );
    assert_eq!(stats.days.iter().map(|d| d.success).sum::<u64>(), 1);
    assert_eq!(stats.runs.len(), 1);
    assert_eq!(stats.runs[0].execution_id, ok.id);
    assert_eq!(stats.runs[0].size, ok.size);
    assert!(stats.runs[0].duration_ms.is_some());

    // Another task's view is empty; bad ranges and zones are refused.
    let all = admin
        .execution_stats(&pgward_api_types::ExecutionStatsQuery {
            task_id: Some(uuid::Uuid::new_v4()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((all.days.len(), all.runs.len()), (30, 0));
    for bad in [
        q(Some("Mars/Olympus"), None),
        q(None, Some(0)),
        q(None, Some(400)),
    ] {
        let e = admin.execution_stats(&bad).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{bad:?}");
    }
}
