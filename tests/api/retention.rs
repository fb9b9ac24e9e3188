use chrono::{Duration, Utc};
use pgward_api_types::*;
use pgward_server::features::executions::service as retention;
use uuid::Uuid;

use crate::support::fixtures::{
    fake_backup, keep_last, local_destination, new_database, task_spec,
};
use crate::support::{TestApp, fleet, spawn_app_with};

#[tokio::test]
async fn keep_last_holds_while_runs_fail_and_the_preview_is_what_gets_deleted() {
    let app = spawn_app_with(|c| c.worker.in_process = false).await;
    let admin = app.admin().await;
    let (dest, dir) = local_destination(&admin, "disk").await;
    let db = admin
        .create_database(&new_database("db", fleet().get(17).url("postgres")))
        .await
        .unwrap()
        .id;
    let mut spec = task_spec(db, dest);
    spec.retention = keep_last(2);
    let task = admin.create_task(&spec).await.unwrap().id;

    let mut catalog = app.catalog().await;
    let now = Utc::now();
    let mut old = Vec::new();
    for d in (2..=6).rev() {
        old.push(
            fake_backup(
                &mut catalog,
                &dir,
                task,
                dest,
                now - Duration::days(d),
                "success",
            )
            .await,
        );
    }
    fake_backup(
        &mut catalog,
        &dir,
        task,
        dest,
        now - Duration::days(1),
        "failed",
    )
    .await;

    let (state, _catalog) = app.background().await;
    // The latest run failed: nothing may go, whatever the policy says.
    assert!(admin_preview(&app, &admin, task).await.is_empty());
    assert!(
        retention::apply_retention(&state, task, now)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(std::fs::read_dir(dir.join("t")).unwrap().count(), 10);

    // A new success: keep the 2 newest successes, delete the other 4 (exactly what the preview said).
    let newest = fake_backup(
        &mut catalog,
        &dir,
        task,
        dest,
        now - Duration::hours(1),
        "success",
    )
    .await;
    let preview: Vec<Uuid> = admin_preview(&app, &admin, task).await;
    let expected: Vec<Uuid> = old[..4].to_vec();
    assert_eq!(sorted(preview.clone()), sorted(expected.clone()));
    // The task form previews its unsaved fields: keeping the newest 10 would delete nothing; the
    // saved policy is unchanged by asking; a value the form would refuse is refused here too.
    let unsaved = RetentionPreviewQuery {
        keep_last: Some(10),
        ..Default::default()
    };
    assert!(
        admin
            .task_retention_preview(task, &unsaved)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        sorted(admin_preview(&app, &admin, task).await),
        sorted(expected.clone())
    );
    let e = admin
        .task_retention_preview(
            task,
            &RetentionPreviewQuery {
                keep_last: Some(0),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422), "{e:?}");
    let deleted = retention::apply_retention(&state, task, now).await.unwrap();
    assert_eq!(sorted(deleted), sorted(expected));
    for id in &old[..4] {
        assert_eq!(
            admin.get_execution(*id).await.unwrap().status,
            ExecutionStatus::Deleted
        );
    }
    for id in [old[4], newest] {
        assert_eq!(
            admin.get_execution(id).await.unwrap().status,
            ExecutionStatus::Success
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.join("t")).unwrap().count(),
        4,
        "2 backups + 2 manifests remain"
    );

    // One object that cannot be deleted (a non-empty directory sits at its name) does not stop the rest.
    let mut more = Vec::new();
    for h in 2..5 {
        more.push(
            fake_backup(
                &mut catalog,
                &dir,
                task,
                dest,
                now - Duration::minutes(h),
                "success",
            )
            .await,
        );
    }
    // Successes by age: more[0..3] (-2, -3, -4 min), `newest` (-1 h), old[4] (-2 d). keep_last 2 keeps
    // more[0] and more[1]; more[2], `newest` and old[4] are due, and `newest` cannot be deleted.
    let stuck = newest;
    let stuck_key = admin.get_execution(stuck).await.unwrap().objects[0]
        .key
        .clone();
    std::fs::remove_file(dir.join(&stuck_key)).unwrap();
    std::fs::create_dir_all(dir.join(&stuck_key).join("keep")).unwrap();
    let deleted = retention::apply_retention(&state, task, now).await.unwrap();
    assert_eq!(sorted(deleted), sorted(vec![more[2], old[4]]));
    let stuck_now = admin.get_execution(stuck).await.unwrap();
    assert_eq!(stuck_now.status, ExecutionStatus::Success);
    assert!(
        stuck_now
            .message
            .unwrap()
            .contains("retention could not delete")
    );
}

async fn admin_preview(app: &TestApp, admin: &pgward_api_client::Client, task: Uuid) -> Vec<Uuid> {
    let path = format!("/api/v1/tasks/{task}/retention-preview");
    let text = app.get_text(&path, Some(admin.token().unwrap())).await;
    let list: Vec<Execution> = serde_json::from_str(&text).unwrap();
    list.into_iter().map(|e| e.id).collect()
}

fn sorted(mut v: Vec<Uuid>) -> Vec<Uuid> {
    v.sort();
    v
}
