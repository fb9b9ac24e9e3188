//! How a webhook is delivered: extra headers, the signing secret, timeout and attempts, and whether it
//! is active. Header values and the secret are write-only: what is stored is named, never shown.

use leptos::prelude::*;

use super::model::Form;
use crate::parts::{Checkbox, Field, inputs};

#[component]
pub fn DeliveryFields(form: Form) -> impl IntoView {
    let errors = form.errors;
    let headers = errors.at("headers");
    let headers_placeholder = move || {
        let names = form.header_names.get();
        if names.is_empty() {
            "Authorization: Bearer …".to_string()
        } else {
            format!(
                "stored: {} (leave empty to keep; headers typed here replace all stored ones)",
                names.join(", ")
            )
        }
    };
    let secret_placeholder = move || {
        if form.has_secret.get() {
            "stored (leave empty to keep)"
        } else {
            "optional"
        }
    };
    view! {
        <Field label="Extra headers (Name: value per line; values are stored encrypted)" wide=true>
            <textarea
                rows="2"
                spellcheck="false"
                data-testid="webhook-headers"
                placeholder=headers_placeholder
                class:invalid=move || headers.invalid()
                bind:value=form.headers
            ></textarea>
            {headers.message()}
            {move || {
                (!form.header_names.get().is_empty())
                    .then(|| view! { <Checkbox label="Remove the stored headers" value=form.clear_headers /> })
            }}
        </Field>
        <Field label="Signing secret (HMAC-SHA256 of timestamp.body in X-Pgward-Signature-256)">
            <input
                type="password"
                autocomplete="new-password"
                data-testid="webhook-secret"
                placeholder=secret_placeholder
                bind:value=form.secret
            />
            {errors.at("secret").message()}
            {move || {
                form.has_secret
                    .get()
                    .then(|| view! { <Checkbox label="Stop signing" value=form.remove_secret /> })
            }}
        </Field>
        {inputs(
            "number",
            [
                ("Timeout (seconds, 1-60)", form.timeout, "webhook-timeout", "10", "timeout_secs"),
                ("Attempts (1-10, with backoff)", form.attempts, "webhook-attempts", "5", "max_attempts"),
            ],
            errors,
        )}
        <Checkbox label="Active" value=form.active testid="webhook-active" />
    }
}
