//! The restore pipeline: stored object -> sha256 and byte count -> age decryption -> decompression ->
//! psql (plain) or pg_restore (custom, directory).
//!
//! Integrity before commit: the last bytes of the decoded stream reach the client only after the whole
//! object was read and its size and sha256 matched the recorded ones. psql and pg_restore cannot finish (so
//! cannot commit a single-transaction restore) before they have read everything; on any integrity failure
//! the client is killed and the server rolls its transaction back. Parallel custom restores and directory
//! archives need a file or a directory: they are written to a scratch directory first, verified, and only
//! then handed to pg_restore.
//!
//! Failure is failure: psql runs with `ON_ERROR_STOP=1`, pg_restore with `--exit-on-error`; any non-zero
//! exit is a failed restore with the client's stderr.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::backup::{Compression, DumpFormat};
use crate::pg::ConnInfo;

mod archive;
mod clients;
mod contents;
mod decode;
mod run;

use archive::*;
pub(crate) use clients::kill_group;
use clients::*;
pub use contents::{TocEntry, list_contents, parse_toc};
use decode::*;
pub use run::run_restore;

/// What the object's name says about its contents: `<name>.<sql|dump|tar>[.zst|.gz|.lz4][.age]`.
pub fn layout_of(key: &str) -> Option<(DumpFormat, Compression, bool)> {
    let (rest, encrypted) = match key.strip_suffix(".age") {
        Some(r) => (r, true),
        None => (key, false),
    };
    let (rest, compression) = if let Some(r) = rest.strip_suffix(".zst") {
        (r, Compression::Zstd { level: 3 })
    } else if let Some(r) = rest.strip_suffix(".gz") {
        (r, Compression::Gzip { level: 6 })
    } else if let Some(r) = rest.strip_suffix(".lz4") {
        (r, Compression::Lz4)
    } else {
        (rest, Compression::None)
    };
    let format = if rest.ends_with(".sql") {
        DumpFormat::Plain
    } else if rest.ends_with(".dump") {
        DumpFormat::Custom
    } else if rest.ends_with(".tar") {
        DumpFormat::Directory
    } else {
        return None;
    };
    Some((format, compression, encrypted))
}

/// How the archive is replayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Drop existing objects first: `--clean --if-exists` for archives; for plain dumps the caller
    /// empties the target first (`pg::admin::empty_database`).
    pub clean: bool,
    /// All or nothing: one transaction (not with parallel jobs).
    pub single_transaction: bool,
    /// pg_restore `--jobs` (archives only).
    pub jobs: u32,
    pub no_owner: bool,
    pub no_privileges: bool,
    /// Restore only these schemas / tables (archives only; pg_restore `--schema` / `--table`).
    pub schemas: Vec<String>,
    pub tables: Vec<String>,
    /// For `pg_dumpall --globals-only` files: roles and tablespaces that exist already are expected
    /// (`CREATE ROLE postgres` always is), so "already exists" errors are tolerated; any other error
    /// still fails the restore.
    pub globals: bool,
}

impl RestoreOptions {
    /// Options that make no sense for `format`, as (field, reason).
    pub fn check(&self, format: DumpFormat) -> Vec<(&'static str, String)> {
        let mut bad = Vec::new();
        if format == DumpFormat::Plain {
            let archive_only = [
                ("jobs", self.jobs > 1),
                ("no_owner", self.no_owner),
                ("no_privileges", self.no_privileges),
                ("schemas", !self.schemas.is_empty()),
                ("tables", !self.tables.is_empty()),
            ];
            for (field, set) in archive_only {
                if set {
                    bad.push((
                        field,
                        "plain SQL dumps replay as written: this needs a custom or directory dump"
                            .to_string(),
                    ));
                }
            }
        }
        if !self.schemas.is_empty() && !self.tables.is_empty() {
            bad.push((
                "tables",
                "choose whole schemas or single tables, not both".to_string(),
            ));
        }
        if self.single_transaction && self.jobs > 1 {
            bad.push((
                "jobs",
                "parallel jobs cannot run in a single transaction".to_string(),
            ));
        }
        if self.jobs > 32 {
            bad.push(("jobs", "at most 32".to_string()));
        }
        bad
    }

