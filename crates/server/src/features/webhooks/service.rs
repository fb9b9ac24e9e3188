use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use pgward_api_types::{
    CreateWebhookRequest, DeliveryStatus, EventKind, HttpMethod, UpdateWebhookRequest, Webhook,
    WebhookKind, WebhookList, WebhookPreview, WebhookPreviewRequest, WebhookTargets,
};
use pgward_entity::{webhook_deliveries, webhooks};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement, TransactionTrait,
};
use secrecy::ExposeSecret;
use uuid::Uuid;

pub use super::delivery::{deliver, enqueue, record, sweep};
use super::render;
use super::sealed::*;
use super::validate::*;
use crate::error::AppError;
use crate::features::validate::{copy_name, ensure_name_free as name_free, name_after, name_key};
use crate::state::AppState;

/// What this feature's resource is called in messages.
const KIND: &str = "webhook";

pub fn kind_of(m: &webhooks::Model) -> WebhookKind {
    WebhookKind::parse(&m.kind).unwrap_or(WebhookKind::Custom)
}

pub fn events_of(m: &webhooks::Model) -> Vec<EventKind> {
    serde_json::from_value(m.event_kinds.clone()).unwrap_or_default()
}

pub fn targets_of(m: &webhooks::Model) -> WebhookTargets {
    serde_json::from_value(m.targets.clone()).unwrap_or_default()
}

fn to_dto(m: &webhooks::Model, last: Option<&(DeliveryStatus, DateTime<Utc>)>) -> Webhook {
    Webhook {
        id: m.id,
        name: m.name.clone(),
        kind: kind_of(m),
        active: m.active,
        events: events_of(m),
        targets: targets_of(m),
        method: HttpMethod::parse(&m.method).unwrap_or(HttpMethod::Post),
        url_masked: m.url_masked.clone(),
        header_names: serde_json::from_value(m.header_names.clone()).unwrap_or_default(),
        body_template: m.body_template.clone(),
        has_secret: m.secret_encrypted.is_some(),
        timeout_secs: u32::try_from(m.timeout_secs).unwrap_or(DEFAULT_TIMEOUT),
        max_attempts: u32::try_from(m.max_attempts).unwrap_or(DEFAULT_ATTEMPTS),
        last_delivery_status: last.map(|l| l.0),
        last_delivery_at: last.map(|l| l.1),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// The newest delivery of each webhook (or of one).
async fn last_deliveries(
    state: &AppState,
    only: Option<Uuid>,
) -> Result<HashMap<Uuid, (DeliveryStatus, DateTime<Utc>)>, AppError> {
    let rows = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT DISTINCT ON (webhook_id) webhook_id, status, created_at FROM webhook_deliveries \
             WHERE $1::uuid IS NULL OR webhook_id = $1 ORDER BY webhook_id, id DESC",
            [only.into()],
        ))
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        let (id, status, at): (Uuid, String, DateTime<Utc>) = (
            r.try_get("", "webhook_id")?,
            r.try_get("", "status")?,
            r.try_get("", "created_at")?,
        );
        if let Some(s) = DeliveryStatus::parse(&status) {
            out.insert(id, (s, at));
        }
    }
    Ok(out)
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn find(state: &AppState, id: Uuid) -> Result<webhooks::Model, AppError> {
    webhooks::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("webhook"))
}

async fn ensure_name_free(
    state: &AppState,
    name: &str,
    except: Option<Uuid>,
) -> Result<(), AppError> {
    let same_name = webhooks::Entity::find().filter(webhooks::Column::NameKey.eq(name_key(name)));
    name_free(
        &state.db,
        KIND,
        name,
        same_name,
        webhooks::Column::Id,
        except,
    )
    .await
}

