use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use futures::StreamExt;
use pgward_api_types::{
    ApiError, CatalogRebuildReport, CatalogRebuildRequest, DownloadUrl, Execution,
    ExecutionListQuery, ExecutionPage, ExecutionStats, ExecutionStatsQuery, ExecutionStatus,
    ExecutionTrigger, RetentionPreviewQuery,
};
use serde::Deserialize;
use uuid::Uuid;

use super::service;
use crate::error::AppError;
use crate::features::api::{
    Authed, JsonBody, MalformedQuery, NoSuchDestination, NoSuchExecution, NoSuchTask,
    NotAuthenticated, PageQuery,
};
use crate::state::AppState;

/// Run a task now. Refused with 409 while a run of the same task is queued or running.
#[utoipa::path(
    operation_id = "run_task",
    tag = "executions",
    params(("id" = Uuid, Path, description = "task id")),
    responses(
        (status = 202, description = "queued", body = Execution),
        (status = 409, description = "a run of this task is already queued or running", body = ApiError),
        NotAuthenticated, NoSuchTask,
    )
)]
#[post("/tasks/{id}/run")]
async fn run_task(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    let trigger = match ctx.auth.method {
        pgward_api_types::AuthMethod::ApiToken => ExecutionTrigger::Api,
        pgward_api_types::AuthMethod::Session => ExecutionTrigger::Manual,
    };
    Ok(
        HttpResponse::Accepted()
            .json(service::run_now(&ctx.state, id.into_inner(), trigger).await?),
    )
}

/// Executions, newest first, with filters and cursor pagination.
#[utoipa::path(
    operation_id = "list_executions",
    tag = "executions",
    params(ExecutionListQuery),
    responses(
        (status = 200, description = "a page of executions", body = ExecutionPage),
        NotAuthenticated, PageQuery,
    )
)]
#[get("/executions")]
async fn list(
    ctx: Authed,
    q: web::Query<ExecutionListQuery>,
) -> Result<web::Json<ExecutionPage>, AppError> {
    Ok(web::Json(service::list(&ctx.state, q.into_inner()).await?))
}

/// Outcomes per day (every day of the range, in the asked time zone) and each finished run's size and
/// duration: what the dashboard and a task's page chart. Aggregated in SQL.
#[utoipa::path(
    operation_id = "execution_stats",
    tag = "executions",
    params(ExecutionStatsQuery),
    responses(
        (status = 200, description = "the series", body = ExecutionStats),
        (status = 422, description = "days out of range, or an unknown time zone", body = ApiError),
        NotAuthenticated, MalformedQuery,
    )
)]
#[get("/executions/stats")]
async fn stats(
    ctx: Authed,
    query: web::Query<ExecutionStatsQuery>,
) -> Result<web::Json<ExecutionStats>, AppError> {
    Ok(web::Json(
        super::stats::stats(&ctx.state, query.into_inner()).await?,
    ))
}

/// One execution, with live progress while it runs.
#[utoipa::path(
    operation_id = "get_execution",
    tag = "executions",
    params(("id" = Uuid, Path, description = "execution id")),
    responses(
        (status = 200, description = "the execution", body = Execution),
        NotAuthenticated, NoSuchExecution,
    )
)]
#[get("/executions/{id}")]
async fn get(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<Execution>, AppError> {
    Ok(web::Json(service::get(&ctx.state, id.into_inner()).await?))
}

/// The manifest stored beside a backup (what was dumped, how, by which tools, sizes, checksum, row
/// counts): read from the chosen copy's destination.
#[utoipa::path(
    operation_id = "get_execution_manifest",
    tag = "executions",
    params(("id" = Uuid, Path, description = "execution id"), DownloadQuery),
    responses(
        (status = 200, description = "the manifest as stored", body = Object),
        (status = 404, description = "no such execution, no stored copy there, or no manifest (uploads have none)", body = ApiError),
        NotAuthenticated, MalformedQuery,
    )
)]
#[get("/executions/{id}/manifest")]
async fn manifest(
    ctx: Authed,
    id: web::Path<Uuid>,
    q: web::Query<DownloadQuery>,
) -> Result<web::Json<serde_json::Value>, AppError> {
    Ok(web::Json(
        service::manifest(&ctx.state, id.into_inner(), q.destination_id).await?,
    ))
}

