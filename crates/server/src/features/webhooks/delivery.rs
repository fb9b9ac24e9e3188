//! Delivering events to webhooks. Each (event, webhook) pair is a delivery row, written when the event
//! is recorded, so nothing is lost while a receiver is down or pgward restarts; queue jobs only carry the
//! row's id. A worker claims the row (`queued -> sending`, attempt counted), sends one attempt, logs it,
//! and either finishes the row or schedules the next attempt with exponential backoff. The scheduler
//! pass re-enqueues what is due: retries, jobs that were lost, attempts whose process died.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pgward_api_types::{
    DeliveryAttempt, DeliveryRequest, DeliveryStatus, Event, EventKind, WebhookDelivery,
    WebhookDeliveryPage, WebhookDeliveryQuery,
};
use pgward_entity::{tasks, webhook_attempts, webhook_deliveries, webhooks};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use super::{render, service};
use crate::error::AppError;
use crate::features::events::service::Refs;
use crate::state::AppState;

/// The part of a response body kept in the log.
const RESPONSE_EXCERPT: usize = 4096;
/// A delivery claimed this long ago whose worker never reported died with its process.
/// Delivery states as stored (the SQL below names them).
const QUEUED: &str = DeliveryStatus::Queued.as_str();
const SENDING: &str = DeliveryStatus::Sending.as_str();
const RETRYING: &str = DeliveryStatus::Retrying.as_str();
const SUCCESS: &str = DeliveryStatus::Success.as_str();
const FAILED: &str = DeliveryStatus::Failed.as_str();

const SENDING_LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// A queued delivery whose job has not started by then is enqueued again (the job was lost).
const QUEUED_GRACE: chrono::Duration = chrono::Duration::minutes(10);

/// Response headers kept in the delivery log: what helps to understand an answer. Everything else
/// (cookies, tokens, locations with signed queries ...) may carry a secret of the receiver's.
const KEPT_RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "date",
    "retry-after",
    "x-request-id",
];

/// Writes a delivery for every active webhook that wants this event, inside the transaction that
/// records the event (an event is never stored without its deliveries); returns their ids, to enqueue
/// once that transaction committed.
#[tracing::instrument(skip_all)]
pub async fn record<C: ConnectionTrait>(
    db: &C,
    event: &Event,
    refs: &Refs,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    let mut ids = Vec::new();
    for w in service::subscribers(db, event, refs).await? {
        ids.push(
            new_delivery(w.id, event, Some(event.id))
                .insert(db)
                .await?
                .id,
        );
    }
    Ok(ids)
}

fn new_delivery(
    webhook: Uuid,
    event: &Event,
    event_id: Option<Uuid>,
) -> webhook_deliveries::ActiveModel {
    let now = Utc::now();
    webhook_deliveries::ActiveModel {
        id: Set(Uuid::now_v7()),
        webhook_id: Set(webhook),
        event_id: Set(event_id),
        event_kind: Set(event.kind.as_str().into()),
        event: Set(serde_json::to_value(event).unwrap_or_default()),
        test: Set(false),
        status: Set(DeliveryStatus::Queued.as_str().into()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        queued_at: Set(Some(now)),
        claimed_at: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
    }
}

/// Sends a delivery's event again, as a new delivery through the queue (with the webhook's attempts
/// and backoff); the old one stays in the log as it ended.
#[tracing::instrument(skip_all)]
pub async fn redeliver(
    state: &AppState,
    webhook: Uuid,
    delivery: Uuid,
) -> Result<WebhookDelivery, AppError> {
    let old = webhook_deliveries::Entity::find_by_id(delivery)
        .filter(webhook_deliveries::Column::WebhookId.eq(webhook))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    if !matches!(
        DeliveryStatus::parse(&old.status),
        Some(DeliveryStatus::Success | DeliveryStatus::Failed)
    ) {
        return Err(AppError::Conflict(
            "this delivery is still under way; it can be sent again once it has ended".into(),
        ));
    }
    let event: Event = serde_json::from_value(old.event.clone())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored event of a delivery: {e}")))?;
    // A run's start sent after its outcome would reopen the run at the receiver (Healthchecks).
    if matches!(
        event.kind,
        EventKind::ExecutionStarted | EventKind::RestorationStarted
    ) {
        let run = event.restoration_id.or(event.execution_id);
        let later = webhook_deliveries::Entity::find()
            .filter(webhook_deliveries::Column::WebhookId.eq(webhook))
            .filter(webhook_deliveries::Column::Id.gt(delivery))
            .all(&state.db)
            .await?
            .into_iter()
            .filter_map(|d| serde_json::from_value::<Event>(d.event).ok())
            .any(|e| e.restoration_id.or(e.execution_id) == run);
        if later {
            return Err(AppError::Conflict(
                "the run's outcome was delivered after this start; sending the start again would reopen the run"
                    .into(),
            ));
        }
    }
    let d = new_delivery(webhook, &event, old.event_id)
        .insert(&state.db)
        .await?;
    enqueue(state, d.id).await;
    tracing::info!(delivery_id = %d.id, from = %delivery, "webhook delivery sent again");
    Ok(with_attempts(state, vec![d]).await?.remove(0))
}

/// A failed push is not lost: the row stays queued and the scheduler pass enqueues it again.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn enqueue(state: &AppState, id: Uuid) {
    if let Err(e) = state.queues.enqueue_delivery(id).await {
        tracing::warn!(delivery_id = %id, error = %e, "enqueueing a webhook delivery failed; the scheduler will retry");
    }
}

