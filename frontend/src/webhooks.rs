//! `/webhooks`: who hears about events. The list (send test now, edit, duplicate, history, delete), a
//! form whose fields follow the kind (custom HTTP, generic JSON, Healthchecks, Slack, Discord) with a
//! template editor and a preview rendered by the server from a sample event, and each webhook's
//! delivery history with every attempt's request and response. URLs, header values and secrets are
//! write-only: the form shows what is stored (masked URL, header names) and keeps it unless replaced.

use std::collections::BTreeMap;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use pgward_api_types::{
    CreateWebhookRequest, DeliveryStatus, EventKind, HttpMethod, UpdateWebhookRequest, Webhook,
    WebhookDelivery, WebhookDeliveryQuery, WebhookKind, WebhookPreview, WebhookPreviewRequest,
    WebhookTargets,
};
use uuid::Uuid;

use crate::session::{Failure, Session, use_session};
use crate::ui::{
    FieldErrors, confirm, error_banner, failure_banner, field_error, format_time, text_field,
};

fn status_badge(s: Option<DeliveryStatus>) -> impl IntoView {
    let (class, text) = match s {
        None => ("badge", "never sent"),
        Some(DeliveryStatus::Success) => ("badge badge-ok", "delivered"),
        Some(DeliveryStatus::Failed) => ("badge badge-bad", "failed"),
        Some(DeliveryStatus::Retrying) => ("badge badge-warn", "retrying"),
        Some(DeliveryStatus::Queued) => ("badge badge-info", "queued"),
        Some(DeliveryStatus::Sending) => ("badge badge-info", "sending"),
    };
    view! { <span class=class data-testid="delivery-status">{text}</span> }
}

/// `Name: value` per line.
fn parse_headers(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| format!("\"{line}\" is not \"Name: value\""))?;
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(out)
}

#[derive(Clone, Copy)]
struct Form {
    editing: RwSignal<Option<Uuid>>,
    name: RwSignal<String>,
    kind: RwSignal<String>,
    active: RwSignal<bool>,
    events: RwSignal<Vec<EventKind>>,
    /// The events chosen before switching to Healthchecks (which picks its own).
    events_before: RwSignal<Vec<EventKind>>,
    all_targets: RwSignal<bool>,
    task_ids: RwSignal<Vec<Uuid>>,
    database_ids: RwSignal<Vec<Uuid>>,
    destination_ids: RwSignal<Vec<Uuid>>,
    method: RwSignal<String>,
    url: RwSignal<String>,
    url_masked: RwSignal<String>,
    headers: RwSignal<String>,
    header_names: RwSignal<Vec<String>>,
    clear_headers: RwSignal<bool>,
    template: RwSignal<String>,
    secret: RwSignal<String>,
    has_secret: RwSignal<bool>,
    remove_secret: RwSignal<bool>,
    timeout: RwSignal<String>,
    attempts: RwSignal<String>,
    preview_event: RwSignal<String>,
    errors: FieldErrors,
    failure: RwSignal<Option<Failure>>,
}

impl Form {
    fn new() -> Self {
        Self {
            editing: RwSignal::new(None),
            name: RwSignal::new(String::new()),
            kind: RwSignal::new("custom".into()),
            active: RwSignal::new(true),
            events: RwSignal::new(vec![EventKind::ExecutionSuccess]),
            events_before: RwSignal::new(vec![EventKind::ExecutionSuccess]),
            all_targets: RwSignal::new(true),
            task_ids: RwSignal::new(Vec::new()),
            database_ids: RwSignal::new(Vec::new()),
            destination_ids: RwSignal::new(Vec::new()),
            method: RwSignal::new("POST".into()),
            url: RwSignal::new(String::new()),
            url_masked: RwSignal::new(String::new()),
            headers: RwSignal::new(String::new()),
            header_names: RwSignal::new(Vec::new()),
            clear_headers: RwSignal::new(false),
            template: RwSignal::new(String::new()),
            secret: RwSignal::new(String::new()),
            has_secret: RwSignal::new(false),
            remove_secret: RwSignal::new(false),
            timeout: RwSignal::new("10".into()),
            attempts: RwSignal::new("5".into()),
            preview_event: RwSignal::new("execution_success".into()),
            errors: RwSignal::new(BTreeMap::new()),
            failure: RwSignal::new(None),
        }
    }

