//! What most tests arrange first (a registered database, a local destination, a task, a database whose
//! dump can be held up) and what they wait for (a run or a restore to finish).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use pgward_api_client::{Client, ClientError};
use pgward_api_types::*;
use sqlx::Connection;
use uuid::Uuid;

use super::TestApp;
use super::fleet::PgServer;
use super::pagila;
use super::poll::eventually;

/// The fields a 422 answer names as invalid; any other answer fails the test.
pub fn field_errors(e: ClientError) -> Vec<String> {
    match e {
        ClientError::Api { status: 422, error } => {
            error.fields.unwrap_or_default().into_keys().collect()
        }
        other => panic!("expected 422, got {other:?}"),
    }
}

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

/// A new database on `server` loaded with pagila (scale 1) and registered as by [`add_database`]: its
/// name and id. What a test that backs up "real" data starts from.
pub async fn pagila_db(admin: &Client, server: &PgServer) -> (String, Uuid) {
    let db = format!("p_{}", Uuid::new_v4().simple());
    pagila::load(server, &db, 1);
    let id = add_database(admin, server, &db).await;
    (db, id)
}

/// A new empty database `<prefix>_<uuid>` on `server`, registered as by [`add_database`]: its name and
/// id. For a test that only needs something to back up, or a target to restore into.
pub async fn empty_db(admin: &Client, server: &PgServer, prefix: &str) -> (String, Uuid) {
    let db = format!("{prefix}_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &db);
    let id = add_database(admin, server, &db).await;
    (db, id)
}

/// A request for an API token `name` that expires after `days` (`None`: the server's default).
pub fn new_token(name: &str, days: Option<u32>) -> CreateApiTokenRequest {
    CreateApiTokenRequest {
        name: name.into(),
        expires_in_days: days,
        role: None,
    }
}

/// A new API token `name` of `admin`'s user, valid for the default time.
pub async fn api_token(admin: &Client, name: &str) -> String {
    admin
        .create_token(&new_token(name, None))
        .await
        .unwrap()
        .token
}

/// A request to save destination `name` with `config`: probed before it is saved, health checks at the
/// server's default interval.
pub fn new_destination(name: &str, config: DestinationConfig) -> CreateDestinationRequest {
    CreateDestinationRequest {
        name: name.into(),
        config,
        skip_test: false,
        health_interval_secs: None,
    }
}

/// Saves destination `name` with `config` ([`new_destination`]); its id.
pub async fn add_destination(admin: &Client, name: &str, config: DestinationConfig) -> Uuid {
    admin
        .create_destination(&new_destination(name, config))
        .await
        .unwrap()
        .id
}

/// Renames destination `id` to `name` and gives it `config` again (probed; a secret left out of it stays
/// as saved).
pub async fn rename_destination(
    admin: &Client,
    id: Uuid,
    name: &str,
    config: DestinationConfig,
) -> Destination {
    let change = UpdateDestinationRequest {
        name: Some(name.into()),
        config: Some(config),
        skip_test: false,
        health_interval_secs: None,
    };
    admin.update_destination(id, &change).await.unwrap()
}

/// A local destination `name` in a new temporary directory (kept after the test); its id and directory.
pub async fn local_destination(admin: &Client, name: &str) -> (Uuid, PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.display().to_string();
    let id = add_destination(admin, name, DestinationConfig::Local { path }).await;
    (id, dir)
}

/// What most backup tests start from: `app` (as the test wants it configured), its first admin, and a
/// local destination "disk" (its id and directory).
pub async fn with_disk(app: TestApp) -> (TestApp, Client, Uuid, PathBuf) {
    let admin = app.admin().await;
    let (dest, dir) = local_destination(&admin, "disk").await;
    (app, admin, dest, dir)
}

/// A retention policy that keeps the newest `n` successful backups and nothing else (no age rule, no
/// grandfather-father-son).
pub fn keep_last(n: u32) -> RetentionPolicy {
    RetentionPolicy {
        keep_days: None,
        keep_last: n,
        gfs: None,
    }
}

/// What the events a test looks for are about.
pub enum About {
    Task(Uuid),
    Database(Uuid),
}

/// The events of `kind` about `about`, as the API lists them (newest first).
pub async fn events_about(admin: &Client, kind: EventKind, about: About) -> EventPage {
    let (task_id, database_id) = match about {
        About::Task(id) => (Some(id), None),
        About::Database(id) => (None, Some(id)),
    };
    admin
        .list_events(&EventListQuery {
            kind: Some(kind),
            task_id,
            database_id,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// A valid task of database `db` to destination `dest`: "nightly shop", 02:30 in Berlin, custom format,
/// zstd, everything else at its default.
pub fn task_spec(db: Uuid, dest: Uuid) -> TaskSpec {
    TaskSpec {
        name: "nightly shop".into(),
        database_id: db,
        scope: Default::default(),
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

/// Creates the task `name` of `database` to `dest` ([`task`]: everything else at its default).
pub async fn create_task(admin: &Client, name: &str, database: Uuid, dest: Uuid) -> Task {
    admin
        .create_task(&task(name, database, vec![dest]))
        .await
        .unwrap()
}

/// Runs `task` now (as "run now" in the UI does) and waits until that run is final ([`wait_final`]).
pub async fn run_now(admin: &Client, task: Uuid) -> Execution {
    wait_final(admin, admin.run_task(task).await.unwrap().id).await
}

/// [`run_now`], for the many tests whose run must succeed before they look further; the failure shows
/// the run.
pub async fn run_ok(admin: &Client, task: Uuid) -> Execution {
    let done = run_now(admin, task).await;
    assert_eq!(done.status, ExecutionStatus::Success, "{done:?}");
    done
}

/// What a test waits on until it is final: a run, a restore.
trait Finishes: std::fmt::Debug {
    fn is_final(&self) -> bool;
}

impl Finishes for Execution {
    fn is_final(&self) -> bool {
        self.status.is_final()
    }
}

impl Finishes for Restoration {
    fn is_final(&self) -> bool {
        self.status.is_final()
    }
}

/// What `get` returns once it is final, looking up to `within`; the failure names `what` and shows what
/// `get` returned last. One wait for runs and restores alike.
async fn until_final<T: Finishes>(within: Duration, what: String, get: impl AsyncFn() -> T) -> T {
    eventually(
        within,
        async || {
            let now = get().await;
            if now.is_final() { Ok(now) } else { Err(now) }
        },
        |now| format!("{what} did not finish: {now:?}"),
    )
    .await
}

/// The execution `id` once it is final (success, failed, cancelled...); up to 3 minutes.
pub async fn wait_final(admin: &Client, id: Uuid) -> Execution {
    let get = async || admin.get_execution(id).await.unwrap();
    until_final(Duration::from_secs(180), format!("execution {id}"), get).await
}

/// The restoration `id` once it is final; up to 5 minutes.
pub async fn wait_restored(admin: &Client, id: Uuid) -> Restoration {
    let get = async || admin.get_restoration(id).await.unwrap();
    until_final(Duration::from_secs(300), format!("restoration {id}"), get).await
}

/// Starts the restore `req` and waits until it is final ([`wait_restored`]).
pub async fn restore(admin: &Client, req: &CreateRestorationRequest) -> Restoration {
    wait_restored(admin, admin.create_restoration(req).await.unwrap().id).await
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
    pagila::db_with(
        server,
        "f",
        "CREATE TABLE held AS SELECT g FROM generate_series(1, 1000) g",
    )
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