#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, req: CreateWebhookRequest) -> Result<Webhook, AppError> {
    let events = check(
        req.kind,
        &Given {
            name: Some(&req.name),
            url: Some(&req.url),
            headers: Some(&req.headers),
            body_template: req.body_template.as_deref(),
            method: req.method,
            events: Some(&req.events),
            timeout_secs: req.timeout_secs,
            max_attempts: req.max_attempts,
            secret: req.secret.as_deref(),
        },
        false,
    )?
    .unwrap_or_default();
    let targets = normalize_targets(req.targets.clone());
    check_targets(state, &targets).await?;
    check_address(state, &req.url).await?;
    ensure_name_free(state, &req.name, None).await?;
    let row = insert(state, req, events, targets).await?;
    tracing::info!(webhook_id = %row.id, kind = %row.kind, url = %row.url_masked, "webhook created");
    Ok(to_dto(&row, None))
}

/// Writes a new webhook from checked fields, its secrets sealed for its own id.
async fn insert(
    state: &AppState,
    req: CreateWebhookRequest,
    events: Vec<EventKind>,
    targets: WebhookTargets,
) -> Result<webhooks::Model, AppError> {
    let name = req.name.trim().to_string();
    let id = Uuid::now_v7();
    let now = Utc::now();
    let url = req.url.trim();
    let method = match req.kind {
        WebhookKind::Custom => req.method.unwrap_or(HttpMethod::Post),
        _ => HttpMethod::Post,
    };
    webhooks::ActiveModel {
        id: Set(id),
        name: Set(name.clone()),
        name_key: Set(name_key(&name)),
        kind: Set(req.kind.as_str().into()),
        active: Set(req.active),
        event_kinds: Set(serde_json::json!(events)),
        targets: Set(serde_json::json!(targets)),
        method: Set(method.as_str().into()),
        url_encrypted: Set(state.secrets.seal(url, &aad(id, "url"))?),
        url_masked: Set(render::mask_url(url)),
        headers_encrypted: Set(seal_headers(state, id, &req.headers)?),
        header_names: Set(header_names(&req.headers)),
        body_template: Set(req.body_template.filter(|t| !t.is_empty())),
        secret_encrypted: Set(match &req.secret {
            Some(s) => Some(state.secrets.seal(s, &aad(id, "secret"))?),
            None => None,
        }),
        timeout_secs: Set(req.timeout_secs.unwrap_or(DEFAULT_TIMEOUT) as i32),
        max_attempts: Set(req.max_attempts.unwrap_or(DEFAULT_ATTEMPTS) as i32),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await
    .map_err(|e| AppError::unique_name(e, KIND, &name))
}

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState) -> Result<WebhookList, AppError> {
    let rows = webhooks::Entity::find()
        .order_by_asc(webhooks::Column::NameKey)
        .all(&state.db)
        .await?;
    let last = last_deliveries(state, None).await?;
    Ok(WebhookList {
        items: rows.iter().map(|m| to_dto(m, last.get(&m.id))).collect(),
    })
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(state: &AppState, id: Uuid) -> Result<Webhook, AppError> {
    let m = find(state, id).await?;
    let last = last_deliveries(state, Some(id)).await?;
    Ok(to_dto(&m, last.get(&id)))
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(
    state: &AppState,
    id: Uuid,
    req: UpdateWebhookRequest,
) -> Result<Webhook, AppError> {
    let row = find(state, id).await?;
    // A new receiver gets none of the old one's credentials unless they are given again.
    let repointed = match &req.url {
        Some(u) => {
            check_address(state, u).await?;
            let old = open(state, &row)?;
            origin(u) != origin(&old.url)
        }
        None => false,
    };
    let kind = kind_of(&row);
    let events = check(
        kind,
        &Given {
            name: req.name.as_deref(),
            url: req.url.as_deref(),
            headers: req.headers.as_ref(),
            body_template: req.body_template.as_deref(),
            method: req.method,
            events: req.events.as_deref(),
            timeout_secs: req.timeout_secs,
            max_attempts: req.max_attempts,
            secret: req.secret.as_deref(),
        },
        true,
    )?;
    let targets = req.targets.map(normalize_targets);
    if let Some(t) = &targets {
        check_targets(state, t).await?;
    }
    let name = name_after(req.name.as_deref(), &row.name);
    if req.name.is_some() {
        ensure_name_free(state, &name, Some(id)).await?;
    }
    let mut am: webhooks::ActiveModel = row.into();
    am.name = Set(name.clone());
    am.name_key = Set(name_key(&name));
    if let Some(a) = req.active {
        am.active = Set(a);
    }
    if let Some(e) = events {
        am.event_kinds = Set(serde_json::json!(e));
    }
    if let Some(t) = targets {
        am.targets = Set(serde_json::json!(t));
    }
    if let (WebhookKind::Custom, Some(m)) = (kind, req.method) {
        am.method = Set(m.as_str().into());
    }
    if let Some(u) = &req.url {
        let u = u.trim();
        am.url_encrypted = Set(state.secrets.seal(u, &aad(id, "url"))?);
        am.url_masked = Set(render::mask_url(u));
    }
    if let Some(h) = &req.headers {
        am.headers_encrypted = Set(seal_headers(state, id, h)?);
        am.header_names = Set(header_names(h));
    } else if repointed {
        am.headers_encrypted = Set(None);
        am.header_names = Set(header_names(&BTreeMap::new()));
    }
    if let Some(t) = req.body_template {
        am.body_template = Set(Some(t).filter(|t| !t.is_empty()));
    }
    if let Some(s) = &req.secret {
        am.secret_encrypted = Set(if s.is_empty() {
            None
        } else {
            Some(state.secrets.seal(s, &aad(id, "secret"))?)
        });
    } else if repointed {
        am.secret_encrypted = Set(None);
    }
    if repointed {
        tracing::info!(webhook_id = %id, "webhook points at another receiver: stored header values and secret dropped");
    }
    if let Some(t) = req.timeout_secs {
        am.timeout_secs = Set(t as i32);
    }
    if let Some(a) = req.max_attempts {
        am.max_attempts = Set(a as i32);
    }
    am.updated_at = Set(Utc::now());
    am.update(&state.db)
        .await
        .map_err(|e| AppError::unique_name(e, KIND, &name))?;
    tracing::info!(webhook_id = %id, "webhook updated");
    get(state, id).await
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn delete(state: &AppState, id: Uuid) -> Result<(), AppError> {
    // Deliveries first, then the webhook: the same lock order as a delivery that fails (its row, then
    // the webhook's failure counter), so the two cannot deadlock.
    let tx = state.db.begin().await?;
    webhook_deliveries::Entity::delete_many()
        .filter(webhook_deliveries::Column::WebhookId.eq(id))
        .exec(&tx)
        .await?;
    let res = webhooks::Entity::delete_by_id(id).exec(&tx).await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("webhook"));
    }
    tx.commit().await?;
    tracing::info!(webhook_id = %id, "webhook deleted");
    Ok(())
}

/// A copy under a new name, inactive (so the copy does not double every notification until it is
/// edited). It starts without header values and signing secret: a copy is usually re-pointed, and
/// credentials given for one receiver must be given again for the next.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn duplicate(state: &AppState, id: Uuid) -> Result<Webhook, AppError> {
    let src = find(state, id).await?;
    let opened = open(state, &src)?;
    let name =
        copy_name::<webhooks::Entity>(&state.db, &src.name, webhooks::Column::NameKey).await?;
    let copy = CreateWebhookRequest {
        name,
        kind: kind_of(&src),
        active: false,
        events: Vec::new(),
        targets: WebhookTargets::default(),
        method: HttpMethod::parse(&src.method),
        url: opened.url,
        headers: BTreeMap::new(),
        body_template: src.body_template.clone(),
        secret: None,
        timeout_secs: u32::try_from(src.timeout_secs).ok(),
        max_attempts: u32::try_from(src.max_attempts).ok(),
    };
    let row = insert(state, copy, events_of(&src), targets_of(&src)).await?;
    let new_id = row.id;
    tracing::info!(webhook_id = %new_id, from = %id, "webhook duplicated");
    Ok(to_dto(&row, None))
}