/// What one attempt came to.
struct Outcome {
    ok: bool,
    /// Another attempt could succeed (not so for a template that does not render).
    retryable: bool,
}

/// Holds a delivery back while an earlier delivery of the same webhook about the same run is still
/// pending, so a receiver hears a run's events in order (Healthchecks must get `/start` before the
/// outcome, or a late `/start` would open a run that never ends). The scheduler pass picks it up again.
async fn defer_behind_earlier(state: &AppState, id: Uuid) -> Result<bool, sea_orm::DbErr> {
    let res = state
        .db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            // Held until the earlier delivery's next attempt is due (or the next pass, while it is
            // queued or in flight), not re-queued on every pass while it backs off.
            format!("WITH earlier AS ( \
               SELECT max(GREATEST(o.next_attempt_at, $2)) AS due FROM webhook_deliveries o, webhook_deliveries d \
               WHERE d.id = $1 AND o.webhook_id = d.webhook_id AND o.id < d.id \
                 AND o.status IN ('{QUEUED}', '{SENDING}', '{RETRYING}') \
                 AND COALESCE(d.event->>'restoration_id', d.event->>'execution_id') IS NOT NULL \
                 AND COALESCE(o.event->>'restoration_id', o.event->>'execution_id') \
                   = COALESCE(d.event->>'restoration_id', d.event->>'execution_id')) \
             UPDATE webhook_deliveries d SET status = '{RETRYING}', next_attempt_at = earlier.due \
             FROM earlier WHERE d.id = $1 AND d.status = '{QUEUED}' AND earlier.due IS NOT NULL"),
            [id.into(), Utc::now().into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// The queue job: one attempt of delivery `id`.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn deliver(state: &AppState, id: Uuid) {
    match defer_behind_earlier(state, id).await {
        Ok(true) => return,
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(delivery_id = %id, error = %e, "checking the order of deliveries failed")
        }
    }
    let claimed = state
        .db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("UPDATE webhook_deliveries SET status = '{SENDING}', claimed_at = now(), attempts = attempts + 1 \
             WHERE id = $1 AND status = '{QUEUED}' RETURNING attempts"),
            [id.into()],
        ))
        .await;
    let attempt: i32 = match claimed {
        Ok(Some(r)) => r.try_get("", "attempts").unwrap_or(1),
        Ok(None) => return, // delivered twice, finished, or no longer due
        Err(e) => {
            tracing::error!(delivery_id = %id, error = %e, "claiming a webhook delivery failed");
            return;
        }
    };
    let Ok(Some(d)) = webhook_deliveries::Entity::find_by_id(id)
        .one(&state.db)
        .await
    else {
        return;
    };
    let Ok(Some(hook)) = webhooks::Entity::find_by_id(d.webhook_id)
        .one(&state.db)
        .await
    else {
        return;
    };
    if !hook.active {
        finish(state, id, attempt, DeliveryStatus::Failed, None).await;
        tracing::info!(delivery_id = %id, "webhook deactivated; delivery dropped");
        return;
    }
    let max = hook.max_attempts.max(1);
    if attempt > max {
        // Its last attempt was claimed by a process that died.
        finish(state, id, attempt, DeliveryStatus::Failed, None).await;
        return;
    }
    let outcome = attempt_once(state, &hook, &d, attempt).await;
    if outcome.ok {
        finish(state, id, attempt, DeliveryStatus::Success, None).await;
    } else if attempt >= max || !outcome.retryable {
        finish(state, id, attempt, DeliveryStatus::Failed, None).await;
        tracing::warn!(delivery_id = %id, webhook_id = %hook.id, attempts = attempt, "webhook delivery failed");
    } else {
        let wait = backoff(state, attempt);
        let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
        finish(state, id, attempt, DeliveryStatus::Retrying, Some(next)).await;
    }
}

