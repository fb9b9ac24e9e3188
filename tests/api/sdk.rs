//! The API as a client generator sees it: a Python SDK generated from openapi/openapi.json by
//! openapi-python-client, without a warning, drives the seed tutorial end to end (tests/sdk/tutorial.py).

use std::process::Command;

use crate::support::app::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::receiver::Receiver;
use crate::support::{cache_dir, fleet, pagila, repo_root, spawn_app};

/// Generates the SDK into `dir/pgward_client`; fails on any warning or error of the generator.
fn generate(dir: &std::path::Path) {
    let generator = cache_dir().join("venv/bin/openapi-python-client");
    assert!(
        generator.is_file(),
        "openapi-python-client not installed: run scripts/deps.sh"
    );
    // Its post-generation hooks run `ruff`, which comes with it in the same venv.
    let path = std::env::join_paths(std::iter::once(cache_dir().join("venv/bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new(generator)
        .env("PATH", path)
        .args(["generate", "--meta", "none", "--path"])
        .arg(repo_root().join("openapi/openapi.json"))
        .arg("--output-path")
        .arg(dir.join("pgward_client"))
        .current_dir(dir)
        .output()
        .expect("run openapi-python-client");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the generator failed:\n{said}");
    assert!(
        !said.to_lowercase().contains("warning") && !said.contains("Unable to"),
        "the generator warned about the spec:\n{said}"
    );
    assert!(
        dir.join("pgward_client/api/auth/login.py").is_file(),
        "{said}"
    );
}

#[tokio::test]
async fn a_generated_python_sdk_runs_the_seed_tutorial_end_to_end() {
    let sdk = tempfile::tempdir().unwrap();
    generate(sdk.path());

    let app = spawn_app().await;
    let server = fleet().get(17);
    let source = format!("p_{}", uuid::Uuid::new_v4().simple());
    pagila::load(server, &source, 1);
    let target = format!("t_{}", uuid::Uuid::new_v4().simple());
    pagila::create_db(server, &target);
    let backups = tempfile::tempdir().unwrap().keep();
    let pings = Receiver::start(vec![]);
    let check = uuid::Uuid::new_v4();

    let python = cache_dir().join("venv/bin/python");
    let script = repo_root().join("tests/sdk/tutorial.py");
    let envs = [
        ("BASE_URL", app.address.clone()),
        ("ADMIN_EMAIL", ADMIN_EMAIL.into()),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
        ("SOURCE_URL", server.url(&source)),
        ("TARGET_URL", server.url(&target)),
        ("BACKUP_DIR", backups.display().to_string()),
        ("PING_URL", pings.url(&format!("/ping/{check}"))),
        ("PYTHONPATH", sdk.path().display().to_string()),
    ];
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(envs)
            .output()
            .expect("run the tutorial")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the SDK tutorial failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: serde_json::Value = serde_json::from_str(stdout.trim().lines().last().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(
        made["next_runs"].as_array().map(Vec::len),
        Some(10),
        "{made}"
    );
    assert!(made["size"].as_u64().unwrap_or(0) > 0, "{made}");

    // What the tutorial promises happened: Healthchecks heard the start and the success, and the
    // restored database holds what the source does.
    let seen = pings.wait_for(2).await;
    // Healthchecks' run id (`?rid=`) ties the start to its outcome.
    let targets: Vec<&str> = seen
        .iter()
        .map(|r| r.target.split('?').next().unwrap_or_default())
        .collect();
    assert!(
        targets.contains(&format!("/ping/{check}/start").as_str())
            && targets.contains(&format!("/ping/{check}").as_str()),
        "{targets:?}"
    );
    assert_eq!(
        pagila::fingerprint(server, &target),
        pagila::fingerprint(server, &source)
    );
}

#[tokio::test]
async fn a_generated_typescript_sdk_generates_without_warnings_and_type_checks() {
    let bin = cache_dir().join("node/node_modules/.bin");
    assert!(
        bin.join("openapi-ts").is_file() && bin.join("tsc").is_file(),
        "@hey-api/openapi-ts or typescript not installed: run scripts/deps.sh"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin.join("openapi-ts"))
        .arg("-i")
        .arg(repo_root().join("openapi/openapi.json"))
        .args(["-o", "sdk"])
        .current_dir(dir.path())
        .output()
        .expect("run openapi-ts");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openapi-ts failed:\n{said}");
    assert!(
        !said.to_lowercase().contains("warn") && !said.to_lowercase().contains("error"),
        "openapi-ts warned about the spec:\n{said}"
    );
    assert!(dir.path().join("sdk/sdk.gen.ts").is_file(), "{said}");
    std::fs::write(
        dir.path().join("tsconfig.json"),
        r#"{"compilerOptions": {"target": "ES2022", "module": "ESNext", "moduleResolution": "Bundler",
            "strict": true, "noEmit": true, "lib": ["ES2022", "DOM", "DOM.Iterable"]},
            "include": ["sdk/**/*.ts"]}"#,
    )
    .unwrap();
    let tsc = Command::new(bin.join("tsc"))
        .args(["-p", "tsconfig.json"])
        .current_dir(dir.path())
        .output()
        .expect("run tsc");
    assert!(
        tsc.status.success(),
        "the generated TypeScript SDK does not type-check:\n{}",
        String::from_utf8_lossy(&tsc.stdout)
    );
}
