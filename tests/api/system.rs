//! What a process reports about itself: readiness while its migrations run, the PostgreSQL clients it
//! found (at start-up in the log, and in `GET /api/v1/system`).

use std::time::Duration;

use pgward_api_client::Client;
use sqlx::Connection;
use uuid::Uuid;

use crate::support::app::{start_in_process, test_config};
use crate::support::poll::eventually_every;
use crate::support::{fleet, logs, spawn_app};

#[tokio::test]
async fn the_system_reports_every_client_major_it_found_and_its_catalog() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let info = admin.system().await.unwrap();
    // The fleet's client tools are 14-18 (13 is served by the 14 clients; its package has none).
    for major in 14..=18 {
        assert!(info.pg_client_majors.contains(&major), "{info:?}");
        let c = info
            .pg_clients
            .iter()
            .find(|c| c.major == major)
            .unwrap_or_else(|| panic!("no client {major}: {info:?}"));
        assert!(c.complete, "{c:?}");
        assert!(c.version.starts_with(&format!("{major}.")), "{c:?}");
    }
    assert_eq!(info.catalog, "external");
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    // The start-up log says the same.
    let log = logs::captured();
    let line = log
        .lines()
        .find(|l| l.contains("PostgreSQL clients found"))
        .expect("a start-up line naming the clients");
    assert!(line.contains("18"), "{line}");
}

#[tokio::test]
async fn until_its_migrations_finish_the_server_answers_503_not_ready() {
    logs::init();
    let server = fleet().catalog();
    let name = format!("t_{}", Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server.url("postgres"))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    // An uncommitted table with the name of the migrator's bookkeeping table: the migrations cannot
    // finish (their CREATE TABLE waits for this transaction) until it rolls back.
    let mut blocker = sqlx::PgConnection::connect(&server.url(&name))
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut blocker).await.unwrap();
    sqlx::query("CREATE TABLE seaql_migrations (version text PRIMARY KEY, applied_at bigint)")
        .execute(&mut blocker)
        .await
        .unwrap();

    let address = start_in_process(test_config(&name)).await;
    let http = reqwest::Client::new();
    let ready = http.get(format!("{address}/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    // The process is up; the API says why it cannot answer yet.
    let up = http.get(format!("{address}/healthz")).send().await.unwrap();
    assert_eq!(up.status().as_u16(), 200);
    let api = http
        .get(format!("{address}/api/v1/auth/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 503);
    let err: serde_json::Value = api.json().await.unwrap();
    assert_eq!(err["code"], "not_ready", "{err}");

    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    // The process stays up meanwhile: a request that gets no answer at all fails the test.
    eventually_every(
        Duration::from_secs(60),
        Duration::from_millis(50),
        async || {
            let r = http.get(format!("{address}/readyz")).send().await.unwrap();
            r.status().is_success()
        },
        |_| "never became ready".into(),
    )
    .await;
    let status = Client::new(&address).auth_status().await.unwrap();
    assert!(status.setup_required, "{status:?}");
}
