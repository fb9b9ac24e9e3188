//! `/destinations`: where backups are stored. The list with per-row test and delete, and a form to add
//! one (local directory, S3, GCS or Azure). Secrets are write-only: the API never returns them, the list
//! only says which are stored.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use pgward_api_types::{
    CreateDestinationRequest, Destination, DestinationConfig, DestinationTestResult,
};

use crate::session::{Failure, Session, use_session};
use crate::ui::{FieldErrors, confirm, error_banner, failure_banner, field_error, text_field};

#[component]
pub fn DestinationsPage() -> impl IntoView {
    let session = use_session();
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        reload.track();
        session.call(|c| async move { c.list_destinations().await.map(|l| l.items) })
    });
    let refresh = move || reload.update(|n| *n = n.wrapping_add(1));
    let action_error = RwSignal::new(None::<String>);
    let action_note = RwSignal::new(None::<String>);

    view! {
        <div class="page-header">
            <div>
                <h1>"Destinations"</h1>
                <p class="muted">"Where backups are written: a local directory or object storage."</p>
            </div>
            <button
                type="button"
                class="btn"
                data-testid="dest-refresh"
                on:click=move |_| refresh()
            >
                "Refresh"
            </button>
        </div>
        {error_banner(move || action_error.get())}
        {move || {
            action_note
                .get()
                .map(|m| {
                    view! {
                        <div class="alert alert-ok" role="status" data-testid="dest-note">
                            {m}
                        </div>
                    }
                })
        }}
        <section class="card">
            {move || match list.get() {
                None => view! { <p class="muted pad">"Loading destinations…"</p> }.into_any(),
                Some(Err(e)) => {
                    view! {
                        <div class="alert alert-error" role="alert" data-testid="error">
                            {e}
                        </div>
                    }
                        .into_any()
                }
                Some(Ok(items)) if items.is_empty() => {
                    view! {
                        <p class="empty" data-testid="dest-empty">
                            "No destinations yet. Add the first one below."
                        </p>
                    }
                        .into_any()
                }
                Some(Ok(items)) => {
                    view! {
                        <table class="table" data-testid="dest-table">
                            <thead>
                                <tr>
                                    <th>"Name"</th>
                                    <th>"Kind"</th>
                                    <th>"Location"</th>
                                    <th>"Health"</th>
                                    <th class="actions">"Actions"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {items
                                    .into_iter()
                                    .map(|d| {
                                        dest_row(session, d, refresh, action_error, action_note)
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any()
                }
            }}
        </section>
        <AddDestination on_saved=refresh />
    }
}

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "local" => "Local directory",
        "s3" => "Amazon S3",
        "gcs" => "Google Cloud Storage",
        "azure" => "Azure Blob",
        _ => "Other",
    }
}

fn join_prefix(base: String, prefix: Option<&str>) -> String {
    match prefix
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
    {
        Some(p) => format!("{base}/{p}"),
        None => base,
    }
}

/// Where the destination writes, and a detail line (endpoint, region, credentials).
fn summary(d: &Destination) -> (String, String) {
    let has = |field: &str| d.secrets_set.iter().any(|s| s == field);
    let creds = |field: &str| {
        if has(field) {
            "credentials stored"
        } else {
            "no credentials stored"
        }
    };
    match &d.config {
        DestinationConfig::Local { path } => (path.clone(), "on the pgward server".into()),
        DestinationConfig::S3 {
            endpoint,
            region,
            bucket,
            prefix,
            ..
        } => (
            join_prefix(format!("s3://{bucket}"), prefix.as_deref()),
            format!(
                "{} \u{b7} {region} \u{b7} {}",
                endpoint.as_deref().unwrap_or("AWS"),
                creds("secret_access_key")
            ),
        ),
        DestinationConfig::Gcs { bucket, prefix, .. } => (
            join_prefix(format!("gs://{bucket}"), prefix.as_deref()),
            creds("service_account_json").into(),
        ),
        DestinationConfig::Azure {
            account,
            container,
            prefix,
            use_emulator,
            ..
        } => (
            join_prefix(format!("{account}/{container}"), prefix.as_deref()),
            if *use_emulator {
                "Azurite emulator".into()
            } else {
                creds("access_key").into()
            },
        ),
    }
}

fn dest_row(
    session: Session,
    d: Destination,
    refresh: impl Fn() + Copy + Send + Sync + 'static,
    action_error: RwSignal<Option<String>>,
    action_note: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = d.id;
    let busy = RwSignal::new(false);
    let name = d.name.clone();
    let test_name = d.name.clone();
    let test = move |_| {
        busy.set(true);
        action_error.set(None);
        action_note.set(None);
        let name = test_name.clone();
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.test_destination(id).await })
                .await;
            busy.set(false);
            match result {
                Ok(r) if r.ok => action_note.set(Some(format!(
                    "\u{201c}{name}\u{201d} works: wrote, read back and deleted a probe object in {} ms.",
                    r.latency_ms
                ))),
                Ok(r) => action_error.set(Some(format!(
                    "\u{201c}{name}\u{201d} failed its test: {}",
                    r.message.unwrap_or_else(|| "no details".into())
                ))),
                Err(e) => action_error.set(Some(e)),
            }
            // The outcome is recorded in the destination's health; the reload shows it.
            refresh();
        });
    };
    let delete = move |_| {
        if !confirm(&format!(
            "Delete the destination \u{201c}{name}\u{201d}? Backups already stored there are not touched."
        )) {
            return;
        }
        busy.set(true);
        action_error.set(None);
        action_note.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.delete_destination(id).await })
                .await;
            busy.set(false);
            match result {
                Ok(()) => refresh(),
                Err(e) => action_error.set(Some(e)),
            }
        });
    };
    let (location, detail) = summary(&d);
    let kind = d.config.kind();
    view! {
        <tr data-testid="dest-row" data-id=id.to_string()>
            <td>
                <div class="strong" data-testid="dest-name">
                    {d.name.clone()}
                </div>
            </td>
            <td>
                <span class="kind" data-testid="dest-kind" data-kind=kind>
                    {kind_label(kind)}
                </span>
            </td>
            <td>
                <div class="mono" data-testid="dest-location">
                    {location}
                </div>
                <div class="muted small">{detail}</div>
            </td>
            <td>{crate::ui::health_badge(&d.health, "dest-health")}</td>
            <td class="actions">
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="dest-test"
                    on:click=test
                    disabled=move || busy.get()
                >
                    "Test"
                </button>
                <button
                    type="button"
                    class="btn btn-small btn-danger"
                    data-testid="dest-delete"
                    on:click=delete
                    disabled=move || busy.get()
                >
                    "Delete"
                </button>
            </td>
        </tr>
    }
}

