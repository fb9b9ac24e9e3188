//! The rules a webhook must meet before it is saved: an address pgward may dial, headers it may send,
//! a template that renders, events its kind can carry, targets that exist.

use std::collections::BTreeMap;

use pgward_api_types::{EventKind, HttpMethod, WebhookKind, WebhookTargets};
use pgward_entity::{databases, destinations, tasks};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::render;
use crate::error::AppError;
use crate::features::validate::{self, Fields};
use crate::state::AppState;

pub(super) const DEFAULT_TIMEOUT: u32 = 10;
pub(super) const DEFAULT_ATTEMPTS: u32 = 5;
pub(super) const MAX_HEADERS: usize = 20;
/// Headers pgward sets itself (or that HTTP manages).
pub(super) const RESERVED_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "user-agent",
    "x-pgward-",
];

pub(super) fn check_url(url: &str) -> Result<(), String> {
    if url.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let u = url::Url::parse(url.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    Ok(())
}

pub(super) fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), String> {
    if headers.len() > MAX_HEADERS {
        return Err(format!("at most {MAX_HEADERS} headers"));
    }
    for (k, v) in headers {
        if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
            return Err(format!("\"{k}\" is not a valid header name"));
        }
        let lower = k.to_ascii_lowercase();
        if RESERVED_HEADERS
            .iter()
            .any(|r| lower == *r || (r.ends_with('-') && lower.starts_with(r)))
        {
            return Err(format!("\"{k}\" is set by pgward"));
        }
        if v.len() > 2000 || reqwest::header::HeaderValue::from_str(v).is_err() {
            return Err(format!(
                "the value of \"{k}\" is not a valid header value (visible ASCII, at most 2000 bytes)"
            ));
        }
    }
    Ok(())
}

pub(super) fn check_template(kind: WebhookKind, template: Option<&str>) -> Result<(), String> {
    let Some(t) = template.filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    if matches!(kind, WebhookKind::Json | WebhookKind::Healthchecks) {
        return Err(format!(
            "a {} webhook sends a fixed body; a template is not used",
            kind.label()
        ));
    }
    if t.chars().count() > 20_000 {
        return Err("must be at most 20000 characters".into());
    }
    render::check_template(t)
}

pub(super) fn check_method(kind: WebhookKind, method: Option<HttpMethod>) -> Result<(), String> {
    match (kind, method) {
        (WebhookKind::Custom, _) | (_, None | Some(HttpMethod::Post)) => Ok(()),
        _ => Err(format!("a {} webhook always sends POST", kind.label())),
    }
}

/// The kinds a Healthchecks webhook pings about when none are chosen: a backup's start and outcome.
pub(super) const HEALTHCHECKS_DEFAULT: [EventKind; 3] = [
    EventKind::ExecutionStarted,
    EventKind::ExecutionSuccess,
    EventKind::ExecutionFailed,
];

pub(super) fn normalize_events(
    kind: WebhookKind,
    events: &[EventKind],
) -> Result<Vec<EventKind>, String> {
    let mut out: Vec<EventKind> = Vec::new();
    for e in events {
        if !out.contains(e) {
            out.push(*e);
        }
    }
    if out.is_empty() {
        if kind == WebhookKind::Healthchecks {
            return Ok(HEALTHCHECKS_DEFAULT.to_vec());
        }
        return Err("choose at least one event".into());
    }
    Ok(out)
}

pub(super) fn normalize_targets(t: WebhookTargets) -> WebhookTargets {
    if t.all {
        return WebhookTargets::default();
    }
    let dedup = |mut v: Vec<Uuid>| {
        v.sort();
        v.dedup();
        v
    };
    WebhookTargets {
        all: false,
        database_ids: dedup(t.database_ids),
        destination_ids: dedup(t.destination_ids),
        task_ids: dedup(t.task_ids),
    }
}