/// Record again every backup whose manifest lies on a destination: after the catalog was lost, register
/// the destination again and rebuild from it. Backups the catalog knows are not duplicated (a copy on
/// another destination is added to them); running it twice changes nothing.
#[utoipa::path(
    operation_id = "rebuild_catalog",
    tag = "executions",
    request_body = CatalogRebuildRequest,
    responses(
        (status = 200, description = "what was found and recorded", body = CatalogRebuildReport),
        (status = 404, description = "no such destination", body = ApiError),
        (status = 422, description = "invalid request, or the destination cannot be listed (`connection_test_failed`)", body = ApiError),
        NotAuthenticated, JsonBody,
    )
)]
#[post("/catalog/rebuild")]
async fn rebuild_catalog(
    ctx: Authed,
    req: web::Json<CatalogRebuildRequest>,
) -> Result<web::Json<CatalogRebuildReport>, AppError> {
    Ok(web::Json(
        service::rebuild_catalog_from(&ctx.state, req.destination_id).await?,
    ))
}

/// Back pgward's own catalog up now, to the first destination added (the same self-backup
/// `catalog.self_backup` runs on its schedule): an execution of kind `catalog` to follow and restore
/// like any backup.
#[utoipa::path(
    operation_id = "back_up_catalog",
    tag = "executions",
    responses(
        (status = 202, description = "queued", body = Execution),
        (status = 409, description = "no destination yet, or a self-backup is already queued or running", body = ApiError),
        NotAuthenticated,
    )
)]
#[post("/catalog/backup")]
async fn back_up_catalog(ctx: Authed) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Accepted().json(service::back_up_catalog_now(&ctx.state).await?))
}

/// Cancel a queued or running execution.
#[utoipa::path(
    operation_id = "cancel_execution",
    tag = "executions",
    params(("id" = Uuid, Path, description = "execution id")),
    responses(
        (status = 200, description = "cancelled, or cancellation requested", body = Execution),
        (status = 409, description = "already finished", body = ApiError),
        NotAuthenticated, NoSuchExecution,
    )
)]
#[post("/executions/{id}/cancel")]
async fn cancel(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<Execution>, AppError> {
    Ok(web::Json(
        service::cancel(&ctx.state, id.into_inner()).await?,
    ))
}

/// Delete a backup. A backup with stored copies goes to the trash (`trashed`, objects kept for
/// `storage.trash_days`, restorable with `untrash`); the periodic pass purges it after that (its objects
/// and manifests go; the record stays, as `deleted`), so no request destroys a copy. Deleting a trashed
/// backup is a 409. A run without stored objects is `deleted` at once.
#[utoipa::path(
    operation_id = "delete_execution",
    tag = "executions",
    params(("id" = Uuid, Path, description = "execution id")),
    responses(
        (status = 200, description = "in the trash (or deleted: a run without stored objects)", body = Execution),
        (status = 409, description = "still running, or in the trash already", body = ApiError),
        NotAuthenticated, NoSuchExecution,
    )
)]
#[delete("/executions/{id}")]
async fn delete(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<Execution>, AppError> {
    Ok(web::Json(
        service::delete(&ctx.state, id.into_inner()).await?,
    ))
}

/// Take a backup out of the trash: it is a successful backup again (retention counts it again).
#[utoipa::path(
    operation_id = "untrash_execution",
    tag = "executions",
    params(("id" = Uuid, Path, description = "execution id")),
    responses(
        (status = 200, description = "restored from the trash", body = Execution),
        (status = 409, description = "the backup is not in the trash", body = ApiError),
        NotAuthenticated, NoSuchExecution,
    )
)]
#[post("/executions/{id}/untrash")]
async fn untrash(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<Execution>, AppError> {
    Ok(web::Json(
        service::untrash(&ctx.state, id.into_inner()).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct DownloadQuery {
    /// Which copy; the first destination when omitted.
    destination_id: Option<Uuid>,
}

/// Download a backup, streamed through pgward (exactly the stored bytes: compressed, maybe encrypted).
#[utoipa::path(
    operation_id = "download_execution",
    tag = "executions",
    params(("id" = Uuid, Path, description = "execution id"), DownloadQuery),
    responses(
        (status = 200, description = "the backup file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "no such execution, or no stored copy there", body = ApiError),
        NotAuthenticated, MalformedQuery,
    )
)]
#[get("/executions/{id}/download")]
async fn download(
    ctx: Authed,
    id: web::Path<Uuid>,
    q: web::Query<DownloadQuery>,
) -> Result<HttpResponse, AppError> {
    stream_copy(&ctx.state, id.into_inner(), q.destination_id).await
}

/// Download a backup through a link from `download-url` (for copies on local directories). The link is
/// the credential: no bearer token, valid until it expires.
#[utoipa::path(
    operation_id = "download_by_link",
    tag = "executions",
    security(()),
    params(("ticket" = String, Path, description = "the signed part of a download link")),
    responses(
        (status = 200, description = "the backup file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "invalid or expired link, or the backup is gone", body = ApiError),
    )
)]
#[get("/downloads/{ticket}")]
async fn download_by_link(
    state: web::Data<AppState>,
    ticket: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (exe, dst) = state
        .auth
        .verify_download(&ticket)
        .ok_or(AppError::NotFound("download link (invalid or expired)"))?;
    stream_copy(&state, exe, Some(dst)).await
}

/// Streams the stored bytes of execution `id` from one destination (the first when `None`).
async fn stream_copy(
    state: &AppState,
    id: Uuid,
    destination: Option<Uuid>,
) -> Result<HttpResponse, AppError> {
    let exec = service::find(state, id).await?;
    if exec.status != ExecutionStatus::Success.as_str() {
        return Err(AppError::NotFound("stored backup"));
    }
    let objects = service::objects_of(&exec);
    let object = match destination {
        Some(d) => objects.iter().find(|o| o.destination_id == d),
        None => objects.first(),
    }
    .ok_or(AppError::NotFound("stored copy"))?;
    let target =
        crate::features::destinations::service::target_by_full_key(state, object.destination_id)
            .await?;
    let stream = target
        .stream(&object.key)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("reading the backup: {e}")))?;
    let filename = object
        .key
        .rsplit('/')
        .next()
        .unwrap_or("backup")
        .to_string();
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header(("Content-Length", object.size.to_string()))
        .streaming(stream.map(|r| r.map_err(actix_web::error::ErrorBadGateway))))
}

