//! Whole-server tasks: one task backs up every database on a server that its patterns choose, found
//! anew at each run, each database its own backup under the run; any of them restores like any backup.

use std::collections::BTreeMap;

use pgward_api_types::*;

use crate::support::fixtures::{
    add_database, field_errors, local_destination, restore, restore_into_new, run_ok, task,
};
use crate::support::{fleet, pagila, spawn_app};

/// The rows of `items` in `db`, in order (what a restore must bring back).
fn items(server: &crate::support::fleet::PgServer, db: &str) -> String {
    pagila::query(
        server,
        db,
        "SELECT string_agg(id || ':' || note, ',' ORDER BY id) FROM items",
    )
}

/// The run's databases' backups by database name.
async fn children(
    admin: &pgward_api_client::Client,
    run: uuid::Uuid,
) -> BTreeMap<String, Execution> {
    admin
        .list_executions(&ExecutionListQuery {
            parent_id: Some(run),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| {
            (
                e.database_name.clone().expect("a child names its database"),
                e,
            )
        })
        .collect()
}

#[tokio::test]
async fn a_whole_server_task_backs_up_every_chosen_database_new_ones_too_and_each_restores() {
    let server = fleet().get(15);
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dest, _) = local_destination(&admin, "disk").await;
    let p = format!("ws{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let make = |name: &str, rows: u32| {
        pagila::create_db(server, name);
        let sql = format!(
            "CREATE TABLE items (id int PRIMARY KEY, note text); \
             INSERT INTO items SELECT g, md5('{name}' || g) FROM generate_series(1, {rows}) g;"
        );
        let out = pagila::psql(server, name, &["-c", &sql]);
        assert!(out.status.success(), "{out:?}");
    };
    let mut names = vec![
        format!("{p}_shop"),
        format!("{p}_Mixed-Case"),
        format!("{p}_blog"),
    ];
    for (i, n) in names.iter().enumerate() {
        make(n, 100 + i as u32 * 50);
    }
    // Left out by the exclude pattern.
    make(&format!("{p}_scratch_1"), 10);

    // The entry point: any registered database on the server.
    let entry = add_database(&admin, server, "postgres").await;
    let mut spec = task("whole server", entry, vec![dest]);
    spec.include_globals = true;
    spec.scope = TaskScope::Server {
        include: vec![format!("{p}_*")],
        exclude: vec![format!("{p}_scratch_*")],
    };
    // A pattern that does not parse is refused and stores nothing.
    let mut bad = spec.clone();
    bad.scope = TaskScope::Server {
        include: vec!["app_[".into()],
        exclude: vec![],
    };
    let e = admin.create_task(&bad).await.unwrap_err();
    assert_eq!(field_errors(e), vec!["scope.include".to_string()]);
    let t = admin.create_task(&spec).await.unwrap();
    assert_eq!(admin.get_task(t.id).await.unwrap().spec.scope, spec.scope);

    let first = run_ok(&admin, t.id).await;
    assert_eq!(first.kind, ExecutionKind::Server);
    let got = children(&admin, first.id).await;
    names.sort();
    assert_eq!(got.keys().cloned().collect::<Vec<_>>(), names, "{got:?}");
    for c in got.values() {
        assert_eq!(c.status, ExecutionStatus::Success, "{c:?}");
        assert_eq!(c.parent_id, Some(first.id));
        assert_eq!(c.task_id, Some(t.id));
    }
    // The globals once, on the run's row; each database its own object.
    assert_eq!(first.objects.len(), 1, "{first:?}");
    assert!(first.objects[0].key.contains(".globals."), "{first:?}");
    let keys: std::collections::HashSet<_> =
        got.values().map(|c| c.objects[0].key.clone()).collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(
        first.size,
        Some(got.values().map(|c| c.size.unwrap()).sum::<u64>() + first.objects[0].size)
    );

    // A database created after the first run is backed up by the next.
    let late = format!("{p}_late");
    make(&late, 75);
    names.push(late);
    names.sort();
    let second = run_ok(&admin, t.id).await;
    let got = children(&admin, second.id).await;
    assert_eq!(got.keys().cloned().collect::<Vec<_>>(), names, "{got:?}");

    // Each of the four restores (globals first, from the run), with the rows it had.
    for (name, c) in &got {
        assert_eq!(c.status, ExecutionStatus::Success, "{c:?}");
        let into = format!("{p}_restored_{}", &c.id.simple().to_string()[24..]);
        let mut req = restore_into_new(c.id, entry, &into);
        req.options.globals_first = true;
        let r = restore(&admin, &req).await;
        assert_eq!(r.status, RestorationStatus::Success, "{name}: {r:?}");
        assert_eq!(items(server, &into), items(server, name), "{name}");
    }

    // The run itself holds no database: restoring it is refused, nothing is queued.
    let e = admin
        .create_restoration(&restore_into_new(second.id, entry, &format!("{p}_nothing")))
        .await
        .unwrap_err();
    assert_eq!(field_errors(e), vec!["execution_id".to_string()]);

    // The run list shows runs; each database's backups are listed under their run.
    let runs = admin
        .list_executions(&ExecutionListQuery {
            task_id: Some(t.id),
            kind: Some(ExecutionKind::Server),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![second.id, first.id]
    );
}
