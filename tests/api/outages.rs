//! A bad day for the operator: the catalog dies under a running pgward, pgward itself is killed. pgward
//! brings its catalog back, its workers resume without a restart, the API answers 503 quickly meanwhile,
//! and nothing it started outlives it.

use std::time::{Duration, Instant};

use pgward_api_client::Client;
use pgward_api_types::*;
use uuid::Uuid;

use crate::support::app::first_user;
use crate::support::fixtures::{
    add_database, add_destination, api_token, create_task, hold_table, local_destination,
    new_database, run_now, small_db, task, wait_final,
};
use crate::support::fleet;
use crate::support::poll::{eventually, eventually_every};
use crate::support::process::{Serve, serve_beside, serve_place, wait_ready};
use crate::support::receiver::{Receiver, custom};
use crate::support::storage::{add_s3, s3};

/// The embedded catalog's postmaster; `None` while its pid file is missing or still being written (a
/// restarting server creates it empty first).
fn postmaster_pid(data: &std::path::Path) -> Option<i32> {
    let pid = std::fs::read_to_string(data.join("catalog/postmaster.pid")).ok()?;
    pid.lines().next()?.trim().parse().ok()
}

fn alive(pid: i32) -> bool {
    crate::support::procs::alive(pid as u32)
}

/// Kills the embedded catalog's postmaster (of pgward's data directory `data`) with SIGKILL; its pid.
fn kill9_postmaster(data: &std::path::Path) -> i32 {
    let postmaster = postmaster_pid(data).expect("the catalog runs");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(postmaster),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    postmaster
}

/// Registers `db` of `server` as "checked every minute": its health is checked every 60 seconds.
async fn checked_every_minute(
    admin: &Client,
    server: &crate::support::fleet::PgServer,
    db: &str,
) -> Uuid {
    admin
        .create_database(&CreateDatabaseRequest {
            health_interval_secs: Some(60),
            ..new_database("checked every minute", server.url(db))
        })
        .await
        .unwrap()
        .id
}

/// A task "every minute" of `database` to `dest`, due at every minute (UTC).
async fn due_every_minute(admin: &Client, database: Uuid, dest: Uuid) -> Task {
    let mut every_minute = task("every minute", database, vec![dest]);
    every_minute.schedule = "* * * * *".into();
    every_minute.timezone = "UTC".into();
    admin.create_task(&every_minute).await.unwrap()
}

/// What one API call during the outage came to.
struct Seen {
    status: u16,
    code: Option<String>,
    took: Duration,
}

async fn call(http: &reqwest::Client, url: &str, token: &str) -> Seen {
    let started = Instant::now();
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    Seen {
        status,
        code: body["code"].as_str().map(str::to_string),
        took: started.elapsed(),
    }
}

/// After an outage: a run-now of `task` succeeds, a scheduled run of it (due every minute) happens and
/// succeeds, and the database `checked` (every minute) gets a health check. Returns the run-now's id.
async fn everything_happens_after(
    admin: &Client,
    task: Uuid,
    checked: Uuid,
    recovered_at: chrono::DateTime<chrono::Utc>,
) -> Uuid {
    let now = admin.run_task(task).await.unwrap();
    let done = wait_final(admin, now.id).await;
    assert_eq!(done.status, ExecutionStatus::Success, "{done:?}");
    eventually_every(
        Duration::from_secs(150),
        Duration::from_millis(250),
        async || {
            let runs = admin
                .list_executions(&ExecutionListQuery {
                    task_id: Some(task),
                    ..Default::default()
                })
                .await
                .unwrap()
                .items;
            let scheduled_after = runs.iter().any(|e| {
                e.trigger == ExecutionTrigger::Schedule
                    && e.status == ExecutionStatus::Success
                    && e.scheduled_for > recovered_at
            });
            let checked_after = admin
                .get_database(checked)
                .await
                .unwrap()
                .health
                .last_checked_at
                .is_some_and(|t| t > recovered_at);
            if scheduled_after && checked_after {
                Ok(now.id)
            } else {
                Err((scheduled_after, checked_after))
            }
        },
        |(scheduled_after, checked_after)| {
            format!(
                "after the outage: scheduled run {scheduled_after}, health check {checked_after}"
            )
        },
    )
    .await
}

