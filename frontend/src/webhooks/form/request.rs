//! Where the webhook sends to: its kind, the URL and (for custom HTTP) the method.

use leptos::prelude::*;
use pgward_api_types::WebhookKind;

use super::model::Form;
use crate::parts::Field;

/// The kind; fixed once the webhook exists.
#[component]
pub fn KindField(form: Form) -> impl IntoView {
    view! {
        <Field label="Kind">
            <select
                data-testid="webhook-kind"
                prop:disabled=move || form.editing.get().is_some()
                on:change=move |ev| form.switch_kind(event_target_value(&ev))
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
        </Field>
    }
}

/// The URL; a stored one is only shown masked and stays unless another is typed.
#[component]
pub fn UrlField(form: Form) -> impl IntoView {
    let error = form.errors.at("url");
    let label = move || match form.kind() {
        WebhookKind::Healthchecks => "Ping URL",
        WebhookKind::Slack => "Slack incoming webhook URL",
        WebhookKind::Discord => "Discord webhook URL",
        _ => "URL",
    };
    let placeholder = move || {
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
    };
    view! {
        <Field label wide=true>
            <input
                type="url"
                spellcheck="false"
                autocomplete="off"
                data-testid="webhook-url"
                placeholder=placeholder
                class:invalid=move || error.invalid()
                bind:value=form.url
            />
            {error.message()}
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
        </Field>
    }
}

/// Only custom HTTP webhooks choose their method.
#[component]
pub fn MethodField(form: Form) -> impl IntoView {
    move || {
        (form.kind() == WebhookKind::Custom).then(|| {
            view! {
                <Field label="Method">
                    <select data-testid="webhook-method" bind:value=form.method>
                        <option value="POST">"POST"</option>
                        <option value="GET">"GET"</option>
                        <option value="PUT">"PUT"</option>
                    </select>
                </Field>
            }
        })
    }
}
