//! A task's spec as the engine's dump options.

use pgward_api_types::{BackupFormat, CompressionAlgorithm, TaskSpec};
use pgward_engine::backup::{Compression, DumpFormat, DumpOptions};

pub fn dump_format(f: BackupFormat) -> DumpFormat {
    match f {
        BackupFormat::Plain => DumpFormat::Plain,
        BackupFormat::Custom => DumpFormat::Custom,
        BackupFormat::Directory => DumpFormat::Directory,
    }
}

pub fn compression(spec: &TaskSpec) -> Compression {
    match spec.compression {
        CompressionAlgorithm::Zstd => Compression::Zstd {
            level: spec
                .compression_level
                .unwrap_or(Compression::DEFAULT_ZSTD_LEVEL),
        },
        CompressionAlgorithm::Gzip => Compression::Gzip {
            level: spec
                .compression_level
                .map_or(Compression::DEFAULT_GZIP_LEVEL, |l| l as u32),
        },
        CompressionAlgorithm::Lz4 => Compression::Lz4,
        CompressionAlgorithm::None => Compression::None,
    }
}

pub fn dump_options(spec: &TaskSpec) -> DumpOptions {
    let o = &spec.pg_dump_options;
    DumpOptions {
        data_only: o.data_only,
        schema_only: o.schema_only,
        clean: o.clean,
        if_exists: o.if_exists,
        create: o.create,
        no_comments: o.no_comments,
        no_owner: o.no_owner,
        no_privileges: o.no_privileges,
        schemas: o.schemas.clone(),
        exclude_schemas: o.exclude_schemas.clone(),
        tables: o.tables.clone(),
        exclude_tables: o.exclude_tables.clone(),
    }
}
