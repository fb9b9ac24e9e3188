//! "Proof": verifying stored backups, and test-restoring them into a scratch database.

use leptos::prelude::*;
use pgward_api_types::Database;

use super::TaskForm;
use crate::parts::{Checkbox, DatabasePicker, Field, ListResource, TextField};
use crate::ui::FieldErrors;

#[component]
pub fn ProofSection(
    form: TaskForm,
    errors: FieldErrors,
    databases: ListResource<Database>,
) -> impl IntoView {
    let test_restore = move || {
        form.test_restore.get().then(|| {
            view! {
                <Field
                    label="On the server of"
                    error=errors.at("verification.test_restore_database_id")
                >
                    <DatabasePicker
                        databases
                        value=form.test_restore_db
                        testid="task-form-test-restore-db"
                        placeholder="Choose a database…"
                    />
                </Field>
                <TextField
                    label="Also on this cron (optional)"
                    value=form.test_restore_schedule
                    testid="task-form-test-restore-schedule"
                    placeholder="0 7 * * 0"
                    error=errors.at("verification.test_restore_schedule")
                />
                <div class="span-2 checks">
                    <Checkbox
                        label="After each successful backup"
                        value=form.test_restore_after
                        testid="task-form-test-restore-after"
                    />
                </div>
                <div class="span-2">
                    {errors.at("verification.test_restore_after_backup").message()}
                </div>
            }
        })
    };
    view! {
        <h3 class="form-section span-2">"Proof"</h3>
        <TextField
            label="Verify stored backups on this cron (optional)"
            value=form.verify_schedule
            testid="task-form-verify-schedule"
            placeholder="0 6 * * 0"
            error=errors.at("verification.verify_schedule")
        />
        <div class="span-2 checks">
            <Checkbox
                label="Test-restore into a scratch database and compare row counts"
                value=form.test_restore
                testid="task-form-test-restore"
            />
        </div>
        {test_restore}
    }
}