/// Delay before attempt `attempt + 1`: base, 2 x base, 4 x base, ... capped.
fn backoff(state: &AppState, attempt: i32) -> Duration {
    let cfg = &state.config.webhooks;
    let exp = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    Duration::from_secs(
        cfg.retry_base_secs
            .max(1)
            .saturating_mul(1 << exp)
            .min(cfg.retry_max_secs.max(1)),
    )
}

/// Ends the attempt `attempt` of a delivery: only while that attempt still holds it (a worker that
/// outlived its lease must not overwrite what another worker did since).
async fn finish(
    state: &AppState,
    id: Uuid,
    attempt: i32,
    status: DeliveryStatus,
    next_attempt_at: Option<DateTime<Utc>>,
) {
    let done = matches!(status, DeliveryStatus::Success | DeliveryStatus::Failed);
    let res = webhook_deliveries::Entity::update_many()
        .col_expr(
            webhook_deliveries::Column::Status,
            sea_orm::sea_query::Expr::value(status.as_str()),
        )
        .col_expr(
            webhook_deliveries::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::value(next_attempt_at),
        )
        .col_expr(
            webhook_deliveries::Column::FinishedAt,
            sea_orm::sea_query::Expr::value(done.then(Utc::now)),
        )
        .filter(webhook_deliveries::Column::Id.eq(id))
        .filter(webhook_deliveries::Column::Status.eq(DeliveryStatus::Sending.as_str()))
        .filter(webhook_deliveries::Column::Attempts.eq(attempt))
        .exec(&state.db)
        .await;
    match res {
        Ok(r) if r.rows_affected == 0 => {
            tracing::warn!(delivery_id = %id, attempt, "a webhook attempt ended after its lease; its outcome is only logged")
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(delivery_id = %id, error = %e, "recording a webhook delivery's outcome failed")
        }
    }
}

/// The task's time zone, for times in templates, when the event's data does not carry it.
async fn task_tz(state: &AppState, event: &Event) -> Option<chrono_tz::Tz> {
    if event.data.pointer("/task/timezone").is_some() {
        return None;
    }
    let id = event.task_id?;
    let t = tasks::Entity::find_by_id(id).one(&state.db).await.ok()??;
    t.timezone.parse().ok()
}

