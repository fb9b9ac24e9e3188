//! The JSON sidecar stored next to every backup: enough to know what it is, verify it, and restore it
//! without the catalog.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::options::{Compression, DumpFormat, DumpOptions, Placement};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub pgward_version: String,
    pub created_at: DateTime<Utc>,
    pub object: String,
    pub format: DumpFormat,
    pub compression: Compression,
    /// Where `compression` happened: inside the archive (pg_dump) or around the stream (pgward).
    /// Manifests written before placements existed are all `stream`.
    #[serde(default)]
    pub compressed_in: Placement,
    pub options: DumpOptions,
    pub server_version: String,
    pub pg_dump_version: String,
    pub database: String,
    pub database_size: Option<i64>,
    pub table_count: Option<i64>,
    /// Bytes pg_dump produced.
    pub dump_bytes: u64,
    /// Bytes stored (after compression and encryption).
    pub size: u64,
    pub sha256: String,
    /// sha256 fingerprints of the age recipients the backup is encrypted to (empty: not encrypted).
    pub recipient_fingerprints: Vec<String>,
    /// Rows per table (`schema.table`) in the very snapshot pg_dump read, when the task test-restores:
    /// what a test-restore must find again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_counts: Option<std::collections::BTreeMap<String, i64>>,
    /// Which run of which task wrote it, so a catalog can be rebuilt from the manifests alone
    /// (`pgward catalog rebuild`). Absent in manifests of `pgward dump` and of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// The `pg_dumpall --globals-only` file stored beside the dump, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub globals: Option<String>,
}

/// The run a backup came from, as pgward's catalog knew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub execution_id: uuid::Uuid,
    pub task_id: Option<uuid::Uuid>,
    pub task_name: String,
    pub database_id: Option<uuid::Uuid>,
    /// `scheduled`, `manual`, ... (the execution's trigger).
    pub trigger: String,
    pub scheduled_for: DateTime<chrono::FixedOffset>,
    pub started_at: Option<DateTime<Utc>>,
    /// The whole-server run this database's backup belongs to (its execution id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<uuid::Uuid>,
    /// A whole-server run's database: its name on the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_name: Option<String>,
}

/// A stable, short identifier of an age recipient that does not repeat the key itself.
pub fn recipient_fingerprint(recipient: &str) -> String {
    let d = Sha256::digest(recipient.trim().as_bytes());
    format!("sha256:{}", &hex::encode(d)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_written_before_placements_reads_as_compressed_around_the_stream() {
        let old: Manifest = serde_json::from_str(include_str!(
            "../../../../tests/data/legacy/legacy.dump.zst.manifest.json"
        ))
        .unwrap();
        assert_eq!(old.compressed_in, Placement::Stream);
        assert_eq!(old.compression, Compression::Zstd { level: 3 });
        let again: Manifest = serde_json::from_str(&serde_json::to_string(&old).unwrap()).unwrap();
        assert_eq!(again.compressed_in, Placement::Stream);
    }
}
