//! The trust boundaries, each tested as the attack (SECURITY.md lists them with these tests): hostile
//! dumps and archives, connection strings that would connect elsewhere, webhooks aimed inside, templates
//! that explode, tokens that mint tokens, a deletion that would destroy the only copy, the open front door.

use std::collections::BTreeMap;
use std::time::Duration;

use pgward_api_client::Client;
use pgward_api_types::*;
use uuid::Uuid;

use crate::support::app::{ADMIN_EMAIL, ADMIN_PASSWORD, start_another};
use crate::support::fixtures::{
    add_database, create_task, empty_db, fake_backup, hold_table, keep_last, local_destination,
    new_database, new_token, pagila_db, restore, restore_into, restore_into_new, run_now, task,
    wait_final, wait_restored, with_disk,
};
use crate::support::poll::eventually_every;
use crate::support::process::{assert_success, pgward_of};
use crate::support::receiver::{Receiver, custom, preview_request, repoint, verify_signature};
use crate::support::refused;
use crate::support::{TestApp, fleet, pagila, spawn_app, spawn_app_with};

/// Uploads into a local destination "uploads" as the administrator, by raw requests (the hostile files
/// of these tests are uploaded dumps).
struct Uploader<'a> {
    app: &'a TestApp,
    /// The administrator's access token.
    token: String,
    dest: Uuid,
    /// The destination's directory.
    dir: std::path::PathBuf,
}

/// An [`Uploader`] of `app`, and the administrator's client.
async fn uploader(app: &TestApp) -> (Uploader<'_>, Client) {
    let tokens = app.admin_tokens().await;
    let admin = app.client.with_token(&tokens.access_token);
    let (dest, dir) = local_destination(&admin, "uploads").await;
    let token = tokens.access_token;
    (
        Uploader {
            app,
            token,
            dest,
            dir,
        },
        admin,
    )
}

impl Uploader<'_> {
    /// An upload of a dump named `filename` into the destination, its body still to be given.
    fn post(&self, filename: &str) -> reqwest::RequestBuilder {
        let dest = self.dest;
        let path = format!("/api/v1/uploads?destination_id={dest}&filename={filename}");
        self.app
            .http
            .post(self.app.url(&path))
            .bearer_auth(&self.token)
    }

    /// Streams `bytes` into the destination as an uploaded dump named `filename`.
    async fn upload(&self, filename: &str, bytes: Vec<u8>) -> Execution {
        let resp = self
            .post(filename)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status().as_u16(),
            201,
            "{}",
            resp.text().await.unwrap()
        );
        resp.json().await.unwrap()
    }
}

fn tables(server: &crate::support::fleet::PgServer, db: &str) -> String {
    pagila::query(
        server,
        db,
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
    )
}

#[tokio::test]
async fn a_plain_dump_that_tries_psql_meta_commands_is_refused_and_runs_none_of_them() {
    let app = spawn_app().await;
    let (up, admin) = uploader(&app).await;
    let server = fleet().get(17);
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("pwned");
    let m = marker.display();
    let included = marker_dir.path().join("included.sql");
    std::fs::write(
        &included,
        format!("\\! touch {m}\nCREATE TABLE included_ran ();\n"),
    )
    .unwrap();
    let payloads = [
        format!("\\! touch {m}"),
        format!("\\copy (SELECT 1) TO PROGRAM 'touch {m}'"),
        format!("\\o |touch {m}\nSELECT 1;"),
        format!("\\i {}", included.display()),
        "\\getenv leaked HOME\nCREATE TABLE leaked AS SELECT :'leaked'::text AS v;".to_string(),
        // A guess at pgward's restrict key, and the dump's own key used to lift it: neither works.
        format!("\\unrestrict guess\n\\! touch {m}"),
        format!("\\unrestrict mine\n\\! touch {m}\n\\restrict mine"),
    ];
    for (i, payload) in payloads.iter().enumerate() {
        let (db, database) = empty_db(&admin, server, &format!("meta_{i}")).await;
        // The dump's own header, as current pg_dump writes it, then a statement, the attack, another.
        let dump = format!(
            "--\n-- PostgreSQL database dump\n--\n\n\\restrict mine\n\nCREATE TABLE before_attack ();\n\
             {payload}\nCREATE TABLE after_attack ();\n\n\\unrestrict mine\n"
        );
        let exec = up.upload(&format!("evil{i}.sql"), dump.into_bytes()).await;
        let r = restore(&admin, &restore_into(exec.id, database)).await;
        assert_eq!(r.status, RestorationStatus::Failed, "{payload}: {r:?}");
        assert_eq!(
            r.error_code.as_deref(),
            Some("dump_meta_command"),
            "{payload}: {r:?}"
        );
        assert!(!marker.exists(), "{payload} ran a shell command");
        // psql stopped at the meta-command: what came before ran, nothing after it did.
        assert_eq!(tables(server, &db), "before_attack", "{payload}");
    }
}