/// Sends one attempt and logs it.
async fn attempt_once(
    state: &AppState,
    hook: &webhooks::Model,
    d: &webhook_deliveries::Model,
    attempt: i32,
) -> Outcome {
    let started_at = Utc::now();
    let clock = Instant::now();
    let mut log = webhook_attempts::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(d.id),
        attempt: Set(attempt),
        started_at: Set(started_at),
        duration_ms: Set(0),
        request: Set(serde_json::Value::Null),
        response_status: Set(None),
        response_headers: Set(None),
        response_body: Set(None),
        error: Set(None),
    };
    let outcome = match prepare(state, hook, d).await {
        Err((request, error)) => {
            log.request = Set(serde_json::to_value(request).unwrap_or_default());
            log.error = Set(Some(error));
            Outcome {
                ok: false,
                retryable: false,
            }
        }
        Ok((out, own_headers)) => {
            log.request =
                Set(serde_json::to_value(render::for_log(&out, &own_headers)).unwrap_or_default());
            let timeout = Duration::from_secs(hook.timeout_secs.clamp(1, 60) as u64);
            let method = match out.method {
                pgward_api_types::HttpMethod::Get => reqwest::Method::GET,
                pgward_api_types::HttpMethod::Post => reqwest::Method::POST,
                pgward_api_types::HttpMethod::Put => reqwest::Method::PUT,
            };
            if let Err(e) = state.outbound.check_webhook_url(&out.url).await {
                log.error = Set(Some(format!("address not allowed: {e}")));
                log.duration_ms = Set(clock.elapsed().as_millis() as i64);
                if let Err(e) = log.insert(&state.db).await {
                    tracing::error!(delivery_id = %d.id, error = %e, "logging a webhook attempt failed");
                }
                return Outcome {
                    ok: false,
                    retryable: false,
                };
            }
            let mut req = state
                .outbound
                .webhook_client()
                .request(method, &out.url)
                .timeout(timeout)
                .body(out.body.clone());
            for (k, v) in &out.headers {
                req = req.header(k, v);
            }
            match req.send().await {
                Ok(mut resp) => {
                    let status = resp.status();
                    let mut headers: BTreeMap<String, String> = BTreeMap::new();
                    for (k, v) in resp.headers() {
                        if !KEPT_RESPONSE_HEADERS.contains(&k.as_str()) {
                            continue;
                        }
                        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                        headers
                            .entry(k.as_str().to_string())
                            .and_modify(|e| {
                                e.push_str(", ");
                                e.push_str(&v)
                            })
                            .or_insert(v);
                    }
                    let mut body = Vec::new();
                    let mut read_error = None;
                    while body.len() < RESPONSE_EXCERPT {
                        match resp.chunk().await {
                            Ok(Some(c)) => body.extend_from_slice(&c),
                            Ok(None) => break,
                            Err(e) => {
                                read_error = Some(error_text(&e, timeout));
                                break;
                            }
                        }
                    }
                    body.truncate(RESPONSE_EXCERPT);
                    log.response_status = Set(Some(i32::from(status.as_u16())));
                    log.response_headers = Set(Some(serde_json::json!(headers)));
                    log.response_body = Set(Some(String::from_utf8_lossy(&body).into_owned()));
                    let ok = status.is_success();
                    if !ok {
                        log.error = Set(Some(format!("the receiver answered HTTP {status}")));
                    } else if let Some(e) = read_error {
                        log.error = Set(Some(format!("reading the response: {e}")));
                    }
                    Outcome {
                        ok,
                        retryable: true,
                    }
                }
                Err(e) => {
                    log.error = Set(Some(error_text(&e, timeout)));
                    Outcome {
                        ok: false,
                        retryable: true,
                    }
                }
            }
        }
    };
    log.duration_ms = Set(clock.elapsed().as_millis() as i64);
    if let Err(e) = log.insert(&state.db).await {
        tracing::error!(delivery_id = %d.id, error = %e, "logging a webhook attempt failed");
    }
    outcome
}

type Prepared = (render::Outgoing, BTreeMap<String, String>);

/// Opens the webhook's secrets and renders the request; on failure, what can be logged and why.
async fn prepare(
    state: &AppState,
    hook: &webhooks::Model,
    d: &webhook_deliveries::Model,
) -> Result<Prepared, (DeliveryRequest, String)> {
    let method = pgward_api_types::HttpMethod::parse(&hook.method)
        .unwrap_or(pgward_api_types::HttpMethod::Post);
    let fallback = |error: String| {
        (
            DeliveryRequest {
                method,
                url: hook.url_masked.clone(),
                headers: BTreeMap::new(),
                body: String::new(),
            },
            error,
        )
    };
    let event: Event = serde_json::from_value(d.event.clone())
        .map_err(|e| fallback(format!("the stored event is unreadable: {e}")))?;
    let opened = service::open(state, hook).map_err(|e| fallback(e.to_string()))?;
    let ctx = render::context(
        &event,
        task_tz(state, &event).await,
        &state.config.public_url(),
    );
    let spec = render::Spec {
        kind: service::kind_of(hook),
        method,
        url: &opened.url,
        headers: &opened.headers,
        body_template: hook.body_template.as_deref(),
        secret: opened.secret.as_deref(),
    };
    let out = render::build(&spec, &event, &ctx, d.id)
        .map_err(|e| fallback(format!("the body template does not render: {e}")))?;
    Ok((out, opened.headers))
}