#[tokio::test]
async fn a_killed_embedded_catalog_comes_back_and_every_worker_resumes_without_a_restart() {
    let (_tmp, data, port, base) = serve_place();
    let receiver = Receiver::start(vec![]);
    let mut serve = Serve::start_with(
        &data,
        port,
        &[
            ("PGWARD_WORKER__SCHEDULER_INTERVAL_SECS", "1".into()),
            (
                "PGWARD_OUTBOUND__ALLOW_LOOPBACK",
                r#"["databases","destinations","webhooks"]"#.into(),
            ),
            (
                "PGWARD_STORAGE__LOCAL_ROOTS",
                format!("[\"{}\"]", std::env::temp_dir().display()),
            ),
        ],
    );
    serve.wait_for("catalog migrations done");
    let anon = Client::new(&base);
    let token = first_user(&anon, "op@example.com", "outage day password")
        .await
        .access_token;
    let admin = anon.with_token(token.clone());

    // A backup that will be running (held by a lock) when the catalog dies; a task due every minute;
    // a database checked every minute; a webhook for every success.
    let server = fleet().get(17);
    let (held_db, other_db) = (small_db(server), small_db(server));
    let (dest, _dir) = local_destination(&admin, "disk").await;
    let held = add_database(&admin, server, &held_db).await;
    let other = checked_every_minute(&admin, server, &other_db).await;
    let held_task = create_task(&admin, "held", held, dest).await;
    let every_minute = due_every_minute(&admin, other, dest).await;
    admin
        .create_webhook(&custom("hook", receiver.url("/hook")))
        .await
        .unwrap();

    let lock = hold_table(server, &held_db).await;
    let in_flight = admin.run_task(held_task.id).await.unwrap();
    eventually_every(
        Duration::from_secs(60),
        Duration::from_millis(50),
        async || {
            admin.get_execution(in_flight.id).await.unwrap().status == ExecutionStatus::Running
        },
        |_| "the held backup never started".into(),
    )
    .await;

    // Kill -9 the catalog's postmaster.
    let postmaster = kill9_postmaster(&data);
    eventually_every(
        Duration::from_secs(10),
        Duration::from_millis(10),
        async || !alive(postmaster),
        |_| format!("the killed postmaster {postmaster} was still there after 10 s"),
    )
    .await;

    // Until pgward has its catalog back: API calls answer at once, 200 or 503 catalog_unavailable;
    // /readyz says not ready and why.
    let http = reqwest::Client::new();
    let mut api = Vec::new();
    let mut not_ready = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        api.push(call(&http, &format!("{base}/api/v1/tasks"), &token).await);
        let r = http.get(format!("{base}/readyz")).send().await.unwrap();
        let ok = r.status().is_success();
        let body: Readiness = r.json().await.unwrap();
        if !ok {
            not_ready.push(body);
        } else if !not_ready.is_empty() && api.last().is_some_and(|s| s.status == 200) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pgward never brought its catalog back; log:\n{}",
            serve.log().join("\n")
        );
    }
    let recovered_at = chrono::Utc::now();
    let unavailable: Vec<&Seen> = api.iter().filter(|s| s.status == 503).collect();
    assert!(!unavailable.is_empty(), "no call saw the outage");
    for s in &api {
        assert!(
            s.status == 200
                || (s.status == 503 && s.code.as_deref() == Some("catalog_unavailable")),
            "answered {} {:?} during the outage",
            s.status,
            s.code
        );
        assert!(s.took < Duration::from_secs(1), "a call took {:?}", s.took);
    }
    assert!(
        not_ready
            .iter()
            .any(|r| !r.catalog && r.problems.iter().any(|p| p.starts_with("catalog"))),
        "{:?}",
        not_ready.iter().map(|r| &r.problems).collect::<Vec<_>>()
    );
    assert_ne!(
        postmaster_pid(&data).expect("a postmaster runs"),
        postmaster,
        "a new postmaster runs"
    );

    // The backup in flight finishes into storage and is recorded.
    drop(lock);
    let done = wait_final(&admin, in_flight.id).await;
    assert_eq!(
        done.status,
        ExecutionStatus::Success,
        "{done:?}\npgward's log:\n{}",
        serve.log().join("\n")
    );
    let now = everything_happens_after(&admin, every_minute.id, other, recovered_at).await;
    // The held run, the run-now and the scheduled run each reached the webhook.
    let hooks = receiver.wait_for(3).await;
    for id in [in_flight.id, now] {
        let id = id.to_string();
        assert!(hooks.iter().any(|h| h.body.contains(id.as_str())), "{id}");
    }

    // Again while idle: pgward brings it back, and a run-now works without a restart of pgward.
    let postmaster = kill9_postmaster(&data);
    eventually(
        Duration::from_secs(120),
        async || {
            postmaster_pid(&data).is_some_and(|p| p != postmaster)
                && http
                    .get(format!("{base}/readyz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
        },
        |_| "the catalog never came back after an idle kill".into(),
    )
    .await;
    // The held task runs only when asked (its schedule is at night).
    assert_eq!(
        run_now(&admin, held_task.id).await.status,
        ExecutionStatus::Success
    );

    // One log line per outage and one per recovery, not one per request.
    let log = serve.stop();
    let down = log
        .iter()
        .filter(|l| l.contains("the catalog does not answer:"))
        .count();
    assert_eq!(down, 2, "{}", log.join("\n"));
    assert!(log.iter().any(|l| l.contains("the catalog answers again")));
    assert!(
        !log.iter().any(|l| l.contains("request failed")),
        "{}",
        log.join("\n")
    );
}

/// A TCP forwarder that can be switched off (every connection dropped, new ones refused) and on again:
/// an object store that goes away and comes back, without stopping the shared test store.
struct Switch {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Accept connections and never answer (a store that hangs).
    hang: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Switch {
    async fn start(to: u16) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let hang = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> =
            Default::default();
        let (u, hg, c) = (up.clone(), hang.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    drop(inbound); // refused as far as the client can tell
                    continue;
                }
                if hg.load(Ordering::SeqCst) {
                    let h = tokio::spawn(async move {
                        let _held = inbound;
                        std::future::pending::<()>().await;
                    });
                    c.lock().unwrap().push(h.abort_handle());
                    continue;
                }
                let h = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                c.lock().unwrap().push(h.abort_handle());
            }
        });
        Self {
            port,
            up,
            hang,
            conns,
        }
    }

    /// From now on, connections are accepted and never answered; open ones are cut.
    fn hang(&self) {
        self.hang.store(true, std::sync::atomic::Ordering::SeqCst);
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    fn down(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    fn up(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// An S3 destination `name` on a new bucket of the test store, reached through a new [`Switch`]: the
/// switch, the bucket and the destination's id.
async fn s3_behind_a_switch(admin: &Client, name: &str) -> (Switch, String, Uuid) {
    let moto_port: u16 = s3().endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let switch = Switch::start(moto_port).await;
    let bucket = s3().bucket().await;
    let endpoint = format!("http://127.0.0.1:{}", switch.port);
    let dest = add_s3(admin, name, endpoint, &bucket, None).await;
    (switch, bucket, dest)
}

#[tokio::test]
async fn a_multipart_upload_left_by_a_store_outage_is_aborted_once_the_store_is_back() {
    let app = crate::support::spawn_app_with(|c| c.worker.scheduler_interval_secs = 1).await;
    let admin = app.admin().await;
    let (switch, bucket, dest) = s3_behind_a_switch(&admin, "flaky s3").await;
    let server = fleet().get(17);
    let db = small_db(server);
    let database = add_database(&admin, server, &db).await;
    let t = create_task(&admin, "to s3", database, dest).await;

    // The upload is open (pg_dump waits for a lock) when the store goes away.
    let lock = hold_table(server, &db).await;
    let run = admin.run_task(t.id).await.unwrap();
    // Open in the store, and known to pgward: the answer that names the upload reached it (an outage
    // between the two leaves an upload nobody can name, which this test is not about).
    let mut catalog = app.catalog().await;
    eventually_every(
        Duration::from_secs(60),
        Duration::from_millis(50),
        async || {
            let known: i32 = sqlx::query_scalar(
                "SELECT jsonb_array_length(pending_uploads) FROM executions WHERE id = $1",
            )
            .bind(run.id)
            .fetch_one(&mut catalog)
            .await
            .unwrap();
            known > 0 && s3().pending_uploads(&bucket).await > 0
        },
        |_| "the upload never started".into(),
    )
    .await;
    switch.down();
    drop(lock);
    let failed = wait_final(&admin, run.id).await;
    assert_eq!(failed.status, ExecutionStatus::Failed, "{failed:?}");
    // The abort could not reach the store: the parts are still there, and recorded.
    assert_eq!(s3().pending_uploads(&bucket).await, 1, "{failed:?}");
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM storage_cleanups WHERE destination_id = $1 AND kind = 'multipart_upload'",
    )
    .bind(dest)
    .fetch_one(&mut catalog)
    .await
    .unwrap();
    assert_eq!(recorded, 1);

    // A minute later the store is back: a periodic pass aborts the upload and forgets the record.
    let gone = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_secs(5));
    while gone.elapsed() < Duration::from_secs(60) {
        pace.tick().await;
        assert_eq!(
            s3().pending_uploads(&bucket).await,
            1,
            "nothing reached the store"
        );
    }
    switch.up();
    // The test app's pass runs every second: a few passes at most.
    eventually_every(
        Duration::from_secs(10),
        Duration::from_millis(200),
        async || {
            let left: i64 = sqlx::query_scalar("SELECT count(*) FROM storage_cleanups")
                .fetch_one(&mut catalog)
                .await
                .unwrap();
            left == 0 && s3().pending_uploads(&bucket).await == 0
        },
        |_| "the leftover upload stayed".into(),
    )
    .await;
}

/// A tiny tmpfs (a disk that fills up), unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(kib: u32) -> Self {
        let dir = tempfile::tempdir().unwrap().keep();
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k,mode=0755"),
                "tmpfs",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mount a tmpfs (tests run as root): {out:?}"
        );
        Self(dir)
    }

    /// Every file below the mount whose name says it is a partial write.
    fn partials(&self) -> Vec<String> {
        fn walk(d: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.to_string_lossy().contains("partial") {
                    out.push(p.display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
        out
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_local_destination_is_left_without_partial_files() {
    let app = crate::support::spawn_app().await;
    let admin = app.admin().await;
    let disk = SmallDisk::mount(64);
    let path = disk.0.display().to_string();
    let dest = add_destination(&admin, "small disk", DestinationConfig::Local { path }).await;
    // A database whose dump cannot fit (random text does not compress much).
    let server = fleet().get(18);
    let db = crate::support::pagila::db_with(
        server,
        "d",
        "CREATE TABLE big AS SELECT md5(random()::text) || md5(random()::text) AS v \
         FROM generate_series(1, 20000)",
    );
    let database = add_database(&admin, server, &db).await;
    let t = create_task(&admin, "too big", database, dest).await;
    let run = run_now(&admin, t.id).await;
    let df = std::process::Command::new("df")
        .arg(&disk.0)
        .output()
        .unwrap();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    assert_eq!(
        run.status,
        ExecutionStatus::Failed,
        "{run:?} {} {:?}",
        String::from_utf8_lossy(&df.stdout),
        mounts
            .lines()
            .filter(|l| l.contains("tmpfs"))
            .collect::<Vec<_>>()
    );
    let message = run.message.clone().unwrap_or_default();
    assert!(
        message.contains("destination \"small disk\" failed") && message.contains("No space left"),
        "the message names the destination and the cause: {message}"
    );
    assert!(disk.partials().is_empty(), "{:?}", disk.partials());

    // Full to the last byte: every probe fails, and none leaves its file behind.
    let filler = disk.0.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![7u8; 4096];
    while std::io::Write::write_all(&mut f, &block).is_ok() {}
    drop(f);
    for _ in 0..3 {
        let probe = admin.test_destination(dest).await.unwrap();
        assert!(!probe.ok, "{probe:?}");
    }
    assert!(disk.partials().is_empty(), "{:?}", disk.partials());
}

#[tokio::test]
async fn an_external_catalog_gone_for_a_minute_stops_nothing_for_good() {
    let app = crate::support::spawn_app_with(|c| c.worker.in_process = false).await;
    let admin = app.admin().await;
    let receiver = Receiver::start(vec![]);
    let server = fleet().get(16);
    let (db, other_db) = (small_db(server), small_db(server));
    let (dest, _dir) = local_destination(&admin, "disk").await;
    let checked = checked_every_minute(&admin, server, &other_db).await;
    let database = add_database(&admin, server, &db).await;
    let every_minute = due_every_minute(&admin, database, dest).await;
    admin
        .create_webhook(&custom("hook", receiver.url("/hook")))
        .await
        .unwrap();

    // A `pgward serve` that reaches its catalog through a switch: the catalog server "restarts".
    let catalog_port = fleet().catalog().port;
    let switch = Switch::start(catalog_port).await;
    let url = secrecy::ExposeSecret::expose_secret(app.config.catalog.url.as_ref().unwrap())
        .replace(&format!(":{catalog_port}/"), &format!(":{}/", switch.port));
    let (_serve, base) = serve_beside(
        &app,
        1,
        &[("PGWARD_CATALOG__URL", url)],
        "pgward serve never became ready",
    )
    .await;
    let http = reqwest::Client::new();
    let token = api_token(&admin, "serve").await;

    // A minute without the catalog: every call answers within a second, 503 catalog_unavailable, and
    // /readyz says the catalog is the problem.
    switch.down();
    let gone = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_secs(2));
    while gone.elapsed() < Duration::from_secs(60) {
        pace.tick().await;
        let s = call(&http, &format!("{base}/api/v1/tasks"), &token).await;
        assert!(s.took < Duration::from_secs(1), "a call took {:?}", s.took);
        assert_eq!(
            (s.status, s.code.as_deref()),
            (503, Some("catalog_unavailable"))
        );
        let r = http.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 503);
        let body: Readiness = r.json().await.unwrap();
        assert!(
            body.problems.iter().any(|p| p.starts_with("catalog")),
            "{:?}",
            body.problems
        );
    }

    switch.up();
    wait_ready(
        &base,
        Duration::from_secs(120),
        Duration::from_millis(100),
        "pgward serve never became ready again",
    )
    .await;
    let recovered_at = chrono::Utc::now();
    // Through the restarted pgward's own API and workers (the test app runs no workers).
    let remote = Client::new(&base).with_token(&token);
    let now = everything_happens_after(&remote, every_minute.id, checked, recovered_at).await;
    let hooks = receiver.wait_for(1).await;
    let id = now.to_string();
    eventually(
        Duration::from_secs(60),
        async || {
            receiver
                .requests()
                .iter()
                .any(|h| h.body.contains(id.as_str()))
        },
        |_| format!("no webhook for {id}: {hooks:?}"),
    )
    .await;
}

#[tokio::test]
async fn a_store_that_hangs_ends_the_run_by_its_stall_timeout_naming_the_store() {
    let app = crate::support::spawn_app().await;
    let admin = app.admin().await;
    let (switch, _bucket, dest) = s3_behind_a_switch(&admin, "hung s3").await;
    let server = fleet().get(18);
    let db = small_db(server);
    let database = add_database(&admin, server, &db).await;
    let mut spec = task("to a hung store", database, vec![dest]);
    spec.stall_timeout_minutes = Some(1);
    let t = admin.create_task(&spec).await.unwrap();

    // The store accepts connections and never answers.
    switch.hang();
    let done = run_now(&admin, t.id).await;
    assert_eq!(done.status, ExecutionStatus::Failed, "{done:?}");
    let message = done.message.clone().unwrap_or_default();
    assert!(
        message.contains("destination \"hung s3\"") && message.contains("stopped answering"),
        "{message}"
    );
    let took = done.finished_at.unwrap() - done.started_at.unwrap();
    // The one-minute stall timeout and bounded cleanup, not the store's 10-minute request timeout.
    assert!(
        took < chrono::Duration::seconds(150),
        "ended by the stall timeout: {took}"
    );
}