    fn pg_restore_args(&self, format: DumpFormat) -> Vec<String> {
        let mut a = vec![
            "--exit-on-error".to_string(),
            "--no-password".to_string(),
            match format {
                DumpFormat::Directory => "--format=directory",
                _ => "--format=custom",
            }
            .to_string(),
        ];
        if self.single_transaction {
            a.push("--single-transaction".into());
        }
        if self.jobs > 1 {
            a.push(format!("--jobs={}", self.jobs));
        }
        if self.clean {
            a.extend(["--clean".to_string(), "--if-exists".to_string()]);
        }
        if self.no_owner {
            a.push("--no-owner".into());
        }
        if self.no_privileges {
            a.push("--no-privileges".into());
        }
        // pg_restore's --table takes a bare name (no schema): `schema.table` becomes --schema and
        // --table, which select that table. --strict-names fails a name that matches nothing, instead
        // of restoring nothing and reporting success.
        let mut schemas: Vec<&str> = self.schemas.iter().map(String::as_str).collect();
        for t in &self.tables {
            let (schema, table) = t.split_once('.').unwrap_or(("", t.as_str()));
            if !schema.is_empty() && !schemas.contains(&schema) {
                schemas.push(schema);
            }
            a.push(format!("--table={table}"));
        }
        for s in schemas {
            a.push(format!("--schema={s}"));
        }
        if !self.schemas.is_empty() || !self.tables.is_empty() {
            a.push("--strict-names".into());
        }
        a
    }
}

pub struct RestoreRequest {
    /// The `bin` directory of the client set to use (psql, pg_restore).
    pub client_bin_dir: PathBuf,
    /// The database to restore into.
    pub conn: ConnInfo,
    pub format: DumpFormat,
    pub compression: Compression,
    pub encrypted: bool,
    /// The stored object, as it was written.
    pub source: BoxStream<'static, Result<Bytes, String>>,
    /// The same object as a file pgward can read (on a local destination). An archive pg_restore can
    /// read as it is stored (custom format, not encrypted, compressed inside or not at all) is then
    /// verified where it lies — `source` is read to the end and checked — and handed to pg_restore
    /// without a scratch copy.
    pub local_file: Option<PathBuf>,
    /// The recorded checksum and size; `None` skips that check (nothing was recorded).
    pub expected_sha256: Option<String>,
    pub expected_size: Option<u64>,
    /// age identities (`AGE-SECRET-KEY-1...`), held only in memory for this restore.
    pub identities: Vec<String>,
    pub options: RestoreOptions,
    /// Parent of the scratch directory for parallel custom and directory restores.
    pub work_dir: PathBuf,
    /// Object bytes read so far.
    pub bytes_read: Arc<AtomicU64>,
    pub cancel: CancellationToken,
    /// The decoded (decrypted, decompressed) stream is refused beyond this many bytes: a decompression
    /// bomb stops there. Spooled restores are also held to the work directory's free space.
    pub max_decoded: Option<u64>,
    /// psql runs as this user (pgward as root): what a dump might still make it do, it does without
    /// root's rights. It reads only its standard input, so it needs no access to the work directory.
    pub run_as: Option<crate::pg::client::ClientUser>,
}

#[derive(Debug, Clone)]
pub struct RestoreOutcome {
    pub bytes_read: u64,
    pub sha256: String,
    pub stderr_tail: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RestoreError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("reading the backup failed: {0}")]
    Source(String),
    #[error("the backup is truncated: {got} of {expected} bytes")]
    Truncated { expected: u64, got: u64 },
    #[error("the backup is corrupted: sha256 {actual} does not match the recorded {expected}")]
    ChecksumMismatch { expected: String, actual: String },
    #[error("cannot decrypt the backup: {0}")]
    Decryption(String),
    #[error("the backup's compressed stream is corrupt: {0}")]
    CorruptStream(String),
    #[error("{client} failed ({exit})")]
    Client {
        client: &'static str,
        exit: crate::pg::client::ClientExit,
        stderr: String,
    },
    #[error("the archive is refused: {0}")]
    UnsafeArchive(String),
    #[error(
        "the backup decompresses to more than {0} bytes, more than its recorded size (or the allowed \
         ratio, or the work directory's free space) allows"
    )]
    DecompressionLimit(u64),
    #[error("the dump tries to run a psql meta-command, which pgward never executes: {0}")]
    MetaCommand(String),
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Io(String),
}

