//! From an event to the HTTP request a webhook sends: the template context (the documented variables),
//! each kind's request shape, the signature, and the masked copy kept in the delivery log.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use hmac::{Hmac, Mac};
use pgward_api_types::{
    DeliveryRequest, Event, EventKind, ExecutionStatus, HealthStatus, HttpMethod, WebhookKind,
};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

/// Healthchecks accepts request bodies up to 100 kB; a longer stderr tail is cut at its start.
pub const HEALTHCHECKS_BODY_LIMIT: usize = 100_000;
/// Discord rejects messages over 2000 characters.
const DISCORD_LIMIT: usize = 2000;
pub const SIGNATURE_HEADER: &str = "X-Pgward-Signature-256";
/// Unix seconds when the attempt was sent; signed with the body, so a receiver can refuse replays.
pub const TIMESTAMP_HEADER: &str = "X-Pgward-Timestamp";

/// What a webhook is, as far as building its request goes (secrets already opened).
pub struct Spec<'a> {
    pub kind: WebhookKind,
    pub method: HttpMethod,
    pub url: &'a str,
    pub headers: &'a BTreeMap<String, String>,
    pub body_template: Option<&'a str>,
    pub secret: Option<&'a str>,
}

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: HttpMethod,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The default message of Slack and Discord webhooks.
pub const DEFAULT_MESSAGE: &str = "{{ icon }} *pgward: {{ title }}*\n\
{% if task %}Task: {{ task.name }}{% endif %}{% if database %} · Database: {{ database.name }}{% endif %}{% if destination %} · Destination: {{ destination.name }}{% endif %}\n\
Status: {{ status }}{% if size_human %} · Size: {{ size_human }}{% endif %}{% if duration_human %} · Duration: {{ duration_human }}{% endif %}\n\
{% if error %}Error: {{ error }}\n{% endif %}\
{% if finished_at_text %}Finished: {{ finished_at_text }}\n{% elif occurred_at_text %}At: {{ occurred_at_text }}\n{% endif %}\
{{ links.event }}";

/// Instructions a template may run: plenty for any notification, and a bound on what a template (or a
/// preview request) can make the server do.
const FUEL: u64 = 100_000;
/// The longest body a template may produce.
const MAX_RENDERED: usize = 1024 * 1024;

/// Tokens one tag (`{{ … }}`, `{% … %}`) may hold. With no assignment and no string repetition, every
/// value a template builds is made of at most this many values of the event: memory stays bounded by a
/// small multiple of the event's size, however the template is written (fuel bounds the time).
const MAX_TAG_TOKENS: usize = 64;
/// Statements that bind names (`set`, `with`), define or call macros, or pull in other templates: an
/// assignment in a loop could double a string on every pass.
const FORBIDDEN_STATEMENTS: &[&str] = &[
    "set", "with", "macro", "call", "filter", "include", "import", "from", "extends", "block",
];
/// Filters whose output can be far larger than their input (`replace` multiplies, `indent`, `batch`
/// and `slice` take a size, `format` a width). `tojson` comes back with a bounded indent.
const REMOVED_FILTERS: &[&str] = &[
    "replace", "indent", "batch", "slice", "format", "tojson", "join",
];
/// The longest string `join` may build (its separator repeats once per item).
const MAX_JOINED: usize = 256 * 1024;

fn env() -> minijinja::Environment<'static> {
    // Templates are rendered from strings: no auto-escaping (bodies are JSON or text, not HTML);
    // an unknown variable renders empty, so one template serves every event kind.
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_fuel(Some(FUEL));
    for f in REMOVED_FILTERS {
        env.remove_filter(f);
    }
    env.add_filter("tojson", tojson);
    env.add_filter("join", join);
    // Numbers to loop over are no notification's business; `range` only feeds loops and joins.
    env.remove_global("range");
    env.remove_global("debug");
    env.remove_global("namespace");
    env
}

