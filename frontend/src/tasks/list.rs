//! The task list: each task's schedule, next run and proof, with run now, edit, duplicate and delete,
//! and the task's charts under its row.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use pgward_api_types::{Role, Task};
use uuid::Uuid;

use super::Page;
use super::charts::TaskCharts;
use super::form::compression_str;
use crate::parts::{ACTIONS, Can, DeleteButton, ListCard, ListResource, Note, RowButton, table_of};
use crate::ui::{format_local, format_time};

const COLUMNS: &[&str] = &[
    "Name", "Database", "Schedule", "Next run", "Status", ACTIONS,
];

pub(super) fn task_list(
    page: Page,
    tasks: ListResource<Task>,
    db_names: Memo<HashMap<Uuid, String>>,
) -> impl IntoView {
    let rows = table_of(tasks, COLUMNS, "task-table", move |t| {
        task_row(page, t, db_names)
    });
    view! {
        <ListCard
            list=tasks
            rows
            loading="Loading tasks…"
            empty_testid="task-empty"
            empty=|| "No backup tasks yet. Create the first one below."
        />
    }
}

/// "verified ✓ / ✗" with the time as a tooltip; nothing when it never happened.
fn proof_badge(
    label: &'static str,
    ok: Option<bool>,
    at: Option<DateTime<Utc>>,
    testid: &'static str,
) -> impl IntoView {
    let title = format!("last: {}", format_time(at.as_ref()));
    ok.map(|ok| {
        let (class, mark) = if ok {
            ("badge badge-ok", "✓")
        } else {
            ("badge badge-bad", "✗")
        };
        view! {
            <span class=class data-testid=testid data-ok=ok.to_string() title=title>
                {format!("{label} {mark}")}
            </span>
        }
    })
}

fn task_row(page: Page, task: Task, db_names: Memo<HashMap<Uuid, String>>) -> impl IntoView {
    let id = task.id;
    let actions = page.actions;
    let row = actions.row();
    let name = task.spec.name.clone();
    let db_id = task.spec.database_id;

    let run_name = name.clone();
    let run = move || {
        let name = run_name.clone();
        row.run(
            move |c| async move { c.run_task(id).await },
            move |_| {
                actions.say(Note {
                    text: format!("A backup of \u{201c}{name}\u{201d} is queued."),
                    link: Some((
                        "Follow it in Executions".into(),
                        format!("/executions?task_id={id}"),
                    )),
                })
            },
        );
    };
    let edit_task = task.clone();
    let duplicate = move || {
        row.run_and_report(
            move |c| async move { c.duplicate_task(id).await },
            |copy| {
                format!(
                    "Created \u{201c}{}\u{201d}. It is inactive until you activate it.",
                    copy.spec.name
                )
                .into()
            },
        );
    };
    let delete = move || {
        row.run(
            move |c| async move { c.delete_task(id).await },
            move |()| {
                if page.editing.get_untracked() == Some(id) {
                    page.new_task();
                }
                actions.reload.bump();
            },
        );
    };
    let confirm = format!(
        "Delete the task \u{201c}{name}\u{201d}? Its past executions and stored backups stay."
    );

    let next = task
        .next_run_at
        .as_ref()
        .map(format_local)
        .unwrap_or_else(|| "—".into());
    let (status_class, status_text) = if task.spec.active {
        ("badge badge-ok", "active")
    } else {
        ("badge", "paused")
    };
    let destinations = task.spec.destination_ids.len();
    // The charts under the row, fetched while open.
    let charts_open = RwSignal::new(false);
    let timezone = task.spec.timezone.clone();
    let charts = move || {
        charts_open.get().then(|| {
            view! {
                <tr class="chart-row" data-testid="task-charts-row" data-id=id.to_string()>
                    <td colspan=COLUMNS.len().to_string()>
                        <TaskCharts task_id=id timezone=timezone.clone() />
                    </td>
                </tr>
            }
        })
    };
    view! {
        <tr
            data-testid="task-row"
            data-id=id.to_string()
            class:selected=move || page.editing.get() == Some(id)
        >
            <td>
                <div class="strong" data-testid="task-name">
                    {name.clone()}
                </div>
                <div class="muted small">
                    {format!(
                        "{} \u{b7} {} destination{}",
                        compression_str(task.spec.compression),
                        destinations,
                        if destinations == 1 { "" } else { "s" },
                    )}
                </div>
            </td>
            <td data-testid="task-database">
                {move || {
                    db_names.with(|m| m.get(&db_id).cloned()).unwrap_or_else(|| "—".into())
                }}
            </td>
            <td>
                <div class="mono" data-testid="task-schedule">
                    {task.spec.schedule.clone()}
                </div>
                <div class="muted small" data-testid="task-timezone">
                    {task.spec.timezone.clone()}
                </div>
            </td>
            <td class="nowrap" data-testid="task-next-run">
                {next}
            </td>
            <td>
                <span class=status_class data-testid="task-active">
                    {status_text}
                </span>
                <div class="small">
                    {proof_badge("verified", task.last_verify_ok, task.last_verified_at, "task-verified")}
                    " "
                    {proof_badge(
                        "test-restored",
                        task.last_test_restore_ok,
                        task.last_test_restored_at,
                        "task-test-restored",
                    )}
                </div>
            </td>
            <td class="actions">
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="task-charts"
                    aria-expanded=move || charts_open.get().to_string()
                    on:click=move |_| charts_open.update(|o| *o = !*o)
                >
                    {move || if charts_open.get() { "Hide charts" } else { "Charts" }}
                </button>
                <Can role=Role::Operator>
                    <RowButton testid="task-run" disabled=row.busy on_click=run.clone()>
                        "Run now"
                    </RowButton>
                    <RowButton
                        testid="task-edit"
                        disabled=row.busy
                        on_click={
                            let task = edit_task.clone();
                            move || page.edit(&task)
                        }
                    >
                        "Edit"
                    </RowButton>
                    <RowButton testid="task-duplicate" disabled=row.busy on_click=duplicate>
                        "Duplicate"
                    </RowButton>
                    <DeleteButton testid="task-delete" confirm=confirm.clone() disabled=row.busy on_click=delete />
                </Can>
            </td>
        </tr>
        {charts}
    }
}
