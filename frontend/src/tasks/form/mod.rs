//! The task editor: one component per section of the form, the save, and what the API takes for an
//! update.

mod dump;
mod model;
mod output;
mod proof;
mod retention;
mod schedule;
mod what;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use pgward_api_types::{Database, Destination, TaskSpec, UpdateTaskRequest};

use super::Page;
use crate::parts::{Field, ListResource, SubmitButton, save};
use crate::session::Failure;
use crate::ui::FieldKey;

pub use model::{TaskForm, compression_str};

/// Patterns or keys, one per line.
#[component]
fn LinesField(
    label: &'static str,
    value: RwSignal<String>,
    testid: &'static str,
    placeholder: &'static str,
    error: FieldKey,
) -> impl IntoView {
    view! {
        <Field label error>
            <textarea
                rows="3"
                spellcheck="false"
                placeholder=placeholder
                data-testid=testid
                class:invalid=move || error.invalid()
                bind:value=value
            ></textarea>
        </Field>
    }
}

/// While a task is open: a button that leaves it for a new, empty one.
fn new_task_button(
    page: Page,
    class: &'static str,
    testid: &'static str,
    label: &'static str,
) -> impl IntoView {
    move || {
        page.editing.get().map(|_| {
            view! {
                <button type="button" class=class data-testid=testid on:click=move |_| page.new_task()>
                    {label}
                </button>
            }
        })
    }
}

pub(super) fn task_form(
    page: Page,
    databases: ListResource<Database>,
    destinations: ListResource<Destination>,
) -> impl IntoView {
    let form = page.form;
    let errors = page.errors;
    let saving = RwSignal::new(false);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        page.saved.set(false);
        let spec = match form.spec() {
            Ok(spec) => spec,
            Err(fields) => {
                errors.show(Failure {
                    message: "Please correct the marked fields.".into(),
                    fields,
                });
                return;
            }
        };
        errors.clear();
        save(
            page.actions.session,
            saving,
            (page.editing.get_untracked(), spec),
            |c, (editing, spec)| async move {
                match editing {
                    None => c.create_task(&spec).await,
                    Some(id) => c.update_task(id, &update_request(spec)).await,
                }
            },
            move |result| match result {
                Ok(task) => {
                    page.show(&task);
                    page.saved.set(true);
                    page.actions.reload.bump();
                }
                Err(f) => errors.show(f),
            },
        );
    };

    view! {
        <section class="card editor-main">
            <div class="card-header">
                <h2 data-testid="task-form-title">
                    {move || match page.editing.get() {
                        None => "New backup task".to_string(),
                        Some(_) => format!("Edit \u{201c}{}\u{201d}", page.editing_name.get()),
                    }}
                </h2>
                {new_task_button(page, "btn btn-small", "task-form-new", "Start a new task")}
            </div>
            <form class="form-grid" on:submit=on_submit data-testid="task-form">
                <what::WhatSection form errors databases destinations />
                <schedule::ScheduleSection form errors />
                <output::OutputSection form errors />
                <dump::DumpSection form errors />
                <retention::RetentionSection form errors editing=page.editing />
                <proof::ProofSection form errors databases />
                <div class="span-2">
                    {move || {
                        page.saved
                            .get()
                            .then(|| {
                                view! {
                                    <div class="alert alert-ok" role="status" data-testid="task-saved">
                                        "Task saved."
                                    </div>
                                }
                            })
                    }}
                    {errors.banner()}
                </div>
                <div class="form-actions span-2">
                    <div class="spacer"></div>
                    {new_task_button(page, "btn", "task-form-cancel", "Cancel")}
                    <SubmitButton
                        busy=saving
                        testid="task-form-submit"
                        idle=move || {
                            if page.editing.get().is_some() { "Save changes" } else { "Create task" }
                        }
                        working="Saving…"
                    />
                </div>
            </form>
        </section>
    }
}

/// Every field, so that the form is the whole truth: an emptied level or timeout is sent as null, which
/// clears it.
fn update_request(spec: TaskSpec) -> UpdateTaskRequest {
    UpdateTaskRequest {
        name: Some(spec.name),
        database_id: Some(spec.database_id),
        scope: Some(spec.scope),
        destination_ids: Some(spec.destination_ids),
        schedule: Some(spec.schedule),
        timezone: Some(spec.timezone),
        active: Some(spec.active),
        format: Some(spec.format),
        parallel_jobs: Some(spec.parallel_jobs),
        compression: Some(spec.compression),
        compression_level: Some(spec.compression_level),
        encryption_recipients: Some(spec.encryption_recipients),
        pg_dump_options: Some(spec.pg_dump_options),
        include_globals: Some(spec.include_globals),
        timeout_minutes: Some(spec.timeout_minutes),
        stall_timeout_minutes: Some(spec.stall_timeout_minutes),
        retention: Some(spec.retention),
        verification: Some(spec.verification),
        anomaly_threshold_percent: Some(spec.anomaly_threshold_percent),
    }
}