    fn reset(&self) {
        let fresh = Form::new();
        self.errors.set(BTreeMap::new());
        self.failure.set(None);
        self.editing.set(None);
        self.name.set(String::new());
        self.kind.set("custom".into());
        self.active.set(true);
        self.events.set(fresh.events.get_untracked());
        self.all_targets.set(true);
        self.task_ids.set(Vec::new());
        self.database_ids.set(Vec::new());
        self.destination_ids.set(Vec::new());
        self.method.set("POST".into());
        self.url.set(String::new());
        self.url_masked.set(String::new());
        self.headers.set(String::new());
        self.header_names.set(Vec::new());
        self.clear_headers.set(false);
        self.template.set(String::new());
        self.secret.set(String::new());
        self.has_secret.set(false);
        self.remove_secret.set(false);
        self.timeout.set("10".into());
        self.attempts.set("5".into());
    }

    fn load(&self, w: &Webhook) {
        self.reset();
        self.editing.set(Some(w.id));
        self.name.set(w.name.clone());
        self.kind.set(w.kind.as_str().into());
        self.active.set(w.active);
        self.events.set(w.events.clone());
        self.all_targets.set(w.targets.all);
        self.task_ids.set(w.targets.task_ids.clone());
        self.database_ids.set(w.targets.database_ids.clone());
        self.destination_ids.set(w.targets.destination_ids.clone());
        self.method.set(w.method.as_str().into());
        self.url_masked.set(w.url_masked.clone());
        self.header_names.set(w.header_names.clone());
        self.template
            .set(w.body_template.clone().unwrap_or_default());
        self.has_secret.set(w.has_secret);
        self.timeout.set(w.timeout_secs.to_string());
        self.attempts.set(w.max_attempts.to_string());
    }

    fn kind(&self) -> WebhookKind {
        WebhookKind::parse(&self.kind.get()).unwrap_or(WebhookKind::Custom)
    }

    fn targets(&self) -> WebhookTargets {
        WebhookTargets {
            all: self.all_targets.get_untracked(),
            task_ids: self.task_ids.get_untracked(),
            database_ids: self.database_ids.get_untracked(),
            destination_ids: self.destination_ids.get_untracked(),
        }
    }

    fn number(value: RwSignal<String>) -> Result<Option<u32>, String> {
        let t = value.get_untracked().trim().to_string();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse()
            .map(Some)
            .map_err(|_| format!("\"{t}\" is not a whole number"))
    }
}