/// Renders a request for a sample event without sending anything.
pub fn preview(state: &AppState, req: WebhookPreviewRequest) -> Result<WebhookPreview, AppError> {
    check(
        req.kind,
        &Given {
            name: None,
            url: req.url.as_deref(),
            headers: None,
            body_template: req.body_template.as_deref(),
            method: req.method,
            events: None,
            timeout_secs: None,
            max_attempts: None,
            secret: None,
        },
        true,
    )?;
    let event = render::sample_event(req.event.unwrap_or(EventKind::ExecutionSuccess));
    let ctx = render::context(&event, None, &state.config.public_url());
    let headers = BTreeMap::new();
    let spec = render::Spec {
        kind: req.kind,
        method: req.method.unwrap_or(HttpMethod::Post),
        url: req
            .url
            .as_deref()
            .unwrap_or("https://example.com/hook")
            .trim(),
        headers: &headers,
        body_template: req.body_template.as_deref().filter(|t| !t.is_empty()),
        secret: None,
    };
    let out = render::build(&spec, &event, &ctx, Uuid::nil())
        .map_err(|e| AppError::field("body_template", e))?;
    Ok(WebhookPreview {
        request: render::for_log(&out, &headers),
        context: ctx,
    })
}

/// Active webhooks that want this event about its resources. A backup's or retention's event is also
/// about every destination the backup was written to.
#[tracing::instrument(skip_all)]
pub async fn subscribers<C: ConnectionTrait>(
    db: &C,
    event: &pgward_api_types::Event,
    refs: &crate::features::events::service::Refs,
) -> Result<Vec<webhooks::Model>, sea_orm::DbErr> {
    let rows = webhooks::Entity::find()
        .filter(webhooks::Column::Active.eq(true))
        .filter(Expr::cust_with_values(
            "event_kinds @> jsonb_build_array($1::text)",
            [event.kind.as_str().to_string()],
        ))
        .all(db)
        .await?;
    let mut destinations: Vec<Uuid> = serde_json::from_value(
        event
            .data
            .get("destination_ids")
            .cloned()
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    destinations.extend(refs.destination);
    Ok(rows
        .into_iter()
        .filter(|w| {
            let t = targets_of(w);
            t.all
                || refs.task.is_some_and(|id| t.task_ids.contains(&id))
                || refs.database.is_some_and(|id| t.database_ids.contains(&id))
                || destinations.iter().any(|id| t.destination_ids.contains(id))
        })
        .collect())
}

/// Masks are computed when a URL is saved; when the masking rules get stricter, the webhooks saved
/// before are masked again at start-up (their sealed URL is the source), so no old mask shows more.
#[tracing::instrument(skip_all)]
pub async fn refresh_masks(state: &AppState) -> Result<usize, AppError> {
    let mut changed = 0;
    for w in webhooks::Entity::find().all(&state.db).await? {
        let url = state.secrets.open(&w.url_encrypted, &aad(w.id, "url"))?;
        let masked = render::mask_url(url.expose_secret());
        if masked != w.url_masked {
            webhooks::Entity::update_many()
                .col_expr(webhooks::Column::UrlMasked, Expr::value(masked))
                .filter(webhooks::Column::Id.eq(w.id))
                .exec(&state.db)
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Seals every webhook's URL, header values and secret again under another key (`pgward secrets
/// rotate-key`), in the caller's transaction. Returns how many webhooks were resealed.
#[tracing::instrument(skip_all)]
pub async fn reseal_all<C: ConnectionTrait>(
    db: &C,
    from: &crate::crypto::SecretBox,
    to: &crate::crypto::SecretBox,
) -> anyhow::Result<usize> {
    let rows = webhooks::Entity::find().all(db).await?;
    for m in &rows {
        let reseal = |sealed: &Option<Vec<u8>>, what: &str| -> anyhow::Result<Option<Vec<u8>>> {
            sealed
                .as_ref()
                .map(|s| from.reseal(to, s, &aad(m.id, what)))
                .transpose()
        };
        webhooks::Entity::update_many()
            .col_expr(
                webhooks::Column::UrlEncrypted,
                Expr::value(from.reseal(to, &m.url_encrypted, &aad(m.id, "url"))?),
            )
            .col_expr(
                webhooks::Column::HeadersEncrypted,
                Expr::value(reseal(&m.headers_encrypted, "headers")?),
            )
            .col_expr(
                webhooks::Column::SecretEncrypted,
                Expr::value(reseal(&m.secret_encrypted, "secret")?),
            )
            .filter(webhooks::Column::Id.eq(m.id))
            .exec(db)
            .await?;
    }
    Ok(rows.len())
}