/// The backups of a task that retention would delete now (none while its latest run failed).
#[utoipa::path(
    operation_id = "task_retention_preview",
    tag = "executions",
    params(("id" = Uuid, Path, description = "task id"), RetentionPreviewQuery),
    responses(
        (status = 200, description = "executions that would be deleted", body = Vec<Execution>),
        (status = 422, description = "a policy parameter out of range (`validation_failed`)", body = ApiError),
        NotAuthenticated, NoSuchTask, MalformedQuery,
    )
)]
#[get("/tasks/{id}/retention-preview")]
async fn retention_preview(
    ctx: Authed,
    id: web::Path<Uuid>,
    q: web::Query<RetentionPreviewQuery>,
) -> Result<web::Json<Vec<Execution>>, AppError> {
    let q = q.into_inner();
    let mut bad = std::collections::BTreeMap::new();
    if q.keep_last.is_some_and(|n| !(1..=10000).contains(&n)) {
        bad.insert("keep_last".to_string(), "must be 1 to 10000".to_string());
    }
    if q.keep_days.is_some_and(|d| d > 36500) {
        bad.insert(
            "keep_days".to_string(),
            "must be 0 (no age rule) to 36500".to_string(),
        );
    }
    if [q.gfs_daily, q.gfs_weekly, q.gfs_monthly, q.gfs_yearly]
        .iter()
        .flatten()
        .any(|n| *n > 10000)
    {
        bad.insert(
            "gfs".to_string(),
            "counts must be at most 10000".to_string(),
        );
    }
    if !bad.is_empty() {
        return Err(AppError::Validation(bad));
    }
    Ok(web::Json(
        super::retention::preview(&ctx.state, id.into_inner(), &q).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct DownloadUrlQuery {
    /// Which copy; when omitted, an object-store copy if there is one, else the first copy.
    destination_id: Option<Uuid>,
    /// Lifetime of the URL in seconds, 60-86400 (default 900).
    #[param(minimum = 60, maximum = 86400)]
    expires_in_secs: Option<u64>,
}

/// A short-lived URL that downloads a backup without a bearer token, for browsers and `curl -O`: a
/// presigned URL straight from S3, GCS or Azure (pgward not in the path), or for a local directory a
/// signed pgward link (`/api/v1/downloads/...`) that streams the file.
#[utoipa::path(
    operation_id = "execution_download_url",
    tag = "executions",
    params(("id" = Uuid, Path, description = "execution id"), DownloadUrlQuery),
    responses(
        (status = 200, description = "the URL and when it expires", body = DownloadUrl),
        (status = 404, description = "no such execution, or no stored copy there", body = ApiError),
        (status = 422, description = "the lifetime is out of range", body = ApiError),
        NotAuthenticated, MalformedQuery,
    )
)]
#[get("/executions/{id}/download-url")]
async fn download_url(
    ctx: Authed,
    req: HttpRequest,
    id: web::Path<Uuid>,
    q: web::Query<DownloadUrlQuery>,
) -> Result<web::Json<DownloadUrl>, AppError> {
    let secs = q.expires_in_secs.unwrap_or(900);
    if !(60..=86_400).contains(&secs) {
        return Err(AppError::field("expires_in_secs", "must be 60 to 86400"));
    }
    let exec = service::find(&ctx.state, id.into_inner()).await?;
    if exec.status != ExecutionStatus::Success.as_str() {
        return Err(AppError::NotFound("stored backup"));
    }
    let objects = service::objects_of(&exec);
    // Globals files sit beside the dump; the URL is for the dump itself.
    let candidates: Vec<_> = objects
        .iter()
        .filter(|o| q.destination_id.is_none_or(|d| o.destination_id == d))
        .filter(|o| !o.key.contains(".globals."))
        .collect();
    let first = candidates
        .first()
        .ok_or(AppError::NotFound("stored copy"))?;
    let expires_at = chrono::Utc::now() + chrono::Duration::seconds(secs as i64);
    for o in &candidates {
        if let Some(signer) =
            crate::features::destinations::service::signer_of(&ctx.state, o.destination_id).await?
        {
            let url = signer
                .signed_url(
                    object_store::signer::Method::GET,
                    &o.key.as_str().into(),
                    std::time::Duration::from_secs(secs),
                )
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("signing a download URL: {e}")))?;
            return Ok(web::Json(DownloadUrl {
                url: url.to_string(),
                destination_id: o.destination_id,
                expires_at,
            }));
        }
    }
    // No object store among the candidates: a pgward link, absolute as the client reached pgward
    // (honouring Forwarded / X-Forwarded-* from a reverse proxy).
    let ticket =
        ctx.state
            .auth
            .issue_download(exec.id, first.destination_id, expires_at.timestamp())?;
    let info = req.connection_info();
    Ok(web::Json(DownloadUrl {
        url: format!(
            "{}://{}{}/api/v1/downloads/{ticket}",
            info.scheme(),
            info.host(),
            ctx.state.config.base_path()
        ),
        destination_id: first.destination_id,
        expires_at,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct UploadQuery {
    /// Where the dump is stored.
    destination_id: Uuid,
    /// The dump's file name; its suffixes say what it is: `.sql` (plain), `.dump` (custom) or `.tar`
    /// (directory archive), then `.zst`, `.gz` or `.lz4` if compressed, then `.age` if encrypted.
    filename: String,
}

/// Upload a dump made elsewhere (streamed: no size limit in memory). It is stored on the destination
/// with a manifest and kept as a successful execution with trigger `upload`, to be verified,
/// downloaded and restored (`POST /restorations`) like any backup.
#[utoipa::path(
    operation_id = "upload_dump",
    tag = "executions",
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the dump file"),
    responses(
        (status = 201, description = "stored", body = Execution),
        (status = 400, description = "empty or interrupted upload, or malformed query", body = ApiError),
        (status = 413, description = "larger than server.upload_limit (`payload_too_large`); nothing is stored", body = ApiError),
        (status = 422, description = "a file name that does not say what the dump is", body = ApiError),
        NotAuthenticated, NoSuchDestination,
    )
)]
#[post("/uploads")]
async fn upload(
    ctx: Authed,
    req: HttpRequest,
    q: web::Query<UploadQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let limit = ctx.state.config.server.upload_limit;
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if limit > 0 && declared.is_some_and(|n| n > limit) {
        return Err(AppError::PayloadTooLarge(
            usize::try_from(limit).unwrap_or(usize::MAX),
        ));
    }
    // Counted as it streams: a body without a length (or with a false one) stops at the limit too.
    let mut seen = 0u64;
    let body = body.map(move |r| {
        let chunk = r.map_err(|e| super::upload::BodyError::Read(e.to_string()))?;
        seen += chunk.len() as u64;
        if limit > 0 && seen > limit {
            return Err(super::upload::BodyError::TooLarge);
        }
        Ok(chunk)
    });
    let exec = super::upload::import(&ctx.state, q.destination_id, q.filename.trim(), body).await?;
    Ok(HttpResponse::Created().json(exec))
}