#[tokio::test]
async fn a_directory_archive_with_a_symlink_entry_is_refused_before_pg_restore_sees_it() {
    let app = spawn_app().await;
    let (up, admin) = uploader(&app).await;
    let server = fleet().get(16);
    let admin_db = add_database(&admin, server, "postgres").await;

    // Archives as an attacker writes them: entry names and types are whatever they like.
    fn entry(
        b: &mut tar::Builder<Vec<u8>>,
        name: &str,
        kind: tar::EntryType,
        link: &str,
        data: &[u8],
    ) {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    let archive = |entries: &[(&str, tar::EntryType, &str)]| {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, link) in entries {
            let data: &[u8] = if *kind == tar::EntryType::Regular {
                b"PGDMP"
            } else {
                b""
            };
            entry(&mut b, name, *kind, link, data);
        }
        b.into_inner().unwrap()
    };
    use tar::EntryType::{Link, Regular, Symlink};
    let attacks: [&[(&str, tar::EntryType, &str)]; 4] = [
        // A data file that is a link to a host file: pg_restore would load it as table data.
        &[
            ("dump/toc.dat", Regular, ""),
            ("dump/3456.dat", Symlink, "/etc/passwd"),
        ],
        &[
            ("dump/toc.dat", Regular, ""),
            ("dump/3457.dat", Link, "/etc/passwd"),
        ],
        &[
            ("dump/toc.dat", Regular, ""),
            ("../../escaped.dat", Regular, ""),
        ],
        &[
            ("/tmp/absolute.dat", Regular, ""),
            ("dump/toc.dat", Regular, ""),
        ],
    ];
    for (i, entries) in attacks.iter().enumerate() {
        let exec = up
            .upload(&format!("evil{i}.dir.tar"), archive(entries))
            .await;
        let name = format!("sym_{}", Uuid::new_v4().simple());
        let r = restore(&admin, &restore_into_new(exec.id, admin_db, &name)).await;
        assert_eq!(r.status, RestorationStatus::Failed, "{entries:?}: {r:?}");
        assert_eq!(
            r.error_code.as_deref(),
            Some("unsafe_archive"),
            "{entries:?}: {r:?}"
        );
    }
    assert!(!std::path::Path::new("/tmp/absolute.dat").exists());

    // Listing the contents reads toc.dat: a toc.dat that is a link is refused too.
    let exec = up
        .upload(
            "evil-toc.dir.tar",
            archive(&[("dump/toc.dat", Symlink, "/etc/shadow")]),
        )
        .await;
    let contents = format!("/api/v1/executions/{}/contents", exec.id);
    let resp = app.get(&contents, Some(&up.token)).await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("unsafe_archive") && !body.contains("root:"),
        "{body}"
    );
}

#[tokio::test]
async fn a_decompression_bomb_stops_at_its_limit_and_an_oversized_upload_is_refused() {
    let app = spawn_app_with(|c| {
        c.worker.max_decompression_ratio = 10;
        c.server.upload_limit = 8 << 20;
    })
    .await;
    let (up, admin) = uploader(&app).await;
    let server = fleet().get(16);
    let admin_db = add_database(&admin, server, "postgres").await;

    // 200 MB of SQL comments in a few hundred kilobytes: far more than ten times its size.
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 19).unwrap();
    let line = [b'-', b'-']
        .iter()
        .chain([b' '; 1021].iter())
        .chain(b"\n".iter())
        .copied()
        .collect::<Vec<u8>>();
    for _ in 0..(200 << 10) {
        std::io::Write::write_all(&mut enc, &line).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let exec = up.upload("bomb.sql.zst", bomb).await;
    let name = format!("bomb_{}", Uuid::new_v4().simple());
    let mut req = restore_into_new(exec.id, admin_db, &name);
    // Spooled to scratch first (single transaction): the bomb must not fill the work directory.
    req.options.single_transaction = true;
    let r = restore(&admin, &req).await;
    assert_eq!(r.status, RestorationStatus::Failed, "{r:?}");
    assert_eq!(
        r.error_code.as_deref(),
        Some("decompression_limit"),
        "{r:?}"
    );

    // An upload past server.upload_limit: 413, with or without a declared length, and nothing stored.
    let big = vec![b'-'; 9 << 20];
    let resp = up.post("big.sql").body(big.clone()).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(1 << 20).map(|c| Ok(c.to_vec())).collect();
    let resp = up
        .post("big.sql")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    let uploads = admin
        .list_executions(&ExecutionListQuery::default())
        .await
        .unwrap();
    assert_eq!(uploads.items.len(), 1, "only the bomb was stored");
    let files = |d: &std::path::Path| -> usize {
        walk(d)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("big"))
            .count()
    };
    assert_eq!(files(&up.dir), 0);
}

