//! The form that adds or edits a webhook, one component per part: where it sends, what about, what it
//! says and how it is delivered.

mod body;
mod delivery;
mod model;
mod request;
mod scope;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use pgward_api_types::WebhookPreview;

use crate::parts::{SubmitButton, TextField, save};
use crate::session::{Failure, use_session};

use model::Save;
pub use model::{Form, Lists};

#[component]
pub fn WebhookForm(
    form: Form,
    lists: Lists,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let errors = form.errors;
    let saving = RwSignal::new(false);
    let preview = RwSignal::new(None::<Result<WebhookPreview, Failure>>);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = match form.save_request() {
            Ok(request) => request,
            Err((field, message)) => return errors.reject(field, message),
        };
        save(
            session,
            saving,
            request,
            |c, request| async move {
                match request {
                    Save::Create(req) => c.create_webhook(&req).await,
                    Save::Update(id, req) => c.update_webhook(id, &req).await,
                }
            },
            move |result| match result {
                Ok(_) => {
                    form.reset();
                    preview.set(None);
                    on_saved();
                }
                Err(f) => errors.show(f),
            },
        );
    };

    view! {
        <section class="card">
            <h2>
                {move || if form.editing.get().is_some() { "Edit webhook" } else { "Add a webhook" }}
            </h2>
            {errors.banner()}
            <form class="form-grid" on:submit=on_submit data-testid="webhook-form">
                <TextField
                    label="Name"
                    value=form.name
                    testid="webhook-name"
                    placeholder="on-call Slack"
                    error=errors.at("name")
                />
                <request::KindField form />
                <request::UrlField form />
                <request::MethodField form />
                <scope::EventsField form />
                <scope::TargetsFields form lists />
                <body::TemplateField form />
                <body::Preview form preview />
                <delivery::DeliveryFields form />
                <div class="form-actions span-2">
                    <SubmitButton
                        busy=saving
                        testid="webhook-save"
                        idle=move || {
                            if form.editing.get().is_some() { "Save changes" } else { "Add webhook" }
                        }
                    />
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