/// `tojson`, with an indent of at most 8 (the built-in one repeats its indent per nesting level).
fn tojson(
    value: &minijinja::Value,
    indent: Option<minijinja::Value>,
    args: minijinja::value::Kwargs,
) -> Result<minijinja::Value, minijinja::Error> {
    let width = match &indent {
        Some(v) => Some(v.clone()),
        None => args.get::<Option<minijinja::Value>>("indent")?,
    };
    if let Some(w) = width
        && w.as_usize().is_some_and(|n| n > 8)
    {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "tojson: the indent is at most 8",
        ));
    }
    minijinja::filters::tojson(value, indent, args)
}

/// `join`, refusing to build more than `MAX_JOINED` bytes (checked as it grows, before it is built).
fn join(
    value: &minijinja::Value,
    sep: Option<String>,
) -> Result<minijinja::Value, minijinja::Error> {
    let too_long = || {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("join: the result is longer than {MAX_JOINED} bytes"),
        )
    };
    let sep = sep.unwrap_or_default();
    if sep.len() > MAX_JOINED {
        return Err(too_long());
    }
    if let Some(s) = value.as_str() {
        // A string joins its characters.
        let chars: Vec<String> = s.chars().map(String::from).collect();
        return join(&minijinja::Value::from(chars), Some(sep));
    }
    let mut out = String::new();
    for (i, item) in value.try_iter()?.enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        let text = item.to_string();
        if out.len() + text.len() > MAX_JOINED {
            return Err(too_long());
        }
        out.push_str(&text);
        if out.len() > MAX_JOINED {
            return Err(too_long());
        }
    }
    Ok(minijinja::Value::from(out))
}

/// Refuses what could make a template build values far larger than the event: `*`, binding statements,
/// and tags of more than `MAX_TAG_TOKENS` tokens.
fn check_shape(template: &str) -> Result<(), String> {
    use minijinja::machinery::{Token, WhitespaceConfig, tokenize};
    let (mut in_tag, mut tokens, mut statement_name) = (false, 0usize, false);
    let syntax = minijinja::syntax::SyntaxConfig;
    for t in tokenize(template, false, syntax, WhitespaceConfig::default()) {
        let (tok, span) = t.map_err(|e| describe(&e))?;
        let line = span.start_line;
        match tok {
            Token::VariableStart | Token::BlockStart => {
                statement_name = matches!(tok, Token::BlockStart);
                (in_tag, tokens) = (true, 0);
                continue;
            }
            Token::VariableEnd | Token::BlockEnd => {
                in_tag = false;
                continue;
            }
            Token::Mul => {
                return Err(format!("line {line}: `*` is not allowed in templates"));
            }
            Token::Ident(name) if statement_name && FORBIDDEN_STATEMENTS.contains(&name) => {
                return Err(format!(
                    "line {line}: `{{% {name} %}}` is not allowed in templates (no assignments, \
                     macros or includes)"
                ));
            }
            _ => {}
        }
        statement_name = false;
        if in_tag {
            tokens += 1;
            if tokens > MAX_TAG_TOKENS {
                return Err(format!(
                    "line {line}: a tag holds at most {MAX_TAG_TOKENS} tokens; split it"
                ));
            }
        }
    }
    Ok(())
}

/// Checks a template's syntax and shape; the message names the line.
pub fn check_template(template: &str) -> Result<(), String> {
    check_shape(template)?;
    env()
        .template_from_str(template)
        .map(|_| ())
        .map_err(|e| describe(&e))
}

