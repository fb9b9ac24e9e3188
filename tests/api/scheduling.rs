//! Fair scheduling: a saturated database server does not hold the worker slots other servers' backups
//! need, and the per-server limit counts a server once however it was registered.

use std::time::Duration;

use pgward_api_client::Client;
use pgward_api_types::*;
use uuid::Uuid;

use crate::support::fixtures::{
    add_database, create_task, hold_table, new_database, small_db, wait_final, with_disk,
};
use crate::support::poll::eventually_every;
use crate::support::{TestApp, fleet, spawn_app_with};

async fn wait_until(admin: &Client, id: Uuid, what: &str, ok: impl Fn(&Execution) -> bool) {
    eventually_every(
        Duration::from_secs(60),
        Duration::from_millis(50),
        async || {
            let e = admin.get_execution(id).await.unwrap();
            if ok(&e) { Ok(()) } else { Err(e) }
        },
        |e| format!("never {what}: {e:?}"),
    )
    .await
}

/// Both tests' app (four worker slots, one backup per database server at a time), its admin and a
/// local destination "disk".
async fn four_slots_one_per_server() -> (TestApp, Client, Uuid) {
    let app = spawn_app_with(|c| {
        c.worker.concurrency = 4;
        c.worker.per_server_concurrency = 1;
    })
    .await;
    let (app, admin, dest, _dir) = with_disk(app).await;
    (app, admin, dest)
}

/// A run that a worker is running.
fn is_running(e: &Execution) -> bool {
    e.status == ExecutionStatus::Running
}

/// A run that waits for its database server's slot (queued, and saying so).
fn waits_for_a_slot(e: &Execution) -> bool {
    e.status == ExecutionStatus::Queued
        && e.message
            .as_deref()
            .is_some_and(|m| m.starts_with("waiting"))
}

/// No two of these runs were running at the same time.
fn assert_serial(runs: &[Execution]) {
    let mut spans: Vec<_> = runs
        .iter()
        .map(|e| (e.started_at.unwrap(), e.finished_at.unwrap()))
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "two runs overlapped: {spans:?}");
    }
}

#[tokio::test]
async fn a_backup_of_an_idle_server_starts_at_once_while_another_server_is_saturated() {
    let (_app, admin, dest) = four_slots_one_per_server().await;
    let (busy, idle) = (fleet().get(17), fleet().get(16));
    let busy_db = small_db(busy);
    let idle_db = small_db(idle);
    // Six tasks of the busy server (a task has one run at a time).
    let busy_database = add_database(&admin, busy, &busy_db).await;
    let mut busy_tasks = Vec::new();
    for i in 0..6 {
        busy_tasks.push(create_task(&admin, &format!("busy {i}"), busy_database, dest).await);
    }
    let idle_task = create_task(
        &admin,
        "idle",
        add_database(&admin, idle, &idle_db).await,
        dest,
    )
    .await;

    // One run of the busy server hangs on a lock; five more wait for its only slot, more runs than
    // this process has worker slots.
    let lock = hold_table(busy, &busy_db).await;
    let first = admin.run_task(busy_tasks[0].id).await.unwrap();
    wait_until(&admin, first.id, "running", is_running).await;
    let mut waiting = Vec::new();
    for t in &busy_tasks[1..] {
        waiting.push(admin.run_task(t.id).await.unwrap());
    }
    for w in &waiting {
        wait_until(
            &admin,
            w.id,
            "waiting for the busy server",
            waits_for_a_slot,
        )
        .await;
    }

    let quick = admin.run_task(idle_task.id).await.unwrap();
    let done = wait_final(&admin, quick.id).await;
    assert_eq!(done.status, ExecutionStatus::Success, "{done:?}");
    let waited = done.started_at.unwrap() - done.scheduled_for;
    assert!(
        waited < chrono::Duration::seconds(1),
        "the idle server's backup waited {waited} for a worker slot"
    );

    // The busy server's runs all happen, one at a time, once the lock is gone.
    drop(lock);
    let mut busy_runs = vec![wait_final(&admin, first.id).await];
    for w in &waiting {
        busy_runs.push(wait_final(&admin, w.id).await);
    }
    for r in &busy_runs {
        assert_eq!(r.status, ExecutionStatus::Success, "{r:?}");
    }
    assert_serial(&busy_runs);
}

#[tokio::test]
async fn two_registrations_of_one_server_share_its_limit() {
    let (_app, admin, dest) = four_slots_one_per_server().await;
    let server = fleet().get(18);
    let (a_db, b_db) = (small_db(server), small_db(server));
    let a = add_database(&admin, server, &a_db).await;
    // The same server by another name.
    let b = admin
        .create_database(&new_database(
            &format!("{b_db} by name"),
            server.url(&b_db).replace("127.0.0.1", "localhost"),
        ))
        .await
        .unwrap()
        .id;
    let a_task = create_task(&admin, "by address", a, dest).await;
    let b_task = create_task(&admin, "by name", b, dest).await;

    let lock = hold_table(server, &a_db).await;
    let first = admin.run_task(a_task.id).await.unwrap();
    wait_until(&admin, first.id, "running", is_running).await;
    let second = admin.run_task(b_task.id).await.unwrap();
    wait_until(
        &admin,
        second.id,
        "waiting for the shared slot",
        waits_for_a_slot,
    )
    .await;

    drop(lock);
    let runs = [
        wait_final(&admin, first.id).await,
        wait_final(&admin, second.id).await,
    ];
    for r in &runs {
        assert_eq!(r.status, ExecutionStatus::Success, "{r:?}");
    }
    assert_serial(&runs);
}
