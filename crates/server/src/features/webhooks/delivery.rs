//! Delivering events to webhooks. Each (event, webhook) pair is a delivery row, written when the event
//! is recorded, so nothing is lost while a receiver is down or pgward restarts; queue jobs only carry the
//! row's id. A worker claims the row (`queued -> sending`, attempt counted), sends one attempt, logs it,
//! and either finishes the row or schedules the next attempt with exponential backoff. The scheduler
//! pass re-enqueues what is due: retries, jobs that were lost, attempts whose process died.

use chrono::{DateTime, Utc};
use pgward_api_types::{DeliveryStatus, Event, EventKind, WebhookDelivery};
use pgward_entity::{webhook_deliveries, webhooks};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set,
    Statement,
};
use uuid::Uuid;

use super::log::*;
use super::send::*;
use super::{render, service};
use crate::error::AppError;
use crate::features::events::service::Refs;
use crate::state::AppState;

// The log is listed through this module, as the handlers have always called it.
pub(super) use super::log::list;

/// Delivery states as stored (the SQL below names them).
const QUEUED: &str = DeliveryStatus::Queued.as_str();
const SENDING: &str = DeliveryStatus::Sending.as_str();
const RETRYING: &str = DeliveryStatus::Retrying.as_str();
const SUCCESS: &str = DeliveryStatus::Success.as_str();
const FAILED: &str = DeliveryStatus::Failed.as_str();

/// A delivery claimed this long ago whose worker never reported died with its process.
const SENDING_LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// A queued delivery whose job has not started by then is enqueued again (the job was lost).
const QUEUED_GRACE: chrono::Duration = chrono::Duration::minutes(10);

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
    let event: Event = serde_json::from_value(old.event.clone()).map_err(|e| {
        AppError::Internal(anyhow::Error::new(e).context("stored event of a delivery"))
    })?;
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
