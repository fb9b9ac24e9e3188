//! The SPA in a real headless Chromium: first-user setup, login, add a database, see it listed, delete one.

use std::ffi::OsString;
use std::process::Command;

use pgward_api_types::DatabaseListQuery;

use crate::support::app::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::fixtures::new_database;
use crate::support::receiver::Receiver;
use crate::support::{TestApp, cache_dir, fleet, repo_root, spawn_app};

/// Fails the test unless the SPA the browser flows use is built.
fn assert_spa_built() {
    let dist = repo_root().join("frontend/dist/index.html");
    assert!(
        dist.is_file(),
        "the SPA is not built: run scripts/build-spa.sh (the README's test command does)"
    );
}

/// Runs the browser flow `script` (tests/browser/) in Node against `app`, with `env` besides what every
/// flow gets (the app's URL, the first admin's credentials, the cache that holds the browser, a
/// directory for what it leaves behind); fails the test unless the flow succeeded, and returns its stdout.
async fn run_flow(app: &TestApp, script: &str, env: Vec<(&'static str, OsString)>) -> String {
    let artifacts = tempfile::tempdir().unwrap().keep();
    let script = repo_root().join("tests/browser").join(script);
    let base = app.address.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .env("BASE_URL", base)
            .env("ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .envs(env)
            .env("PGWARD_CACHE", cache_dir())
            .env("E2E_ARTIFACTS", &artifacts)
            .output()
            .expect("run node")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "browser flow failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn a_new_operator_sets_up_logs_in_and_adds_a_database_in_the_browser() {
    assert_spa_built();
    let app = spawn_app().await;
    let name = "Browser added · 🐘";
    let conn = fleet().get(16).url("postgres");
    let out = run_flow(
        &app,
        "e2e.mjs",
        vec![("DB_CONN", conn.into()), ("DB_NAME", name.into())],
    )
    .await;
    // A page whose module could not be fetched showed a reload, and the reload opened it.
    assert!(
        out.contains("a page whose module cannot be fetched offers a reload"),
        "{out}"
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
    assert_spa_built();
    let app = spawn_app().await;
    let admin = app.admin().await;
    let db_name = "Shop (browser)";
    admin
        .create_database(&new_database(db_name, fleet().get(16).url("postgres")))
        .await
        .unwrap();
    let dest_dir = tempfile::tempdir().unwrap().keep();
    let restore_name = format!("browser_{}", uuid::Uuid::new_v4().simple());
    let receiver = Receiver::start(vec![]);
    let stdout = run_flow(
        &app,
        "backup.mjs",
        vec![
            ("DB_NAME", db_name.into()),
            ("DEST_DIR", dest_dir.clone().into()),
            ("TASK_NAME", "browser nightly".into()),
            ("RESTORE_NAME", restore_name.clone().into()),
            ("WEBHOOK_URL", receiver.url("/browser-ping").into()),
        ],
    )
    .await;

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

#[tokio::test]
async fn an_admin_creates_an_operator_who_runs_a_task_but_cannot_open_users() {
    assert_spa_built();
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, db) = crate::support::fixtures::empty_db(&admin, fleet().get(16), "team").await;
    let (dest, _dir) = crate::support::fixtures::local_destination(&admin, "team disk").await;
    let task = crate::support::fixtures::create_task(&admin, "team nightly", db, dest).await;
    let operator = "operator@example.com";
    run_flow(
        &app,
        "teams.mjs",
        vec![
            ("OPERATOR_EMAIL", operator.into()),
            ("OPERATOR_PASSWORD", "operator's long password".into()),
            ("TASK_NAME", "team nightly".into()),
        ],
    )
    .await;

    // The browser made an operator, and the run the operator started is theirs in the audit log.
    let users = admin.list_users().await.unwrap().items;
    let made = users
        .iter()
        .find(|u| u.email == operator)
        .expect("operator created");
    assert_eq!(made.role, pgward_api_types::Role::Operator);
    let runs = admin
        .list_audit(&pgward_api_types::AuditQuery {
            user_id: Some(made.id),
            action: Some("run_task".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].resource_id, Some(task.id.to_string()));
    // Opening Users was refused by the server too, not only hidden: no successful users call of theirs.
    let theirs = admin
        .list_audit(&pgward_api_types::AuditQuery {
            user_id: Some(made.id),
            resource: Some("users".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert!(theirs.iter().all(|e| e.status == 403), "{theirs:?}");
}

#[tokio::test]
async fn the_app_fits_a_phone_follows_the_systems_dark_mode_and_remembers_a_choice() {
    assert_spa_built();
    let app = spawn_app().await;
    app.admin_tokens().await;
    let stdout = run_flow(&app, "appearance.mjs", vec![]).await;
    assert!(stdout.contains("appearance flow ok"), "{stdout}");
}

/// Debian's nginx in front of `app`, passing `/pgward/` on (path and all) as a reverse proxy on a
/// sub-path does; stopped when dropped.
struct Nginx {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn in_front_of(app: &TestApp) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = crate::support::process::free_port();
        let upstream = app.address.trim_start_matches("http://");
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
             events {{}}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             server {{\n    listen 127.0.0.1:{port};\n    location /pgward/ {{\n      \
             proxy_pass http://{upstream};\n      proxy_set_header Host $host:$server_port;\n      \
             proxy_set_header X-Forwarded-Proto $scheme;\n      client_max_body_size 0;\n      \
             proxy_buffering off;\n    }}\n  }}\n}}\n"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new("nginx")
            .arg("-c")
            .arg(&path)
            .arg("-p")
            .arg(dir.path())
            .spawn()
            .expect("nginx (Debian's nginx-light; scripts/deps.sh installs it)");
        crate::support::keeper::wait_for_port(port, "nginx");
        Self {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The seed tutorial walked in the browser (tests/browser/tutorial.mjs) against `app`, reached at
/// `base_url`, at `viewport` in `scheme`; checks afterwards that what the browser did is what pgward
/// and the databases hold.
async fn tutorial(app: &TestApp, base_url: String, viewport: &str, scheme: &str) {
    use crate::support::storage::{S3_KEY, S3_REGION, S3_SECRET, s3};
    let server = fleet().get(17);
    let db = format!("tut_{}", uuid::Uuid::new_v4().simple());
    crate::support::pagila::load(server, &db, 1);
    let restore_name = format!("tut_restored_{}", uuid::Uuid::new_v4().simple());
    let bucket = s3().bucket().await;
    let receiver = Receiver::start(vec![]);
    let shots = tempfile::tempdir().unwrap().keep();
    let release = shots.join("release");
    println!(
        "tutorial screenshots ({viewport}, {scheme}): {}",
        shots.display()
    );

    // A client holds a lock on one of the tables, so the backup waits on it and is seen running; the
    // flow writes `release` once it saw the progress bar.
    let holder = {
        let url = server.url(&db);
        let release = release.clone();
        tokio::spawn(async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE public.film IN ACCESS EXCLUSIVE MODE")
                .execute(&mut c)
                .await
                .unwrap();
            // Looks for the flow's signal every 100 ms (the flow's own bound ends a run that never
            // sends it, and this task with the test).
            while !release.exists() {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            sqlx::raw_sql("COMMIT").execute(&mut c).await.unwrap();
            c.close().await.unwrap();
        })
    };
    let stdout = run_flow(
        app,
        "tutorial.mjs",
        vec![
            ("BASE_URL", base_url.into()),
            ("VIEWPORT", viewport.into()),
            ("COLOR_SCHEME", scheme.into()),
            ("DB_CONN", server.url(&db).into()),
            ("DB_NAME", "Shop".into()),
            ("DB_DATABASE", db.clone().into()),
            ("S3_ENDPOINT", s3().endpoint.clone().into()),
            ("S3_BUCKET", bucket.into()),
            ("S3_REGION", S3_REGION.into()),
            ("S3_KEY", S3_KEY.into()),
            ("S3_SECRET", S3_SECRET.into()),
            ("HC_URL", receiver.url("/ping/tutorial-check").into()),
            ("RESTORE_NAME", restore_name.clone().into()),
            ("RELEASE_FILE", release.into()),
            ("SHOT_DIR", shots.clone().into()),
        ],
    )
    .await;
    holder.await.unwrap();
    println!("{stdout}");
    assert!(
        std::fs::read_dir(&shots).unwrap().count() >= 12,
        "a screenshot per step"
    );

    // The Healthchecks test reached the receiver at the check's URL.
    let pings = receiver.requests();
    assert!(
        pings
            .iter()
            .any(|p| p.target.starts_with("/ping/tutorial-check")),
        "{pings:?}"
    );
    // The new database holds what the source held; the source was replaced by its own backup (the
    // original kept under a dated name).
    use crate::support::pagila::{query, row_checksums};
    assert_eq!(
        row_checksums(server, &restore_name),
        row_checksums(server, &db)
    );
    let kept = query(
        server,
        "postgres",
        &format!("SELECT datname FROM pg_database WHERE datname LIKE '{db}_before_%'"),
    );
    assert!(kept.starts_with(&format!("{db}_before_")), "{kept:?}");
    assert_eq!(row_checksums(server, &kept), row_checksums(server, &db));
}

#[tokio::test]
async fn the_seed_tutorial_on_a_desktop_in_light_mode() {
    assert_spa_built();
    let app = spawn_app().await;
    let base = app.address.clone();
    tutorial(&app, base, "desktop", "light").await;
}

#[tokio::test]
async fn the_seed_tutorial_on_a_phone_in_dark_mode_under_a_base_path_behind_nginx() {
    assert_spa_built();
    let app = crate::support::spawn_app_with(|c| c.server.base_path = Some("/pgward".into())).await;
    let nginx = Nginx::in_front_of(&app);
    tutorial(
        &app,
        format!("http://127.0.0.1:{}/pgward", nginx.port),
        "phone",
        "dark",
    )
    .await;
}