type Lists = (
    LocalResource<Result<Vec<pgward_api_types::Task>, String>>,
    LocalResource<Result<Vec<pgward_api_types::Database>, String>>,
    LocalResource<Result<Vec<pgward_api_types::Destination>, String>>,
);

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let session = use_session();
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        reload.track();
        session.call(|c| async move { c.list_webhooks().await.map(|l| l.items) })
    });
    let refresh = move || reload.update(|n| *n = n.wrapping_add(1));
    let action_error = RwSignal::new(None::<String>);
    let action_note = RwSignal::new(None::<String>);
    let history = RwSignal::new(None::<(Uuid, String)>);
    let history_reload = RwSignal::new(0u32);
    let form = Form::new();
    let lists: Lists = (
        LocalResource::new(move || {
            session.call(|c| async move { c.list_tasks().await.map(|l| l.items) })
        }),
        LocalResource::new(move || {
            session.call(|c| async move { c.all_databases(&Default::default()).await })
        }),
        LocalResource::new(move || {
            session.call(|c| async move { c.list_destinations().await.map(|l| l.items) })
        }),
    );

    let row = move |w: Webhook| {
        let id = w.id;
        let name = w.name.clone();
        let edit = w.clone();
        let targets = if w.targets.all {
            "all".to_string()
        } else {
            format!(
                "{} tasks, {} databases, {} destinations",
                w.targets.task_ids.len(),
                w.targets.database_ids.len(),
                w.targets.destination_ids.len()
            )
        };
        let events = w
            .events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let test_name = name.clone();
        let history_name = name.clone();
        let delete_name = name.clone();
        view! {
            <tr data-testid="webhook-row" data-name=name.clone()>
                <td>
                    <strong>{name.clone()}</strong>
                    <div class="muted small">{w.kind.label()}</div>
                </td>
                <td class="small">{events}</td>
                <td class="small">{targets}</td>
                <td class="small">
                    <code>{format!("{} {}", w.method.as_str(), w.url_masked)}</code>
                </td>
                <td>
                    {if w.active {
                        view! { <span class="badge badge-ok">"active"</span> }.into_any()
                    } else {
                        view! { <span class="badge">"paused"</span> }.into_any()
                    }}
                    " "
                    {status_badge(w.last_delivery_status)}
                    <div class="muted small">{format_time(w.last_delivery_at.as_ref())}</div>
                </td>
                <td class="actions">
                    <button
                        type="button"
                        class="btn btn-small"
                        data-testid="webhook-test"
                        on:click=move |_| {
                            action_error.set(None);
                            action_note.set(None);
                            let name = test_name.clone();
                            spawn_local(async move {
                                match session.call(|c| async move { c.test_webhook(id).await }).await {
                                    Ok(d) => {
                                        let a = d.attempts.first();
                                        let what = match (a.and_then(|a| a.response_status), a.and_then(|a| a.error.clone())) {
                                            (Some(s), _) if d.status == DeliveryStatus::Success => format!("delivered (HTTP {s})"),
                                            (_, Some(e)) => format!("failed: {e}"),
                                            _ => "failed".into(),
                                        };
                                        action_note.set(Some(format!("Test of \"{name}\" {what}")));
                                        history.set(Some((id, name)));
                                        history_reload.update(|n| *n = n.wrapping_add(1));
                                        refresh();
                                    }
                                    Err(e) => action_error.set(Some(e)),
                                }
                            });
                        }
                    >
                        "Send test now"
                    </button>
                    <button
                        type="button"
                        class="btn btn-small"
                        data-testid="webhook-history"
                        on:click=move |_| {
                            history.set(Some((id, history_name.clone())));
                            history_reload.update(|n| *n = n.wrapping_add(1));
                        }
                    >
                        "History"
                    </button>
                    <button
                        type="button"
                        class="btn btn-small"
                        data-testid="webhook-edit"
                        on:click=move |_| form.load(&edit)
                    >
                        "Edit"
                    </button>
                    <button
                        type="button"
                        class="btn btn-small"
                        data-testid="webhook-duplicate"
                        on:click=move |_| {
                            spawn_local(async move {
                                match session.call(|c| async move { c.duplicate_webhook(id).await }).await {
                                    Ok(w) => {
                                        action_note.set(Some(format!("Created \"{}\" (paused until you activate it)", w.name)));
                                        refresh();
                                    }
                                    Err(e) => action_error.set(Some(e)),
                                }
                            });
                        }
                    >
                        "Duplicate"
                    </button>
                    <button
                        type="button"
                        class="btn btn-small btn-danger"
                        data-testid="webhook-delete"
                        on:click=move |_| {
                            if !confirm(&format!("Delete the webhook \"{delete_name}\" and its delivery history?")) {
                                return;
                            }
                            spawn_local(async move {
                                match session.call(|c| async move { c.delete_webhook(id).await }).await {
                                    Ok(()) => {
                                        if history.with_untracked(|h| h.as_ref().is_some_and(|h| h.0 == id)) {
                                            history.set(None);
                                        }
                                        refresh();
                                    }
                                    Err(e) => action_error.set(Some(e)),
                                }
                            });
                        }
                    >
                        "Delete"
                    </button>
                </td>
            </tr>
        }
    };

    view! {
        <div class="page-header">
            <div>
                <h1>"Webhooks"</h1>
                <p class="muted">
                    "Tell people and tools what happened: any URL with your own template, Healthchecks, Slack, Discord."
                </p>
            </div>
        </div>
        {error_banner(move || action_error.get())}
        {move || {
            action_note
                .get()
                .map(|m| {
                    view! {
                        <div class="alert alert-ok" role="status" data-testid="webhook-note">
                            {m}
                        </div>
                    }
                })
        }}
        <section class="card">
            {move || match list.get() {
                None => view! { <p class="muted pad">"Loading webhooks…"</p> }.into_any(),
                Some(Err(e)) => {
                    view! {
                        <div class="alert alert-error" role="alert" data-testid="error">
                            {e}
                        </div>
                    }
                        .into_any()
                }
                Some(Ok(items)) if items.is_empty() => {
                    view! { <p class="empty">"No webhooks yet."</p> }.into_any()
                }
                Some(Ok(items)) => {
                    view! {
                        <table class="table" data-testid="webhook-table">
                            <thead>
                                <tr>
                                    <th>"Name"</th>
                                    <th>"Events"</th>
                                    <th>"Targets"</th>
                                    <th>"Request"</th>
                                    <th>"Status"</th>
                                    <th class="actions">"Actions"</th>
                                </tr>
                            </thead>
                            <tbody>{items.into_iter().map(row).collect_view()}</tbody>
                        </table>
                    }
                        .into_any()
                }
            }}
        </section>
        {move || history.get().map(|(id, name)| view! { <History id name reload=history_reload /> })}
        <WebhookForm form lists on_saved=move || refresh() />
    }
}

