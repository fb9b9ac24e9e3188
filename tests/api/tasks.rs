use pgward_api_client::Client;
use pgward_api_types::*;
use uuid::Uuid;

use crate::support::fixtures::{
    field_errors, keep_last, local_destination, new_database, task_spec,
};
use crate::support::refused;
use crate::support::{fleet, spawn_app};

/// A database on PostgreSQL 17 and a local destination, the two things every task needs.
async fn prerequisites(admin: &Client) -> (Uuid, Uuid) {
    let db = admin
        .create_database(&new_database("shop", fleet().get(17).url("postgres")))
        .await
        .unwrap();
    let (dest, _dir) = local_destination(admin, "disk").await;
    (db.id, dest)
}

#[tokio::test]
async fn a_task_is_created_edited_duplicated_and_previews_its_runs_in_its_time_zone() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (db, dest) = prerequisites(&admin).await;
    let task = admin.create_task(&task_spec(db, dest)).await.unwrap();
    assert_eq!(task.spec, task_spec(db, dest));
    let next = task.next_run_at.expect("active tasks have a next run");
    assert_eq!(next.format("%H:%M").to_string(), "02:30");
    assert!(
        matches!(next.offset().local_minus_utc(), 3600 | 7200),
        "{next}"
    );

    let runs = admin.task_next_runs(task.id).await.unwrap();
    assert_eq!(
        (runs.timezone.as_str(), runs.runs.len()),
        ("Europe/Berlin", 10)
    );
    assert!(runs.runs.windows(2).all(|w| w[0] < w[1]));
    assert!(runs.runs.iter().all(|r| r.format("%M").to_string() == "30"));

    // Every field can be edited.
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    let edited = admin
        .update_task(
            task.id,
            &UpdateTaskRequest {
                name: Some("hourly shop".into()),
                schedule: Some("@hourly".into()),
                timezone: Some("America/New_York".into()),
                format: Some(BackupFormat::Plain),
                compression: Some(CompressionAlgorithm::Gzip),
                compression_level: Some(Some(9)),
                encryption_recipients: Some(vec![recipient.clone()]),
                pg_dump_options: Some(PgDumpOptions {
                    no_owner: true,
                    exclude_tables: vec!["audit_*".into()],
                    ..Default::default()
                }),
                include_globals: Some(true),
                retention: Some(RetentionPolicy {
                    gfs: Some(GfsPolicy {
                        daily: 7,
                        weekly: 4,
                        monthly: 12,
                        yearly: 2,
                    }),
                    ..keep_last(3)
                }),
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.spec.name, "hourly shop");
    assert_eq!(
        (edited.spec.compression_level, edited.spec.timeout_minutes),
        (Some(9), Some(60))
    );
    // null clears an optional number; switching to lz4 drops a level that lz4 does not take.
    let cleared = admin
        .update_task(
            task.id,
            &UpdateTaskRequest {
                timeout_minutes: Some(None),
                compression: Some(CompressionAlgorithm::Lz4),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (cleared.spec.timeout_minutes, cleared.spec.compression_level),
        (None, None)
    );
    let edited = admin
        .update_task(
            task.id,
            &UpdateTaskRequest {
                compression: Some(CompressionAlgorithm::Gzip),
                compression_level: Some(Some(9)),
                timeout_minutes: Some(Some(60)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.spec.encryption_recipients, vec![recipient]);
    assert_eq!(edited.spec.retention.gfs.as_ref().unwrap().monthly, 12);
    assert!(
        edited.next_run_at.is_none(),
        "inactive tasks have no next run"
    );
    assert_eq!(admin.get_task(task.id).await.unwrap().spec, edited.spec);

    let copy = admin.duplicate_task(task.id).await.unwrap();
    assert_eq!(copy.spec.name, "hourly shop (copy)");
    assert!(!copy.spec.active);
    assert_eq!(
        admin.duplicate_task(task.id).await.unwrap().spec.name,
        "hourly shop (copy 2)"
    );
    assert_eq!(admin.list_tasks().await.unwrap().items.len(), 3);

    // A database or destination in use cannot be deleted; a task can.
    assert_eq!(refused(admin.delete_database(db)).await, 409);
    assert_eq!(refused(admin.delete_destination(dest)).await, 409);
    admin.delete_task(copy.id).await.unwrap();
    assert_eq!(refused(admin.get_task(copy.id)).await, 404);
}

#[tokio::test]
async fn invalid_tasks_are_refused_field_by_field_and_store_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (db, dest) = prerequisites(&admin).await;
    let cases: Vec<(&str, TaskSpec, &str)> = vec![
        (
            "bad cron",
            TaskSpec {
                schedule: "61 * * * *".into(),
                ..task_spec(db, dest)
            },
            "schedule",
        ),
        (
            "six fields",
            TaskSpec {
                schedule: "0 0 2 * * *".into(),
                ..task_spec(db, dest)
            },
            "schedule",
        ),
        (
            "anomaly threshold of 0",
            TaskSpec {
                anomaly_threshold_percent: Some(0),
                ..task_spec(db, dest)
            },
            "anomaly_threshold_percent",
        ),
        (
            "unknown zone",
            TaskSpec {
                timezone: "Europe/Atlantis".into(),
                ..task_spec(db, dest)
            },
            "timezone",
        ),
        (
            "data-only and schema-only",
            TaskSpec {
                pg_dump_options: PgDumpOptions {
                    data_only: true,
                    schema_only: true,
                    ..Default::default()
                },
                ..task_spec(db, dest)
            },
            "pg_dump_options.schema_only",
        ),
        (
            "no destination",
            TaskSpec {
                destination_ids: vec![],
                ..task_spec(db, dest)
            },
            "destination_ids",
        ),
        (
            "unknown destination",
            TaskSpec {
                destination_ids: vec![Uuid::new_v4()],
                ..task_spec(db, dest)
            },
            "destination_ids",
        ),
        (
            "unknown database",
            TaskSpec {
                database_id: Uuid::new_v4(),
                ..task_spec(db, dest)
            },
            "database_id",
        ),
        (
            "not an age key",
            TaskSpec {
                encryption_recipients: vec!["ssh-rsa AAAA".into()],
                ..task_spec(db, dest)
            },
            "encryption_recipients",
        ),
        (
            "level out of range",
            TaskSpec {
                compression_level: Some(42),
                ..task_spec(db, dest)
            },
            "compression_level",
        ),
        (
            "keep nothing",
            TaskSpec {
                retention: keep_last(0),
                ..task_spec(db, dest)
            },
            "retention.keep_last",
        ),
        (
            "parallel jobs without the directory format",
            TaskSpec {
                parallel_jobs: 4,
                ..task_spec(db, dest)
            },
            "parallel_jobs",
        ),
        (
            "test-restore without a scratch server",
            TaskSpec {
                verification: VerificationPolicy {
                    test_restore: true,
                    test_restore_after_backup: true,
                    ..Default::default()
                },
                ..task_spec(db, dest)
            },
            "verification.test_restore_database_id",
        ),
        (
            "bad verify schedule",
            TaskSpec {
                verification: VerificationPolicy {
                    verify_schedule: Some("every day".into()),
                    ..Default::default()
                },
                ..task_spec(db, dest)
            },
            "verification.verify_schedule",
        ),
        (
            "too many parallel jobs",
            TaskSpec {
                format: BackupFormat::Directory,
                parallel_jobs: 64,
                ..task_spec(db, dest)
            },
            "parallel_jobs",
        ),
    ];
    for (what, s, field) in cases {
        let f = field_errors(admin.create_task(&s).await.unwrap_err());
        assert!(f.iter().any(|k| k == field), "{what}: {f:?}");
    }
    assert!(admin.list_tasks().await.unwrap().items.is_empty());
    admin.create_task(&task_spec(db, dest)).await.unwrap();
    assert_eq!(refused(admin.create_task(&task_spec(db, dest))).await, 409);
}