fn walk(d: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn rotating_the_secrets_key_reseals_every_secret_at_once() {
    use secrecy::ExposeSecret;
    let app = spawn_app().await;
    let admin = app.admin().await;
    let database = add_database(&admin, fleet().get(15), "postgres").await;
    let (dest, _dir) = local_destination(&admin, "disk").await;
    let receiver = Receiver::start(vec![]);
    let mut req = custom("signed", receiver.url("/hook"));
    req.headers = BTreeMap::from([("X-Token".to_string(), "tok".to_string())]);
    req.secret = Some("hmac-secret".into());
    let hook = admin.create_webhook(&req).await.unwrap();

    let cfg = &app.config;
    let old_key = cfg
        .secrets
        .key
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_string();
    // As an operator runs it: the catalog and the key it was sealed with.
    let out = pgward_of(&app, &["secrets", "rotate-key"])
        .env("PGWARD_LOG__LEVEL", "warn")
        .output()
        .unwrap();
    assert_success(&out);
    let new_key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_ne!(new_key, old_key);
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 secrets re-encrypted"));

    // Under the old key nothing opens any more; a pgward with the new key opens every secret.
    assert!(admin.test_database(database).await.is_err());
    let mut config = app.config.clone();
    config.secrets.key = Some(secrecy::SecretString::from(new_key));
    let base = start_other(config).await;
    let unauthenticated = pgward_api_client::Client::new(&base);
    let pair = unauthenticated
        .login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .unwrap();
    let admin2 = unauthenticated.with_token(&pair.access_token);
    assert!(admin2.test_database(database).await.unwrap().ok);
    assert!(admin2.test_destination(dest).await.unwrap().ok);
    admin2.test_webhook(hook.id).await.unwrap();
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].headers["x-token"], "tok");
    verify_signature(&got[0], "hmac-secret");
}

#[tokio::test]
async fn a_directory_archive_whose_toc_names_a_file_outside_it_is_refused() {
    let app = spawn_app().await;
    let (up, admin) = uploader(&app).await;
    let server = fleet().get(17);
    let db = format!("toc_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &db);
    pagila::psql(
        server,
        &db,
        &[
            "-c",
            "CREATE TABLE t (x text); INSERT INTO t VALUES ('row')",
        ],
    );
    let admin_db = add_database(&admin, server, "postgres").await;

    // A real directory dump, tarred as pgward stores it.
    let work = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(pagila::client_bin(17, "pg_dump"))
        .args(["-Fd", "-f"])
        .arg(work.path().join("dump"))
        .arg(server.url(&db))
        .output()
        .unwrap();
    assert_success(&out);
    // The dump directory as it is now, tarred as pgward stores it, uploaded as `filename`.
    let upload_dump = async |filename: &str| {
        let mut b = tar::Builder::new(Vec::new());
        b.append_dir_all("dump", work.path().join("dump")).unwrap();
        up.upload(filename, b.into_inner().unwrap()).await
    };
    let into_new = |exec: Uuid| {
        let name = format!("r_{}", Uuid::new_v4().simple());
        restore_into_new(exec, admin_db, &name)
    };
    // As it is, it restores.
    let good = upload_dump("good.dir.tar").await;
    assert_eq!(
        restore(&admin, &into_new(good.id)).await.status,
        RestorationStatus::Success
    );

    // The TOC's data file name rewritten to a host file (length prefix and all, as pg_dump writes it).
    let toc_path = work.path().join("dump/toc.dat");
    let toc = std::fs::read(&toc_path).unwrap();
    let at = toc
        .windows(4)
        .position(|w| w == b".dat")
        .expect("a data file name in the TOC");
    let start = (0..at)
        .rev()
        .take_while(|i| toc[*i].is_ascii_digit())
        .last()
        .unwrap();
    let evil = b"../../../../../../../../etc/passwd";
    let mut patched = toc[..start - 5].to_vec();
    patched.push(0);
    patched.extend_from_slice(&(evil.len() as u32).to_le_bytes());
    patched.extend_from_slice(evil);
    patched.extend_from_slice(&toc[at + 4..]);
    std::fs::write(&toc_path, patched).unwrap();
    let bad = upload_dump("evil.dir.tar").await;
    let r = restore(&admin, &into_new(bad.id)).await;
    assert_eq!(r.status, RestorationStatus::Failed, "{r:?}");
    assert_eq!(r.error_code.as_deref(), Some("unsafe_archive"), "{r:?}");
}

/// The client pgward started for database `db`: a child of this process named `name` whose command
/// line connects to `db` (other tests in this process run their own pg_dump and psql meanwhile).
fn client_for(name: &str, db: &str) -> Option<u32> {
    children_named(name).into_iter().find(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
            let c = String::from_utf8_lossy(&c);
            c.contains("--dbname=") && c.contains(db)
        })
    })
}

