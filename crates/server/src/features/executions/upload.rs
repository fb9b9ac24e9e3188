//! Dumps uploaded from outside: streamed into a destination (hashed, never buffered whole), recorded
//! as a successful execution with trigger `upload`, so they can be verified, downloaded and restored
//! like any backup.

use actix_web::web::Bytes;
use chrono::Utc;
use futures::Stream;
use pgward_api_types::{Execution, ExecutionObject, ExecutionStatus};
use pgward_engine::backup::import::{ImportError, import_stream};
use pgward_engine::backup::{DumpOptions, Manifest, naming};
use pgward_engine::restore::layout_of;
use pgward_entity::executions;
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use crate::error::AppError;
use crate::features::destinations;
use crate::state::AppState;

/// The body stream's error when it passes `server.upload_limit`.
/// Why an upload's body ended before its end.
#[derive(Debug)]
pub enum BodyError {
    /// Past `server.upload_limit` (counted as it streams, whatever the declared length said).
    TooLarge,
    /// The client's connection failed.
    Read(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge => f.write_str("the upload is larger than server.upload_limit"),
            Self::Read(e) => f.write_str(e),
        }
    }
}

/// Checks the file name: it says what the dump is, as the object names of pgward's own backups do.
fn split_name(filename: &str) -> Result<(String, String), AppError> {
    let bad = || {
        AppError::field(
            "filename",
            "must end in .sql, .dump or .tar, optionally followed by .zst, .gz or .lz4, then .age \
             if encrypted (e.g. shop.dump.zst)",
        )
    };
    if filename.is_empty() || filename.len() > 200 || filename.contains(['/', '\\', '\0']) {
        return Err(bad());
    }
    let (format, compression, encrypted) = layout_of(filename).ok_or_else(bad)?;
    let ext = naming::extension(format, compression, encrypted);
    let stem = filename
        .strip_suffix(&format!(".{ext}"))
        .filter(|s| !s.is_empty())
        .ok_or_else(bad)?;
    Ok((naming::slug(stem), ext))
}

#[tracing::instrument(skip_all)]
pub async fn import<S>(
    state: &AppState,
    destination_id: Uuid,
    filename: &str,
    body: S,
) -> Result<Execution, AppError>
where
    S: Stream<Item = Result<Bytes, BodyError>> + Unpin,
{
    let (slug, ext) = split_name(filename)?;
    let target = destinations::service::target_of(state, destination_id).await?;
    let id = Uuid::now_v7();
    let short = id.simple().to_string();
    let now = Utc::now();
    let key = format!(
        "uploads/{}/{slug}-{}.{ext}",
        now.format("%Y/%m/%d"),
        &short[short.len() - 8..]
    );
    let stored = import_stream(&target, &key, body, 8 << 20)
        .await
        .map_err(|e| match e {
            ImportError::BrokeOff(BodyError::TooLarge) => AppError::PayloadTooLarge(
                usize::try_from(state.config.server.upload_limit).unwrap_or(usize::MAX),
            ),
            e @ (ImportError::BrokeOff(_) | ImportError::Empty) => {
                AppError::BadRequest(e.to_string())
            }
            e => AppError::Internal(anyhow::Error::new(e).context("storing the upload")),
        })?;

    let (format, compression, encrypted) = layout_of(filename)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("checked above: {filename}")))?;
    let manifest = Manifest {
        pgward_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: now,
        object: stored.key.clone(),
        format,
        compression,
        // What the name says is the stream's; an archive compressed inside is pg_restore's business.
        compressed_in: pgward_engine::backup::Placement::Stream,
        options: DumpOptions::default(),
        server_version: "unknown (uploaded)".into(),
        pg_dump_version: "unknown (uploaded)".into(),
        database: String::new(),
        database_size: None,
        table_count: None,
        dump_bytes: 0,
        size: stored.size,
        sha256: stored.sha256.clone(),
        recipient_fingerprints: if encrypted {
            vec!["unknown (uploaded)".into()]
        } else {
            Vec::new()
        },
        row_counts: None,
        origin: Some(pgward_engine::backup::manifest::Origin {
            execution_id: id,
            task_id: None,
            task_name: format!("upload: {filename}"),
            database_id: None,
            trigger: "upload".into(),
            scheduled_for: now.fixed_offset(),
            started_at: Some(now),
            run_id: None,
            database_name: None,
        }),
        globals: None,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::Internal(e.into()))?;
    if let Err(e) = target
        .put_small(&naming::manifest_key(&key), json.into())
        .await
    {
        let _ = target.delete(&key).await;
        return Err(AppError::Internal(anyhow::anyhow!(
            "writing the manifest: {e}"
        )));
    }
    let objects = vec![ExecutionObject {
        destination_id,
        key: stored.key.clone(),
        size: stored.size,
        verified_at: None,
        verify_error: None,
    }];
    let row = executions::ActiveModel {
        id: Set(id),
        task_name: Set(format!("upload: {filename}")),
        trigger: Set("upload".into()),
        status: Set(ExecutionStatus::Success.as_str().into()),
        scheduled_for: Set(now),
        timezone: Set("UTC".into()),
        created_at: Set(now),
        started_at: Set(Some(now)),
        finished_at: Set(Some(Utc::now())),
        object_key: Set(Some(key.clone())),
        objects: Set(serde_json::to_value(&objects).map_err(|e| AppError::Internal(e.into()))?),
        destination_ids: Set(serde_json::json!([destination_id])),
        bytes_read: Set(stored.size as i64),
        size: Set(Some(stored.size as i64)),
        sha256: Set(Some(stored.sha256.clone())),
        message: Set(Some(format!("uploaded as {filename}"))),
        kind: Set(pgward_api_types::ExecutionKind::Database.as_str().into()),
        // The rest: the catalog's defaults (NULL, false, 0, []).
        ..Default::default()
    };
    if let Err(e) = row.insert(&state.db).await {
        let _ = target.delete(&key).await;
        let _ = target.delete(&naming::manifest_key(&key)).await;
        return Err(e.into());
    }
    tracing::info!(execution_id = %id, size = stored.size, "dump uploaded");
    super::service::get(state, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_must_say_what_the_dump_is() {
        assert_eq!(
            split_name("Shop Prod.dump.zst").unwrap(),
            ("shop-prod".to_string(), "dump.zst".to_string())
        );
        assert_eq!(
            split_name("x.sql.gz.age").unwrap().1,
            "sql.gz.age".to_string()
        );
        for bad in ["x.zip", ".sql", "a/b.sql", "x.dump.zstd", ""] {
            assert!(split_name(bad).is_err(), "{bad}");
        }
    }
}
