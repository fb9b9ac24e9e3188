//! "What": the task's name, the database it backs up and where the backups go.

use leptos::prelude::*;
use leptos_router::components::A;
use pgward_api_types::{Database, Destination};

use super::TaskForm;
use crate::parts::{DatabasePicker, DestinationPicker, Field, FieldGroup, ListResource, TextField};
use crate::ui::FieldErrors;

#[component]
pub fn WhatSection(
    form: TaskForm,
    errors: FieldErrors,
    databases: ListResource<Database>,
    destinations: ListResource<Destination>,
) -> impl IntoView {
    let database = errors.at("database_id");
    view! {
        <h3 class="form-section span-2">"What"</h3>
        <TextField
            label="Name"
            value=form.name
            testid="task-form-name"
            placeholder="e.g. billing nightly"
            error=errors.at("name")
        />
        <Field label="Database" error=database>
            <DatabasePicker
                databases
                value=form.database_id
                testid="task-form-database"
                placeholder="Choose a database…"
                error=database
            />
        </Field>
        <FieldGroup label="Destinations" wide=true error=errors.at("destination_ids")>
            <DestinationPicker
                destinations
                chosen=form.destination_ids
                testid="task-form-destinations"
                option_testid=Some("task-dest-option")
                empty=|| view! { "No destinations yet. " <A href=crate::session::at("/destinations")>"Add one first"</A> "." }
            />
            <small class="muted">"Each backup is written to every selected destination."</small>
        </FieldGroup>
    }
}