/// The add form's inputs; `config()` builds what the API takes.
#[derive(Clone, Copy)]
struct DestForm {
    name: RwSignal<String>,
    kind: RwSignal<String>,
    path: RwSignal<String>,
    endpoint: RwSignal<String>,
    region: RwSignal<String>,
    bucket: RwSignal<String>,
    prefix: RwSignal<String>,
    access_key_id: RwSignal<String>,
    secret_access_key: RwSignal<String>,
    path_style: RwSignal<bool>,
    allow_http: RwSignal<bool>,
    service_account_json: RwSignal<String>,
    account: RwSignal<String>,
    container: RwSignal<String>,
    access_key: RwSignal<String>,
    use_emulator: RwSignal<bool>,
    skip_test: RwSignal<bool>,
    interval: RwSignal<String>,
}

fn opt(s: RwSignal<String>) -> Option<String> {
    let v = s.get().trim().to_string();
    (!v.is_empty()).then_some(v)
}

fn trimmed(s: RwSignal<String>) -> String {
    s.get().trim().to_string()
}

impl DestForm {
    fn new() -> Self {
        Self {
            name: RwSignal::new(String::new()),
            kind: RwSignal::new("local".into()),
            path: RwSignal::new(String::new()),
            endpoint: RwSignal::new(String::new()),
            region: RwSignal::new(String::new()),
            bucket: RwSignal::new(String::new()),
            prefix: RwSignal::new(String::new()),
            access_key_id: RwSignal::new(String::new()),
            secret_access_key: RwSignal::new(String::new()),
            path_style: RwSignal::new(false),
            allow_http: RwSignal::new(false),
            service_account_json: RwSignal::new(String::new()),
            account: RwSignal::new(String::new()),
            container: RwSignal::new(String::new()),
            access_key: RwSignal::new(String::new()),
            use_emulator: RwSignal::new(false),
            skip_test: RwSignal::new(false),
            interval: RwSignal::new(String::new()),
        }
    }

    fn reset(&self) {
        for s in [
            self.name,
            self.path,
            self.endpoint,
            self.region,
            self.bucket,
            self.prefix,
            self.access_key_id,
            self.secret_access_key,
            self.service_account_json,
            self.account,
            self.container,
            self.access_key,
            self.interval,
        ] {
            s.set(String::new());
        }
        for b in [
            self.path_style,
            self.allow_http,
            self.use_emulator,
            self.skip_test,
        ] {
            b.set(false);
        }
    }

