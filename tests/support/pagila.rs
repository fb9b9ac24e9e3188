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
