//! What pg_dump is asked to produce, and how the stream is compressed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DumpFormat {
    /// SQL text, replayed with psql.
    Plain,
    /// pg_dump's custom archive, restored with pg_restore (selective, parallel).
    Custom,
    /// pg_dump's directory archive, written with parallel jobs into a temporary directory and stored as
    /// one tar stream (`pg_restore -Fd -j` after unpacking).
    Directory,
}

impl DumpFormat {
    pub fn pg_dump_flag(self) -> &'static str {
        match self {
            Self::Plain => "--format=plain",
            Self::Custom => "--format=custom",
            Self::Directory => "--format=directory",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Plain => "sql",
            Self::Custom => "dump",
            Self::Directory => "tar",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
pub enum Compression {
    None,
    Zstd { level: i32 },
    Gzip { level: u32 },
    Lz4,
}

impl Compression {
    pub fn extension(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Zstd { .. } => Some("zst"),
            Self::Gzip { .. } => Some("gz"),
            Self::Lz4 => Some("lz4"),
        }
    }
}

/// pg_dump switches a task can set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DumpOptions {
    pub data_only: bool,
    pub schema_only: bool,
    pub clean: bool,
    pub if_exists: bool,
    pub create: bool,
    pub no_comments: bool,
    pub no_owner: bool,
    pub no_privileges: bool,
    pub schemas: Vec<String>,
    pub exclude_schemas: Vec<String>,
    pub tables: Vec<String>,
    pub exclude_tables: Vec<String>,
}

impl DumpOptions {
    /// The arguments for pg_dump; patterns are separate arguments, so no shell quoting is involved.
    pub fn args(&self, format: DumpFormat) -> Vec<String> {
        let mut a = vec![
            format.pg_dump_flag().to_string(),
            "--no-password".to_string(),
        ];
        // pg_dump compresses archives itself by default; pgward compresses the stream instead.
        if format != DumpFormat::Plain {
            a.push("--compress=0".into());
        }
        let flags = [
            (self.data_only, "--data-only"),
            (self.schema_only, "--schema-only"),
            (self.clean, "--clean"),
            (self.if_exists, "--if-exists"),
            (self.create, "--create"),
            (self.no_comments, "--no-comments"),
            (self.no_owner, "--no-owner"),
            (self.no_privileges, "--no-privileges"),
        ];
        a.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, f)| f.to_string()),
        );
        for (list, flag) in [
            (&self.schemas, "--schema"),
            (&self.exclude_schemas, "--exclude-schema"),
            (&self.tables, "--table"),
            (&self.exclude_tables, "--exclude-table"),
        ] {
            for p in list {
                a.push(format!("{flag}={p}"));
            }
        }
        // A schema or table filter that matches nothing is an error, not an empty "successful" dump
        // that retention would then keep in place of real backups.
        if !self.schemas.is_empty() || !self.tables.is_empty() {
            a.push("--strict-names".into());
        }
        a
    }
}
