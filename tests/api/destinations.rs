use pgward_api_types::{CreateDestinationRequest, DestinationConfig, ErrorCode, HealthStatus};

use crate::support::fixtures::{new_destination, rename_destination};
use crate::support::process::free_port;
use crate::support::spawn_app;
use crate::support::storage::{S3_KEY, S3_REGION, S3_SECRET, s3};

fn s3_config(bucket: &str, secret: Option<&str>) -> DestinationConfig {
    DestinationConfig::S3 {
        endpoint: Some(s3().endpoint.clone()),
        region: S3_REGION.into(),
        bucket: bucket.into(),
        prefix: Some("pgward/prod".into()),
        access_key_id: S3_KEY.into(),
        secret_access_key: secret.map(str::to_string),
        path_style: true,
        allow_http: true,
    }
}

#[tokio::test]
async fn local_and_s3_destinations_are_probed_saved_and_never_show_their_secrets() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backups").display().to_string();
    let local = admin
        .create_destination(&new_destination(
            "Local disk",
            DestinationConfig::Local { path },
        ))
        .await
        .unwrap();
    assert_eq!(local.health.status, HealthStatus::Healthy);
    assert!(
        dir.path().join("backups").is_dir(),
        "the probe wrote into the directory"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("backups"))
            .unwrap()
            .count(),
        0,
        "the probe cleaned up"
    );

    let bucket = s3().bucket().await;
    let token = admin.token().unwrap().to_string();
    let resp = app
        .http
        .post(app.url("/api/v1/destinations"))
        .bearer_auth(&token)
        .json(&new_destination(
            "S3 prod",
            s3_config(&bucket, Some(S3_SECRET)),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let body = resp.text().await.unwrap();
    assert!(!body.contains(S3_SECRET), "the secret came back: {body}");
    let created: pgward_api_types::Destination = serde_json::from_str(&body).unwrap();
    assert_eq!(created.secrets_set, vec!["secret_access_key"]);
    assert_eq!(created.config, s3_config(&bucket, None));

    // Renaming and re-configuring without the secret keep it: the probe still succeeds.
    let renamed =
        rename_destination(&admin, created.id, "S3 primary", s3_config(&bucket, None)).await;
    assert_eq!(renamed.name, "S3 primary");
    assert!(admin.test_destination(created.id).await.unwrap().ok);

    let listed = admin.list_destinations().await.unwrap().items;
    assert_eq!(
        listed.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        vec!["Local disk", "S3 primary"]
    );
    let all = app.get_text("/api/v1/destinations", Some(&token)).await;
    assert!(!all.contains(S3_SECRET));
    assert!(
        !crate::support::logs::captured().contains(S3_SECRET),
        "the secret was logged"
    );

    admin.delete_destination(local.id).await.unwrap();
    assert_eq!(
        admin.get_destination(local.id).await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );
}

#[tokio::test]
async fn a_destination_that_cannot_be_reached_or_is_incomplete_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let port = free_port();
    let mut dead = s3_config("nowhere", Some("x"));
    if let DestinationConfig::S3 { endpoint, .. } = &mut dead {
        *endpoint = Some(format!("http://127.0.0.1:{port}"));
    }
    let err = admin
        .create_destination(&new_destination("dead", dead.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(422), Some(ErrorCode::ConnectionTestFailed))
    );
    let probe = admin.test_destination_config(&dead).await.unwrap();
    assert!(!probe.ok && probe.message.is_some());

    let incomplete = admin
        .create_destination(&CreateDestinationRequest {
            name: "incomplete".into(),
            config: DestinationConfig::S3 {
                endpoint: Some("ftp://x".into()),
                region: "".into(),
                bucket: "".into(),
                prefix: Some("../up".into()),
                access_key_id: "k".into(),
                secret_access_key: None,
                path_style: true,
                allow_http: false,
            },
            skip_test: true,
            health_interval_secs: None,
        })
        .await
        .unwrap_err();
    let pgward_api_client::ClientError::Api { error, .. } = incomplete else {
        panic!()
    };
    let fields = error.fields.unwrap();
    for f in [
        "config.region",
        "config.bucket",
        "config.secret_access_key",
        "config.prefix",
        "config.endpoint",
    ] {
        assert!(fields.contains_key(f), "{f} missing in {fields:?}");
    }
    // A local destination `name` at `path`, saved without a probe: the path itself is what is refused.
    let refused_local = async |name: &str, path: &str| {
        let path = path.to_string();
        let req = CreateDestinationRequest {
            skip_test: true,
            ..new_destination(name, DestinationConfig::Local { path })
        };
        admin.create_destination(&req).await.unwrap_err()
    };
    let relative = refused_local("relative", "backups").await;
    assert_eq!(relative.code(), Some(ErrorCode::ValidationFailed));
    let outside = refused_local("outside", "/etc/pgward-backups").await;
    assert_eq!(
        outside.code(),
        Some(ErrorCode::ValidationFailed),
        "{outside}"
    );
    assert!(!std::path::Path::new("/etc/pgward-backups").exists());
    assert!(admin.list_destinations().await.unwrap().items.is_empty());
}

/// What an operator reads when a store answers but refuses: the bucket by its name and what to do, not
/// the store's XML.
#[tokio::test]
async fn a_missing_bucket_is_named_and_said_in_words() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let missing = admin
        .test_destination_config(&s3_config("no-such-bucket-here", Some(S3_SECRET)))
        .await
        .unwrap();
    assert!(!missing.ok);
    let said = missing.message.unwrap_or_default();
    assert!(
        said.contains("the bucket \"no-such-bucket-here\" does not exist")
            && said.contains("create it, or check its name"),
        "{said}"
    );
    assert!(!said.contains('<') && !said.contains("http://"), "{said}");
    // Saving it is refused with the same words.
    let refused = admin
        .create_destination(&new_destination(
            "missing",
            s3_config("no-such-bucket-here", Some(S3_SECRET)),
        ))
        .await
        .unwrap_err();
    let pgward_api_client::ClientError::Api { error, .. } = refused else {
        panic!("{refused:?}")
    };
    assert!(
        error.message.contains("does not exist"),
        "{}",
        error.message
    );
}