impl RestoreError {
    /// A stable machine-readable code for the catalog and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_request",
            Self::Source(_) => "backup_unreadable",
            Self::Truncated { .. } => "backup_truncated",
            Self::ChecksumMismatch { .. } => "checksum_mismatch",
            Self::Decryption(_) => "decryption_failed",
            Self::CorruptStream(_) => "corrupt_stream",
            Self::Client { .. } => "restore_failed",
            Self::UnsafeArchive(_) => "unsafe_archive",
            Self::DecompressionLimit(_) => "decompression_limit",
            Self::MetaCommand(_) => "dump_meta_command",
            Self::Cancelled => "cancelled",
            Self::Io(_) => "io_error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_object_name_tells_format_compression_and_encryption() {
        assert_eq!(
            layout_of("a/b-20261125T020000+0100-abcd.dump.zst"),
            Some((DumpFormat::Custom, Compression::Zstd { level: 3 }, false))
        );
        assert_eq!(
            layout_of("x.sql.gz.age"),
            Some((DumpFormat::Plain, Compression::Gzip { level: 6 }, true))
        );
        assert_eq!(
            layout_of("x.tar.lz4"),
            Some((DumpFormat::Directory, Compression::Lz4, false))
        );
        assert_eq!(
            layout_of("x.tar"),
            Some((DumpFormat::Directory, Compression::None, false))
        );
        assert_eq!(layout_of("x.zip"), None);
    }

    #[test]
    fn toc_lines_parse_into_kind_schema_name_and_owner() {
        let listing = ";\n; Archive created at 2026-11-25\n;\n\
            215; 1259 16420 TABLE public actor postgres\n\
            3706; 0 16503 TABLE DATA public actor postgres\n\
            3; 2615 2200 SCHEMA - public pg_database_owner\n\
            4282; 0 0 COMMENT - SCHEMA public pg_database_owner\n\
            3550; 2606 16612 FK CONSTRAINT public film_actor film_actor_actor_id_fkey postgres\n\
            250; 1255 16401 FUNCTION public film_in_stock(integer, integer) postgres\n";
        let toc = parse_toc(listing);
        assert_eq!(toc.len(), 6);
        assert_eq!(
            toc[1],
            TocEntry {
                id: 3706,
                kind: "TABLE DATA".into(),
                schema: Some("public".into()),
                name: "actor".into(),
                owner: Some("postgres".into()),
            }
        );
        assert_eq!(
            (toc[2].schema.as_deref(), toc[2].name.as_str()),
            (None, "public")
        );
        assert_eq!(
            (toc[3].kind.as_str(), toc[3].name.as_str()),
            ("COMMENT", "SCHEMA public")
        );
        assert_eq!(toc[4].kind, "FK CONSTRAINT");
        assert_eq!(toc[4].name, "film_actor film_actor_actor_id_fkey");
        assert_eq!(toc[5].name, "film_in_stock(integer, integer)");
    }

    #[test]
    fn globals_skip_the_connecting_role_and_keep_the_others() {
        let sql = "CREATE ROLE postgres;\nALTER ROLE postgres WITH SUPERUSER PASSWORD 'x';\n\
                   CREATE ROLE reporting;\nALTER ROLE reporting WITH NOLOGIN;\nCREATE ROLE postgres_ro;\n";
        let mut r = SkipRole::new(
            Box::new(io::Cursor::new(sql.as_bytes().to_vec())),
            "postgres",
        );
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(
            out,
            "CREATE ROLE reporting;\nALTER ROLE reporting WITH NOLOGIN;\nCREATE ROLE postgres_ro;\n"
        );
    }

    #[test]
    fn plain_dumps_refuse_archive_only_options() {
        // Clean is not one of them: for a plain dump the caller empties the target first.
        let o = RestoreOptions {
            clean: true,
            no_owner: true,
            tables: vec!["public.film".into()],
            ..Default::default()
        };
        let fields: Vec<_> = o
            .check(DumpFormat::Plain)
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(fields, vec!["no_owner", "tables"]);
        assert!(o.check(DumpFormat::Custom).is_empty());
        let o = RestoreOptions {
            single_transaction: true,
            jobs: 4,
            ..Default::default()
        };
        assert_eq!(o.check(DumpFormat::Directory).len(), 1);
    }
}