#[component]
fn History(id: Uuid, name: String, reload: RwSignal<u32>) -> impl IntoView {
    let session = use_session();
    let deliveries = LocalResource::new(move || {
        reload.track();
        session.call(move |c| async move {
            c.webhook_deliveries(id, &WebhookDeliveryQuery::default())
                .await
                .map(|p| p.items)
        })
    });
    view! {
        <section class="card" data-testid="webhook-deliveries">
            <div class="page-header">
                <h2>{format!("Delivery history: {name}")}</h2>
                <button
                    type="button"
                    class="btn btn-small"
                    on:click=move |_| reload.update(|n| *n = n.wrapping_add(1))
                >
                    "Refresh"
                </button>
            </div>
            {move || match deliveries.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="field-error">{e}</p> }.into_any(),
                Some(Ok(items)) if items.is_empty() => {
                    view! { <p class="empty">"Nothing sent yet."</p> }.into_any()
                }
                Some(Ok(items)) => {
                    items
                        .into_iter()
                        .map(|d| delivery(d, session, reload))
                        .collect_view()
                        .into_any()
                }
            }}
        </section>
    }
}

fn delivery(d: WebhookDelivery, session: Session, reload: RwSignal<u32>) -> impl IntoView {
    let (webhook, id) = (d.webhook_id, d.id);
    let again_error = RwSignal::new(None::<String>);
    let send_again = (d.status == DeliveryStatus::Failed).then(|| {
        view! {
            <button
                type="button"
                class="btn btn-small"
                data-testid="delivery-redeliver"
                on:click=move |_| {
                    spawn_local(async move {
                        match session
                            .call(|c| async move { c.redeliver_webhook_delivery(webhook, id).await })
                            .await
                        {
                            Ok(_) => reload.update(|n| *n = n.wrapping_add(1)),
                            Err(e) => again_error.set(Some(e)),
                        }
                    });
                }
            >
                "Send again"
            </button>
        }
    });
    let attempts = d
        .attempts
        .into_iter()
        .map(|a| {
            let outcome = match (a.response_status, a.error.clone()) {
                (Some(s), _) => format!("HTTP {s}"),
                (None, Some(e)) => e,
                (None, None) => "no response".into(),
            };
            let headers = a
                .request
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("\n");
            view! {
                <details class="attempt" data-testid="delivery-attempt">
                    <summary>
                        {format!(
                            "Attempt {} · {} · {} ms · {}",
                            a.attempt,
                            format_time(Some(&a.started_at)),
                            a.duration_ms,
                            outcome,
                        )}
                    </summary>
                    <pre class="code">
                        {format!("{} {}\n{headers}\n\n{}", a.request.method.as_str(), a.request.url, a.request.body)}
                    </pre>
                    {a
                        .error
                        .map(|e| view! { <p class="field-error">{e}</p> })}
                    {a
                        .response_body
                        .map(|b| {
                            view! {
                                <p class="muted small">"Response"</p>
                                <pre class="code">{b}</pre>
                            }
                        })}
                </details>
            }
        })
        .collect_view();
    view! {
        <div class="delivery" data-testid="delivery">
            <div>
                {status_badge(Some(d.status))}
                " "
                <strong>{d.event_kind.as_str()}</strong>
                {d.test.then_some(" (test)")}
                " · "
                {format_time(Some(&d.created_at))}
                {d
                    .next_attempt_at
                    .map(|t| format!(" · next attempt {}", format_time(Some(&t))))}
                " "
                {send_again}
                {move || again_error.get().map(|e| view! { <span class="field-error">{e}</span> })}
            </div>
            {attempts}
        </div>
    }
}

