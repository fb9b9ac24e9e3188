//! The form that adds a destination or edits one: its fields follow the kind, and Test tries the
//! configuration before anything is saved. Editing starts from the stored configuration with every
//! secret blank: the API never returns them, and one left blank keeps its stored value.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use pgward_api_types::{
    CreateDestinationRequest, Destination, DestinationConfig, DestinationTestResult,
    UpdateDestinationRequest,
};
use uuid::Uuid;

use crate::parts::{
    AddOrEditHeader, Checkbox, Field, Input, Outcome, TestAndSave, inputs, save, test_outcome,
};
use crate::session::use_session;
use crate::ui::{FieldErrors, FieldKey, health_interval_select, parse_interval};

/// The destination the form edits (`None`: it adds a new one). Rows set it; the form reads it.
pub type Editing = RwSignal<Option<Destination>>;

/// The add form's inputs; `config()` builds what the API takes.
#[derive(Clone, Copy, Default)]
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
            kind: RwSignal::new("local".into()),
            ..Default::default()
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

    /// Fills the form with a stored destination; secrets stay blank.
    fn load(&self, d: &Destination) {
        self.reset();
        self.name.set(d.name.clone());
        self.kind.set(d.config.kind().into());
        self.interval.set(
            d.health
                .interval_secs
                .map(|s| s.to_string())
                .unwrap_or_default(),
        );
        let text = |s: RwSignal<String>, v: &Option<String>| s.set(v.clone().unwrap_or_default());
        match &d.config {
            DestinationConfig::Local { path } => self.path.set(path.clone()),
            DestinationConfig::S3 {
                endpoint,
                region,
                bucket,
                prefix,
                access_key_id,
                path_style,
                allow_http,
                ..
            } => {
                text(self.endpoint, endpoint);
                self.region.set(region.clone());
                self.bucket.set(bucket.clone());
                text(self.prefix, prefix);
                self.access_key_id.set(access_key_id.clone());
                self.path_style.set(*path_style);
                self.allow_http.set(*allow_http);
            }
            DestinationConfig::Gcs { bucket, prefix, .. } => {
                self.bucket.set(bucket.clone());
                text(self.prefix, prefix);
            }
            DestinationConfig::Azure {
                account,
                container,
                prefix,
                use_emulator,
                ..
            } => {
                self.account.set(account.clone());
                self.container.set(container.clone());
                text(self.prefix, prefix);
                self.use_emulator.set(*use_emulator);
            }
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
    let outcome = match result {
        Ok(r) if r.ok => Outcome::Passed(format!(
            "Destination OK \u{b7} wrote, read back and deleted a probe object \u{b7} {} ms",
            r.latency_ms
        )),
        Ok(r) => Outcome::Failed(format!(
            "Test failed: {}",
            r.message.as_deref().unwrap_or("no details")
        )),
        Err(e) => Outcome::Error(e),
    };
    test_outcome("dest-test-result", outcome)
}

/// A write-only field. While editing a destination of the same kind that has this secret stored, it
/// says that a blank one keeps the stored value (the API then keeps it).
#[component]
fn SecretField(
    label: &'static str,
    value: RwSignal<String>,
    testid: &'static str,
    /// The secret's name in `Destination::secrets_set`.
    secret: &'static str,
    error: FieldKey,
    editing: Editing,
    kind: RwSignal<String>,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    let keeps = move || {
        editing.with(|e| {
            e.as_ref().is_some_and(|d| {
                kind.with(|k| k == d.config.kind()) && d.secrets_set.iter().any(|s| s == secret)
            })
        })
    };
    view! {
        <Field label error>
            <input
                type="password"
                autocomplete="new-password"
                spellcheck="false"
                placeholder=move || {
                    if keeps() { "leave blank to keep the stored value" } else { placeholder }
                }
                data-testid=testid
                class:invalid=move || error.invalid()
                bind:value=value
            />
            <Show when=keeps>
                <small class="muted" data-testid=format!("{testid}-keep")>
                    "Stored; leave blank to keep the stored value."
                </small>
            </Show>
        </Field>
    }
}

fn kind_fields(form: DestForm, errors: FieldErrors, editing: Editing) -> impl IntoView {
    // Every object store has these two.
    let bucket = (
        "Bucket",
        form.bucket,
        "dest-add-bucket",
        "my-backups",
        "config.bucket",
    );
    let prefix: Input = (
        "Prefix (optional)",
        form.prefix,
        "dest-add-prefix",
        "e.g. pgward/production",
        "config.prefix",
    );
    let text = move |fields: Vec<Input>| inputs("text", fields, errors);
    let secret = move |(label, value, testid, placeholder, key): Input, secret: &'static str| {
        view! {
            <SecretField
                label
                value
                testid
                secret
                placeholder
                error=errors.at(key)
                editing
                kind=form.kind
            />
        }
    };
    move || {
        match form.kind.get().as_str() {
        "s3" => view! {
            {text(vec![
                bucket,
                prefix,
                ("Region", form.region, "dest-add-region", "e.g. eu-central-1", "config.region"),
                (
                    "Endpoint (optional, for S3-compatible services)",
                    form.endpoint,
                    "dest-add-endpoint",
                    "https://s3.example.com",
                    "config.endpoint",
                ),
                ("Access key ID", form.access_key_id, "dest-add-access-key-id", "", "config.access_key_id"),
            ])}
            {secret((
                "Secret access key",
                form.secret_access_key,
                "dest-add-secret-access-key",
                "",
                "config.secret_access_key",
            ), "secret_access_key")}
            <div class="span-2 checks">
                <Checkbox label="Path-style requests" value=form.path_style testid="dest-add-path-style" />
                <Checkbox label="Allow plain HTTP" value=form.allow_http testid="dest-add-allow-http" />
            </div>
        }
        .into_any(),
        "gcs" => view! {
            {text(vec![bucket, prefix])}
            <div class="span-2">
                {secret((
                    "Service-account key (JSON)",
                    form.service_account_json,
                    "dest-add-service-account-json",
                    "paste the key file's contents",
                    "config.service_account_json",
                ), "service_account_json")}
            </div>
        }
        .into_any(),
        "azure" => view! {
            {text(vec![
                ("Storage account", form.account, "dest-add-account", "", "config.account"),
                ("Container", form.container, "dest-add-container", "", "config.container"),
                prefix,
            ])}
            {secret(
                ("Access key", form.access_key, "dest-add-access-key", "", "config.access_key"),
                "access_key",
            )}
            <div class="span-2 checks">
                <Checkbox
                    label="Use the Azurite emulator"
                    value=form.use_emulator
                    testid="dest-add-use-emulator"
                />
            </div>
        }
        .into_any(),
        _ => view! {
            <div class="span-2">
                {text(vec![(
                    "Directory on the pgward server",
                    form.path,
                    "dest-add-path",
                    "/var/backups/pgward",
                    "config.path",
                )])}
            </div>
        }
        .into_any(),
    }
    }
}