/// An output that refuses to grow past `MAX_RENDERED`: a template that writes too much fails at once.
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_RENDERED {
            return Err(std::io::Error::other("output limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn describe(e: &minijinja::Error) -> String {
    match e.line() {
        Some(line) => format!("line {line}: {}", e.detail().unwrap_or(&e.to_string())),
        None => e.to_string(),
    }
}

pub fn render(template: &str, ctx: &Value) -> Result<String, String> {
    check_shape(template)?;
    let env = env();
    let tmpl = env.template_from_str(template).map_err(|e| describe(&e))?;
    let mut out = Capped(Vec::new());
    match tmpl.render_captured_to(ctx, &mut out) {
        Ok(_) => Ok(String::from_utf8_lossy(&out.0).into_owned()),
        Err(e) if e.kind() == minijinja::ErrorKind::WriteFailure => Err(format!(
            "the template renders more than {MAX_RENDERED} bytes, the most allowed"
        )),
        Err(e) => Err(describe(&e)),
    }
}

fn title(kind: EventKind) -> &'static str {
    match kind {
        EventKind::DatabaseHealthy => "Database is healthy again",
        EventKind::DatabaseUnhealthy => "Database is unhealthy",
        EventKind::DestinationHealthy => "Destination is healthy again",
        EventKind::DestinationUnhealthy => "Destination is unhealthy",
        EventKind::ExecutionStarted => "Backup started",
        EventKind::ExecutionSuccess => "Backup succeeded",
        EventKind::ExecutionFailed => "Backup failed",
        EventKind::RestorationStarted => "Restore started",
        EventKind::RestorationSuccess => "Restore succeeded",
        EventKind::RestorationFailed => "Restore failed",
        EventKind::RetentionDeleted => "Old backup deleted by retention",
        EventKind::VerificationFailed => "Verification failed",
        EventKind::BackupAnomaly => "Backup size or duration is unusual",
        EventKind::BackupOverdue => "No successful backup in time",
    }
}

/// What an event says happened, as templates see it in `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Running,
    Success,
    Failed,
    Healthy,
    Unhealthy,
    Deleted,
    Anomaly,
    Overdue,
}

impl Outcome {
    /// The word templates get (part of the webhook contract; the run and health words equal the API's
    /// status values).
    fn as_str(self) -> &'static str {
        match self {
            Self::Running => ExecutionStatus::Running.as_str(),
            Self::Success => ExecutionStatus::Success.as_str(),
            Self::Failed => ExecutionStatus::Failed.as_str(),
            Self::Healthy => HealthStatus::Healthy.as_str(),
            Self::Unhealthy => HealthStatus::Unhealthy.as_str(),
            Self::Deleted => ExecutionStatus::Deleted.as_str(),
            Self::Anomaly => "anomaly",
            Self::Overdue => "overdue",
        }
    }
}

fn status(kind: EventKind) -> Outcome {
    match kind {
        EventKind::ExecutionStarted | EventKind::RestorationStarted => Outcome::Running,
        EventKind::ExecutionSuccess | EventKind::RestorationSuccess => Outcome::Success,
        EventKind::ExecutionFailed
        | EventKind::RestorationFailed
        | EventKind::VerificationFailed => Outcome::Failed,
        EventKind::DatabaseHealthy | EventKind::DestinationHealthy => Outcome::Healthy,
        EventKind::DatabaseUnhealthy | EventKind::DestinationUnhealthy => Outcome::Unhealthy,
        EventKind::RetentionDeleted => Outcome::Deleted,
        EventKind::BackupAnomaly => Outcome::Anomaly,
        EventKind::BackupOverdue => Outcome::Overdue,
    }
}

fn icon(kind: EventKind) -> &'static str {
    match status(kind) {
        Outcome::Success | Outcome::Healthy => "✅",
        Outcome::Running => "▶️",
        Outcome::Deleted => "🗑️",
        Outcome::Anomaly => "⚠️",
        Outcome::Overdue => "⏰",
        Outcome::Failed | Outcome::Unhealthy => "❌",
    }
}

/// Whether the event is a bad outcome (Healthchecks `/fail`).
pub fn is_failure(kind: EventKind) -> bool {
    matches!(
        status(kind),
        Outcome::Failed | Outcome::Unhealthy | Outcome::Anomaly | Outcome::Overdue
    )
}

pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

pub fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..60 => format!("{:.1} s", ms as f64 / 1000.0),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

/// A time as RFC 3339 and as text, in the task's time zone when there is one.
fn local(t: DateTime<FixedOffset>, tz: Option<Tz>) -> (String, String) {
    match tz {
        Some(tz) => {
            let t = t.with_timezone(&tz);
            (t.to_rfc3339(), t.format("%Y-%m-%d %H:%M:%S %Z").to_string())
        }
        None => (
            t.to_rfc3339(),
            t.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string(),
        ),
    }
}

fn time_of(v: &Value) -> Option<DateTime<FixedOffset>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

