//! "Limits and retention": how long a run may take, when its size is an anomaly, and which backups are
//! kept.

use leptos::prelude::*;

use super::TaskForm;
use crate::parts::{Checkbox, inputs};
use crate::ui::FieldErrors;

#[component]
pub fn RetentionSection(form: TaskForm, errors: FieldErrors) -> impl IntoView {
    let limits = [
        (
            "Timeout (minutes, optional)",
            form.timeout,
            "task-form-timeout",
            "no limit",
            "timeout_minutes",
        ),
        (
            "Stall timeout (minutes without output, optional)",
            form.stall,
            "task-form-stall",
            "no limit",
            "stall_timeout_minutes",
        ),
        (
            "Anomaly above (% from the median of the last 10 runs, optional)",
            form.anomaly,
            "task-form-anomaly",
            "server default",
            "anomaly_threshold_percent",
        ),
        (
            "Keep backups younger than (days, optional)",
            form.keep_days,
            "task-form-keep-days",
            "no age rule",
            "retention.keep_days",
        ),
        (
            "Always keep the newest",
            form.keep_last,
            "task-form-keep-last",
            "7",
            "retention.keep_last",
        ),
    ];
    let gfs = move || {
        form.gfs.get().then(|| {
            let counts = [
                (
                    "Daily",
                    form.daily,
                    "task-form-gfs-daily",
                    "0",
                    "retention.gfs.daily",
                ),
                (
                    "Weekly",
                    form.weekly,
                    "task-form-gfs-weekly",
                    "0",
                    "retention.gfs.weekly",
                ),
                (
                    "Monthly",
                    form.monthly,
                    "task-form-gfs-monthly",
                    "0",
                    "retention.gfs.monthly",
                ),
                (
                    "Yearly",
                    form.yearly,
                    "task-form-gfs-yearly",
                    "0",
                    "retention.gfs.yearly",
                ),
            ];
            view! {
                <div class="span-2 gfs-grid">{inputs("number", counts, errors)}</div>
                <div class="span-2">{errors.at("retention.gfs").message()}</div>
            }
        })
    };
    view! {
        <h3 class="form-section span-2">"Limits and retention"</h3>
        {inputs("number", limits, errors)}
        <div class="span-2 checks">
            <Checkbox
                label="Grandfather-father-son: also keep the newest daily, weekly, monthly and yearly backups"
                value=form.gfs
                testid="task-form-gfs"
            />
        </div>
        {gfs}
    }
}