/// Another pgward (in this process) with `config`, e.g. on an existing catalog; its base URL once ready.
async fn start_other(config: pgward_server::Config) -> String {
    let what = "the other pgward never became ready";
    start_another(config, Duration::from_secs(30), what).await
}

#[tokio::test]
async fn a_database_that_tighter_rules_refuse_is_named_in_the_log_at_start() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let name = format!("on loopback {}", Uuid::new_v4().simple());
    admin
        .create_database(&new_database(&name, fleet().get(15).url("postgres")))
        .await
        .unwrap();
    // The same catalog under the default rules: loopback is nobody's.
    let mut config = app.config.clone();
    config.outbound = Default::default();
    config.outbound.allow_catalog_server = true;
    start_other(config).await;
    eventually_every(
        Duration::from_secs(30),
        Duration::from_millis(50),
        async || {
            crate::support::logs::captured().lines().any(|l| {
                l.contains("refused by the current rules")
                    && l.contains(&name)
                    && l.contains("loopback")
            })
        },
        |_| format!("no warning names {name}"),
    )
    .await;
}

/// Processes whose parent is this test process and whose name is `name`.
fn children_named(name: &str) -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // pid (comm) state ppid ...
            let Some((comm, rest)) = stat.split_once(") ") else {
                return false;
            };
            let ppid = rest
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok());
            comm.ends_with(&format!("({name}")) && ppid == Some(me)
        })
        .collect()
}

