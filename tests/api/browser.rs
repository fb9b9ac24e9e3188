//! The SPA in a real headless Chromium: first-user setup, login, add a database, see it listed, delete one.

use std::process::Command;

use pgward_api_types::DatabaseListQuery;

use crate::support::app::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::fixtures::new_database;
use crate::support::receiver::Receiver;
use crate::support::{cache_dir, fleet, repo_root, spawn_app};

#[tokio::test]
async fn a_new_operator_sets_up_logs_in_and_adds_a_database_in_the_browser() {
    let dist = repo_root().join("frontend/dist/index.html");
    assert!(
        dist.is_file(),
        "the SPA is not built: run scripts/build-spa.sh (the README's test command does)"
    );
    let app = spawn_app().await;
    let name = "Browser added · 🐘";
    let artifacts = tempfile::tempdir().unwrap().keep();
    let out = tokio::task::spawn_blocking({
        let base = app.address.clone();
        let conn = fleet().get(16).url("postgres");
        move || {
            Command::new("node")
                .arg(repo_root().join("tests/browser/e2e.mjs"))
                .env("BASE_URL", base)
                .env("DB_CONN", conn)
                .env("DB_NAME", name)
                .env("ADMIN_EMAIL", ADMIN_EMAIL)
                .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
                .env("PGWARD_CACHE", cache_dir())
                .env("E2E_ARTIFACTS", &artifacts)
                .output()
                .expect("run node")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser flow failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // What the browser did is what the API now holds.
    let admin = app.client.with_token(
        app.client
            .login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .unwrap()
            .access_token,
    );
    let dbs = admin
        .list_databases(&DatabaseListQuery::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        dbs.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        vec![name]
    );
    assert_eq!(dbs[0].major_version, Some(16));
    assert_eq!(dbs[0].health.interval_secs, Some(3600));
}

#[tokio::test]
async fn an_operator_adds_a_destination_creates_a_task_and_runs_it_in_the_browser() {
    let dist = repo_root().join("frontend/dist/index.html");
    assert!(
        dist.is_file(),
        "the SPA is not built: run scripts/build-spa.sh (the README's test command does)"
    );
    let app = spawn_app().await;
    let admin = app.admin().await;
    let db_name = "Shop (browser)";
    admin
        .create_database(&new_database(db_name, fleet().get(16).url("postgres")))
        .await
        .unwrap();
    let dest_dir = tempfile::tempdir().unwrap().keep();
    let artifacts = tempfile::tempdir().unwrap().keep();
    let restore_name = format!("browser_{}", uuid::Uuid::new_v4().simple());
    let receiver = Receiver::start(vec![]);
    let webhook_url = receiver.url("/browser-ping");
    let out = tokio::task::spawn_blocking({
        let base = app.address.clone();
        let dest_dir = dest_dir.clone();
        let restore_name = restore_name.clone();
        move || {
            Command::new("node")
                .arg(repo_root().join("tests/browser/backup.mjs"))
                .env("BASE_URL", base)
                .env("ADMIN_EMAIL", ADMIN_EMAIL)
                .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
                .env("DB_NAME", db_name)
                .env("DEST_DIR", &dest_dir)
                .env("TASK_NAME", "browser nightly")
                .env("RESTORE_NAME", &restore_name)
                .env("WEBHOOK_URL", &webhook_url)
                .env("PGWARD_CACHE", cache_dir())
                .env("E2E_ARTIFACTS", &artifacts)
                .output()
                .expect("run node")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser flow failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    assert!(
        stdout.contains("\"download backup\""),
        "the flow did not reach the download: {stdout}"
    );
    // The webhook the browser added exists as typed, and its test reached the receiver.
    let hooks = admin.list_webhooks().await.unwrap().items;
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        (hooks[0].name.as_str(), hooks[0].method),
        ("browser ping", pgward_api_types::HttpMethod::Get)
    );
    let pings = receiver.requests();
    assert_eq!(pings.len(), 1, "{pings:?}");
    assert_eq!(
        (pings[0].method.as_str(), pings[0].target.as_str()),
        ("GET", "/browser-ping")
    );
    // What the browser did is what the API holds: one task, its run succeeded, the file is on disk.
    let tasks = admin.list_tasks().await.unwrap().items;
    assert_eq!(
        tasks
            .iter()
            .map(|t| t.spec.name.as_str())
            .collect::<Vec<_>>(),
        vec!["browser nightly"]
    );
    assert_eq!(
        (
            tasks[0].spec.schedule.as_str(),
            tasks[0].spec.timezone.as_str()
        ),
        ("30 2 * * *", "Europe/Berlin")
    );
    assert!(
        tasks[0].spec.verification.test_restore
            && tasks[0].spec.verification.test_restore_after_backup,
        "the form saved the test-restore policy: {:?}",
        tasks[0].spec.verification
    );
    let runs = admin
        .list_executions(&pgward_api_types::ExecutionListQuery {
            task_id: Some(tasks[0].id),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert!(
        runs.iter()
            .any(|e| e.status == pgward_api_types::ExecutionStatus::Success),
        "{runs:?}"
    );
    let ok = runs
        .iter()
        .find(|e| e.status == pgward_api_types::ExecutionStatus::Success)
        .unwrap();
    assert!(dest_dir.join(&ok.objects[0].key).is_file());
    // The restore the flow started from the SPA exists on the server, restored from that backup.
    let restores = admin
        .list_restorations(&pgward_api_types::RestorationListQuery {
            execution_id: Some(ok.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    let mine = restores
        .iter()
        .find(|r| r.new_database_name.as_deref() == Some(restore_name.as_str()));
    assert_eq!(
        mine.map(|r| r.status),
        Some(pgward_api_types::RestorationStatus::Success),
        "{restores:?}"
    );
    // The test-restore the task asked for ran after the backup, and the task shows it.
    let task = admin.get_task(tasks[0].id).await.unwrap();
    assert_eq!(task.last_test_restore_ok, Some(true), "{task:?}");
    let found = crate::support::pagila::query(
        fleet().get(16),
        "postgres",
        &format!("SELECT count(*) FROM pg_database WHERE datname = '{restore_name}'"),
    );
    assert_eq!(found, "1");
}