/// What the form's Save sends.
#[derive(Clone)]
enum Save {
    Create(CreateDestinationRequest),
    Update(Uuid, UpdateDestinationRequest),
}

/// The form that adds a destination, or edits the one in `editing` with the same fields.
#[component]
pub fn DestinationForm(
    editing: Editing,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let form = DestForm::new();
    let config = Memo::new(move |_| form.config());
    let testing = RwSignal::new(false);
    let saving = RwSignal::new(false);
    let test_result = RwSignal::new(None::<Result<DestinationTestResult, String>>);
    let errors = FieldErrors::new();
    let is_editing = move || editing.with(Option::is_some);

    Effect::new(move || {
        let Some(d) = editing.get() else { return };
        form.load(&d);
        test_result.set(None);
        errors.clear();
    });
    let stop_editing = move || {
        editing.set(None);
        form.reset();
        form.kind.set("local".into());
        test_result.set(None);
        errors.clear();
    };

    // A test result belongs to the configuration it was made with.
    Effect::new(move |prev: Option<()>| {
        config.track();
        if prev.is_some() {
            test_result.set(None);
        }
    });

    let run_test = move || {
        let cfg = config.get_untracked();
        // Unchanged settings of a stored destination are tested with its stored secrets; changed
        // ones are tested as typed (a secret left blank is not part of that test).
        let saved =
            editing.with_untracked(|e| e.as_ref().filter(|d| d.config == cfg).map(|d| d.id));
        test_result.set(None);
        errors.clear();
        let tested = cfg.clone();
        save(
            session,
            testing,
            (cfg, saved),
            |c, (cfg, saved)| async move {
                match saved {
                    Some(id) => c.test_destination(id).await,
                    None => c.test_destination_config(&cfg).await,
                }
            },
            move |result| {
                if config.get_untracked() != tested {
                    return;
                }
                match result {
                    Ok(r) => test_result.set(Some(Ok(r))),
                    // Invalid input: show it next to the fields.
                    Err(f) if !f.fields.is_empty() => errors.show(f),
                    Err(f) => test_result.set(Some(Err(f.message))),
                }
            },
        );
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let name = form.name.get_untracked().trim().to_string();
        let req = match editing.with_untracked(|e| e.as_ref().map(|d| d.id)) {
            None => Save::Create(CreateDestinationRequest {
                name,
                config: config.get_untracked(),
                skip_test: form.skip_test.get_untracked(),
                health_interval_secs: parse_interval(form.interval),
            }),
            // The whole configuration: secrets left out keep their stored values (same kind).
            Some(id) => Save::Update(
                id,
                UpdateDestinationRequest {
                    name: Some(name),
                    config: Some(config.get_untracked()),
                    skip_test: form.skip_test.get_untracked(),
                    // `Some(None)` goes back to the server's default.
                    health_interval_secs: Some(parse_interval(form.interval)),
                },
            ),
        };
        errors.clear();
        save(
            session,
            saving,
            req,
            |c, req| async move {
                match req {
                    Save::Create(req) => c.create_destination(&req).await,
                    Save::Update(id, req) => c.update_destination(id, &req).await,
                }
            },
            move |result| match result {
                Ok(_) => {
                    stop_editing();
                    on_saved();
                }
                Err(f) => errors.show(f),
            },
        );
    };

    view! {
        <section class="card" id="dest-form">
            <AddOrEditHeader
                noun="destination"
                name=Signal::derive(move || editing.get().map(|d| d.name))
                editing=Signal::derive(is_editing)
                prefix="dest"
                on_cancel=stop_editing
            />
            <form
                class="form-grid"
                on:submit=on_submit
                data-testid="dest-add-form"
                data-mode=move || if is_editing() { "edit" } else { "add" }
            >
                <Field label="Name" error=errors.at("name")>
                    <input
                        type="text"
                        required
                        maxlength="100"
                        placeholder="e.g. offsite-s3"
                        data-testid="dest-add-name"
                        bind:value=form.name
                    />
                </Field>
                <Field label="Kind">
                    <select data-testid="dest-add-kind" bind:value=form.kind>
                        <option value="local">"Local directory"</option>
                        <option value="s3">"Amazon S3 / S3-compatible"</option>
                        <option value="gcs">"Google Cloud Storage"</option>
                        <option value="azure">"Azure Blob Storage"</option>
                    </select>
                </Field>
                {kind_fields(form, errors, editing)}
                {health_interval_select(form.interval, "dest-add-interval")}
                <p class="span-2 muted small">
                    {move || {
                        if is_editing() {
                            "Secrets left blank keep their stored values (unless the kind changes). Test tries the settings as typed, or the stored destination while nothing changed; saving tests the result with the stored secrets."
                        } else {
                            "Secrets are stored encrypted and never shown again. Saving tests the destination by writing, reading back and deleting a probe object."
                        }
                    }}
                </p>
                <div class="span-2">
                    {move || test_result.get().map(test_result_view)}
                    {errors.banner()}
                </div>
                <TestAndSave
                    skip=form.skip_test
                    skip_label="Skip test"
                    testing
                    test_label="Test"
                    on_test=run_test
                    saving
                    testids=["dest-add-skip-test", "dest-add-test", "dest-add-submit"]
                />
            </form>
        </section>
    }
}
