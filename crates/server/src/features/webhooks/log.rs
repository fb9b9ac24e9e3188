//! The delivery log as the API shows it: deliveries with their attempts.

use std::collections::BTreeMap;

use pgward_api_types::{
    DeliveryAttempt, DeliveryRequest, DeliveryStatus, EventKind, WebhookDelivery,
    WebhookDeliveryPage, WebhookDeliveryQuery,
};
use pgward_entity::{webhook_attempts, webhook_deliveries};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::service;
use crate::error::AppError;
use crate::state::AppState;

pub(super) fn attempt_dto(a: &webhook_attempts::Model) -> DeliveryAttempt {
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

pub(super) async fn with_attempts(
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
/// A webhook's delivery log. A viewer (`role` below operator) sees every attempt but not the request
/// bodies sent: they carry event data a viewer may not otherwise read in full.
pub async fn list(
    state: &AppState,
    webhook: Uuid,
    q: WebhookDeliveryQuery,
    role: pgward_api_types::Role,
) -> Result<WebhookDeliveryPage, AppError> {
    let limit = crate::features::validate::page_limit(q.limit, 20, 100)?;
    service::find(state, webhook).await?;
    let mut sel = crate::features::validate::newest_first(
        webhook_deliveries::Entity::find()
            .filter(webhook_deliveries::Column::WebhookId.eq(webhook)),
        webhook_deliveries::Column::Id,
        q.cursor.as_deref(),
    )?;
    if let Some(s) = q.status {
        sel = sel.filter(webhook_deliveries::Column::Status.eq(s.as_str()));
    }
    let (rows, next_cursor) =
        crate::features::validate::fetch_page(&state.db, sel, limit, |r| r.id).await?;
    let mut items = with_attempts(state, rows).await?;
    if role < pgward_api_types::Role::Operator {
        for attempt in items.iter_mut().flat_map(|d| d.attempts.iter_mut()) {
            attempt.request.body = String::new();
        }
    }
    Ok(WebhookDeliveryPage { items, next_cursor })
}
