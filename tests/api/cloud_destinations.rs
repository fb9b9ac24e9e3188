//! Azure Blob Storage and Google Cloud Storage destinations against their emulators (Azurite,
//! fake-gcs-server): probed and saved with write-only secrets, and a backup written to both at once.

use object_store::{ObjectStore, ObjectStoreExt};
use pgward_api_types::*;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::support::emulators::{AZURITE_ACCOUNT, AZURITE_KEY, GCS_PRIVATE_KEY, azurite, fake_gcs};
use crate::support::fixtures::{
    add_destination, new_destination, pagila_db, purge_trash_after_grace, rename_destination,
    run_ok, task_spec,
};
use crate::support::{fleet, spawn_app};

fn azure_config(container: &str, key: Option<&str>) -> DestinationConfig {
    DestinationConfig::Azure {
        account: AZURITE_ACCOUNT.into(),
        container: container.into(),
        prefix: Some("pgward/azure".into()),
        access_key: key.map(str::to_string),
        use_emulator: true,
    }
}

fn gcs_config(bucket: &str, key: Option<String>) -> DestinationConfig {
    DestinationConfig::Gcs {
        bucket: bucket.into(),
        prefix: Some("pgward/gcs".into()),
        service_account_json: key,
    }
}

/// Creates a destination through raw HTTP, checks the response never shows `secret`, and returns it.
async fn create_checked(
    app: &crate::support::app::TestApp,
    token: &str,
    name: &str,
    config: DestinationConfig,
    secret: &str,
) -> Destination {
    let resp = app
        .http
        .post(app.url("/api/v1/destinations"))
        .bearer_auth(token)
        .json(&new_destination(name, config))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 201, "{name}: {body}");
    assert!(
        !body.contains(secret),
        "{name}: the secret came back: {body}"
    );
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn azure_and_gcs_destinations_are_probed_saved_and_never_show_their_secrets() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = admin.token().unwrap().to_string();
    let container = azurite().container().await;
    let bucket = fake_gcs().bucket().await;
    let sa_json = fake_gcs().service_account_json();

    let az = create_checked(
        &app,
        &token,
        "Azure",
        azure_config(&container, Some(AZURITE_KEY)),
        AZURITE_KEY,
    )
    .await;
    assert_eq!(az.health.status, HealthStatus::Healthy, "{az:?}");
    assert_eq!(az.secrets_set, vec!["access_key"]);
    assert_eq!(az.config, azure_config(&container, None));

    let gcs = create_checked(
        &app,
        &token,
        "GCS",
        gcs_config(&bucket, Some(sa_json.clone())),
        GCS_PRIVATE_KEY,
    )
    .await;
    assert_eq!(gcs.health.status, HealthStatus::Healthy, "{gcs:?}");
    assert_eq!(gcs.secrets_set, vec!["service_account_json"]);
    assert_eq!(gcs.config, gcs_config(&bucket, None));

    // The probes cleaned up after themselves.
    for store in [azurite().store(&container), fake_gcs().store(&bucket)] {
        let left: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(store.list(None))
            .await
            .unwrap();
        assert!(left.is_empty(), "the probe left {left:?}");
    }

    // Saved secrets keep working: a re-test and an update without them both reach the emulators.
    assert!(admin.test_destination(az.id).await.unwrap().ok);
    assert!(admin.test_destination(gcs.id).await.unwrap().ok);
    let renamed =
        rename_destination(&admin, gcs.id, "GCS primary", gcs_config(&bucket, None)).await;
    assert_eq!(renamed.secrets_set, vec!["service_account_json"]);

    let all = app.get_text("/api/v1/destinations", Some(&token)).await;
    for secret in [AZURITE_KEY, GCS_PRIVATE_KEY, "disable_oauth"] {
        assert!(!all.contains(secret), "{secret} listed: {all}");
        assert!(
            !crate::support::logs::captured().contains(secret),
            "{secret} was logged"
        );
    }

    // A container or bucket that does not exist is caught before saving.
    for config in [
        azure_config("no-such-container", None),
        gcs_config("no-such-bucket", Some(sa_json)),
    ] {
        let err = admin
            .create_destination(&new_destination("typo", config))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (Some(422), Some(ErrorCode::ConnectionTestFailed)),
            "{err}"
        );
    }
    assert_eq!(admin.list_destinations().await.unwrap().items.len(), 2);
}

