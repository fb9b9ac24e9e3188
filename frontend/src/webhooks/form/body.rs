//! What a webhook says: its template, and a preview the server renders from a sample event.

use leptos::prelude::*;
use pgward_api_types::{EventKind, HttpMethod, WebhookKind, WebhookPreview, WebhookPreviewRequest};

use super::super::request_text;
use super::model::Form;
use crate::parts::{Field, save};
use crate::session::{Failure, use_session};

/// Generic JSON and Healthchecks send fixed bodies: only the other kinds have a template.
#[component]
pub fn TemplateField(form: Form) -> impl IntoView {
    let error = form.errors.at("body_template");
    let label = move || {
        if form.kind() == WebhookKind::Custom {
            "Body template (empty: the event as JSON for POST/PUT, no body for GET)"
        } else {
            "Message template (empty: pgward's default message)"
        }
    };
    move || {
        matches!(
            form.kind(),
            WebhookKind::Custom | WebhookKind::Slack | WebhookKind::Discord
        )
        .then(|| {
            view! {
                <Field label wide=true>
                    <textarea
                        rows="6"
                        spellcheck="false"
                        class="code"
                        data-testid="webhook-template"
                        placeholder="{\"text\": {{ title | tojson }}, \"task\": {{ task.name | tojson }}, \"size\": {{ size | tojson }}}"
                        class:invalid=move || error.invalid()
                        bind:value=form.template
                    ></textarea>
                    {error.message()}
                    <small class="muted">
                        "minijinja syntax. Variables: event, title, status, task.name, database.name, destination.name, execution_id, restoration_id, size, size_human, duration_ms, duration_human, error, stderr_tail, occurred_at, started_at, finished_at (task's time zone; *_text forms too), timezone, links.execution, links.execution_api, links.app, execution, restoration, data. Use | tojson inside JSON."
                    </small>
                </Field>
            }
        })
    }
}

/// The request the form's webhook would send for a sample event of the chosen kind.
#[component]
pub fn Preview(
    form: Form,
    preview: RwSignal<Option<Result<WebhookPreview, Failure>>>,
) -> impl IntoView {
    let session = use_session();
    let run_preview = move |_| {
        let req = WebhookPreviewRequest {
            kind: form.kind(),
            method: HttpMethod::parse(&form.method.get_untracked())
                .filter(|_| form.kind() == WebhookKind::Custom),
            url: None,
            body_template: Some(form.template.get_untracked()).filter(|t| !t.trim().is_empty()),
            event: EventKind::parse(&form.preview_event.get_untracked()),
        };
        save(
            session,
            None,
            req,
            |c, req| async move { c.preview_webhook(&req).await },
            move |result| preview.set(Some(result)),
        );
    };
    view! {
        <div class="field span-2 preview">
            <div class="inline">
                <select data-testid="webhook-preview-event" aria-label="Example event for the preview" bind:value=form.preview_event>
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
                Some(Err(f)) => {
                    view! { <p class="field-error" data-testid="webhook-preview-error">{f.message}</p> }
                        .into_any()
                }
                Some(Ok(p)) => {
                    view! {
                        <pre class="code" tabindex="0" data-testid="webhook-preview-request">
                            {request_text(&p.request)}
                        </pre>
                        <details>
                            <summary>"Variables of this sample event"</summary>
                            <pre class="code" tabindex="0">{serde_json::to_string_pretty(&p.context).unwrap_or_default()}</pre>
                        </details>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
