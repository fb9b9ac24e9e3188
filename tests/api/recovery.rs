//! Losing pgward's catalog: the manifests beside the backups are enough to record them again
//! (`pgward catalog rebuild`), and a backup restores from the rebuilt catalog.

use pgward_api_types::*;

use crate::support::fixtures::{
    add_database, add_destination, pagila_db, restore, restore_into_new, run_ok, task,
};
use crate::support::process::{assert_success, pgward_of};
use crate::support::{fleet, pagila, spawn_app};

#[tokio::test]
async fn a_lost_catalog_is_rebuilt_from_the_manifests_and_its_backups_restore() {
    let server = fleet().get(16);
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.display().to_string();

    // The first life: a task with globals, two backups, one of them on a second destination too.
    let old = spawn_app().await;
    let admin = old.admin().await;
    let dest = add_destination(
        &admin,
        "disk",
        DestinationConfig::Local { path: path.clone() },
    )
    .await;
    let (db, database) = pagila_db(&admin, server).await;
    let mut spec = task("nightly", database, vec![dest]);
    spec.include_globals = true;
    let t = admin.create_task(&spec).await.unwrap();
    let first = run_ok(&admin, t.id).await;
    let second = run_ok(&admin, t.id).await;
    let rows = pagila::row_checksums(server, &db);

    // The catalog is gone.
    let catalog = fleet().catalog();
    pagila::query(
        catalog,
        "postgres",
        &format!("DROP DATABASE \"{}\" WITH (FORCE)", old.catalog_db),
    );

    // A new pgward with an empty catalog: the destination registered again, then rebuilt from it.
    let new = spawn_app().await;
    let admin = new.admin().await;
    assert!(
        admin
            .list_executions(&ExecutionListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    add_destination(&admin, "disk again", DestinationConfig::Local { path }).await;
    let rebuild = || {
        let out = pgward_of(&new, &["catalog", "rebuild", "--from", "disk again"])
            .output()
            .unwrap();
        assert_success(&out);
        serde_json::from_slice::<CatalogRebuildReport>(&out.stdout).unwrap()
    };
    let report = rebuild();
    assert_eq!(
        (report.manifests, report.recreated, report.skipped.len()),
        (2, 2, 0),
        "{report:?}"
    );
    // Again: nothing new (no duplicates).
    let again = rebuild();
    assert_eq!((again.recreated, again.already_known), (0, 2), "{again:?}");

    let items = admin
        .list_executions(&ExecutionListQuery::default())
        .await
        .unwrap()
        .items;
    assert_eq!(items.len(), 2, "{items:?}");
    for before in [&first, &second] {
        let now = items
            .iter()
            .find(|e| e.id == before.id)
            .expect("the same execution id as before");
        assert_eq!(now.status, ExecutionStatus::Success);
        assert_eq!(now.task_name, "nightly");
        assert_eq!((now.size, &now.sha256), (before.size, &before.sha256));
        assert_eq!(now.pg_dump_version, before.pg_dump_version);
        // The dump and its globals file, both on the destination as registered now.
        assert_eq!(now.objects.len(), 2, "{now:?}");
        assert!(now.objects.iter().any(|o| o.key.contains(".globals.")));
    }

    // The rebuilt record restores: into a new database on the registered server, globals first.
    let target_db = add_database(&admin, server, "postgres").await;
    let name = format!("rebuilt_{}", uuid::Uuid::new_v4().simple());
    let mut req = restore_into_new(second.id, target_db, &name);
    req.options.globals_first = true;
    let r = restore(&admin, &req).await;
    assert_eq!(r.status, RestorationStatus::Success, "{r:?}");
    assert_eq!(pagila::row_checksums(server, &name), rows);
}

/// pgward's own catalog, backed up by pgward (`catalog.self_backup`): on its schedule as soon as a
/// destination exists, and on request; the backup restores into a database that holds this catalog.
#[tokio::test]
async fn the_catalog_backs_itself_up_to_the_first_destination_and_the_backup_restores() {
    use crate::support::poll::eventually;
    let app = crate::support::app::spawn_app_with(|c| {
        c.catalog.self_backup = pgward_server::config::SelfBackup::On;
        c.worker.scheduler_interval_secs = 1;
    })
    .await;
    let admin = app.admin().await;
    // Nowhere to go yet: refused, nothing queued.
    let e = admin.back_up_catalog().await.unwrap_err();
    assert_eq!(e.status(), Some(409), "{e:?}");
    let dest = add_destination(
        &admin,
        "disk",
        DestinationConfig::Local {
            path: tempfile::tempdir().unwrap().keep().display().to_string(),
        },
    )
    .await;
    // The periodic pass catches up the last scheduled time at once.
    let scheduled = eventually(
        std::time::Duration::from_secs(120),
        async || {
            let page = admin
                .list_executions(&ExecutionListQuery {
                    kind: Some(ExecutionKind::Catalog),
                    ..Default::default()
                })
                .await
                .unwrap();
            page.items
                .into_iter()
                .find(|e| e.trigger == ExecutionTrigger::Schedule && e.status.is_final())
        },
        |_| "no scheduled self-backup finished".into(),
    )
    .await;
    assert_eq!(scheduled.status, ExecutionStatus::Success, "{scheduled:?}");
    assert_eq!(scheduled.objects[0].destination_id, dest);
    assert!(
        scheduled.objects[0].key.starts_with("pgward-catalog/"),
        "{scheduled:?}"
    );

    // On request (before an upgrade, say); then a user the restored catalog must hold.
    let now = admin.back_up_catalog().await.unwrap();
    let now = crate::support::fixtures::wait_final(&admin, now.id).await;
    assert_eq!(now.status, ExecutionStatus::Success, "{now:?}");
    assert_eq!(now.kind, ExecutionKind::Catalog);

    let server = fleet().get(17);
    let target = add_database(&admin, server, "postgres").await;
    let name = format!("catalog_copy_{}", uuid::Uuid::new_v4().simple());
    let r = restore(&admin, &restore_into_new(now.id, target, &name)).await;
    assert_eq!(r.status, RestorationStatus::Success, "{r:?}");
    assert_eq!(
        pagila::query(server, &name, "SELECT string_agg(email, ',') FROM users"),
        crate::support::app::ADMIN_EMAIL
    );
    assert_eq!(
        pagila::query(server, &name, "SELECT count(*) FROM destinations"),
        "1"
    );
    assert_eq!(
        pagila::query(
            server,
            &name,
            &format!(
                "SELECT status FROM executions WHERE id = '{}'",
                scheduled.id
            )
        ),
        "success"
    );
}
