//! "Output": the dump's format (and parallelism), compression, encryption and the server's globals.

use leptos::prelude::*;

use super::model::takes_level;
use super::{LinesField, TaskForm};
use crate::parts::{Checkbox, Field};
use crate::ui::FieldErrors;

#[component]
pub fn OutputSection(form: TaskForm, errors: FieldErrors) -> impl IntoView {
    let (jobs, level) = (errors.at("parallel_jobs"), errors.at("compression_level"));
    let level_range = move || match form.compression.get().as_str() {
        "zstd" => "(1-19)",
        "gzip" => "(1-9)",
        _ => "",
    };
    let level_placeholder = move || match form.compression.get().as_str() {
        "zstd" => "5",
        "gzip" => "6",
        _ => "—",
    };
    view! {
        <h3 class="form-section span-2">"Output"</h3>
        <Field label="Format">
            <select data-testid="task-form-format" bind:value=form.format>
                <option value="custom">"Custom archive (pg_restore)"</option>
                <option value="plain">"Plain SQL (psql)"</option>
                <option value="directory">"Directory archive, parallel (pg_restore -j)"</option>
            </select>
        </Field>
        <Show when=move || form.format.get() == "directory">
            <Field label="Parallel jobs " note="(1-16)" error=jobs>
                <input
                    type="number"
                    min="1"
                    max="16"
                    data-testid="task-form-jobs"
                    class:invalid=move || jobs.invalid()
                    bind:value=form.jobs
                />
            </Field>
        </Show>
        <div class="field-row">
            <Field label="Compression">
                <select
                    data-testid="task-form-compression"
                    bind:value=form.compression
                    on:change=move |ev| {
                        if !takes_level(&event_target_value(&ev)) {
                            form.level.set(String::new());
                        }
                    }
                >
                    <option value="zstd">"zstd"</option>
                    <option value="gzip">"gzip"</option>
                    <option value="lz4">"lz4"</option>
                    <option value="none">"none"</option>
                </select>
            </Field>
            <Field label="Level " note=level_range>
                <input
                    type="number"
                    min="1"
                    max="19"
                    data-testid="task-form-level"
                    placeholder=level_placeholder
                    disabled=move || !takes_level(&form.compression.get())
                    class:invalid=move || level.invalid()
                    bind:value=form.level
                />
            </Field>
            <div class="span-2">{level.message()}</div>
        </div>
        <div class="span-2">
            <LinesField
                label="Encrypt to age recipients (one public key per line; empty: no encryption)"
                value=form.recipients
                testid="task-form-recipients"
                placeholder="age1…"
                error=errors.at("encryption_recipients")
            />
        </div>
        <div class="span-2 checks">
            <Checkbox
                label="Also store roles and tablespaces (pg_dumpall --globals-only)"
                value=form.include_globals
                testid="task-form-globals"
            />
        </div>
    }
}
