//! schemathesis (property-based API testing) against the live server with the committed spec: no 5xx and
//! no response that violates the document, over every operation.

use std::process::Command;

use pgward_api_types::{CreateApiTokenRequest, CreateDatabaseRequest};

use crate::support::{cache_dir, fleet, repo_root, spawn_app_with};

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_spec_violation() {
    let st = cache_dir().join("venv/bin/schemathesis");
    assert!(
        st.is_file(),
        "schemathesis not installed: run scripts/deps.sh"
    );
    // A generous login budget: the fuzzer logs in a lot, and 429 is documented anyway.
    let app = spawn_app_with(|c| {
        c.postgres.connect_timeout_secs = 2;
        c.auth.login_per_minute = 1000;
    })
    .await;
    let admin = app.admin().await;
    let token = admin
        .create_token(&CreateApiTokenRequest {
            name: "fuzzer".into(),
            expires_in_days: None,
        })
        .await
        .unwrap()
        .token;
    admin
        .create_database(&CreateDatabaseRequest {
            name: "fuzz target".into(),
            connection_string: fleet().get(18).url("postgres"),
            description: None,
            skip_connection_test: false,
        })
        .await
        .unwrap();

    let report = tempfile::tempdir().unwrap();
    let out = tokio::task::spawn_blocking({
        let url = app.address.clone();
        let spec = repo_root().join("openapi/openapi.json");
        let report = report.path().to_path_buf();
        move || {
            Command::new(st)
                .arg("run")
                .arg(spec)
                .args(["--url", &url])
                .args(["--header", &format!("Authorization: Bearer {token}")])
                .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"])
                .args(["--phases", "examples,coverage,fuzzing"])
                .args(["--max-examples", "40", "--workers", "2", "--seed", "20261124"])
                .args(["--request-timeout", "20", "--generation-database", "none", "--no-color"])
                .arg("--report-dir")
                .arg(report)
                .output()
                .expect("run schemathesis")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It really exercised the API (not an empty run).
    assert!(stdout.contains("/api/v1/databases"), "{stdout}");
}
