//! "pg_dump options": what the dump leaves out or adds, and which schemas and tables it takes.

use leptos::prelude::*;

use super::{LinesField, TaskForm};
use crate::parts::Checkbox;
use crate::ui::FieldErrors;

#[component]
pub fn DumpSection(form: TaskForm, errors: FieldErrors) -> impl IntoView {
    let flags = [
        ("Data only", form.data_only, "task-form-data-only"),
        ("Schema only", form.schema_only, "task-form-schema-only"),
        ("Clean (drop objects first)", form.clean, "task-form-clean"),
        ("If exists", form.if_exists, "task-form-if-exists"),
        ("Create database", form.create, "task-form-create"),
        ("No comments", form.no_comments, "task-form-no-comments"),
        ("No owner", form.no_owner, "task-form-no-owner"),
        (
            "No privileges",
            form.no_privileges,
            "task-form-no-privileges",
        ),
    ];
    // Label, input, test id, placeholder and the field's JSON path.
    let patterns = [
        (
            "Only schemas (patterns, one per line)",
            form.schemas,
            "task-form-schemas",
            "public",
            "pg_dump_options.schemas",
        ),
        (
            "Exclude schemas",
            form.exclude_schemas,
            "task-form-exclude-schemas",
            "audit",
            "pg_dump_options.exclude_schemas",
        ),
        (
            "Only tables (patterns, one per line)",
            form.tables,
            "task-form-tables",
            "public.orders*",
            "pg_dump_options.tables",
        ),
        (
            "Exclude tables",
            form.exclude_tables,
            "task-form-exclude-tables",
            "public.sessions",
            "pg_dump_options.exclude_tables",
        ),
    ];
    view! {
        <h3 class="form-section span-2">"pg_dump options"</h3>
        <div class="span-2 check-grid" data-testid="task-form-dump-options">
            {flags
                .into_iter()
                .map(|(label, value, testid)| view! { <Checkbox label value testid /> })
                .collect_view()}
        </div>
        <div class="span-2">
            {errors.at("pg_dump_options.data_only").message()}
            {errors.at("pg_dump_options.if_exists").message()}
        </div>
        {patterns
            .into_iter()
            .map(|(label, value, testid, placeholder, key)| {
                view! { <LinesField label value testid placeholder error=errors.at(key) /> }
            })
            .collect_view()}
    }
}