/// The variables a template sees. `tz` is the task's time zone (looked up by the caller when the
/// event's data does not carry it); `public_url` is where pgward's web UI is reached.
pub fn context(event: &Event, tz: Option<Tz>, public_url: &str) -> Value {
    let d = &event.data;
    let run = d
        .get("execution")
        .filter(|v| v.is_object())
        .or_else(|| d.get("restoration").filter(|v| v.is_object()));
    let field = |k: &str| run.and_then(|r| r.get(k)).filter(|v| !v.is_null());
    let tz = tz.or_else(|| {
        d.pointer("/task/timezone")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
    });
    let task = match d.get("task").filter(|t| t.is_object()) {
        Some(t) => t.clone(),
        None => match (event.task_id, field("task_name")) {
            (Some(id), Some(name)) => json!({ "id": id, "name": name }),
            _ => Value::Null,
        },
    };
    let size = field("size").and_then(Value::as_u64);
    let duration = field("duration_ms").and_then(Value::as_u64);
    let error = d
        .get("error")
        .filter(|v| !v.is_null())
        .cloned()
        .or_else(|| {
            if status(event.kind) == Outcome::Failed {
                field("message").cloned()
            } else {
                None
            }
        })
        .unwrap_or(Value::Null);
    let stderr_tail = d
        .get("stderr_tail")
        .or_else(|| field("stderr_tail"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut times = serde_json::Map::new();
    let occurred = event.created_at.fixed_offset();
    for (name, t) in [
        ("occurred_at", Some(occurred)),
        ("started_at", field("started_at").and_then(time_of)),
        ("finished_at", field("finished_at").and_then(time_of)),
    ] {
        let (rfc, text) = match t {
            Some(t) => {
                let (a, b) = local(t, tz);
                (Value::from(a), Value::from(b))
            }
            None => (Value::Null, Value::Null),
        };
        times.insert(name.into(), rfc);
        times.insert(format!("{name}_text"), text);
    }
    let base = public_url.trim_end_matches('/');
    // Web UI pages that show the thing (the executions page filtered to the task's runs), and the
    // API resources themselves.
    let links = json!({
        "app": format!("{base}/"),
        "event": format!("{base}/events"),
        "execution": event.execution_id.map(|_| match event.task_id {
            Some(t) => format!("{base}/executions?task_id={t}"),
            None => format!("{base}/executions"),
        }),
        "execution_api": event.execution_id.map(|id| format!("{base}/api/v1/executions/{id}")),
        "restoration": event.restoration_id.map(|_| format!("{base}/restorations")),
        "restoration_api": event.restoration_id.map(|id| format!("{base}/api/v1/restorations/{id}")),
        "task": event.task_id.map(|_| format!("{base}/tasks")),
    });
    let mut ctx = json!({
        "event": event.kind.as_str(),
        "event_id": event.id,
        "title": title(event.kind),
        "icon": icon(event.kind),
        "status": status(event.kind).as_str(),
        "timezone": tz.map(|t| t.name().to_string()).unwrap_or_else(|| "UTC".into()),
        "task": task,
        "database": d.get("database").filter(|v| v.is_object()).cloned().unwrap_or(Value::Null),
        "destination": d.get("destination").filter(|v| v.is_object()).cloned().unwrap_or(Value::Null),
        "execution": d.get("execution").cloned().unwrap_or(Value::Null),
        "execution_id": event.execution_id,
        "restoration": d.get("restoration").cloned().unwrap_or(Value::Null),
        "restoration_id": event.restoration_id,
        "size": size,
        "size_human": size.map(human_size),
        "duration_ms": duration,
        "duration_secs": duration.map(|ms| ms as f64 / 1000.0),
        "duration_human": duration.map(human_duration),
        "error": error,
        "stderr_tail": stderr_tail,
        "links": links,
        "data": d,
    });
    if let Some(obj) = ctx.as_object_mut() {
        obj.extend(times);
    }
    ctx
}

/// The tail of `s` in at most `limit` bytes, cut at a character boundary.
fn tail(s: &str, limit: usize) -> &str {
    if s.len() <= limit {
        return s;
    }
    let mut start = s.len() - limit;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

fn truncate_chars(s: &str, limit: usize) -> String {
    if s.chars().count() <= limit {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(limit - 1).collect();
        t.push('…');
        t
    }
}

/// The request a webhook sends for `event`. Errors are template errors (the webhook's fault, logged as
/// a failed attempt).
pub fn build(
    spec: &Spec,
    event: &Event,
    ctx: &Value,
    delivery_id: Uuid,
) -> Result<Outgoing, String> {
    let mut headers: Vec<(String, String)> = vec![
        (
            "User-Agent".into(),
            format!("pgward/{}", env!("CARGO_PKG_VERSION")),
        ),
        ("X-Pgward-Event".into(), event.kind.as_str().into()),
        ("X-Pgward-Delivery".into(), delivery_id.to_string()),
    ];
    let timestamp = chrono::Utc::now().timestamp().to_string();
    headers.push((TIMESTAMP_HEADER.into(), timestamp.clone()));
    let json_body = |v: &Value| serde_json::to_string(v).unwrap_or_default();
    let (method, url, body, content_type) = match spec.kind {
        WebhookKind::Custom => {
            let body = match spec.body_template {
                Some(t) => render(t, ctx)?,
                None if spec.method == HttpMethod::Get => String::new(),
                None => json_body(&serde_json::to_value(event).unwrap_or_default()),
            };
            let ct = if body.is_empty() {
                None
            } else if serde_json::from_str::<Value>(&body).is_ok() {
                Some("application/json")
            } else {
                Some("text/plain; charset=utf-8")
            };
            (spec.method, spec.url.to_string(), body, ct)
        }
        WebhookKind::Json => (
            HttpMethod::Post,
            spec.url.to_string(),
            json_body(&serde_json::to_value(event).unwrap_or_default()),
            Some("application/json"),
        ),
        WebhookKind::Slack | WebhookKind::Discord => {
            let text = render(spec.body_template.unwrap_or(DEFAULT_MESSAGE), ctx)?;
            let body = if spec.kind == WebhookKind::Slack {
                json!({ "text": text })
            } else {
                // Discord's markdown bolds with ** rather than Slack's *.
                let text = if spec.body_template.is_none() {
                    text.replacen('*', "**", 2)
                } else {
                    text
                };
                json!({ "content": truncate_chars(&text, DISCORD_LIMIT) })
            };
            (
                HttpMethod::Post,
                spec.url.to_string(),
                json_body(&body),
                Some("application/json"),
            )
        }
        WebhookKind::Healthchecks => {
            // Only a run's success is a success ping: other good news (a database healthy again,
            // retention) goes to `/log`, which Healthchecks records without resetting the check's
            // period, so it can never hide a backup that did not happen.
            let suffix = match status(event.kind) {
                Outcome::Running => "start",
                _ if is_failure(event.kind) => "fail",
                Outcome::Success => "",
                _ => "log",
            };
            // The run id lets Healthchecks pair /start with its outcome and measure the duration; a
            // restore's own id, not the backup's it restores.
            let url = healthchecks_url(
                spec.url,
                suffix,
                event.restoration_id.or(event.execution_id),
            )?;
            let body = if suffix == "fail" {
                let text = ctx["stderr_tail"]
                    .as_str()
                    .filter(|s| !s.trim().is_empty())
                    .or_else(|| ctx["error"].as_str())
                    .unwrap_or("");
                tail(text, HEALTHCHECKS_BODY_LIMIT).to_string()
            } else if suffix.is_empty() || suffix == "log" {
                render(
                    "pgward: {{ title }}{% if task %} ({{ task.name }}){% endif %}{% if size_human %}, {{ size_human }}{% endif %}{% if duration_human %} in {{ duration_human }}{% endif %}",
                    ctx,
                )?
            } else {
                String::new()
            };
            (
                HttpMethod::Post,
                url,
                body,
                Some("text/plain; charset=utf-8"),
            )
        }
    };
    if let Some(ct) = content_type
        && !spec
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), ct.into()));
    }
    for (k, v) in spec.headers {
        headers.push((k.clone(), v.clone()));
    }
    if let Some(secret) = spec.secret {
        headers.push((
            SIGNATURE_HEADER.into(),
            sign(secret, &timestamp, body.as_bytes()),
        ));
    }
    Ok(Outgoing {
        method,
        url,
        headers,
        body,
    })
}