    /// Reactive: reads every input of the selected kind.
    fn config(&self) -> DestinationConfig {
        match self.kind.get().as_str() {
            "s3" => DestinationConfig::S3 {
                endpoint: opt(self.endpoint),
                region: trimmed(self.region),
                bucket: trimmed(self.bucket),
                prefix: opt(self.prefix),
                access_key_id: trimmed(self.access_key_id),
                secret_access_key: opt(self.secret_access_key),
                path_style: self.path_style.get(),
                allow_http: self.allow_http.get(),
            },
            "gcs" => DestinationConfig::Gcs {
                bucket: trimmed(self.bucket),
                prefix: opt(self.prefix),
                service_account_json: opt(self.service_account_json),
            },
            "azure" => DestinationConfig::Azure {
                account: trimmed(self.account),
                container: trimmed(self.container),
                prefix: opt(self.prefix),
                access_key: opt(self.access_key),
                use_emulator: self.use_emulator.get(),
            },
            _ => DestinationConfig::Local {
                path: trimmed(self.path),
            },
        }
    }
}

fn test_result_view(result: Result<DestinationTestResult, String>) -> impl IntoView {
    let (status, class, text) = match result {
        Ok(r) if r.ok => (
            "ok",
            "alert alert-ok",
            format!(
                "Destination OK \u{b7} wrote, read back and deleted a probe object \u{b7} {} ms",
                r.latency_ms
            ),
        ),
        Ok(r) => (
            "failed",
            "alert alert-error",
            format!(
                "Test failed: {}",
                r.message.as_deref().unwrap_or("no details")
            ),
        ),
        Err(e) => ("error", "alert alert-error", e),
    };
    view! {
        <div class=class role="status" data-testid="dest-test-result" data-status=status>
            {text}
        </div>
    }
}

fn checkbox(label: &'static str, value: RwSignal<bool>, testid: &'static str) -> impl IntoView {
    view! {
        <label class="checkbox">
            <input type="checkbox" data-testid=testid bind:checked=value />
            <span>{label}</span>
        </label>
    }
}

fn prefix_field(form: DestForm, errors: FieldErrors) -> impl IntoView {
    text_field(
        "Prefix (optional)",
        "text",
        form.prefix,
        "dest-add-prefix",
        "e.g. pgward/production",
        errors,
        "config.prefix",
    )
}

fn kind_fields(form: DestForm, errors: FieldErrors) -> impl IntoView {
    move || match form.kind.get().as_str() {
        "s3" => view! {
            {text_field(
                "Bucket",
                "text",
                form.bucket,
                "dest-add-bucket",
                "my-backups",
                errors,
                "config.bucket",
            )}
            {prefix_field(form, errors)}
            {text_field(
                "Region",
                "text",
                form.region,
                "dest-add-region",
                "e.g. eu-central-1",
                errors,
                "config.region",
            )}
            {text_field(
                "Endpoint (optional, for S3-compatible services)",
                "text",
                form.endpoint,
                "dest-add-endpoint",
                "https://s3.example.com",
                errors,
                "config.endpoint",
            )}
            {text_field(
                "Access key ID",
                "text",
                form.access_key_id,
                "dest-add-access-key-id",
                "",
                errors,
                "config.access_key_id",
            )}
            {text_field(
                "Secret access key",
                "password",
                form.secret_access_key,
                "dest-add-secret-access-key",
                "",
                errors,
                "config.secret_access_key",
            )}
            <div class="span-2 checks">
                {checkbox("Path-style requests", form.path_style, "dest-add-path-style")}
                {checkbox("Allow plain HTTP", form.allow_http, "dest-add-allow-http")}
            </div>
        }
        .into_any(),
        "gcs" => view! {
            {text_field(
                "Bucket",
                "text",
                form.bucket,
                "dest-add-bucket",
                "my-backups",
                errors,
                "config.bucket",
            )}
            {prefix_field(form, errors)}
            <div class="span-2">
                {text_field(
                    "Service-account key (JSON)",
                    "password",
                    form.service_account_json,
                    "dest-add-service-account-json",
                    "paste the key file's contents",
                    errors,
                    "config.service_account_json",
                )}
            </div>
        }
        .into_any(),
        "azure" => view! {
            {text_field(
                "Storage account",
                "text",
                form.account,
                "dest-add-account",
                "",
                errors,
                "config.account",
            )}
            {text_field(
                "Container",
                "text",
                form.container,
                "dest-add-container",
                "",
                errors,
                "config.container",
            )}
            {prefix_field(form, errors)}
            {text_field(
                "Access key",
                "password",
                form.access_key,
                "dest-add-access-key",
                "",
                errors,
                "config.access_key",
            )}
            <div class="span-2 checks">
                {checkbox("Use the Azurite emulator", form.use_emulator, "dest-add-use-emulator")}
            </div>
        }
        .into_any(),
        _ => view! {
            <div class="span-2">
                {text_field(
                    "Directory on the pgward server",
                    "text",
                    form.path,
                    "dest-add-path",
                    "/var/backups/pgward",
                    errors,
                    "config.path",
                )}
            </div>
        }
        .into_any(),
    }
}

