//! The SPA in a real headless Chromium: first-user setup, login, add a database, see it listed.

use std::process::Command;

use pgward_api_types::DatabaseListQuery;

use crate::support::app::{ADMIN_EMAIL, ADMIN_PASSWORD};
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
}
