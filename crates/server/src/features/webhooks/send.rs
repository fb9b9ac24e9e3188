//! One attempt of a delivery: the request as the webhook's kind and template make it, sent through the
//! outbound policy, and what came back (status, headers kept, an excerpt, or why nothing came).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use pgward_api_types::{DeliveryRequest, Event};
use pgward_entity::{tasks, webhook_attempts, webhook_deliveries, webhooks};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use super::{render, service};
use crate::state::AppState;

/// The part of a response body kept in the log.
pub(super) const RESPONSE_EXCERPT: usize = 4096;
/// Response headers kept in the delivery log: what helps to understand an answer. Everything else
/// (cookies, tokens, locations with signed queries ...) may carry a secret of the receiver's.
pub(super) const KEPT_RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "date",
    "retry-after",
    "x-request-id",
];

/// What one attempt came to.
pub(super) struct Outcome {
    pub(super) ok: bool,
    /// Another attempt could succeed (not so for a template that does not render).
    pub(super) retryable: bool,
}

/// Delay before attempt `attempt + 1`: base, 2 x base, 4 x base, ... capped.
pub(super) fn backoff(state: &AppState, attempt: i32) -> Duration {
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

/// The task's time zone, for times in templates, when the event's data does not carry it.
pub(super) async fn task_tz(state: &AppState, event: &Event) -> Option<chrono_tz::Tz> {
    if event.data.pointer("/task/timezone").is_some() {
        return None;
    }
    let id = event.task_id?;
    let t = tasks::Entity::find_by_id(id).one(&state.db).await.ok()??;
    t.timezone.parse().ok()
}

/// Sends one attempt and logs it.
pub(super) async fn attempt_once(
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

pub(super) type Prepared = (render::Outgoing, BTreeMap<String, String>);

/// Opens the webhook's secrets and renders the request; on failure, what can be logged and why.
pub(super) async fn prepare(
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
    let opened = super::sealed::open(state, hook).map_err(|e| fallback(e.to_string()))?;
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
pub(super) fn error_text(e: &reqwest::Error, timeout: Duration) -> String {
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
