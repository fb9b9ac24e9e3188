//! A bad day for the operator: the catalog dies under a running pgward, pgward itself is killed. pgward
//! brings its catalog back, its workers resume without a restart, the API answers 503 quickly meanwhile,
//! and nothing it started outlives it.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use pgward_api_client::Client;
use pgward_api_types::*;
use uuid::Uuid;

use crate::embedded::{Serve, free_port};
use crate::executions::{add_database, local_destination, task, wait_final};
use crate::scheduling::{hold_table, small_db};
use crate::support::fleet;
use crate::webhooks::{Receiver, custom};

fn postmaster_pid(data: &std::path::Path) -> i32 {
    let pid = std::fs::read_to_string(data.join("catalog/postmaster.pid")).unwrap();
    pid.lines().next().unwrap().trim().parse().unwrap()
}

fn alive(pid: i32) -> bool {
    crate::support::procs::alive(pid as u32)
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

#[tokio::test]
async fn a_killed_embedded_catalog_comes_back_and_every_worker_resumes_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
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
    anon.setup(&SetupRequest {
        email: "op@example.com".into(),
        password: "outage day password".into(),
        name: None,
        setup_code: None,
    })
    .await
    .unwrap();
    let token = anon
        .login("op@example.com", "outage day password")
        .await
        .unwrap()
        .access_token;
    let admin = anon.with_token(token.clone());

    // A backup that will be running (held by a lock) when the catalog dies; a task due every minute;
    // a database checked every minute; a webhook for every success.
    let server = fleet().get(17);
    let (held_db, other_db) = (small_db(server), small_db(server));
    let (dest, _dir) = local_destination(&admin, "disk").await;
    let held = add_database(&admin, server, &held_db).await;
    let other = admin
        .create_database(&CreateDatabaseRequest {
            name: "checked every minute".into(),
            connection_string: server.url(&other_db),
            description: None,
            skip_connection_test: false,
            health_interval_secs: Some(60),
        })
        .await
        .unwrap()
        .id;
    let held_task = admin
        .create_task(&task("held", held, vec![dest]))
        .await
        .unwrap();
    let mut every_minute = task("every minute", other, vec![dest]);
    every_minute.schedule = "* * * * *".into();
    every_minute.timezone = "UTC".into();
    let every_minute = admin.create_task(&every_minute).await.unwrap();
    admin
        .create_webhook(&custom("hook", receiver.url("/hook")))
        .await
        .unwrap();

    let lock = hold_table(server, &held_db).await;
    let in_flight = admin.run_task(held_task.id).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while admin.get_execution(in_flight.id).await.unwrap().status != ExecutionStatus::Running {
        assert!(Instant::now() < deadline, "the held backup never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Kill -9 the catalog's postmaster.
    let postmaster = postmaster_pid(&data);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(postmaster),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let killed_at = Instant::now();
    while alive(postmaster) {
        assert!(killed_at.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

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
    assert_ne!(postmaster_pid(&data), postmaster, "a new postmaster runs");

    // The backup in flight finishes into storage and is recorded.
    drop(lock);
    let done = wait_final(&admin, in_flight.id).await;
    assert_eq!(done.status, ExecutionStatus::Success, "{done:?}");
    // A run-now, a scheduled run, a health check and webhook deliveries all happen after the outage.
    let now = admin.run_task(every_minute.id).await.unwrap();
    assert_eq!(
        wait_final(&admin, now.id).await.status,
        ExecutionStatus::Success
    );
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        let runs = admin
            .list_executions(&ExecutionListQuery {
                task_id: Some(every_minute.id),
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
            .get_database(other)
            .await
            .unwrap()
            .health
            .last_checked_at
            .is_some_and(|t| t > recovered_at);
        if scheduled_after && checked_after {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the outage: scheduled run {scheduled_after}, health check {checked_after}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The held run, the run-now and the scheduled run each reached the webhook.
    let hooks = receiver.wait_for(3).await;
    let ids: Vec<String> = [in_flight.id, now.id].iter().map(Uuid::to_string).collect();
    for id in &ids {
        assert!(hooks.iter().any(|h| h.body.contains(id.as_str())), "{id}");
    }

    // One log line for the outage and one for the recovery, not one per request.
    let log = serve.stop();
    let down = log
        .iter()
        .filter(|l| l.contains("the catalog does not answer:"))
        .count();
    assert_eq!(down, 1, "{}", log.join("\n"));
    assert!(log.iter().any(|l| l.contains("the catalog answers again")));
    assert!(
        !log.iter().any(|l| l.contains("request failed")),
        "{}",
        log.join("\n")
    );
}
