//! Leftovers in storage that could not be removed when they should have been: a multipart upload whose
//! abort failed, an object whose delete failed (the store was unreachable at that moment). Each is
//! recorded and retried by the periodic pass until the store confirms, so an outage of the store never
//! leaves parts (and their cost) behind for good.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::error::AppError;
use crate::state::AppState;

/// What is to be removed, by full key (the destination's prefix included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    MultipartUpload { full_key: String, upload_id: String },
    Object { full_key: String },
}

impl Leftover {
    fn kind(&self) -> &'static str {
        match self {
            Self::MultipartUpload { .. } => "multipart_upload",
            Self::Object { .. } => "object",
        }
    }

    fn key(&self) -> &str {
        match self {
            Self::MultipartUpload { full_key, .. } | Self::Object { full_key } => full_key,
        }
    }

    fn upload_id(&self) -> Option<&str> {
        match self {
            Self::MultipartUpload { upload_id, .. } => Some(upload_id),
            Self::Object { .. } => None,
        }
    }
}

async fn attempt(state: &AppState, destination: Uuid, what: &Leftover) -> Result<(), String> {
    let t = super::service::target_by_full_key(state, destination)
        .await
        .map_err(|e| e.to_string())?;
    match what {
        Leftover::MultipartUpload {
            full_key,
            upload_id,
        } => t.abort_upload(full_key, upload_id).await,
        Leftover::Object { full_key } => t.cleanup_partial(full_key).await,
    }
}

/// Removes `what` now, or records it for the periodic pass when the store does not confirm.
#[tracing::instrument(skip_all)]
pub async fn remove_or_record(state: &AppState, destination: Uuid, what: Leftover, reason: &str) {
    let Err(e) = attempt(state, destination, &what).await else {
        return;
    };
    tracing::warn!(destination_id = %destination, key = what.key(), error = %e, "{reason}: could not remove it from storage now; the periodic pass will retry");
    let recorded = state
        .db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO storage_cleanups (id, destination_id, kind, key, upload_id, reason, last_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (destination_id, kind, key, coalesce(upload_id, '')) \
             DO UPDATE SET last_error = excluded.last_error",
            [
                Uuid::now_v7().into(),
                destination.into(),
                what.kind().into(),
                what.key().into(),
                what.upload_id().map(str::to_string).into(),
                reason.into(),
                e.into(),
            ],
        ))
        .await;
    if let Err(e) = recorded {
        tracing::error!(destination_id = %destination, key = what.key(), error = %e, "recording a storage leftover failed");
    }
}

/// Retries every recorded leftover that is due; returns how many are gone now.
#[tracing::instrument(skip_all)]
pub async fn retry_due(state: &AppState, now: DateTime<Utc>) -> Result<usize, AppError> {
    let due = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, destination_id, kind, key, upload_id, attempts, created_at FROM storage_cleanups \
             WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT 100",
            [now.into()],
        ))
        .await?;
    let mut removed = 0;
    for r in due {
        let id: Uuid = r.try_get("", "id")?;
        let destination: Uuid = r.try_get("", "destination_id")?;
        let kind: String = r.try_get("", "kind")?;
        let full_key: String = r.try_get("", "key")?;
        let upload_id: Option<String> = r.try_get("", "upload_id")?;
        let attempts: i32 = r.try_get("", "attempts")?;
        let created: DateTime<Utc> = r.try_get("", "created_at")?;
        let what = match (kind.as_str(), upload_id) {
            ("multipart_upload", Some(upload_id)) => Leftover::MultipartUpload {
                full_key,
                upload_id,
            },
            _ => Leftover::Object { full_key },
        };
        match attempt(state, destination, &what).await {
            Ok(()) => {
                state
                    .db
                    .execute_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "DELETE FROM storage_cleanups WHERE id = $1",
                        [id.into()],
                    ))
                    .await?;
                tracing::info!(destination_id = %destination, key = what.key(), attempts = attempts + 1, "removed a storage leftover");
                removed += 1;
            }
            Err(e) => {
                // Every pass for the first hour (an outage is usually short, and the leftover goes
                // within one pass of the store's return), then backing off to every 10 minutes.
                let wait = if now - created < chrono::Duration::hours(1) {
                    chrono::Duration::zero()
                } else {
                    chrono::Duration::seconds((5 * i64::from(attempts)).min(600))
                };
                state
                    .db
                    .execute_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "UPDATE storage_cleanups SET attempts = attempts + 1, last_error = $2, \
                         next_attempt_at = $3 WHERE id = $1",
                        [id.into(), e.into(), (now + wait).into()],
                    ))
                    .await?;
            }
        }
    }
    Ok(removed)
}
