//! The real `pgward serve` binary on the embedded default: no catalog URL, its own PostgreSQL.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use crate::support::app::first_user;
use crate::support::process::{Serve, assert_success, bin_dirs, serve_place};

#[tokio::test]
async fn serve_runs_its_own_catalog_and_reuses_it_after_a_restart() {
    let (_tmp, data, port, base) = serve_place();
    let client = pgward_api_client::Client::new(&base);

    let mut first = Serve::start(&data, port);
    first.wait_for("catalog migrations done");
    assert_eq!(client.health().await.unwrap().status, "ok");
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    // The first user, and a session from before the password reset (it must not outlive the reset).
    let session = first_user(&client, "op@example.com", "embedded default pw").await;
    let info = client
        .with_token(session.access_token.clone())
        .system()
        .await
        .unwrap();
    assert_eq!(info.catalog, "embedded");
    let key = data.join("secret.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let log = first.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("generated a new secrets key")),
        "{log:#?}"
    );
    assert!(
        log.iter().any(|l| l.contains("embedded catalog stopped")),
        "{log:#?}"
    );
    assert!(
        !data.join("catalog/postmaster.pid").exists(),
        "the catalog server was not stopped"
    );

    // `pgward user …` against the same (stopped) embedded catalog: a password reset first.
    let user_cli = |args: &[&str], stdin: &[u8]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pgward"))
            .arg("user")
            .args(args)
            .env_clear()
            .env("PGWARD_DATA_DIR", &data)
            .env("PGWARD_POSTGRES__BIN_DIRS", bin_dirs())
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut cmd.stdin.take().unwrap(), stdin).unwrap();
        cmd.wait_with_output().unwrap()
    };
    assert_success(&user_cli(
        &["reset-password", "--email", "op@example.com"],
        b"a brand new password\n",
    ));
    assert!(
        !data.join("catalog/postmaster.pid").exists(),
        "reset-password left the catalog running"
    );
    // Create a user, refuse to demote the last admin, promote the new one.
    let created = user_cli(
        &["create", "--email", "ops@example.com", "--role", "operator"],
        b"the operator's password\n",
    );
    assert_success(&created);
    let refused = user_cli(
        &["set-role", "--email", "op@example.com", "--role", "viewer"],
        b"",
    );
    assert!(!refused.status.success(), "the last admin was demoted");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("administrator"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_success(&user_cli(
        &["set-role", "--email", "ops@example.com", "--role", "admin"],
        b"",
    ));

    // A fresh client: the old one may hold a keep-alive connection to the stopped server.
    let client = pgward_api_client::Client::new(&base);
    let mut second = Serve::start_with(
        &data,
        port,
        &[("PGWARD_WORKER__SCHEDULER_INTERVAL_SECS", "1".to_string())],
    );
    second.wait_for("catalog migrations done");
    assert!(
        !client.auth_status().await.unwrap().setup_required,
        "the first run's user is gone"
    );
    let old = client
        .login("op@example.com", "embedded default pw")
        .await
        .unwrap_err();
    assert_eq!(old.status(), Some(401));
    client
        .login("op@example.com", "a brand new password")
        .await
        .unwrap();
    // The reset ended the sessions opened with the old password.
    let ended = client.refresh(&session.refresh_token).await.unwrap_err();
    assert_eq!(ended.status(), Some(401));
    // The user made on the command line logs in with the role it was given last.
    let ops = client
        .login("ops@example.com", "the operator's password")
        .await
        .unwrap();
    let ops = client.with_token(ops.access_token);
    let me = ops.me().await.unwrap();
    assert_eq!(me.effective_role, pgward_api_types::Role::Admin);
    // The embedded catalog backs itself up, by default, as soon as there is a destination.
    let dest = ops
        .create_destination(&crate::support::fixtures::new_destination(
            "disk",
            pgward_api_types::DestinationConfig::Local {
                path: data.join("backups/here").display().to_string(),
            },
        ))
        .await
        .unwrap();
    let own = crate::support::poll::eventually(
        std::time::Duration::from_secs(120),
        async || {
            ops.list_executions(&pgward_api_types::ExecutionListQuery {
                kind: Some(pgward_api_types::ExecutionKind::Catalog),
                ..Default::default()
            })
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|e| e.status.is_final())
        },
        |_| "the embedded catalog was not backed up".into(),
    )
    .await;
    assert_eq!(
        own.status,
        pgward_api_types::ExecutionStatus::Success,
        "{own:?}"
    );
    assert_eq!(own.objects[0].destination_id, dest.id);
    let log = second.stop();
    assert!(
        !log.iter()
            .any(|l| l.contains("generated a new secrets key")),
        "the key was regenerated"
    );
}
