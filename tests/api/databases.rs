use pgward_api_types::{DatabaseListQuery, ErrorCode, HealthStatus, UpdateDatabaseRequest};
use serde_json::json;

use crate::support::fixtures::new_database;
use crate::support::fleet::MAJORS;
use crate::support::{fleet, spawn_app};

#[tokio::test]
async fn databases_on_every_major_are_added_tested_and_versioned() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fleet = fleet();

    for major in MAJORS {
        let server = fleet.get(major);
        let created = admin
            .create_database(&new_database(&format!("pg{major}"), server.url("postgres")))
            .await
            .unwrap();
        assert_eq!(created.major_version, Some(major), "{created:?}");
        assert!(
            created
                .server_version
                .as_deref()
                .unwrap()
                .starts_with(&format!("{major}.")),
            "{created:?}"
        );
        assert_eq!(
            (
                created.host.as_str(),
                created.port,
                created.database.as_str()
            ),
            ("127.0.0.1", server.port, "postgres")
        );
        assert_eq!(created.health.status, HealthStatus::Healthy);

        let tested = admin.test_database(created.id).await.unwrap();
        assert!(tested.ok, "{tested:?}");
        assert_eq!(tested.major_version, Some(major));
        assert_eq!(
            admin.get_database(created.id).await.unwrap().name,
            format!("pg{major}")
        );
    }

    let all = admin
        .list_databases(&DatabaseListQuery::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), MAJORS.len());
    let only16 = admin
        .list_databases(&DatabaseListQuery {
            major_version: Some(16),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        only16
            .items
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        vec!["pg16"]
    );
    let by_text = admin
        .list_databases(&DatabaseListQuery {
            q: Some("PG1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_text.items.len(), 6);

    // Update and delete.
    let target = &all.items[0];
    let renamed = admin
        .update_database(
            target.id,
            &UpdateDatabaseRequest {
                name: Some("renamed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "renamed");
    admin.delete_database(target.id).await.unwrap();
    assert_eq!(
        admin.get_database(target.id).await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(
        admin
            .list_databases(&DatabaseListQuery::default())
            .await
            .unwrap()
            .items
            .len(),
        MAJORS.len() - 1
    );
}

#[tokio::test]
async fn a_saved_database_that_goes_away_turns_unhealthy() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let server = fleet().get(15);
    // Points at a port nobody listens on; saved without testing.
    let mut req = new_database("gone soon", server.url_at(1, "postgres"));
    req.skip_connection_test = true;
    let saved = admin.create_database(&req).await.unwrap();
    assert_eq!(saved.health.status, HealthStatus::Unknown);

    let tested = admin.test_database(saved.id).await.unwrap();
    assert!(!tested.ok);
    assert_eq!(tested.error_kind.as_deref(), Some("unreachable"));
    let after = admin.get_database(saved.id).await.unwrap();
    assert_eq!(after.health.status, HealthStatus::Unhealthy);
    assert!(after.health.last_checked_at.is_some() && after.health.last_error.is_some());
}

#[tokio::test]
async fn the_list_pages_with_a_cursor_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for i in 0..5 {
        let mut req = new_database(&format!("db-{i}"), "postgres://u:p@db.internal/app".into());
        req.skip_connection_test = true;
        admin.create_database(&req).await.unwrap();
    }
    let mut names = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = admin
            .list_databases(&DatabaseListQuery {
                limit: Some(2),
                cursor,
                ..Default::default()
            })
            .await
            .unwrap();
        pages += 1;
        names.extend(page.items.into_iter().map(|d| d.name));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, vec!["db-0", "db-1", "db-2", "db-3", "db-4"]);
    let bad = admin
        .list_databases(&DatabaseListQuery {
            cursor: Some("nonsense!".into()),
            ..Default::default()
        })
        .await;
    assert_eq!(bad.unwrap_err().code(), Some(ErrorCode::ValidationFailed));
}

#[tokio::test]
async fn bad_input_gets_a_4xx_with_a_code_and_stores_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = admin.token().unwrap().to_string();
    let server = fleet().get(17);
    let good = server.url("postgres");
    let wrong_pw = server.url_as("postgres", "definitely-wrong", "postgres");
    let no_db = server.url("no_such_database");
    let huge = "x".repeat(2 * 1024 * 1024);
    let cases: Vec<(&str, serde_json::Value, u16, &str)> = vec![
        (
            "malformed url",
            json!({"name": "a", "connection_string": "postgres://us er@/"}),
            422,
            "validation_failed",
        ),
        (
            "not a url",
            json!({"name": "a", "connection_string": "host=x user=y"}),
            422,
            "validation_failed",
        ),
        (
            "wrong scheme",
            json!({"name": "a", "connection_string": "mysql://u:p@h/db"}),
            422,
            "validation_failed",
        ),
        (
            "unknown host",
            json!({"name": "a", "connection_string": "postgres://u:p@no-such-host.invalid/db"}),
            422,
            "connection_test_failed",
        ),
        (
            "wrong password",
            json!({"name": "a", "connection_string": wrong_pw}),
            422,
            "connection_test_failed",
        ),
        (
            "missing database",
            json!({"name": "a", "connection_string": no_db}),
            422,
            "connection_test_failed",
        ),
        (
            "empty name",
            json!({"name": "   ", "connection_string": good}),
            422,
            "validation_failed",
        ),
        (
            "control characters",
            json!({"name": "a\u{0007}b", "connection_string": good}),
            422,
            "validation_failed",
        ),
        (
            "name too long",
            json!({"name": "n".repeat(101), "connection_string": good}),
            422,
            "validation_failed",
        ),
        (
            "missing field",
            json!({"name": "a"}),
            422,
            "validation_failed",
        ),
        (
            "wrong type",
            json!({"name": 5, "connection_string": good}),
            422,
            "validation_failed",
        ),
        (
            "huge body",
            json!({"name": "a", "connection_string": good, "description": huge}),
            413,
            "payload_too_large",
        ),
    ];
    for (what, body, status, code) in cases {
        let resp = app
            .http
            .post(app.url("/api/v1/databases"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{what}");
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["code"], code, "{what}: {err}");
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {err}"
        );
    }
    // Not JSON at all, JSON with a lone surrogate (not Unicode), and bytes that are not UTF-8.
    for body in [
        b"{nope".to_vec(),
        br#"{"name": "\ud800", "connection_string": "postgres://a@b/c"}"#.to_vec(),
        b"{\"name\": \"\xff\xfe\", \"connection_string\": \"postgres://a@b/c\"}".to_vec(),
    ] {
        let resp = app
            .http
            .post(app.url("/api/v1/databases"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status().as_u16(),
            400,
            "{}",
            String::from_utf8_lossy(&body)
        );
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["code"], "bad_request", "{err}");
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{err}"
        );
    }
    assert_eq!(
        admin
            .list_databases(&DatabaseListQuery::default())
            .await
            .unwrap()
            .items
            .len(),
        0
    );

    // Unicode names are welcome, and names are unique regardless of case.
    let unicode = "Données · 数据库 · 🐘";
    let created = admin
        .create_database(&new_database(unicode, good.clone()))
        .await
        .unwrap();
    assert_eq!(created.name, unicode);
    let dup = admin
        .create_database(&new_database(&unicode.to_uppercase(), good))
        .await
        .unwrap_err();
    assert_eq!(
        (dup.status(), dup.code()),
        (Some(409), Some(ErrorCode::Conflict))
    );
    assert_eq!(
        admin
            .list_databases(&DatabaseListQuery::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn an_unsaved_connection_string_can_be_tested() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let server = fleet().get(14);
    let ok = admin
        .test_connection(&server.url("postgres"))
        .await
        .unwrap();
    assert!(ok.ok && ok.major_version == Some(14), "{ok:?}");
    let bad = admin
        .test_connection(&server.url_as("postgres", "nope", "postgres"))
        .await
        .unwrap();
    assert_eq!(
        (bad.ok, bad.error_kind.as_deref()),
        (false, Some("authentication_failed"))
    );
    let invalid = admin.test_connection("nonsense").await.unwrap_err();
    assert_eq!(invalid.code(), Some(ErrorCode::ValidationFailed));
    assert!(
        admin
            .list_databases(&DatabaseListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
