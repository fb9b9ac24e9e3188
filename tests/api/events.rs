//! Events and scheduled health checks: runs leave started/success events; a database that goes away
//! fires database_unhealthy once, and database_healthy once when it is back.

use std::time::Duration;

use pgward_api_client::Client;
use pgward_api_types::*;
use uuid::Uuid;

use crate::support::fixtures::{
    About, create_task, empty_db, events_about, local_destination, new_database, pagila_db,
    run_now, run_ok, task, with_disk,
};
use crate::support::metrics::{self, parse_metrics};
use crate::support::poll::eventually;
use crate::support::process::assert_success;
use crate::support::receiver::{Receiver, custom};
use crate::support::{fleet, pagila, spawn_app, spawn_app_with};

/// A TCP forwarder to a fleet server: "stopping the database" without stopping a shared server.
async fn forward(listen: u16, to: u16) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", listen))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (port, task)
}

async fn events_of(admin: &Client, kind: EventKind, database: Uuid) -> Vec<Event> {
    events_about(admin, kind, About::Database(database))
        .await
        .items
}

async fn wait_events(admin: &Client, kind: EventKind, database: Uuid, n: usize) -> Vec<Event> {
    eventually(
        Duration::from_secs(60),
        async || {
            let found = events_of(admin, kind, database).await;
            (found.len() >= n).then_some(found)
        },
        |_| format!("no {kind:?} event for {database}"),
    )
    .await
}

#[tokio::test]
async fn runs_leave_events_and_a_database_that_goes_away_flips_health_once_each_way() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let server = fleet().get(16);
    let db = format!("p_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &db);
    let (port, proxy) = forward(0, server.port).await;
    let url = server.url_at(port, &db);
    let database = admin
        .create_database(&new_database("behind a proxy", url))
        .await
        .unwrap()
        .id;

    // A run: started, then success, with the facts a notification needs.
    let (dest, _dir) = local_destination(&admin, "disk").await;
    let t = create_task(&admin, "evented", database, dest).await;
    let done = run_ok(&admin, t.id).await;
    // The task carries its newest run (the dashboard shows it).
    let last = admin.get_task(t.id).await.unwrap().last_execution.unwrap();
    assert_eq!((last.id, last.status), (done.id, ExecutionStatus::Success));
    let started = wait_events(&admin, EventKind::ExecutionStarted, database, 1).await;
    let success = wait_events(&admin, EventKind::ExecutionSuccess, database, 1).await;
    assert_eq!(started[0].execution_id, Some(done.id));
    assert_eq!(success[0].data["task"]["name"], "evented");
    assert_eq!(success[0].data["database"]["name"], "behind a proxy");
    assert_eq!(success[0].data["execution"]["size"], done.size.unwrap());

    // The database goes away: the next scheduled check (a synthetic clock past the interval) flips it.
    let (state, _c) = app.background().await;
    let interval = chrono::Duration::seconds(app.config.worker.health_interval_secs as i64 + 1);
    let mut clock = chrono::Utc::now();
    let mut pass = |n: i32| {
        clock += interval * n;
        clock
    };
    proxy.abort();
    let _ = proxy.await;
    pgward_server::features::health::service::run_due(&state, pass(1))
        .await
        .unwrap();
    wait_events(&admin, EventKind::DatabaseUnhealthy, database, 1).await;
    let d = admin.get_database(database).await.unwrap();
    assert_eq!(d.health.status, HealthStatus::Unhealthy);
    // Still down at the next check: no second event.
    pgward_server::features::health::service::run_due(&state, pass(1))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(30),
        async || {
            admin
                .get_database(database)
                .await
                .unwrap()
                .health
                .last_checked_at
                != d.health.last_checked_at
        },
        |_| "the second check never ran".into(),
    )
    .await;
    assert_eq!(
        events_of(&admin, EventKind::DatabaseUnhealthy, database)
            .await
            .len(),
        1
    );

    // Back again: database_healthy, once.
    let (_, proxy) = forward(port, server.port).await;
    pgward_server::features::health::service::run_due(&state, pass(1))
        .await
        .unwrap();
    wait_events(&admin, EventKind::DatabaseHealthy, database, 1).await;
    assert_eq!(
        events_of(&admin, EventKind::DatabaseUnhealthy, database)
            .await
            .len(),
        1
    );
    assert_eq!(
        events_of(&admin, EventKind::DatabaseHealthy, database)
            .await
            .len(),
        1
    );
    let summary = admin.health_summary().await.unwrap();
    assert!(summary.databases.healthy >= 1, "{summary:?}");
    proxy.abort();
}