fn id_checks<T: Clone + Send + Sync + 'static>(
    label: &'static str,
    items: LocalResource<Result<Vec<T>, String>>,
    chosen: RwSignal<Vec<Uuid>>,
    id_name: fn(&T) -> (Uuid, String),
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <span>{label}</span>
            <div class="check-list" data-testid=testid>
                {move || match items.get() {
                    None => view! { <span class="muted">"Loading…"</span> }.into_any(),
                    Some(Err(e)) => view! { <span class="field-error">{e}</span> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => {
                        view! { <span class="muted">"None yet."</span> }.into_any()
                    }
                    Some(Ok(list)) => {
                        list.iter()
                            .map(|t| {
                                let (id, name) = id_name(t);
                                view! {
                                    <label class="checkbox">
                                        <input
                                            type="checkbox"
                                            data-name=name.clone()
                                            prop:checked=move || chosen.with(|v| v.contains(&id))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                chosen.update(|v| {
                                                    v.retain(|x| *x != id);
                                                    if on {
                                                        v.push(id);
                                                    }
                                                });
                                            }
                                        />
                                        <span>{name}</span>
                                    </label>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }
                }}
            </div>
        </div>
    }
}

#[component]
fn WebhookForm(
    form: Form,
    lists: Lists,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let (errors, failure) = (form.errors, form.failure);
    let saving = RwSignal::new(false);
    let preview = RwSignal::new(None::<Result<WebhookPreview, Failure>>);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        errors.set(BTreeMap::new());
        let fail = |field: &str, m: String| {
            failure.set(Some(Failure {
                message: m.clone(),
                fields: BTreeMap::from([(field.to_string(), m)]),
            }));
            errors.set(BTreeMap::from([(field.to_string(), String::new())]));
        };
        let headers_text = form.headers.get_untracked();
        let headers = match parse_headers(&headers_text) {
            Ok(h) => h,
            Err(e) => return fail("headers", e),
        };
        let (timeout, attempts) = match (Form::number(form.timeout), Form::number(form.attempts)) {
            (Ok(t), Ok(a)) => (t, a),
            (Err(e), _) => return fail("timeout_secs", e),
            (_, Err(e)) => return fail("max_attempts", e),
        };
        let kind = WebhookKind::parse(&form.kind.get_untracked()).unwrap_or(WebhookKind::Custom);
        // Generic JSON and Healthchecks send fixed bodies: a template typed under another kind is not
        // sent (the server would refuse it for a field the form no longer shows).
        let uses_template = matches!(
            kind,
            WebhookKind::Custom | WebhookKind::Slack | WebhookKind::Discord
        );
        let method = (kind == WebhookKind::Custom)
            .then(|| HttpMethod::parse(&form.method.get_untracked()))
            .flatten();
        let template = form.template.get_untracked();
        let secret = form.secret.get_untracked();
        let url = form.url.get_untracked().trim().to_string();
        let editing = form.editing.get_untracked();
        saving.set(true);
        spawn_local(async move {
            let result = match editing {
                None => {
                    let req = CreateWebhookRequest {
                        name: form.name.get_untracked().trim().to_string(),
                        kind,
                        active: form.active.get_untracked(),
                        events: form.events.get_untracked(),
                        targets: form.targets(),
                        method,
                        url,
                        headers,
                        body_template: Some(template)
                            .filter(|t| uses_template && !t.trim().is_empty()),
                        secret: Some(secret).filter(|s| !s.is_empty()),
                        timeout_secs: timeout,
                        max_attempts: attempts,
                    };
                    session
                        .call_detailed(|c| {
                            let req = req.clone();
                            async move { c.create_webhook(&req).await }
                        })
                        .await
                }
                Some(id) => {
                    let req = UpdateWebhookRequest {
                        name: Some(form.name.get_untracked().trim().to_string()),
                        active: Some(form.active.get_untracked()),
                        events: Some(form.events.get_untracked()),
                        targets: Some(form.targets()),
                        method,
                        url: Some(url).filter(|u| !u.is_empty()),
                        headers: if form.clear_headers.get_untracked() {
                            Some(BTreeMap::new())
                        } else {
                            Some(headers).filter(|h| !h.is_empty())
                        },
                        body_template: uses_template.then_some(template),
                        secret: if form.remove_secret.get_untracked() {
                            Some(String::new())
                        } else {
                            Some(secret).filter(|s| !s.is_empty())
                        },
                        timeout_secs: timeout,
                        max_attempts: attempts,
                    };
                    session
                        .call_detailed(|c| {
                            let req = req.clone();
                            async move { c.update_webhook(id, &req).await }
                        })
                        .await
                }
            };
            saving.set(false);
            match result {
                Ok(_) => {
                    form.reset();
                    preview.set(None);
                    on_saved();
                }
                Err(f) => {
                    errors.set(f.fields.clone());
                    failure.set(Some(f));
                }
            }
        });
    };

    let run_preview = move |_| {
        let req = WebhookPreviewRequest {
            kind: form.kind(),
            method: HttpMethod::parse(&form.method.get_untracked())
                .filter(|_| form.kind() == WebhookKind::Custom),
            url: None,
            body_template: Some(form.template.get_untracked()).filter(|t| !t.trim().is_empty()),
            event: EventKind::parse(&form.preview_event.get_untracked()),
        };
        spawn_local(async move {
            let r = session
                .call_detailed(|c| {
                    let req = req.clone();
                    async move { c.preview_webhook(&req).await }
                })
                .await;
            preview.set(Some(r));
        });
    };

    let event_checks = EventKind::ALL
        .into_iter()
        .map(|k| {
            view! {
                <label class="checkbox">
                    <input
                        type="checkbox"
                        data-testid="webhook-event"
                        data-kind=k.as_str()
                        prop:checked=move || form.events.with(|v| v.contains(&k))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            form.events.update(|v| {
                                v.retain(|x| *x != k);
                                if on {
                                    v.push(k);
                                }
                            });
                        }
                    />
                    <span>{k.as_str()}</span>
                </label>
            }
        })
        .collect_view();

    let (tasks, databases, destinations) = lists;
    view! {
        <section class="card">
            <h2>
                {move || if form.editing.get().is_some() { "Edit webhook" } else { "Add a webhook" }}
            </h2>
            {failure_banner(failure)}
            <form class="form-grid" on:submit=on_submit data-testid="webhook-form">
                {text_field("Name", "text", form.name, "webhook-name", "on-call Slack", errors, "name")}
                <label class="field">
                    <span>"Kind"</span>
                    <select
                        data-testid="webhook-kind"
                        prop:disabled=move || form.editing.get().is_some()
                        on:change=move |ev| {
                            let k = event_target_value(&ev);
                            let was_hc = form.kind.get_untracked() == "healthchecks";
                            if k == "healthchecks" && !was_hc {
                                // Healthchecks follows a run: start and outcome. What was chosen
                                // before comes back when another kind is chosen again.
                                form.events_before.set(form.events.get_untracked());
                                form.events.set(vec![
                                    EventKind::ExecutionStarted,
                                    EventKind::ExecutionSuccess,
                                    EventKind::ExecutionFailed,
                                ]);
                            } else if was_hc && k != "healthchecks" {
                                form.events.set(form.events_before.get_untracked());
                            }
                            form.kind.set(k);
                        }
                    >
                        {WebhookKind::ALL
                            .into_iter()
                            .map(|k| {
                                view! {
                                    <option
                                        value=k.as_str()
                                        prop:selected=move || form.kind.with(|v| v == k.as_str())
                                    >
                                        {k.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="field span-2">
                    <span>
                        {move || match form.kind() {
                            WebhookKind::Healthchecks => "Ping URL",
                            WebhookKind::Slack => "Slack incoming webhook URL",
                            WebhookKind::Discord => "Discord webhook URL",
                            _ => "URL",
                        }}
                    </span>
                    <input
                        type="url"
                        spellcheck="false"
                        autocomplete="off"
                        data-testid="webhook-url"
                        placeholder=move || {
                            let masked = form.url_masked.get();
                            if masked.is_empty() {
                                match form.kind() {
                                    WebhookKind::Healthchecks => "https://hc-ping.com/<uuid>".to_string(),
                                    WebhookKind::Slack => "https://hooks.slack.com/services/…".to_string(),
                                    WebhookKind::Discord => "https://discord.com/api/webhooks/…".to_string(),
                                    _ => "https://example.com/hook".to_string(),
                                }
                            } else {
                                format!("stored: {masked} (leave empty to keep)")
                            }
                        }
                        class:invalid=move || errors.with(|e| e.contains_key("url"))
                        bind:value=form.url
                    />
                    {field_error(errors, "url")}
                    {move || {
                        (form.kind() == WebhookKind::Healthchecks)
                            .then(|| {
                                view! {
                                    <small class="muted">
                                        "pgward sends /start when a run starts, the URL on success and /fail with pg_dump's error output on failure, each with the run's id."
                                    </small>
                                }
                            })
                    }}
                </label>
                {move || {
                    (form.kind() == WebhookKind::Custom)
                        .then(|| {
                            view! {
                                <label class="field">
                                    <span>"Method"</span>
                                    <select data-testid="webhook-method" bind:value=form.method>
                                        <option value="POST">"POST"</option>
                                        <option value="GET">"GET"</option>
                                        <option value="PUT">"PUT"</option>
                                    </select>
                                </label>
                            }
                        })
                }}
                <div class="field span-2">
                    <span>"Events"</span>
                    <div class="check-list" data-testid="webhook-events">{event_checks}</div>
                    {field_error(errors, "events")}
                </div>
                <div class="field span-2">
                    <label class="checkbox">
                        <input type="checkbox" data-testid="webhook-all-targets" bind:checked=form.all_targets />
                        <span>"About every task, database and destination"</span>
                    </label>
                    {field_error(errors, "targets")}
                </div>
                {move || {
                    (!form.all_targets.get())
                        .then(|| {
                            view! {
                                {id_checks("Tasks", tasks, form.task_ids, |t: &pgward_api_types::Task| (t.id, t.spec.name.clone()), "webhook-target-tasks")}
                                {id_checks("Databases", databases, form.database_ids, |d: &pgward_api_types::Database| (d.id, d.name.clone()), "webhook-target-databases")}
                                {id_checks("Destinations", destinations, form.destination_ids, |d: &pgward_api_types::Destination| (d.id, d.name.clone()), "webhook-target-destinations")}
                            }
                        })
                }}
                {move || {
                    matches!(form.kind(), WebhookKind::Custom | WebhookKind::Slack | WebhookKind::Discord)
                        .then(|| {
                            view! {
                                <label class="field span-2">
                                    <span>
                                        {move || if form.kind() == WebhookKind::Custom {
                                            "Body template (empty: the event as JSON for POST/PUT, no body for GET)"
                                        } else {
                                            "Message template (empty: pgward's default message)"
                                        }}
                                    </span>
                                    <textarea
                                        rows="6"
                                        spellcheck="false"
                                        class="code"
                                        data-testid="webhook-template"
                                        placeholder="{\"text\": {{ title | tojson }}, \"task\": {{ task.name | tojson }}, \"size\": {{ size | tojson }}}"
                                        class:invalid=move || errors.with(|e| e.contains_key("body_template"))
                                        bind:value=form.template
                                    ></textarea>
                                    {field_error(errors, "body_template")}
                                    <small class="muted">
                                        "minijinja syntax. Variables: event, title, status, task.name, database.name, destination.name, execution_id, restoration_id, size, size_human, duration_ms, duration_human, error, stderr_tail, occurred_at, started_at, finished_at (task's time zone; *_text forms too), timezone, links.execution, links.execution_api, links.app, execution, restoration, data. Use | tojson inside JSON."
                                    </small>
                                </label>
                            }
                        })
                }}
                <div class="field span-2 preview">
                    <div class="inline">
                        <select data-testid="webhook-preview-event" bind:value=form.preview_event>
                            {EventKind::ALL
                                .into_iter()
                                .map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> })
                                .collect_view()}
                        </select>
                        <button type="button" class="btn" data-testid="webhook-preview" on:click=run_preview>
                            "Preview with a sample event"
                        </button>
                    </div>
                    {move || match preview.get() {
                        None => ().into_any(),
                        Some(Err(f)) => view! { <p class="field-error" data-testid="webhook-preview-error">{f.message}</p> }.into_any(),
                        Some(Ok(p)) => {
                            let headers = p
                                .request
                                .headers
                                .iter()
                                .map(|(k, v)| format!("{k}: {v}"))
                                .collect::<Vec<_>>()
                                .join("\n");
                            view! {
                                <pre class="code" data-testid="webhook-preview-request">
                                    {format!("{} {}\n{headers}\n\n{}", p.request.method.as_str(), p.request.url, p.request.body)}
                                </pre>
                                <details>
                                    <summary>"Variables of this sample event"</summary>
                                    <pre class="code">{serde_json::to_string_pretty(&p.context).unwrap_or_default()}</pre>
                                </details>
                            }
                                .into_any()
                        }
                    }}
                </div>
                <label class="field span-2">
                    <span>"Extra headers (Name: value per line; values are stored encrypted)"</span>
                    <textarea
                        rows="2"
                        spellcheck="false"
                        data-testid="webhook-headers"
                        placeholder=move || {
                            let names = form.header_names.get();
                            if names.is_empty() {
                                "Authorization: Bearer …".to_string()
                            } else {
                                format!(
                                    "stored: {} (leave empty to keep; headers typed here replace all stored ones)",
                                    names.join(", ")
                                )
                            }
                        }
                        class:invalid=move || errors.with(|e| e.contains_key("headers"))
                        bind:value=form.headers
                    ></textarea>
                    {field_error(errors, "headers")}
                    {move || {
                        (!form.header_names.get().is_empty())
                            .then(|| {
                                view! {
                                    <label class="checkbox">
                                        <input type="checkbox" bind:checked=form.clear_headers />
                                        <span>"Remove the stored headers"</span>
                                    </label>
                                }
                            })
                    }}
                </label>
                <label class="field">
                    <span>"Signing secret (HMAC-SHA256 of timestamp.body in X-Pgward-Signature-256)"</span>
                    <input
                        type="password"
                        autocomplete="new-password"
                        data-testid="webhook-secret"
                        placeholder=move || if form.has_secret.get() { "stored (leave empty to keep)" } else { "optional" }
                        bind:value=form.secret
                    />
                    {field_error(errors, "secret")}
                    {move || {
                        form.has_secret
                            .get()
                            .then(|| {
                                view! {
                                    <label class="checkbox">
                                        <input type="checkbox" bind:checked=form.remove_secret />
                                        <span>"Stop signing"</span>
                                    </label>
                                }
                            })
                    }}
                </label>
                {text_field("Timeout (seconds, 1-60)", "number", form.timeout, "webhook-timeout", "10", errors, "timeout_secs")}
                {text_field("Attempts (1-10, with backoff)", "number", form.attempts, "webhook-attempts", "5", errors, "max_attempts")}
                <label class="checkbox">
                    <input type="checkbox" data-testid="webhook-active" bind:checked=form.active />
                    <span>"Active"</span>
                </label>
                <div class="form-actions span-2">
                    <button type="submit" class="btn btn-primary" data-testid="webhook-save" prop:disabled=move || saving.get()>
                        {move || if form.editing.get().is_some() { "Save changes" } else { "Add webhook" }}
                    </button>
                    {move || {
                        form.editing
                            .get()
                            .is_some()
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="btn"
                                        on:click=move |_| {
                                            form.reset();
                                            preview.set(None);
                                        }
                                    >
                                        "Cancel"
                                    </button>
                                }
                            })
                    }}
                </div>
            </form>
        </section>
    }
}
