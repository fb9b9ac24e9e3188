//! The pagila sample database (tests/data), loaded with generated rows into fleet servers.

use std::path::PathBuf;
use std::process::Command;

use super::fleet::{PgServer, pg_root};

/// psql/pg_dump/pg_restore for a server major: its own, or 14's for 13 (the 13 build ships no clients).
pub fn client_bin(major: u32, tool: &str) -> PathBuf {
    let m = if major < 14 { 14 } else { major };
    pg_root().join(m.to_string()).join("bin").join(tool)
}

pub fn psql(server: &PgServer, db: &str, args: &[&str]) -> std::process::Output {
    Command::new(client_bin(server.major, "psql"))
        .arg(server.url(db))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .output()
        .expect("run psql")
}

/// What `sql` in `db` prints through `psql -At` (unaligned, no headers), trimmed. Whether psql
/// succeeded is not checked: a failed query shows as an unexpected answer.
pub fn query(server: &PgServer, db: &str, sql: &str) -> String {
    let out = psql(server, db, &["-At", "-c", sql]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Creates database `db` on `server`, empty.
pub fn create_db(server: &PgServer, db: &str) {
    let out = psql(
        server,
        "postgres",
        &["-c", &format!("CREATE DATABASE \"{db}\"")],
    );
    assert!(
        out.status.success(),
        "create {db}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Creates database `<prefix>_<uuid>` on `server` and runs `sql` in it (what the test needs there);
/// psql must succeed, the failure shows its output. The database's name.
pub fn db_with(server: &PgServer, prefix: &str, sql: &str) -> String {
    let db = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    create_db(server, &db);
    let out = psql(server, &db, &["-c", sql]);
    assert!(out.status.success(), "{out:?}");
    db
}

/// Creates `db` and loads the pagila schema plus generated rows at `scale`.
pub fn load(server: &PgServer, db: &str, scale: u32) {
    create_db(server, db);
    let data = super::repo_root().join("tests/data");
    let out = psql(
        server,
        db,
        &[
            "-v",
            &format!("scale={scale}"),
            "-f",
            &data.join("pagila-schema.sql").to_string_lossy(),
            "-f",
            &data.join("pagila-data.sql").to_string_lossy(),
        ],
    );
    assert!(
        out.status.success(),
        "load pagila into {db}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Row counts of the tables a restore must bring back, as one comparable string.
pub fn fingerprint(server: &PgServer, db: &str) -> String {
    let sql = "SELECT string_agg(format('%s=%s', c.relname, (xpath('/row/n/text()', \
               query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text), ',' ORDER BY c.relname) \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')";
    let out = psql(server, db, &["-At", "-c", sql]);
    assert!(
        out.status.success(),
        "fingerprint {db}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `pg_dump --schema-only` of `db`, without what differs between any two dumps: the random key of the
/// `\restrict` / `\unrestrict` meta-commands (pg_dump releases since August 2025) and comments.
pub fn schema_dump(server: &PgServer, db: &str) -> String {
    let out = Command::new(client_bin(server.major, "pg_dump"))
        .args(["--schema-only", "--no-password", "-d", &server.url(db)])
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "schema dump of {db}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .filter(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Per table (every user schema), an md5 over its rows in a total order: two databases with equal
/// results hold the same data.
pub fn row_checksums(server: &PgServer, db: &str) -> String {
    let sql = "SELECT string_agg(format('%s.%s=%s', n.nspname, c.relname, (xpath('/row/h/text()', \
               query_to_xml(format('SELECT md5(coalesce(string_agg(t::text, E''\\n'' ORDER BY t::text), '''')) AS h FROM %I.%I t', \
               n.nspname, c.relname), false, true, '')))[1]::text), ',' ORDER BY n.nspname, c.relname) \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
               AND c.relkind = 'r'";
    let out = psql(server, db, &["-At", "-c", sql]);
    assert!(
        out.status.success(),
        "row checksums of {db}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(s.contains("public.film="), "no tables in {db}: {s}");
    s
}