#[tokio::test]
async fn a_backup_that_shrinks_far_below_the_usual_size_raises_an_anomaly() {
    let (_app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(15);
    let (db, database) = pagila_db(&admin, server).await;
    let t = create_task(&admin, "shrinking", database, dest).await;
    // Four steady runs: the fourth is compared with the three before it (the fewest the detector
    // compares with), and is no anomaly.
    for _ in 0..4 {
        run_ok(&admin, t.id).await;
    }
    let quiet = events_about(&admin, EventKind::BackupAnomaly, About::Task(t.id)).await;
    assert!(
        quiet.items.is_empty(),
        "steady runs are not anomalies: {quiet:?}"
    );

    // Most of the data disappears (as after a bad migration): the next backup is far smaller.
    let out = pagila::psql(
        server,
        &db,
        &[
            "-c",
            "TRUNCATE public.film, public.customer, public.payment, public.rental CASCADE",
        ],
    );
    assert_success(&out);
    // With the task's own threshold at 100% (a shrinking backup can never be further away), the
    // smaller backup is no anomaly for this task...
    let set_threshold = async |p: Option<u32>| {
        admin
            .update_task(
                t.id,
                &UpdateTaskRequest {
                    anomaly_threshold_percent: Some(p),
                    ..Default::default()
                },
            )
            .await
    };
    assert_eq!(
        set_threshold(Some(100))
            .await
            .unwrap()
            .spec
            .anomaly_threshold_percent,
        Some(100)
    );
    run_ok(&admin, t.id).await;
    // ...and with the server's default (50%) again, the next one is.
    set_threshold(None).await.unwrap();
    let done = run_ok(&admin, t.id).await;
    let found = eventually(
        Duration::from_secs(30),
        async || {
            let page = events_about(&admin, EventKind::BackupAnomaly, About::Task(t.id)).await;
            (!page.items.is_empty()).then_some(page.items)
        },
        |_| "no backup_anomaly event".into(),
    )
    .await;
    // Only the last run is an anomaly: neither the steady fourth run nor the tolerated one (each was
    // checked long before this one finished dumping).
    assert_eq!(found.len(), 1, "{found:#?}");
    let found = &found[0];
    assert_eq!(found.execution_id, Some(done.id));
    assert_eq!(found.data["metric"], "size");
    assert!(
        found.data["change_percent"].as_f64().unwrap() < -50.0,
        "{}",
        found.data
    );
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_carry_the_documented_series() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let server = fleet().get(17);
    let (_, database) = empty_db(&admin, server, "p").await;
    let (dest, _dir) = local_destination(&admin, "disk \"quoted\"").await;
    let t = create_task(&admin, "metered \"nightly\"", database, dest).await;
    let done = run_ok(&admin, t.id).await;

    // A verification that held (it runs in the background).
    admin.verify_execution(done.id).await.unwrap();
    eventually(
        Duration::from_secs(60),
        async || admin.get_execution(done.id).await.unwrap().verify_status == Some(CheckStatus::Ok),
        |_| "the verification never held".into(),
    )
    .await;

    // Without a token: 401 (server.metrics_public is off by default).
    let anonymous = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let text = app.metrics(&admin).await;

    // Parsed by the reference parser (prometheus_client), not by string matching.
    let families = parse_metrics(&text);
    let sample = |name: &str, label: (&str, &str)| metrics::sample(&families, name, label);
    let task_label = ("task", "metered \"nightly\"");
    let last = sample("pgward_task_last_success_timestamp_seconds", task_label).unwrap();
    let finished = done.finished_at.unwrap().timestamp() as f64;
    assert!((last - finished).abs() < 1.0, "{last} vs {finished}");
    assert_eq!(
        sample("pgward_task_last_size_bytes", task_label),
        Some(done.size.unwrap() as f64)
    );
    assert!(sample("pgward_task_last_duration_seconds", task_label).is_some());
    assert_eq!(
        sample("pgward_executions", ("status", "success")),
        Some(1.0)
    );
    assert_eq!(
        sample("pgward_restorations", ("status", "failed")),
        Some(0.0)
    );
    assert_eq!(
        sample(
            "pgward_database_healthy",
            ("database_id", &database.to_string())
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            "pgward_destination_healthy",
            ("destination", "disk \"quoted\"")
        ),
        Some(1.0)
    );
    for queue in ["backups", "restorations", "webhooks"] {
        assert_eq!(sample("pgward_queue_depth", ("queue", queue)), Some(0.0));
    }
    assert_eq!(sample("pgward_task_verified", task_label), Some(1.0));
    // Never test-restored: no sample yet (neither held nor failed).
    assert_eq!(sample("pgward_task_test_restored", task_label), None);
    assert_eq!(
        sample("pgward_webhook_deliveries", ("status", "failed")),
        Some(0.0)
    );
    // Every documented family is there with its documented type.
    let documented = [
        ("pgward_task_last_success_timestamp_seconds", "gauge"),
        ("pgward_task_last_duration_seconds", "gauge"),
        ("pgward_task_last_size_bytes", "gauge"),
        ("pgward_task_verified", "gauge"),
        ("pgward_task_test_restored", "gauge"),
        ("pgward_task_overdue", "gauge"),
        ("pgward_executions", "gauge"),
        ("pgward_restorations", "gauge"),
        ("pgward_database_healthy", "gauge"),
        ("pgward_destination_healthy", "gauge"),
        ("pgward_queue_depth", "gauge"),
        // The reference parser names a counter's family without its `_total` suffix.
        ("pgward_webhook_failed_deliveries", "counter"),
        ("pgward_webhook_delivery_failures", "gauge"),
        ("pgward_webhook_failed_attempts", "gauge"),
        ("pgward_webhook_deliveries", "gauge"),
    ];
    for (name, kind) in documented {
        let f = families.iter().find(|f| f.0 == name);
        assert_eq!(f.map(|f| f.1.as_str()), Some(kind), "{name}:\n{text}");
    }
    assert_eq!(families.len(), documented.len(), "{text}");
}

#[tokio::test]
async fn each_resource_is_checked_on_its_own_interval_through_the_health_queue() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let server = fleet().get(14);
    let db = format!("p_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &db);
    let default = admin
        .create_database(&new_database("default interval", server.url(&db)))
        .await
        .unwrap();
    let hourly = admin
        .create_database(&CreateDatabaseRequest {
            health_interval_secs: Some(3600),
            ..new_database("hourly", server.url(&db))
        })
        .await
        .unwrap();
    assert_eq!(hourly.health.interval_secs, Some(3600));
    let bad = admin
        .update_database(
            hourly.id,
            &UpdateDatabaseRequest {
                health_interval_secs: Some(Some(5)),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&bad, pgward_api_client::ClientError::Api { status: 422, error } if error.fields.as_ref().unwrap().contains_key("health_interval_secs")),
        "{bad:?}"
    );

    let (state, _c) = app.background().await;
    let check = pgward_server::features::health::service::run_due;
    let next_of = async |id: Uuid, before: Option<chrono::DateTime<chrono::Utc>>| {
        eventually(
            Duration::from_secs(60),
            async || {
                let h = admin.get_database(id).await.unwrap().health;
                match (h.next_check_at, h.last_checked_at) {
                    (Some(next), Some(checked)) if Some(checked) != before => Some((next, checked)),
                    _ => None,
                }
            },
            |_| format!("{id} was never checked"),
        )
        .await
    };
    // The first checks are due at once (whichever scheduler pass claims them); wait until both ran
    // (their check time moves past the one the connection test at creation left).
    let created = [
        default.health.last_checked_at,
        hourly.health.last_checked_at,
    ];
    let default = default.id;
    check(&state, chrono::Utc::now()).await.unwrap();
    let (next_default, checked_default) = next_of(default, created[0]).await;
    let (next_hourly, _) = next_of(hourly.id, created[1]).await;
    let apart = (next_hourly - next_default).num_seconds();
    assert!(
        (3000 - 60..=3000 + 60).contains(&apart),
        "next checks {next_default} and {next_hourly}"
    );

    // Past the default interval only the default database is due; its check runs from the queue.
    assert_eq!(
        check(&state, next_default + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    eventually(
        Duration::from_secs(60),
        async || {
            admin
                .get_database(default)
                .await
                .unwrap()
                .health
                .last_checked_at
                != Some(checked_default)
        },
        |_| "the queued check never ran".into(),
    )
    .await;
    // Past the hour both are.
    assert_eq!(
        check(&state, next_hourly + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn an_outcome_recorded_by_a_process_that_died_before_announcing_it_is_announced_once() {
    // The test runs the scheduler's sweep itself (the app's own passes are an hour apart).
    let app = spawn_app_with(|c| c.worker.scheduler_interval_secs = 3600).await;
    let admin = app.admin().await;
    let receiver = Receiver::start(vec![]);
    let server = fleet().get(17);
    let (_, database) = empty_db(&admin, server, "p").await;
    let (dest, _dir) = local_destination(&admin, "disk").await;
    let t = create_task(&admin, "announced", database, dest).await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        runs.push(run_ok(&admin, t.id).await);
    }
    wait_events(&admin, EventKind::ExecutionSuccess, database, 2).await;
    // A webhook that wants to hear of it, created after the runs announced themselves: only what the
    // sweep announces reaches it.
    let hook = admin
        .create_webhook(&CreateWebhookRequest {
            kind: WebhookKind::Json,
            ..custom("late", receiver.url("/late"))
        })
        .await
        .unwrap();

    // What processes that died between recording a success and announcing it leave behind: runs that
    // succeeded, and no event (so no notification) saying so.
    let mut catalog = app.catalog().await;
    sqlx::query("DELETE FROM events WHERE task_id = $1 AND kind = 'execution_success'")
        .bind(t.id)
        .execute(&mut catalog)
        .await
        .unwrap();

    // The next scheduler passes (twice at once, as two processes would) announce the newest run once;
    // the older one, overtaken by it, is not announced late.
    let (state, _c) = app.background().await;
    let later = chrono::Utc::now() + chrono::Duration::seconds(30);
    let sweep = |at| {
        pgward_server::features::executions::service::announce_missed_outcomes(
            &state,
            at,
            pgward_server::background::ANNOUNCE_WINDOW,
        )
    };
    let (a, b) = tokio::join!(sweep(later), sweep(later));
    assert!(a.unwrap() + b.unwrap() >= 1);
    assert_eq!(sweep(later).await.unwrap(), 0);
    let success = events_of(&admin, EventKind::ExecutionSuccess, database).await;
    assert_eq!(success.len(), 1, "{success:#?}");
    assert_eq!(success[0].execution_id, Some(runs[1].id));
    assert_eq!(success[0].data["task"]["name"], "announced");
    let seen = receiver.wait_for(1).await;
    let event: Event = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(
        (event.kind, event.execution_id),
        (EventKind::ExecutionSuccess, Some(runs[1].id))
    );
    let log = admin
        .webhook_deliveries(hook.id, &WebhookDeliveryQuery::default())
        .await
        .unwrap();
    assert_eq!(log.items.len(), 1, "{log:#?}");
}

#[tokio::test]
async fn an_hourly_task_without_a_success_raises_backup_overdue_once_and_a_success_clears_it() {
    let app = spawn_app_with(|c| c.worker.scheduler_interval_secs = 1).await;
    let admin = app.admin().await;
    let server = fleet().get(16);
    let (_, database) = empty_db(&admin, server, "o").await;
    let (dest, _dir) = local_destination(&admin, "disk").await;
    // Hourly, and paused (by mistake, say) three hours ago: no run has happened since.
    let mut spec = task("hourly", database, vec![dest]);
    spec.schedule = "0 * * * *".into();
    spec.active = false;
    let t = admin.create_task(&spec).await.unwrap();
    let overdue_events = async || {
        events_about(&admin, EventKind::BackupOverdue, About::Task(t.id))
            .await
            .items
    };
    assert!(overdue_events().await.is_empty());
    let mut catalog = app.catalog().await;
    sqlx::query(
        "UPDATE tasks SET created_at = now() - interval '3 hours', \
         updated_at = now() - interval '3 hours' WHERE id = $1",
    )
    .bind(t.id)
    .execute(&mut catalog)
    .await
    .unwrap();

    // The periodic pass notices.
    let raised = eventually(
        Duration::from_secs(30),
        async || {
            let seen = overdue_events().await;
            (!seen.is_empty()).then_some(seen)
        },
        |_| "backup_overdue never raised".into(),
    )
    .await;
    assert_eq!(
        raised[0].data["task"]["name"], "hourly",
        "{:?}",
        raised[0].data
    );
    assert!(
        raised[0].data["error"]
            .as_str()
            .is_some_and(|e| e.contains("no successful backup")),
        "{:?}",
        raised[0].data
    );
    // More passes (of this and of any other process) raise nothing more.
    let (state, _c) = app.background().await;
    for _ in 0..2 {
        let again =
            pgward_server::features::executions::service::check_overdue(&state, chrono::Utc::now())
                .await
                .unwrap();
        assert!(again.is_empty(), "{again:?}");
    }
    assert_eq!(overdue_events().await.len(), 1);
    let shown = admin.get_task(t.id).await.unwrap();
    assert!(shown.overdue_since.is_some(), "{shown:?}");
    let line = format!(
        "pgward_task_overdue{{task=\"hourly\",task_id=\"{}\"}}",
        t.id
    );
    assert!(
        app.metrics(&admin).await.contains(&format!("{line} 1")),
        "{}",
        app.metrics(&admin).await
    );

    // A successful backup clears it, and the next pass does not raise it again.
    assert_eq!(run_now(&admin, t.id).await.status, ExecutionStatus::Success);
    assert!(admin.get_task(t.id).await.unwrap().overdue_since.is_none());
    assert!(app.metrics(&admin).await.contains(&format!("{line} 0")));
    let again =
        pgward_server::features::executions::service::check_overdue(&state, chrono::Utc::now())
            .await
            .unwrap();
    assert!(again.is_empty());
    assert_eq!(overdue_events().await.len(), 1);
}
