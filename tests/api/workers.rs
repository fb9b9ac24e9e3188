//! Real `pgward worker` processes sharing the catalog: crash recovery and several schedulers.

use std::path::Path;
use std::time::Duration;

use pgward_api_client::Client;
use pgward_api_types::*;
use uuid::Uuid;

use crate::support::fixtures::{
    About, add_database, events_about, local_destination, new_database, task_spec,
};
use crate::support::poll::{eventually, eventually_every};
use crate::support::process::Worker;
use crate::support::storage::{add_s3, s3};
use crate::support::{TestApp, fleet, pagila, spawn_app_with};

async fn setup(
    app: &TestApp,
    scale: u32,
) -> (Client, Uuid, Uuid, Uuid, std::path::PathBuf, String, String) {
    // Load first: a long blocking load would outlive the server's keep-alive on a pooled connection.
    let server = fleet().get(17);
    let db = format!("p_{}", Uuid::new_v4().simple());
    pagila::load(server, &db, scale);
    let admin = app.admin().await;
    let database = admin
        .create_database(&new_database("big", server.url(&db)))
        .await
        .unwrap()
        .id;
    let (local, dir) = local_destination(&admin, "disk").await;
    let bucket = s3().bucket().await;
    let remote = add_s3(&admin, "s3", s3().endpoint.clone(), &bucket, None).await;
    (admin, database, local, remote, dir, bucket, db)
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(files(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

async fn s3_object_count(bucket: &str) -> usize {
    let body = reqwest::get(format!("{}/{bucket}?list-type=2", s3().endpoint))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // A health check's probe object is not backup data: a worker killed between writing and deleting
    // one leaves it (the next probe of that destination sweeps it).
    body.split("<Key>")
        .skip(1)
        .filter(|k| !k.starts_with(".pgward-probe-"))
        .count()
}

#[tokio::test]
async fn a_killed_worker_leaves_an_interrupted_execution_and_no_partial_data() {
    let app = spawn_app_with(|c| c.worker.in_process = false).await;
    let (admin, database, local, remote, dir, bucket, db) = setup(&app, 2).await;
    let mut spec = task_spec(database, local);
    spec.destination_ids = vec![local, remote];
    spec.compression = CompressionAlgorithm::None;
    let task = admin.create_task(&spec).await.unwrap();
    let exec = admin.run_task(task.id).await.unwrap();

    // Hold pg_dump up inside the backup (it waits for a table lock), so the kill lands mid-backup no
    // matter how fast the machine is: the worker has claimed the run and opened its uploads.
    let mut locker = <sqlx::PgConnection as sqlx::Connection>::connect(&fleet().get(17).url(&db))
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("LOCK TABLE public.payment_p2022_01 IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    let mut catalog = app.catalog().await;
    let worker = Worker::start(&app, 3600);
    eventually_every(
        Duration::from_secs(120),
        Duration::from_millis(50),
        async || {
            let e = admin.get_execution(exec.id).await.unwrap();
            assert!(
                !e.status.is_final(),
                "finished before it could be interrupted: {e:?}"
            );
            // Recorded in the catalog too: an upload opened but not yet recorded is the (unavoidable)
            // window the reaper cannot see; S3 lifecycle rules cover that, this test covers the rest.
            let recorded: i32 = sqlx::query_scalar(
                "SELECT jsonb_array_length(pending_uploads) FROM executions WHERE id = $1",
            )
            .bind(exec.id)
            .fetch_one(&mut catalog)
            .await
            .unwrap();
            e.status == ExecutionStatus::Running
                && s3().pending_uploads(&bucket).await > 0
                && !files(&dir).is_empty()
                && recorded > 0
        },
        |_| "the worker never started the backup".into(),
    )
    .await;
    worker.kill9();
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();

    // Another process's scheduler pass after the lease ran out.
    let (state, _c) = app.background().await;
    let later = chrono::Utc::now() + chrono::Duration::seconds(31);
    let reaped = pgward_server::features::executions::service::reap_interrupted(
        &state,
        later,
        pgward_server::background::LEASE,
    )
    .await
    .unwrap();
    assert_eq!(reaped, vec![exec.id]);
    let e = admin.get_execution(exec.id).await.unwrap();
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert!(e.message.clone().unwrap().contains("interrupted"));
    // Its duration ends at the last heartbeat, not 31 s later when the reaper looked.
    let finished = e.finished_at.unwrap().with_timezone(&chrono::Utc);
    assert!(
        finished < later - chrono::Duration::seconds(20),
        "{finished} vs {later}"
    );
    // Notifications hear of it as of any failed run.
    let failed = events_about(&admin, EventKind::ExecutionFailed, About::Task(task.id))
        .await
        .items;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].execution_id, Some(exec.id));
    // The reason is at the top of the event's data, where a receiver looks first.
    let error = failed[0].data["error"].as_str().unwrap_or_default();
    assert!(error.contains("interrupted"), "{:?}", failed[0].data);
    assert!(
        files(&dir).is_empty(),
        "partial files left: {:?}",
        files(&dir)
    );
    assert_eq!(
        s3().pending_uploads(&bucket).await,
        0,
        "a multipart upload was left pending"
    );
    assert_eq!(s3_object_count(&bucket).await, 0);

    // The next run succeeds.
    let worker = Worker::start(&app, 3600);
    let next = admin.run_task(task.id).await.unwrap();
    let done = eventually(
        Duration::from_secs(180),
        async || {
            let e = admin.get_execution(next.id).await.unwrap();
            if e.status.is_final() { Ok(e) } else { Err(e) }
        },
        |_| "the next run did not finish".into(),
    )
    .await;
    drop(worker);
    assert_eq!(done.status, ExecutionStatus::Success, "{done:?}");
    assert_eq!(done.objects.len(), 2);
}

#[tokio::test]
async fn three_worker_processes_run_twenty_due_tasks_exactly_once() {
    let app = spawn_app_with(|c| c.worker.in_process = false).await;
    let (admin, database, local, _remote, dir, _bucket, _db) = setup(&app, 1).await;
    for i in 0..20 {
        let mut spec = task_spec(database, local);
        spec.name = format!("minutely {i}");
        spec.schedule = "* * * * *".into();
        spec.timezone = "UTC".into();
        admin.create_task(&spec).await.unwrap();
    }
    let workers: Vec<Worker> = (0..3).map(|_| Worker::start(&app, 1)).collect();
    // The next minute boundary makes all 20 due at once.
    let runs = eventually_every(
        Duration::from_secs(180),
        Duration::from_millis(250),
        async || {
            let page = admin
                .list_executions(&ExecutionListQuery {
                    limit: Some(200),
                    ..Default::default()
                })
                .await
                .unwrap();
            if page.items.len() >= 20 && page.items.iter().all(|e| e.status.is_final()) {
                Ok(page.items)
            } else {
                Err(page.items)
            }
        },
        |items| {
            format!(
                "not all runs finished: {:?}",
                items.iter().map(|e| e.status).collect::<Vec<_>>()
            )
        },
    )
    .await;
    drop(workers);
    let this_minute: Vec<&Execution> = runs
        .iter()
        .filter(|e| e.scheduled_for == runs[0].scheduled_for)
        .collect();
    assert_eq!(
        this_minute.len(),
        20,
        "exactly one execution per task for the minute"
    );
    assert!(
        this_minute.iter().all(
            |e| e.status == ExecutionStatus::Success && e.trigger == ExecutionTrigger::Schedule
        )
    );
    let mut tasks: Vec<_> = this_minute.iter().map(|e| e.task_id).collect();
    tasks.dedup();
    assert_eq!(tasks.len(), 20);
    // Each ran once: one dump and one manifest per execution of that minute, nothing else.
    let keys: Vec<String> = this_minute
        .iter()
        .map(|e| e.objects[0].key.clone())
        .collect();
    for k in &keys {
        assert!(dir.join(k).is_file() && dir.join(format!("{k}.manifest.json")).is_file());
    }
}

#[tokio::test]
async fn finished_queue_jobs_are_pruned_once_old_enough() {
    let app = crate::support::spawn_app().await;
    let admin = app.admin().await;
    let server = fleet().get(16);
    add_database(&admin, server, "postgres").await;
    let (state, _c) = app.background().await;
    // A health check goes through the queue and finishes there.
    pgward_server::features::health::service::run_due(&state, chrono::Utc::now())
        .await
        .unwrap();
    let mut catalog = app.catalog().await;
    let finished = "SELECT count(*) FROM apalis.jobs WHERE job_type = 'pgward::check_health' \
                    AND done_at IS NOT NULL";
    eventually(
        Duration::from_secs(60),
        async || {
            let n: i64 = sqlx::query_scalar(finished)
                .fetch_one(&mut catalog)
                .await
                .unwrap();
            n > 0
        },
        |_| "no health-check job finished".into(),
    )
    .await;
    use pgward_server::background::queues::prune_finished;
    let now = chrono::Utc::now();
    // Recent jobs stay; once older than the cut-off they go.
    assert_eq!(
        prune_finished(&state.db, now - chrono::Duration::days(2))
            .await
            .unwrap(),
        0
    );
    assert!(
        prune_finished(&state.db, now + chrono::Duration::seconds(1))
            .await
            .unwrap()
            > 0
    );
    let left: i64 = sqlx::query_scalar(finished)
        .fetch_one(&mut catalog)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_killed_worker_leaves_no_pg_dump_or_dump_job_running() {
    let app = spawn_app_with(|c| c.worker.in_process = false).await;
    let admin = app.admin().await;
    // Many small tables: a directory-format dump with 2 jobs keeps its job processes busy for seconds.
    let server = fleet().get(17);
    let db = format!("m_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &db);
    let out = pagila::psql(
        server,
        &db,
        &[
            "-c",
            "DO $$ BEGIN FOR i IN 1..1500 LOOP \
               EXECUTE format('CREATE TABLE t%s AS SELECT g FROM generate_series(1, 200) g', i); \
             END LOOP; END $$",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let database = add_database(&admin, server, &db).await;
    let (dest, _dir) = local_destination(&admin, "disk").await;
    let mut spec = task_spec(database, dest);
    spec.format = BackupFormat::Directory;
    spec.parallel_jobs = 2;
    let task = admin.create_task(&spec).await.unwrap();
    let worker = Worker::start(&app, 3600);
    let exec = admin.run_task(task.id).await.unwrap();

    // Until pg_dump has forked its two job processes.
    let clients = eventually_every(
        Duration::from_secs(120),
        Duration::from_millis(5),
        async || {
            let below = crate::support::procs::descendants_of(worker.pid());
            if below.iter().filter(|(_, name)| name == "pg_dump").count() >= 3 {
                return Some(below);
            }
            let e = admin.get_execution(exec.id).await.unwrap();
            assert!(!e.status.is_final(), "finished before the kill: {e:?}");
            None
        },
        |_| "pg_dump never forked its jobs".into(),
    )
    .await;

    worker.kill9();
    let pids: Vec<u32> = clients.iter().map(|(pid, _)| *pid).collect();
    crate::support::procs::wait_gone(&pids, Duration::from_secs(1));
}
