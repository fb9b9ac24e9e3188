//! "Limits and retention": how long a run may take, when its size is an anomaly, and which backups are
//! kept; for a saved task, a preview of what its retention would delete now.

use leptos::prelude::*;
use leptos::task::spawn_local;
use pgward_api_types::{Execution, RetentionPreviewQuery};
use uuid::Uuid;

use super::TaskForm;
use crate::parts::{Checkbox, inputs};
use crate::session::use_session;
use crate::ui::{FieldErrors, alert_error, format_bytes, format_local};

#[component]
pub fn RetentionSection(
    form: TaskForm,
    errors: FieldErrors,
    /// The saved task in the form (`None` while creating one).
    editing: RwSignal<Option<Uuid>>,
) -> impl IntoView {
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
        {move || editing.get().map(|id| view! { <RetentionPreview id form /> })}
    }
}

/// The form's retention fields as a preview query: what is typed, before it is saved.
fn unsaved(form: TaskForm) -> RetentionPreviewQuery {
    let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<u32>().ok();
    let gfs = form.gfs.get_untracked();
    let count = |s: RwSignal<String>| {
        if gfs {
            Some(number(s).unwrap_or(0))
        } else {
            None
        }
    };
    RetentionPreviewQuery {
        keep_last: number(form.keep_last),
        // An empty field is "no age rule", which the query spells 0.
        keep_days: Some(number(form.keep_days).unwrap_or(0)),
        gfs_daily: count(form.daily),
        gfs_weekly: count(form.weekly),
        gfs_monthly: count(form.monthly),
        gfs_yearly: count(form.yearly),
        gfs: Some(gfs),
    }
}

/// What retention would delete of the task's backups now under the fields as typed (saved or not).
#[component]
fn RetentionPreview(id: Uuid, form: TaskForm) -> impl IntoView {
    let session = use_session();
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<Vec<Execution>, String>>);
    let run = move |_| {
        busy.set(true);
        result.set(None);
        let q = unsaved(form);
        spawn_local(async move {
            let answer = session
                .call(move |c| {
                    let q = q.clone();
                    async move { c.task_retention_preview(id, &q).await }
                })
                .await;
            busy.set(false);
            result.set(Some(answer));
        });
    };
    view! {
        <div class="span-2 retention-preview">
            <button
                type="button"
                class="btn btn-small"
                data-testid="task-retention-preview"
                disabled=busy
                on:click=run
            >
                {move || {
                    if busy.get() { "Checking…" } else { "Preview what these settings would delete now" }
                }}
            </button>
            <div aria-live="polite">{move || result.get().map(preview_view)}</div>
        </div>
    }
}

fn preview_view(result: Result<Vec<Execution>, String>) -> AnyView {
    let doomed = match result {
        Ok(d) => d,
        Err(e) => return alert_error(e).into_any(),
    };
    if doomed.is_empty() {
        return view! {
            <p class="muted small" data-testid="task-retention-preview-none">
                "Nothing would be deleted."
            </p>
        }
        .into_any();
    }
    let total: u64 = doomed.iter().filter_map(|e| e.size).sum();
    let rows = doomed
        .into_iter()
        .map(|e| {
            let when = e.finished_at.or(e.started_at).unwrap_or(e.scheduled_for);
            view! {
                <tr data-testid="task-retention-preview-row" data-id=e.id.to_string()>
                    <td>{format_local(&when)}</td>
                    <td class="num">{e.size.map(format_bytes).unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-testid="task-retention-preview-result">
            <caption class="muted small">
                {format!("Would delete these backups ({} in all):", format_bytes(total))}
            </caption>
            <thead>
                <tr>
                    <th scope="col">"Backup from"</th>
                    <th scope="col" class="num">"Size"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