async fn read(store: &dyn ObjectStore, key: &str) -> Vec<u8> {
    store
        .get(&key.into())
        .await
        .unwrap_or_else(|e| panic!("{key}: {e}"))
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn a_backup_is_written_to_azure_and_gcs_at_once_with_matching_checksums_and_manifests() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, database) = pagila_db(&admin, fleet().get(17)).await;
    let container = azurite().container().await;
    let bucket = fake_gcs().bucket().await;
    let mut ids = Vec::new();
    for (name, config) in [
        ("azure", azure_config(&container, None)),
        (
            "gcs",
            gcs_config(&bucket, Some(fake_gcs().service_account_json())),
        ),
    ] {
        ids.push(add_destination(&admin, name, config).await);
    }
    let (az, gcs) = (ids[0], ids[1]);
    let mut spec = task_spec(database, az);
    spec.name = "Cloud Shop".into();
    spec.destination_ids = vec![az, gcs];
    let task = admin.create_task(&spec).await.unwrap();

    let done = run_ok(&admin, task.id).await;
    assert_eq!(done.objects.len(), 2, "{done:?}");
    let sha = done.sha256.clone().unwrap();
    let key_on = |dest: Uuid| {
        done.objects
            .iter()
            .find(|o| o.destination_id == dest)
            .unwrap()
            .clone()
    };
    let (az_obj, gcs_obj) = (key_on(az), key_on(gcs));
    let relative = az_obj.key.strip_prefix("pgward/azure/").expect("prefix");
    assert!(relative.starts_with("cloud-shop/"), "{relative}");
    assert_eq!(gcs_obj.key, format!("pgward/gcs/{relative}"));

    let stores = [
        (az, az_obj, azurite().store(&container)),
        (gcs, gcs_obj, fake_gcs().store(&bucket)),
    ];
    for (dest, obj, store) in &stores {
        let stored = read(store.as_ref(), &obj.key).await;
        assert_eq!(stored.len() as u64, obj.size, "{}", obj.key);
        assert_eq!(
            hex::encode(Sha256::digest(&stored)),
            sha,
            "{} in the emulator differs from the recorded checksum",
            obj.key
        );
        let downloaded = admin
            .download_execution(done.id, Some(*dest))
            .await
            .unwrap();
        assert_eq!(hex::encode(Sha256::digest(&downloaded)), sha, "download");
        let manifest: serde_json::Value = serde_json::from_slice(
            &read(store.as_ref(), &format!("{}.manifest.json", obj.key)).await,
        )
        .unwrap();
        assert_eq!(manifest["sha256"], sha, "{manifest}");
    }
    assert_eq!(
        fake_gcs().pending_uploads(&bucket),
        0,
        "a multipart upload was left open"
    );

    // Deleting the backup (trash), then the purge, removes both copies and their manifests.
    let trashed = admin.delete_execution(done.id).await.unwrap();
    assert_eq!(trashed.status, ExecutionStatus::Trashed);
    // Only the periodic purge destroys it, once its grace period is over.
    assert_eq!(purge_trash_after_grace(&app).await, 1);
    let deleted = admin.get_execution(done.id).await.unwrap();
    assert_eq!(deleted.status, ExecutionStatus::Deleted);
    for (_, obj, store) in &stores {
        for key in [obj.key.clone(), format!("{}.manifest.json", obj.key)] {
            assert!(
                matches!(
                    store.get(&key.as_str().into()).await,
                    Err(object_store::Error::NotFound { .. })
                ),
                "{key} is still there"
            );
        }
    }
}