/// A network error as text, without the URL (it may carry the webhook's secret).
fn error_text(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s (timeout)", timeout.as_secs());
    }
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    let head = if e.is_connect() {
        "could not connect"
    } else if e.is_request() {
        "sending the request failed"
    } else {
        "the request failed"
    };
    if parts.is_empty() {
        head.to_string()
    } else {
        format!("{head}: {}", parts.join(": "))
    }
}

/// "Send test now": a sample event of the webhook's first kind, one attempt, right away, logged like
/// any delivery.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn send_test(state: &AppState, id: Uuid) -> Result<WebhookDelivery, AppError> {
    let hook = service::find(state, id).await?;
    let events = service::events_of(&hook);
    let kind = if events.contains(&EventKind::ExecutionSuccess) {
        EventKind::ExecutionSuccess
    } else {
        events
            .first()
            .copied()
            .unwrap_or(EventKind::ExecutionSuccess)
    };
    let event = render::sample_event(kind);
    let now = Utc::now();
    let d = webhook_deliveries::ActiveModel {
        id: Set(Uuid::now_v7()),
        webhook_id: Set(id),
        event_id: Set(None),
        event_kind: Set(kind.as_str().into()),
        event: Set(serde_json::to_value(&event).unwrap_or_default()),
        test: Set(true),
        status: Set(DeliveryStatus::Sending.as_str().into()),
        attempts: Set(1),
        next_attempt_at: Set(None),
        queued_at: Set(None),
        claimed_at: Set(Some(now)),
        created_at: Set(now),
        finished_at: Set(None),
    }
    .insert(&state.db)
    .await?;
    let outcome = attempt_once(state, &hook, &d, 1).await;
    let status = if outcome.ok {
        DeliveryStatus::Success
    } else {
        DeliveryStatus::Failed
    };
    finish(state, d.id, 1, status, None).await;
    tracing::info!(webhook_id = %id, ok = outcome.ok, "webhook test sent");
    let d = webhook_deliveries::Entity::find_by_id(d.id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    Ok(with_attempts(state, vec![d]).await?.remove(0))
}

fn attempt_dto(a: &webhook_attempts::Model) -> DeliveryAttempt {
    DeliveryAttempt {
        attempt: u32::try_from(a.attempt).unwrap_or_default(),
        started_at: a.started_at,
        duration_ms: u64::try_from(a.duration_ms).unwrap_or_default(),
        request: serde_json::from_value(a.request.clone()).unwrap_or(DeliveryRequest {
            method: pgward_api_types::HttpMethod::Post,
            url: String::new(),
            headers: BTreeMap::new(),
            body: String::new(),
        }),
        response_status: a.response_status.and_then(|s| u16::try_from(s).ok()),
        response_headers: a
            .response_headers
            .clone()
            .and_then(|h| serde_json::from_value(h).ok())
            .unwrap_or_default(),
        response_body: a.response_body.clone(),
        error: a.error.clone(),
    }
}

