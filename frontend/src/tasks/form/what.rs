//! "What": the task's name, the database it backs up and where the backups go.

use leptos::prelude::*;
use leptos_router::components::A;
use pgward_api_types::{Database, Destination};

use super::{LinesField, TaskForm};
use crate::parts::{
    Checkbox, DatabasePicker, DestinationPicker, Field, FieldGroup, ListResource, TextField,
};
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
        <FieldGroup wide=true>
            <Checkbox
                label="Every database on this database's server"
                value=form.whole_server
                testid="task-form-whole-server"
            />
            <small class="muted">
                "Found anew at each run, so databases created later are backed up too; each is a backup of \
                 its own. The registered database's role must be able to read every one of them."
            </small>
        </FieldGroup>
        <Show when=move || form.whole_server.get()>
            <LinesField
                label="Only databases (patterns like app_*, one per line; empty: all)"
                value=form.include_databases
                testid="task-form-include-databases"
                placeholder="app_*"
                error=errors.at("scope.include")
            />
            <LinesField
                label="Leave out databases"
                value=form.exclude_databases
                testid="task-form-exclude-databases"
                placeholder="*_scratch"
                error=errors.at("scope.exclude")
            />
        </Show>
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