/// A Healthchecks ping URL with `/start` or `/fail` appended to its path (before any query, as in
/// `https://hc-ping.com/<key>/<slug>?create=1`) and the run id as `rid`.
fn healthchecks_url(base: &str, suffix: &str, rid: Option<Uuid>) -> Result<String, String> {
    let mut url = url::Url::parse(base).map_err(|e| format!("the ping URL is not a URL: {e}"))?;
    url.set_fragment(None);
    if !suffix.is_empty() {
        url.path_segments_mut()
            .map_err(|()| "the ping URL cannot take a path".to_string())?
            .pop_if_empty()
            .push(suffix);
    }
    if let Some(rid) = rid {
        url.query_pairs_mut().append_pair("rid", &rid.to_string());
    }
    Ok(url.to_string())
}

/// `sha256=<hex of HMAC-SHA256(secret, "<timestamp>." + body)>`: the timestamp is signed too (as
/// Stripe and Slack do), so a captured request cannot be replayed later, not even a GET without a body.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any size");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Path words shown as typed: short and all lowercase letters (`api`, `webhooks`, `services`). Every
/// other segment may be a secret (Slack, Discord and Healthchecks put ids and tokens in the path).
fn plain_word(s: &str) -> bool {
    s.len() <= 10
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_')
}

