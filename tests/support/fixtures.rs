//! What most tests arrange first (a registered database, a local destination, a task, a database whose
//! dump can be held up) and what they wait for (a run or a restore to finish).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use pgward_api_client::Client;
use pgward_api_types::*;
use sqlx::Connection;
use uuid::Uuid;

use super::TestApp;
use super::fleet::PgServer;
use super::pagila;
use super::poll::eventually;

/// A request to register a database `name` at `connection_string`: its connection tested, no
/// description, health checks at the server's default interval.
pub fn new_database(name: &str, connection_string: String) -> CreateDatabaseRequest {
    CreateDatabaseRequest {
        name: name.into(),
        connection_string,
        description: None,
        skip_connection_test: false,
        health_interval_secs: None,
    }
}

/// Registers database `db` of `server` (connection tested) as "`db` on `major`".
pub async fn add_database(admin: &Client, server: &PgServer, db: &str) -> Uuid {
    admin
        .create_database(&new_database(
            &format!("{db} on {}", server.major),
            server.url(db),
        ))
        .await
        .unwrap()
        .id
}

/// A new API token `name` of `admin`'s user, valid for the default time.
pub async fn api_token(admin: &Client, name: &str) -> String {
    admin
        .create_token(&CreateApiTokenRequest {
            name: name.into(),
            expires_in_days: None,
        })
        .await
        .unwrap()
        .token
}

/// A local destination `name` in a new temporary directory (kept after the test); its id and directory.
pub async fn local_destination(admin: &Client, name: &str) -> (Uuid, PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    let id = admin
        .create_destination(&CreateDestinationRequest {
            name: name.into(),
            config: DestinationConfig::Local {
                path: dir.display().to_string(),
            },
            skip_test: false,
            health_interval_secs: None,
        })
        .await
        .unwrap()
        .id;
    (id, dir)
}

/// A valid task of database `db` to destination `dest`: "nightly shop", 02:30 in Berlin, custom format,
/// zstd, everything else at its default.
pub fn task_spec(db: Uuid, dest: Uuid) -> TaskSpec {
    TaskSpec {
        name: "nightly shop".into(),
        database_id: db,
        destination_ids: vec![dest],
        schedule: "30 2 * * *".into(),
        timezone: "Europe/Berlin".into(),
        active: true,
        format: BackupFormat::Custom,
        parallel_jobs: 1,
        compression: CompressionAlgorithm::Zstd,
        compression_level: None,
        encryption_recipients: vec![],
        pg_dump_options: PgDumpOptions::default(),
        include_globals: false,
        timeout_minutes: Some(60),
        stall_timeout_minutes: Some(10),
        retention: RetentionPolicy::default(),
        verification: VerificationPolicy::default(),
        anomaly_threshold_percent: None,
    }
}

/// [`task_spec`] named `name`, to every one of `dests`.
pub fn task(name: &str, db: Uuid, dests: Vec<Uuid>) -> TaskSpec {
    let mut t = task_spec(db, dests[0]);
    t.name = name.into();
    t.destination_ids = dests;
    t
}

/// The execution `id` once it is final (success, failed, cancelled...); up to 3 minutes.
pub async fn wait_final(admin: &Client, id: Uuid) -> Execution {
    eventually(
        Duration::from_secs(180),
        async || {
            let e = admin.get_execution(id).await.unwrap();
            if e.status.is_final() { Ok(e) } else { Err(e) }
        },
        |e| format!("execution {id} did not finish: {e:?}"),
    )
    .await
}

/// The restoration `id` once it is final; up to 5 minutes.
pub async fn wait_restored(admin: &Client, id: Uuid) -> Restoration {
    eventually(
        Duration::from_secs(300),
        async || {
            let r = admin.get_restoration(id).await.unwrap();
            if r.status.is_final() { Ok(r) } else { Err(r) }
        },
        |r| format!("restoration {id} did not finish: {r:?}"),
    )
    .await
}

/// A restore of execution `exec` into `target`, with default options (the copy pgward picks, no age
/// identities).
pub fn restore_to(exec: Uuid, target: RestoreTarget) -> CreateRestorationRequest {
    CreateRestorationRequest {
        execution_id: exec,
        destination_id: None,
        target,
        options: RestoreOptions::default(),
        identities: Vec::new(),
    }
}

/// A restore of `exec` into the registered database `database`, with default options.
pub fn restore_into(exec: Uuid, database: Uuid) -> CreateRestorationRequest {
    restore_to(
        exec,
        RestoreTarget::Database {
            database_id: database,
        },
    )
}

/// A restore of execution `exec` into a new database `name` on the server of the registered database
/// `server_db`, with default options.
pub fn restore_into_new(exec: Uuid, server_db: Uuid, name: &str) -> CreateRestorationRequest {
    restore_to(
        exec,
        RestoreTarget::NewDatabase {
            database_id: server_db,
            name: name.into(),
        },
    )
}

/// Runs the periodic trash purge as it runs once the grace period of everything in the trash is over;
/// returns how many backups it purged.
pub async fn purge_trash_after_grace(app: &TestApp) -> usize {
    let (state, _catalog) = app.background().await;
    let later =
        chrono::Utc::now() + chrono::Duration::days(i64::from(app.config.storage.trash_days) + 1);
    pgward_server::features::executions::service::purge_expired_trash(&state, later)
        .await
        .unwrap()
}

/// Writes a fake backup object (and manifest) and records it as an execution of `task`.
pub async fn fake_backup(
    catalog: &mut sqlx::PgConnection,
    dir: &Path,
    task: Uuid,
    dest: Uuid,
    at: DateTime<Utc>,
    status: &str,
) -> Uuid {
    let id = Uuid::now_v7();
    let key = format!("t/{}.dump.zst", id.simple());
    let objects = if status == "success" {
        std::fs::create_dir_all(dir.join("t")).unwrap();
        std::fs::write(dir.join(&key), b"backup").unwrap();
        std::fs::write(dir.join(format!("{key}.manifest.json")), b"{}").unwrap();
        serde_json::json!([{ "destination_id": dest, "key": key, "size": 6 }])
    } else {
        serde_json::json!([])
    };
    sqlx::query(
        "INSERT INTO executions (id, task_id, task_name, trigger, status, scheduled_for, timezone, objects, destination_ids) \
         VALUES ($1, $2, 'retained', 'schedule', $3, $4, 'UTC', $5, $6)",
    )
    .bind(id)
    .bind(task)
    .bind(status)
    .bind(at)
    .bind(objects)
    .bind(serde_json::json!([dest]))
    .execute(catalog)
    .await
    .unwrap();
    id
}

/// A database with one small table, `held`.
pub fn small_db(server: &PgServer) -> String {
    let db = format!("f_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &db);
    let out = pagila::psql(
        server,
        &db,
        &[
            "-c",
            "CREATE TABLE held AS SELECT g FROM generate_series(1, 1000) g",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    db
}

/// Holds an ACCESS EXCLUSIVE lock on `held` until dropped: a pg_dump of that database waits for it.
pub async fn hold_table(server: &PgServer, db: &str) -> sqlx::PgConnection {
    let mut c = sqlx::PgConnection::connect(&server.url(db)).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
        .execute(&mut c)
        .await
        .unwrap();
    c
}