async fn with_attempts(
    state: &AppState,
    rows: Vec<webhook_deliveries::Model>,
) -> Result<Vec<WebhookDelivery>, AppError> {
    let attempts = webhook_attempts::Entity::find()
        .filter(webhook_attempts::Column::DeliveryId.is_in(rows.iter().map(|d| d.id)))
        .order_by_asc(webhook_attempts::Column::Attempt)
        .order_by_asc(webhook_attempts::Column::Id)
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|d| WebhookDelivery {
            id: d.id,
            webhook_id: d.webhook_id,
            event_id: d.event_id,
            event_kind: EventKind::parse(&d.event_kind).unwrap_or(EventKind::ExecutionSuccess),
            test: d.test,
            status: DeliveryStatus::parse(&d.status).unwrap_or(DeliveryStatus::Queued),
            next_attempt_at: d
                .next_attempt_at
                .filter(|_| d.status == DeliveryStatus::Retrying.as_str()),
            attempts: attempts
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .map(attempt_dto)
                .collect(),
            created_at: d.created_at,
            finished_at: d.finished_at,
        })
        .collect())
}

#[tracing::instrument(skip_all)]
pub async fn list(
    state: &AppState,
    webhook: Uuid,
    q: WebhookDeliveryQuery,
) -> Result<WebhookDeliveryPage, AppError> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(AppError::field("limit", "must be 1 to 100"));
    }
    service::find(state, webhook).await?;
    let mut sel = webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::WebhookId.eq(webhook))
        .order_by_desc(webhook_deliveries::Column::Id);
    if let Some(before) = crate::features::validate::cursor(q.cursor.as_deref())? {
        sel = sel.filter(webhook_deliveries::Column::Id.lt(before));
    }
    if let Some(s) = q.status {
        sel = sel.filter(webhook_deliveries::Column::Status.eq(s.as_str()));
    }
    let mut rows = sel.limit(u64::from(limit) + 1).all(&state.db).await?;
    let next_cursor = crate::features::validate::next_cursor(&mut rows, limit, |r| r.id);
    Ok(WebhookDeliveryPage {
        items: with_attempts(state, rows).await?,
        next_cursor,
    })
}

/// The scheduler pass: enqueue due retries, lost jobs and attempts whose process died; prune the log.
#[tracing::instrument(skip_all)]
pub async fn sweep(state: &AppState, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
    // An attempt whose process died before its answer was logged is logged as interrupted: the
    // delivery log shows every attempt, and it counts (the receiver may have got it), so a delivery
    // whose last attempt was cut off ends failed with the reason in its log, never silently.
    state
        .db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("INSERT INTO webhook_attempts (id, delivery_id, attempt, started_at, duration_ms, request, error) \
             SELECT gen_random_uuid(), d.id, d.attempts, d.claimed_at, 0, \
                    jsonb_build_object('method', w.method, 'url', w.url_masked, 'headers', '{{}}'::jsonb, 'body', ''), \
                    'interrupted: the pgward process sending this attempt stopped before it was answered' \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.status = '{SENDING}' AND d.claimed_at < $1 \
             ON CONFLICT (delivery_id, attempt) DO NOTHING"),
            [(now - SENDING_LEASE).into()],
        ))
        .await?;
    let due = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE webhook_deliveries SET status = '{QUEUED}', queued_at = $1 \
             WHERE (status = '{RETRYING}' AND next_attempt_at <= $1) \
                OR (status = '{QUEUED}' AND queued_at < $2) \
                OR (status = '{SENDING}' AND NOT test AND claimed_at < $3) \
             RETURNING id"
            ),
            [
                now.into(),
                (now - QUEUED_GRACE).into(),
                (now - SENDING_LEASE).into(),
            ],
        ))
        .await?;
    for r in due {
        if let Ok(id) = r.try_get::<Uuid>("", "id") {
            enqueue(state, id).await;
        }
    }
    // A test whose process died mid-attempt: there is nothing to retry.
    state
        .db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE webhook_deliveries SET status = '{FAILED}', finished_at = $1 \
             WHERE status = '{SENDING}' AND test AND claimed_at < $2"
            ),
            [now.into(), (now - SENDING_LEASE).into()],
        ))
        .await?;
    let keep = chrono::Duration::days(i64::from(state.config.webhooks.log_retention_days.max(1)));
    state
        .db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("DELETE FROM webhook_deliveries WHERE status IN ('{SUCCESS}', '{FAILED}') AND finished_at < $1"),
            [(now - keep).into()],
        ))
        .await?;
    Ok(())
}