/// Long values keep their first 4 characters (enough to tell two URLs apart, too few to use one).
fn mask_part(s: &str) -> String {
    if s.chars().count() >= 16 {
        format!("{}****", s.chars().take(4).collect::<String>())
    } else {
        "****".into()
    }
}

pub fn mask_url(raw: &str) -> String {
    let Ok(mut u) = url::Url::parse(raw) else {
        return "****".into();
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("****"));
    }
    // A user name alone is often a token (`https://TOKEN@host`).
    if !u.username().is_empty() {
        let _ = u.set_username("****");
    }
    u.set_fragment(None);
    if let Some(segments) = u.path_segments() {
        let masked: Vec<String> = segments
            .map(|s| {
                if plain_word(s) {
                    s.to_string()
                } else {
                    mask_part(s)
                }
            })
            .collect();
        u.set_path(&masked.join("/"));
    }
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            // Query values are masked whatever their name (`?t=...` is as secret as `?token=...`),
            // except pgward's own run id.
            let v = if k == "rid" {
                v.into_owned()
            } else {
                mask_part(&v)
            };
            (k.into_owned(), v)
        })
        .collect();
    if pairs.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // `set_path` percent-encodes the stars; show them as typed.
    u.to_string().replace("%2A", "*")
}

/// The request as the delivery log keeps it: URL masked, values of the webhook's own headers masked
/// (pgward's headers and the content type are not secrets).
pub fn for_log(o: &Outgoing, own_headers: &BTreeMap<String, String>) -> DeliveryRequest {
    let headers = o
        .headers
        .iter()
        .map(|(k, v)| {
            let own = own_headers.contains_key(k) && !k.eq_ignore_ascii_case("content-type");
            (k.clone(), if own { "****".into() } else { v.clone() })
        })
        .collect();
    DeliveryRequest {
        method: o.method,
        url: mask_url(&o.url),
        headers,
        body: o.body.clone(),
    }
}

