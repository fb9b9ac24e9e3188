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