#[tokio::test]
async fn pg_dump_runs_without_any_of_pgwards_environment() {
    // This process has PGWARD_* variables (the test command's env.sh exports some): a client that
    // inherited the environment would show them.
    assert!(std::env::vars().any(|(k, _)| k.starts_with("PGWARD_")));
    let (_app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(18);
    let (db, database) = empty_db(&admin, server, "env").await;
    pagila::psql(server, &db, &["-c", "CREATE TABLE held (x int)"]);
    let t = create_task(&admin, "env", database, dest).await;

    // A lock held here keeps pg_dump waiting, so it can be looked at while it runs.
    let mut holder = hold_table(server, &db).await;
    let run = admin.run_task(t.id).await.unwrap();
    let pid = eventually_every(
        Duration::from_secs(60),
        Duration::from_millis(50),
        async || client_for("pg_dump", &db),
        |_| "pg_dump never started".into(),
    )
    .await;
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let vars: Vec<String> = environ
        .split(|b| *b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    assert!(
        !vars.iter().any(|v| v.starts_with("PGWARD_")),
        "pg_dump sees {vars:?}"
    );
    assert!(vars.iter().any(|v| v == "PGPASSFILE=/dev/null"), "{vars:?}");
    let done = wait_final(&admin, run.id).await;
    assert_eq!(done.status, ExecutionStatus::Success, "{done:?}");
}

#[tokio::test]
async fn psql_replays_a_dump_as_an_unprivileged_user_when_pgward_is_root() {
    let app = spawn_app().await;
    let (up, admin) = uploader(&app).await;
    let server = fleet().get(17);
    let (db, database) = empty_db(&admin, server, "who").await;
    pagila::psql(server, &db, &["-c", "CREATE TABLE held (x int)"]);
    let dump = "SELECT count(*) FROM held;\nCREATE TABLE after_lock ();\n";
    let exec = up.upload("who.sql", dump.into()).await;

    // psql waits on this lock, long enough to be looked at.
    let mut holder = hold_table(server, &db).await;
    let r = admin
        .create_restoration(&restore_into(exec.id, database))
        .await
        .unwrap();
    // The psql that replays the dump (not a `psql --version` pgward may run first); while there is
    // none, the restoration as the API shows it, for the message.
    let pid = eventually_every(
        Duration::from_secs(60),
        Duration::from_millis(50),
        async || match client_for("psql", &db) {
            Some(pid) => Ok(pid),
            None => Err(admin.get_restoration(r.id).await),
        },
        |restoration| {
            format!(
                "psql never started: {restoration:?} {:?}",
                children_named("psql")
            )
        },
    )
    .await;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    let uid: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    let me = nix::unistd::geteuid().as_raw();
    if me == 0 {
        let client = nix::unistd::User::from_name("pgward-client")
            .unwrap()
            .expect("the client user exists");
        assert_eq!(uid, client.uid.as_raw(), "psql runs as root");
        assert_ne!(
            uid,
            nix::unistd::User::from_name("pgward")
                .unwrap()
                .map_or(u32::MAX, |u| u.uid.as_raw())
        );
    } else {
        // Not root: psql runs as this user, with no more rights than pgward.
        assert_eq!(uid, me);
    }
    let r = wait_restored(&admin, r.id).await;
    assert_eq!(r.status, RestorationStatus::Success, "{r:?}");
    assert_eq!(tables(server, &db), "after_lock,held");
}

#[tokio::test]
async fn connection_strings_that_would_connect_elsewhere_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let server = fleet().get(15);
    let good = server.url("postgres");
    let attacks = [
        format!("{good}?host=10.0.0.9"),
        format!("{good}?hostaddr=127.0.0.2"),
        format!("{good}?port=1"),
        format!("{good}?dbname=template1"),
        format!("{good}?user=someone_else"),
        format!("{good}?service=prod"),
        format!("{good}?servicefile=/etc/passwd"),
        format!("{good}?passfile=/root/.pgpass"),
        format!("{good}?sslmode=disable&options=-c%20x=1&unknown_option=1"),
        "postgres://postgres@%2Ftmp/postgres".to_string(),
        "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres".to_string(),
        "postgres://postgres@h1,h2/postgres".to_string(),
    ];
    for raw in &attacks {
        let e = admin
            .create_database(&CreateDatabaseRequest {
                skip_connection_test: true,
                ..new_database(&format!("attack {}", Uuid::new_v4().simple()), raw.clone())
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::ValidationFailed), "{raw}: {e:?}");
        let e = admin.test_connection(raw).await.unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::ValidationFailed), "{raw}: {e:?}");
    }
    // The catalog's own database, even on a server databases may share with it.
    let catalog = fleet().catalog().url(&app.catalog_db);
    let e = admin.test_connection(&catalog).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::AddressNotAllowed), "{e:?}");
    // Cloud metadata is never dialled.
    let e = admin
        .test_connection("postgres://u:p@169.254.169.254:5432/db")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::AddressNotAllowed), "{e:?}");
    assert!(
        admin
            .list_databases(&DatabaseListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn webhooks_aimed_at_loopback_or_metadata_addresses_are_refused() {
    // The defaults: webhooks may not reach loopback, link-local or metadata addresses.
    let app = spawn_app_with(|c| c.outbound = Default::default()).await;
    let admin = app.admin().await;
    let receiver = Receiver::start(vec![]);
    for url in [
        receiver.url("/hook"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        receiver.url("/hook").replace("127.0.0.1", "localhost"),
        "http://[::ffff:127.0.0.1]:9/".to_string(),
    ] {
        let e = admin
            .create_webhook(&custom("inside", url.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::AddressNotAllowed), "{url}: {e:?}");
    }
    assert!(admin.list_webhooks().await.unwrap().items.is_empty());
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn a_repointed_or_duplicated_webhook_keeps_no_credentials_of_the_old_receiver() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (old, new) = (Receiver::start(vec![]), Receiver::start(vec![]));
    let mut req = custom("creds", old.url("/hook"));
    req.headers = BTreeMap::from([("Authorization".to_string(), "Bearer s3cret".to_string())]);
    req.secret = Some("signing-secret".into());
    let hook = admin.create_webhook(&req).await.unwrap();
    assert!(hook.has_secret);

    let copy = admin.duplicate_webhook(hook.id).await.unwrap();
    assert!(!copy.has_secret && copy.header_names.is_empty(), "{copy:?}");

    let moved = repoint(&admin, hook.id, new.url("/hook")).await;
    assert!(
        !moved.has_secret && moved.header_names.is_empty(),
        "{moved:?}"
    );
    admin.test_webhook(hook.id).await.unwrap();
    let got = new.wait_for(1).await;
    assert!(
        !got[0].headers.contains_key("authorization")
            && !got[0].headers.contains_key("x-pgward-signature-256"),
        "{:?}",
        got[0].headers
    );
    assert!(old.requests().is_empty());
}

#[tokio::test]
async fn templates_that_would_exhaust_the_server_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for t in [
        "{{ 'x' * 99999999 }}",
        "{% set a = 'xx' %}{% for i in range(64) %}{% set a = a ~ a %}{% endfor %}{{ a }}",
        "{{ 'x'|replace('x', 'xxxxxxxxxx')|replace('x', 'xxxxxxxxxx') }}",
        "{% for a in range(100000) %}{% for b in range(100000) %}{{ event }}{% endfor %}{% endfor %}",
    ] {
        let e = admin
            .preview_webhook(&preview_request(WebhookKind::Custom, t, None))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::ValidationFailed), "{t}: {e:?}");
    }
    let mut req = custom("bomb", "https://example.com/hook".into());
    req.body_template = Some("{{ 'x' * 99999999 }}".into());
    let e = admin.create_webhook(&req).await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::ValidationFailed), "{e:?}");
    assert!(admin.list_webhooks().await.unwrap().items.is_empty());
}