/// A made-up event for previews and "send test now", shaped like the real ones.
pub fn sample_event(kind: EventKind) -> Event {
    let now = Utc::now();
    let started = now - chrono::Duration::seconds(83);
    let exec_id = Uuid::now_v7();
    let task_id = Uuid::nil();
    let failed = is_failure(kind);
    let run_kind = matches!(
        kind,
        EventKind::RestorationStarted
            | EventKind::RestorationSuccess
            | EventKind::RestorationFailed
    );
    let run = json!({
        "id": exec_id,
        "task_id": task_id,
        "task_name": "sample task",
        "status": status(kind).as_str(),
        "started_at": started.to_rfc3339(),
        "finished_at": if status(kind) == Outcome::Running { Value::Null } else { Value::from(now.to_rfc3339()) },
        "duration_ms": if status(kind) == Outcome::Running { Value::Null } else { Value::from(83_412u64) },
        "size": 48_213_991u64,
        "message": if failed { Value::from("pg_dump exited with status 1") } else { Value::Null },
        "stderr_tail": if failed { Value::from("pg_dump: error: connection to server failed: FATAL: the database system is shutting down") } else { Value::Null },
    });
    let mut data = json!({
        "task": { "id": task_id, "name": "sample task", "timezone": "Europe/Berlin" },
        "database": { "id": Uuid::nil(), "name": "sample database" },
    });
    data[if run_kind { "restoration" } else { "execution" }] = run;
    if matches!(
        kind,
        EventKind::DestinationHealthy | EventKind::DestinationUnhealthy
    ) {
        data = json!({ "destination": { "id": Uuid::nil(), "name": "sample destination" } });
    }
    if failed && !run_kind && kind != EventKind::ExecutionFailed {
        data["error"] = Value::from("sample error: the check did not pass");
    }
    Event {
        id: Uuid::now_v7(),
        kind,
        created_at: now,
        task_id: Some(task_id),
        database_id: Some(Uuid::nil()),
        destination_id: None,
        execution_id: (!run_kind).then_some(exec_id),
        restoration_id: run_kind.then_some(exec_id),
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_urls_are_masked() {
        assert_eq!(
            mask_url("https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnopqrstuvwx"),
            "https://hooks.slack.com/services/****/****/abcd****"
        );
        assert_eq!(
            mask_url("https://u:pw@example.com/hook?token=abc&t=abc123#frag"),
            "https://****:****@example.com/hook?token=****&t=****"
        );
        let hc = mask_url("https://hc-ping.com/5f2c1a3e-9a4b-4c1d-8e7f-0a1b2c3d4e5f/start?rid=1");
        assert_eq!(hc, "https://hc-ping.com/5f2c****/start?rid=1");
        // Short tokens in the path (an ntfy topic, a Discord id) are masked whole.
        assert_eq!(
            mask_url("https://discord.com/api/webhooks/1234567890/Tok3n"),
            "https://discord.com/api/webhooks/****/****"
        );
        assert_eq!(
            mask_url("https://ntfy.sh/Backups-2xk9"),
            "https://ntfy.sh/****"
        );
    }

    #[test]
    fn healthchecks_failures_carry_the_stderr_tail_within_100_kb() {
        let mut event = sample_event(EventKind::ExecutionFailed);
        let long = format!("{}THE END", "é".repeat(80_000));
        event.data["execution"]["stderr_tail"] = Value::from(long);
        let ctx = context(&event, None, "http://pgward");
        let headers = BTreeMap::new();
        let spec = Spec {
            kind: WebhookKind::Healthchecks,
            method: HttpMethod::Post,
            url: "https://hc-ping.com/abc/",
            headers: &headers,
            body_template: None,
            secret: None,
        };
        let out = build(&spec, &event, &ctx, Uuid::nil()).unwrap();
        assert_eq!(
            out.url,
            format!(
                "https://hc-ping.com/abc/fail?rid={}",
                event.execution_id.unwrap()
            )
        );
        assert!(out.body.len() <= HEALTHCHECKS_BODY_LIMIT);
        assert!(out.body.ends_with("THE END"));
    }

    #[test]
    fn the_readme_template_renders_json() {
        let event = sample_event(EventKind::ExecutionFailed);
        let ctx = context(&event, None, "https://pgward.example.com/");
        let out = render(
            "{\"text\": {{ (title ~ \": \" ~ (task.name or database.name)) | tojson }}, \"error\": {{ error | tojson }}, \"link\": {{ links.execution | tojson }}}",
            &ctx,
        )
        .unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["text"], "Backup failed: sample task");
        assert_eq!(v["error"], "pg_dump exited with status 1");
        assert_eq!(
            v["link"],
            format!(
                "https://pgward.example.com/executions?task_id={}",
                event.task_id.unwrap()
            )
        );
    }

    #[test]
    fn healthchecks_suffixes_go_into_the_path_before_any_query() {
        let rid = Uuid::nil();
        assert_eq!(
            healthchecks_url("https://hc-ping.com/key/shop?create=1", "fail", Some(rid)).unwrap(),
            format!("https://hc-ping.com/key/shop/fail?create=1&rid={rid}")
        );
        assert_eq!(
            healthchecks_url("https://hc-ping.com/abc/", "start", None).unwrap(),
            "https://hc-ping.com/abc/start"
        );
        assert_eq!(
            healthchecks_url("https://hc-ping.com/abc", "", Some(rid)).unwrap(),
            format!("https://hc-ping.com/abc?rid={rid}")
        );
    }

    #[test]
    fn healthchecks_hears_of_other_good_news_through_log_not_as_a_success_ping() {
        let headers = BTreeMap::new();
        let spec = Spec {
            kind: WebhookKind::Healthchecks,
            method: HttpMethod::Post,
            url: "https://hc-ping.com/abc",
            headers: &headers,
            body_template: None,
            secret: None,
        };
        let path = |kind: EventKind| {
            let event = sample_event(kind);
            let ctx = context(&event, None, "http://pgward");
            let url = build(&spec, &event, &ctx, Uuid::nil()).unwrap().url;
            url::Url::parse(&url).unwrap().path().to_string()
        };
        assert_eq!(path(EventKind::ExecutionStarted), "/abc/start");
        assert_eq!(path(EventKind::ExecutionSuccess), "/abc");
        assert_eq!(path(EventKind::ExecutionFailed), "/abc/fail");
        assert_eq!(path(EventKind::BackupAnomaly), "/abc/fail");
        assert_eq!(path(EventKind::RetentionDeleted), "/abc/log");
        assert_eq!(path(EventKind::DatabaseHealthy), "/abc/log");
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel() {
        let ctx = context(&sample_event(EventKind::ExecutionSuccess), None, "http://x");
        let e = render(
            "{% for a in links|list %}{% for b in links|list %}{% for c in links|list %}{% for d in links|list %}{% for e in links|list %}{% for f in links|list %}{% for g in links|list %}{% for h in links|list %}x{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
            &ctx,
        )
        .unwrap_err();
        assert!(e.contains("fuel"), "{e}");
    }

    #[test]
    fn templates_that_would_explode_are_refused_or_stopped_early() {
        let ctx = context(&sample_event(EventKind::ExecutionFailed), None, "http://x");
        for t in [
            "{{ 'x' * 99999999 }}",
            "{% set a = 'xx' %}{% for i in range(60) %}{% set a = a ~ a %}{% endfor %}{{ a }}",
            "{% with a = 'x' %}{{ a }}{% endwith %}",
            "{{ 'x'|replace('x', 'xxxxxxxxxx')|replace('x', 'xxxxxxxxxx') }}",
            "{{ 'a\nb'|indent(999999999) }}",
            "{{ [1]|batch(999999999, 'x')|list }}",
            "{{ event|tojson(999999999) }}",
            "{{ range(100000)|join(range(100000)|join('xxxxxxxxxx')) }}",
        ] {
            assert!(render(t, &ctx).is_err(), "{t}");
        }
        let long_tag = format!("{{{{ {} }}}}", vec!["title"; 40].join(" ~ "));
        assert!(check_template(&long_tag).unwrap_err().contains("tokens"));
        // Output past the cap stops at the first write beyond it, not after building everything.
        let e = render(
            "{% for a in links|list %}{% for b in links|list %}{% for c in links|list %}{% for d in links|list %}{% for e in links|list %}{% for f in links|list %}{% for g in links|list %}{{ event }}{{ links }}{{ error }}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
            &ctx,
        )
        .unwrap_err();
        assert!(e.contains("bytes") || e.contains("fuel"), "{e}");
        // A join stays within its cap; the README's example still renders.
        assert_eq!(render("{{ ['a', 'b']|join(', ') }}", &ctx).unwrap(), "a, b");
        assert!(
            render(
                "{{ (title ~ \": \" ~ (task.name or database.name)) | tojson }}",
                &ctx
            )
            .is_ok()
        );
    }

    #[test]
    fn template_errors_name_the_line() {
        let e = check_template("ok\n{{ task.name ").unwrap_err();
        assert!(e.starts_with("line 2"), "{e}");
    }
}