/// Chosen targets must exist (and there must be one).
pub(super) async fn check_targets(state: &AppState, t: &WebhookTargets) -> Result<(), AppError> {
    if t.all {
        return Ok(());
    }
    if t.database_ids.is_empty() && t.destination_ids.is_empty() && t.task_ids.is_empty() {
        return Err(AppError::field(
            "targets",
            "choose all resources, or at least one database, destination or task",
        ));
    }
    let dbs = databases::Entity::find()
        .filter(databases::Column::Id.is_in(t.database_ids.clone()))
        .count(&state.db)
        .await?;
    let dests = destinations::Entity::find()
        .filter(destinations::Column::Id.is_in(t.destination_ids.clone()))
        .count(&state.db)
        .await?;
    let ts = tasks::Entity::find()
        .filter(tasks::Column::Id.is_in(t.task_ids.clone()))
        .count(&state.db)
        .await?;
    if dbs as usize != t.database_ids.len()
        || dests as usize != t.destination_ids.len()
        || ts as usize != t.task_ids.len()
    {
        return Err(AppError::field(
            "targets",
            "a chosen database, destination or task does not exist",
        ));
    }
    Ok(())
}

pub(super) fn check_limit(value: Option<u32>, max: u32) -> Result<(), String> {
    match value {
        Some(v) if !(1..=max).contains(&v) => Err(format!("must be 1 to {max}")),
        _ => Ok(()),
    }
}

/// The fields create and update share, as given (`None`: not given).
pub(super) struct Given<'a> {
    pub(super) name: Option<&'a str>,
    pub(super) url: Option<&'a str>,
    pub(super) headers: Option<&'a BTreeMap<String, String>>,
    pub(super) body_template: Option<&'a str>,
    pub(super) method: Option<HttpMethod>,
    pub(super) events: Option<&'a [EventKind]>,
    pub(super) timeout_secs: Option<u32>,
    pub(super) max_attempts: Option<u32>,
    pub(super) secret: Option<&'a str>,
}

/// Validates what was given (every problem at once, per field); returns the normalized event kinds.
/// `secret_may_be_empty`: in an update, an empty secret removes signing.
pub(super) fn check(
    kind: WebhookKind,
    g: &Given,
    secret_may_be_empty: bool,
) -> Result<Option<Vec<EventKind>>, AppError> {
    let mut f = Fields::default();
    if let Some(n) = g.name {
        f.check("name", validate::name(n, 100));
    }
    if let Some(u) = g.url {
        f.check("url", check_url(u));
    }
    if let Some(h) = g.headers {
        f.check("headers", check_headers(h));
    }
    f.check("body_template", check_template(kind, g.body_template));
    f.check("method", check_method(kind, g.method));
    let events = g.events.map(|e| normalize_events(kind, e)).transpose();
    if let Err(e) = &events {
        f.check("events", Err(e.clone()));
    }
    f.check("timeout_secs", check_limit(g.timeout_secs, 60));
    f.check("max_attempts", check_limit(g.max_attempts, 10));
    if let Some(s) = g.secret {
        let min = usize::from(!secret_may_be_empty);
        f.check(
            "secret",
            if (min..=500).contains(&s.len()) {
                Ok(())
            } else {
                Err(format!("must be {min} to 500 characters"))
            },
        );
    }
    f.finish()?;
    events.map_err(|e| AppError::field("events", e))
}

/// A webhook URL whose host resolves to an address the outbound policy refuses is refused (a name that
/// does not resolve yet is accepted: every delivery checks again).
pub(super) async fn check_address(state: &AppState, url: &str) -> Result<(), AppError> {
    match state.outbound.check_webhook_url(url.trim()).await {
        Err(e) if e.addr.is_some() => Err(AppError::AddressNotAllowed(e.to_string())),
        _ => Ok(()),
    }
}

/// Where requests go: scheme, host, port and path (shared hosts give each receiver its own path).
/// Header values and the signing secret were given for one receiver; a URL that names another drops
/// them.
pub(super) fn origin(url: &str) -> Option<(String, String, Option<u16>, String)> {
    let u = url::Url::parse(url.trim()).ok()?;
    Some((
        u.scheme().to_string(),
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default(),
        u.path().to_string(),
    ))
}