#[tokio::test]
async fn an_api_token_cannot_mint_tokens_expires_and_ends_with_a_password_reset() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created = admin.create_token(&new_token("ci", None)).await.unwrap();
    let expires = created.api_token.expires_at.expect("every token expires");
    let days = (expires - chrono::Utc::now()).num_days();
    assert!((89..=90).contains(&days), "{days}");

    let robot = app.client.with_token(&created.token);
    let e = robot
        .create_token(&new_token("child", Some(3650)))
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(403), Some(ErrorCode::Forbidden)),
        "{e:?}"
    );
    assert_eq!(admin.list_tokens().await.unwrap().items.len(), 1);

    let db = sea_orm::Database::connect(fleet().catalog().url(&app.catalog_db))
        .await
        .unwrap();
    pgward_server::features::auth::service::reset_password(
        &db,
        ADMIN_EMAIL,
        "another long password",
    )
    .await
    .unwrap();
    assert_eq!(refused(robot.me()).await, 401);
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_every_api_token() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let other = app.client.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap();
    let token = admin
        .create_token(&new_token("ci", Some(30)))
        .await
        .unwrap()
        .token;
    let robot = app.client.with_token(&token);
    // An API token cannot change it; a wrong current password changes nothing.
    let e = robot
        .change_password(ADMIN_PASSWORD, "a brand new password")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::Forbidden), "{e:?}");
    let e = admin
        .change_password("not the password", "a brand new password")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::InvalidCredentials), "{e:?}");
    robot.me().await.unwrap();

    admin
        .change_password(ADMIN_PASSWORD, "a brand new password")
        .await
        .unwrap();
    admin.me().await.unwrap();
    assert_eq!(refused(robot.me()).await, 401);
    assert_eq!(refused(app.client.refresh(&other.refresh_token)).await, 401);
    assert_eq!(
        refused(app.client.login(ADMIN_EMAIL, ADMIN_PASSWORD)).await,
        401
    );
    app.client
        .login(ADMIN_EMAIL, "a brand new password")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_deleted_backup_waits_in_the_trash_and_comes_back() {
    let (app, admin, dest, dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(14);
    let (_, database) = pagila_db(&admin, server).await;
    let t = create_task(&admin, "trash", database, dest).await;
    let done = run_now(&admin, t.id).await;
    let file = dir.join(&done.objects[0].key);

    // One delete: in the trash, every copy still there, listed as trashed.
    let trashed = admin.delete_execution(done.id).await.unwrap();
    assert_eq!(trashed.status, ExecutionStatus::Trashed);
    assert!(file.exists());
    let listed = admin
        .list_executions(&ExecutionListQuery {
            status: Some(ExecutionStatus::Trashed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        listed.items.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![done.id]
    );
    // Out of the trash it is a backup again, and restores.
    let back = admin.untrash_execution(done.id).await.unwrap();
    assert_eq!(back.status, ExecutionStatus::Success);
    let name = format!("back_{}", Uuid::new_v4().simple());
    assert_eq!(
        restore(&admin, &restore_into_new(done.id, database, &name))
            .await
            .status,
        RestorationStatus::Success
    );
    // No request destroys it: a second delete is refused; only the purge after the grace period does.
    admin.delete_execution(done.id).await.unwrap();
    let e = admin.delete_execution(done.id).await.unwrap_err();
    assert_eq!(e.status(), Some(409));
    assert!(file.exists());
    let (state, _catalog) = app.background().await;
    let purge = pgward_server::features::executions::service::purge_expired_trash;
    assert_eq!(
        purge(&state, chrono::Utc::now()).await.unwrap(),
        0,
        "still in its grace period"
    );
    assert!(file.exists());
    let later = chrono::Utc::now() + chrono::Duration::days(8);
    assert_eq!(purge(&state, later).await.unwrap(), 1);
    let gone = admin.get_execution(done.id).await.unwrap();
    assert_eq!(gone.status, ExecutionStatus::Deleted);
    assert!(!file.exists());
    let e = admin.untrash_execution(done.id).await.unwrap_err();
    assert_eq!(e.status(), Some(409));
}

#[tokio::test]
async fn retention_never_counts_a_backup_whose_proof_failed_and_keeps_the_newest_proven_one() {
    let (app, admin, dest, dir) =
        with_disk(spawn_app_with(|c| c.worker.in_process = false).await).await;
    let database = add_database(&admin, fleet().get(17), "postgres").await;
    let mut spec = task("kept", database, vec![dest]);
    spec.retention = keep_last(2);
    let t = admin.create_task(&spec).await.unwrap().id;
    let mut catalog = app.catalog().await;
    let now = chrono::Utc::now();
    let mut ids = Vec::new();
    // Oldest first: verified, unchecked, verification failed, test-restore failed, unchecked.
    for (hours, verify, test_restore) in [
        (96, Some("ok"), None),
        (72, None, None),
        (48, Some("failed"), None),
        (24, None, Some("failed")),
        (1, None, None),
    ] {
        let id = fake_backup(
            &mut catalog,
            &dir,
            t,
            dest,
            now - chrono::Duration::hours(hours),
            "success",
        )
        .await;
        sqlx::query(
            "UPDATE executions SET verify_status = $2, test_restore_status = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(verify)
        .bind(test_restore)
        .execute(&mut catalog)
        .await
        .unwrap();
        ids.push(id);
    }
    let (state, _catalog) = app.background().await;
    let mut deleted = pgward_server::features::executions::service::apply_retention(&state, t, now)
        .await
        .unwrap();
    deleted.sort();
    // Keep-last 2 counts the two newest good backups (not the failed ones in between); the newest
    // verified one stays too; the two whose proof failed go, since newer good ones are kept.
    let mut expected = vec![ids[2], ids[3]];
    expected.sort();
    assert_eq!(deleted, expected);
    for id in [ids[0], ids[1], ids[4]] {
        assert_eq!(
            admin.get_execution(id).await.unwrap().status,
            ExecutionStatus::Success
        );
    }
}

#[tokio::test]
async fn a_schema_filter_that_matches_nothing_fails_the_backup() {
    let (_app, admin, dest, _dir) = with_disk(spawn_app().await).await;
    let server = fleet().get(17);
    let (_, database) = pagila_db(&admin, server).await;
    let mut spec = task("filtered", database, vec![dest]);
    spec.pg_dump_options.schemas = vec!["no_such_schema".into()];
    let done = run_now(&admin, admin.create_task(&spec).await.unwrap().id).await;
    assert_eq!(done.status, ExecutionStatus::Failed, "{done:?}");
    let said = format!("{:?} {:?}", done.message, done.stderr_tail);
    assert!(said.contains("no matching schemas"), "{said}");
}

#[tokio::test]
async fn beyond_loopback_setup_needs_the_code_from_the_log() {
    let app = spawn_app_with(|c| {
        c.server.bind = "0.0.0.0:0".parse().unwrap();
        c.auth.setup_code = Some(secrecy::SecretString::from("ABCD2345WXYZ"));
    })
    .await;
    let status = app.client.auth_status().await.unwrap();
    assert!(status.setup_required && status.setup_code_required);
    let setup = |code: Option<&str>| SetupRequest {
        email: ADMIN_EMAIL.into(),
        password: ADMIN_PASSWORD.into(),
        name: None,
        setup_code: code.map(str::to_string),
    };
    for code in [None, Some("WRONGWRONG12")] {
        let e = app.client.setup(&setup(code)).await.unwrap_err();
        assert_eq!(
            (e.status(), e.code()),
            (Some(403), Some(ErrorCode::SetupCodeInvalid)),
            "{code:?}"
        );
    }
    assert!(app.client.auth_status().await.unwrap().setup_required);
    app.client
        .setup(&setup(Some("abcd2345wxyz")))
        .await
        .unwrap();
    assert!(!app.client.auth_status().await.unwrap().setup_required);
}

#[tokio::test]
async fn password_guessing_is_slowed_per_account_across_clients() {
    // Behind a trusted proxy every attempt names another client: the account's backoff holds anyway.
    let app = spawn_app_with(|c| {
        c.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.auth.login_per_minute = 1000;
        c.auth.setup_code = Some(secrecy::SecretString::from("PROXY2345CODE"));
    })
    .await;
    // Behind a proxy the first user needs the setup code too.
    assert!(app.client.auth_status().await.unwrap().setup_code_required);
    app.client
        .setup(&SetupRequest {
            email: ADMIN_EMAIL.into(),
            password: ADMIN_PASSWORD.into(),
            name: None,
            setup_code: Some("PROXY2345CODE".into()),
        })
        .await
        .unwrap();
    let login = |client_ip: String, password: &'static str| {
        let http = app.http.clone();
        let url = app.url("/api/v1/auth/login");
        async move {
            http.post(url)
                .header("x-forwarded-for", format!("{client_ip}, 127.0.0.1"))
                .json(&LoginRequest {
                    email: ADMIN_EMAIL.into(),
                    password: password.into(),
                    refresh_cookie: false,
                })
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..5 {
        assert_eq!(
            login(format!("198.51.100.{i}"), "wrong password!").await,
            401
        );
    }
    // The right password from yet another client must wait too.
    assert_eq!(login("203.0.113.7".into(), ADMIN_PASSWORD).await, 429);

    // Without a trusted proxy, a forged X-Forwarded-For changes nothing: the peer is the client.
    let direct = spawn_app_with(|c| c.auth.login_per_minute = 2).await;
    direct.admin().await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let s = direct
            .http
            .post(direct.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("192.0.2.{i}"))
            .json(&LoginRequest {
                email: "nobody@example.com".into(),
                password: "whatever it is".into(),
                refresh_cookie: false,
            })
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        statuses.push(s);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[tokio::test]
async fn a_browsers_refresh_token_lives_in_an_http_only_strict_cookie() {
    let app = spawn_app().await;
    app.admin().await;
    // A browser's login: the refresh token as a cookie.
    let log_in = || {
        app.http
            .post(app.url("/api/v1/auth/login"))
            .json(&LoginRequest {
                email: ADMIN_EMAIL.into(),
                password: ADMIN_PASSWORD.into(),
                refresh_cookie: true,
            })
            .send()
    };
    let login = log_in().await.unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let cookie_of = |r: &reqwest::Response| -> String {
        let c = r.headers()["set-cookie"].to_str().unwrap().to_string();
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/api/v1/auth"] {
            assert!(c.contains(attr), "{attr} missing: {c}");
        }
        c.split(';').next().unwrap().to_string()
    };
    let first = cookie_of(&login);
    let pair: TokenPair = login.json().await.unwrap();
    assert!(pair.refresh_token.is_empty(), "the body must not carry it");

    let refresh = |cookie: String| {
        let (http, url) = (app.http.clone(), app.url("/api/v1/auth/refresh"));
        async move {
            http.post(url)
                .header("cookie", cookie)
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap()
        }
    };
    let renewed = refresh(first.clone()).await;
    assert_eq!(renewed.status().as_u16(), 200);
    let second = cookie_of(&renewed);
    assert_ne!(second, first, "the refresh token rotates");
    let pair: TokenPair = renewed.json().await.unwrap();
    let client = app.client.with_token(&pair.access_token);
    client.me().await.unwrap();
    // The old cookie was single-use: presented again, it is refused and ends its session (someone holds
    // a copy).
    assert_eq!(refresh(first).await.status().as_u16(), 401);
    assert_eq!(refused(client.me()).await, 401);
    assert_eq!(refresh(second).await.status().as_u16(), 401);

    // Logout ends the session and tells the browser to forget the cookie.
    let login = log_in().await.unwrap();
    let second = cookie_of(&login);
    let pair: TokenPair = login.json().await.unwrap();
    let out = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&pair.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    let cleared = out.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("pgward_refresh=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(refresh(second).await.status().as_u16(), 401);
}

#[tokio::test]
async fn every_response_carries_the_browser_defences() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/api/v1/auth/status",
        "/api/v1/databases",
        "/api/docs/",
        "/healthz",
    ] {
        let resp = app.get(path, None).await;
        let h = resp.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline' 'self'")
                && !csp
                    .split(';')
                    .any(|d| d.trim().starts_with("script-src") && d.contains("unsafe-inline")),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
    // The web UI itself has no inline script for the policy to block.
    let index = app.get_text("/", None).await;
    assert!(
        !index.contains("<script>") && !index.contains("<script type=\"module\">"),
        "{index}"
    );
}
