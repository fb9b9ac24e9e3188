use reqwest::Method;
use serde_json::json;

use crate::support::process::assert_success;
use crate::support::{fleet, logs, spawn_app};

/// A connection-string password must never come back in any response, log line or catalog column.
#[tokio::test]
async fn a_database_password_never_leaves_the_server() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = admin.token().unwrap().to_string();
    let server = fleet().get(16);
    let secret = format!("Zebra-{}", uuid::Uuid::new_v4().simple());
    let role = format!("r_{}", uuid::Uuid::new_v4().simple());
    // Created through psql, outside this process: the test's own statement must not be what puts the
    // password into the captured log.
    let out = std::process::Command::new(crate::support::fleet::pg_root().join("16/bin/psql"))
        .arg(server.url("postgres"))
        .args([
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("CREATE ROLE {role} LOGIN PASSWORD '{secret}'"),
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let conn = server.url_as(&role, &secret, "postgres");

    let mut bodies = Vec::new();
    let mut call = async |method: Method, path: String, body: Option<serde_json::Value>| {
        let mut req = app.http.request(method, app.url(&path)).bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        bodies.push(text.clone());
        (status, text)
    };
    let (status, created) = call(
        Method::POST,
        "/api/v1/databases".into(),
        Some(json!({"name": "secretive", "connection_string": conn})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Read, listed, tested, tested unsaved with the right and a wrong password, added again, changed.
    let saved = format!("/api/v1/databases/{id}");
    let list = "/api/v1/databases";
    let unsaved = "/api/v1/databases/test-connection";
    let wrong = conn.replace(&secret, &format!("{secret}-wrong"));
    for (method, path, body) in [
        (Method::GET, saved.clone(), None),
        (Method::GET, list.into(), None),
        (Method::POST, format!("{saved}/test"), None),
        (
            Method::POST,
            unsaved.into(),
            Some(json!({"connection_string": conn})),
        ),
        (
            Method::POST,
            unsaved.into(),
            Some(json!({"connection_string": wrong})),
        ),
        (
            Method::POST,
            list.into(),
            Some(json!({"name": "other", "connection_string": wrong})),
        ),
        (
            Method::PATCH,
            saved.clone(),
            Some(json!({"connection_string": conn, "name": "still secretive"})),
        ),
    ] {
        call(method, path, body).await;
    }

    // Malformed connection strings that carry the password: the error never quotes it back.
    for bad in [
        format!("postgres://{role}:{secret}@/"),
        format!("postgres://{role}:{secret}@host:notaport/db"),
        format!("postgresql//{role}:{secret}@host/db"),
    ] {
        let (status, text) = call(
            Method::POST,
            list.into(),
            Some(json!({"name": "malformed", "connection_string": bad})),
        )
        .await;
        assert_eq!(status, 422, "{text}");
    }

    assert_eq!(bodies.len(), 11);
    for b in &bodies {
        assert!(!b.contains(&secret), "a response carried the password: {b}");
    }
    assert!(
        bodies[0].contains("***"),
        "the masked form is shown: {}",
        bodies[0]
    );
    let logs = logs::captured();
    assert!(logs.contains("database registered"), "logging was captured");
    assert!(!logs.contains(&secret), "a log line carried the password");

    // At rest it is ciphertext.
    let mut catalog = app.catalog().await;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT connection_encrypted FROM databases")
        .fetch_one(&mut catalog)
        .await
        .unwrap();
    let dump: String = sqlx::query_scalar("SELECT string_agg(t::text, ' ') FROM databases t")
        .fetch_one(&mut catalog)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains(&secret));
    assert!(!dump.contains(&secret));
}
