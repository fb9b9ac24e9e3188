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

impl Compression {
    /// The zstd level when none is given: the level Databasus uses, where zstd in the archive is at
    /// least as small as Databasus's archive at its speed (bench/RESULTS.md has the measurements).
    pub const DEFAULT_ZSTD_LEVEL: i32 = 5;
    /// The gzip level when none is given (gzip's own default).
    pub const DEFAULT_GZIP_LEVEL: u32 = 6;

    /// The oldest pg_dump that compresses an archive with this algorithm itself; `None` for no
    /// compression. zstd and lz4 archives came with PostgreSQL 16, gzip is as old as the custom format.
    pub fn in_archive_since(self) -> Option<u32> {
        match self {
            Self::None => None,
            Self::Gzip { .. } => Some(0),
            Self::Zstd { .. } | Self::Lz4 => Some(16),
        }
    }

    /// pg_dump's `--compress` switch for an archive that compresses itself this way (a bare level is
    /// gzip, the one spelling every pg_dump understands).
    fn pg_dump_switch(self) -> String {
        match self {
            Self::None => "--compress=0".into(),
            Self::Gzip { level } => format!("--compress={level}"),
            Self::Zstd { level } => format!("--compress=zstd:{level}"),
            Self::Lz4 => "--compress=lz4".into(),
        }
    }
}

/// Where a backup is compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// By pg_dump, inside the archive: each table's data on its own. The archive is smaller than the
    /// compressed stream of an uncompressed archive, and pg_restore reads the stored object as it is
    /// (seeking, parallel jobs) instead of a decompressed scratch copy.
    Archive,
    /// By pgward, around the whole stream: plain SQL (psql reads no compressed input), or no installed
    /// pg_dump can compress the archive that way. Every backup made before placements existed.
    #[default]
    Stream,
}

impl Placement {
    /// Where `compression` of a `format` backup happens, given the newest installed client major: in
    /// the archive whenever an installed pg_dump can do it (the backup then runs the client of
    /// [`Placement::client_major`]).
    pub fn choose(
        format: DumpFormat,
        compression: Compression,
        newest_client: Option<u32>,
    ) -> Self {
        match (format, compression.in_archive_since(), newest_client) {
            (DumpFormat::Plain, ..) => Self::Stream,
            (_, Some(since), Some(newest)) if newest >= since => Self::Archive,
            _ => Self::Stream,
        }
    }

    /// The client major to run against a server of `server_major`: its own, or the oldest that can
    /// compress in the archive when that is newer. A newer pg_dump reads older servers and writes SQL for
    /// the server it read (the round-trip tests restore such archives into their source's major).
    pub fn client_major(self, compression: Compression, server_major: u32) -> u32 {
        match (self, compression.in_archive_since()) {
            (Self::Archive, Some(since)) => server_major.max(since),
            _ => server_major,
        }
    }

    /// What pgward's own stream compression is: none when pg_dump compresses.
    pub fn stream(self, compression: Compression) -> Compression {
        match self {
            Self::Archive => Compression::None,
            Self::Stream => compression,
        }
    }

    /// What pg_dump's compression is: none when pgward compresses the stream.
    pub fn archive(self, compression: Compression) -> Compression {
        match self {
            Self::Archive => compression,
            Self::Stream => Compression::None,
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
    ///
    /// `archive` is the compression pg_dump applies inside an archive (see [`Placement`]); without it an
    /// archive is written uncompressed (pg_dump would gzip it by default) for pgward to compress the
    /// stream.
    pub fn args(&self, format: DumpFormat, archive: Compression) -> Vec<String> {
        let mut a = vec![
            format.pg_dump_flag().to_string(),
            "--no-password".to_string(),
        ];
        if format != DumpFormat::Plain {
            a.push(archive.pg_dump_switch());
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

#[cfg(test)]
mod tests {
    use super::*;

    const ZSTD: Compression = Compression::Zstd { level: 5 };

    #[test]
    fn archives_compress_inside_when_an_installed_pg_dump_can() {
        for format in [DumpFormat::Custom, DumpFormat::Directory] {
            assert_eq!(
                Placement::choose(format, ZSTD, Some(18)),
                Placement::Archive
            );
            // zstd and lz4 need pg_dump 16; gzip does not.
            assert_eq!(Placement::choose(format, ZSTD, Some(15)), Placement::Stream);
            assert_eq!(
                Placement::choose(format, Compression::Lz4, Some(15)),
                Placement::Stream
            );
            assert_eq!(
                Placement::choose(format, Compression::Gzip { level: 6 }, Some(13)),
                Placement::Archive
            );
            assert_eq!(
                Placement::choose(format, Compression::None, Some(18)),
                Placement::Stream
            );
            assert_eq!(Placement::choose(format, ZSTD, None), Placement::Stream);
        }
        // psql reads plain SQL as it is: pgward compresses the stream.
        assert_eq!(
            Placement::choose(DumpFormat::Plain, ZSTD, Some(18)),
            Placement::Stream
        );
    }

    #[test]
    fn an_older_server_is_dumped_by_the_oldest_client_that_compresses_inside() {
        assert_eq!(Placement::Archive.client_major(ZSTD, 13), 16);
        assert_eq!(Placement::Archive.client_major(ZSTD, 17), 17);
        assert_eq!(
            Placement::Archive.client_major(Compression::Gzip { level: 6 }, 13),
            13
        );
        assert_eq!(Placement::Stream.client_major(ZSTD, 13), 13);
    }

    #[test]
    fn pg_dump_compresses_inside_or_not_at_all() {
        let archive = |c| DumpOptions::default().args(DumpFormat::Custom, c);
        assert!(archive(ZSTD).contains(&"--compress=zstd:5".to_string()));
        assert!(archive(Compression::Gzip { level: 9 }).contains(&"--compress=9".to_string()));
        assert!(archive(Compression::None).contains(&"--compress=0".to_string()));
        let plain = DumpOptions::default().args(DumpFormat::Plain, Compression::None);
        assert!(!plain.iter().any(|a| a.starts_with("--compress")));
    }
}