#[component]
fn AddDestination(on_saved: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let session = use_session();
    let form = DestForm::new();
    let config = Memo::new(move |_| form.config());
    let testing = RwSignal::new(false);
    let saving = RwSignal::new(false);
    let test_result = RwSignal::new(None::<Result<DestinationTestResult, String>>);
    let failure = RwSignal::new(None::<Failure>);
    let errors: FieldErrors = RwSignal::new(Default::default());

    // A test result belongs to the configuration it was made with.
    Effect::new(move |prev: Option<()>| {
        config.track();
        if prev.is_some() {
            test_result.set(None);
        }
    });

    let run_test = move |_| {
        let cfg = config.get_untracked();
        testing.set(true);
        test_result.set(None);
        failure.set(None);
        errors.set(Default::default());
        spawn_local(async move {
            let result = session
                .call_detailed(|c| {
                    let cfg = cfg.clone();
                    async move { c.test_destination_config(&cfg).await }
                })
                .await;
            testing.set(false);
            if config.get_untracked() != cfg {
                return;
            }
            match result {
                Ok(r) => test_result.set(Some(Ok(r))),
                // Invalid input: show it next to the fields.
                Err(f) if !f.fields.is_empty() => {
                    errors.set(f.fields.clone());
                    failure.set(Some(f));
                }
                Err(f) => test_result.set(Some(Err(f.message))),
            }
        });
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let req = CreateDestinationRequest {
            name: form.name.get_untracked().trim().to_string(),
            config: config.get_untracked(),
            skip_test: form.skip_test.get_untracked(),
            health_interval_secs: crate::ui::parse_interval(form.interval),
        };
        saving.set(true);
        failure.set(None);
        errors.set(Default::default());
        spawn_local(async move {
            let result = session
                .call_detailed(|c| {
                    let req = req.clone();
                    async move { c.create_destination(&req).await }
                })
                .await;
            saving.set(false);
            match result {
                Ok(_) => {
                    form.reset();
                    test_result.set(None);
                    on_saved();
                }
                Err(f) => {
                    errors.set(f.fields.clone());
                    failure.set(Some(f));
                }
            }
        });
    };

    view! {
        <section class="card">
            <h2>"Add a destination"</h2>
            <form class="form-grid" on:submit=on_submit data-testid="dest-add-form">
                <label class="field">
                    <span>"Name"</span>
                    <input
                        type="text"
                        required
                        maxlength="100"
                        placeholder="e.g. offsite-s3"
                        data-testid="dest-add-name"
                        bind:value=form.name
                    />
                    {field_error(errors, "name")}
                </label>
                <label class="field">
                    <span>"Kind"</span>
                    <select data-testid="dest-add-kind" bind:value=form.kind>
                        <option value="local">"Local directory"</option>
                        <option value="s3">"Amazon S3 / S3-compatible"</option>
                        <option value="gcs">"Google Cloud Storage"</option>
                        <option value="azure">"Azure Blob Storage"</option>
                    </select>
                </label>
                {kind_fields(form, errors)}
                {crate::ui::health_interval_select(form.interval, "dest-add-interval")}
                <p class="span-2 muted small">
                    "Secrets are stored encrypted and never shown again. Saving tests the destination by writing, reading back and deleting a probe object."
                </p>
                <div class="span-2">
                    {move || test_result.get().map(test_result_view)}
                    {failure_banner(failure)}
                </div>
                <div class="form-actions span-2">
                    {checkbox("Skip test", form.skip_test, "dest-add-skip-test")}
                    <div class="spacer"></div>
                    <button
                        type="button"
                        class="btn"
                        data-testid="dest-add-test"
                        on:click=run_test
                        disabled=move || testing.get()
                    >
                        {move || if testing.get() { "Testing…" } else { "Test" }}
                    </button>
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="dest-add-submit"
                        disabled=move || saving.get()
                    >
                        {move || if saving.get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </form>
        </section>
    }
}
