//! One execution as a table row: what ran, how it went, its checks, and what can be done with it.

use leptos::prelude::*;
use leptos_router::components::A;
use pgward_api_types::{CheckStatus, Execution, ExecutionStatus, ExecutionTrigger, Role};
use uuid::Uuid;

use crate::parts::{Can, DeleteButton, Progress, RowActions, RowButton};
use crate::ui::{format_bytes, format_duration_ms, format_local, start_download};

pub(super) fn trigger_label(t: ExecutionTrigger) -> &'static str {
    match t {
        ExecutionTrigger::Schedule => "schedule",
        ExecutionTrigger::Manual => "manual",
        ExecutionTrigger::Api => "API",
        ExecutionTrigger::Upload => "upload",
    }
}

pub(crate) fn status_class(s: ExecutionStatus) -> &'static str {
    match s {
        ExecutionStatus::Queued => "badge badge-info",
        ExecutionStatus::Running => "badge badge-run",
        ExecutionStatus::Success => "badge badge-ok",
        ExecutionStatus::Failed => "badge badge-bad",
        ExecutionStatus::Cancelled => "badge badge-warn",
        ExecutionStatus::Deleted => "badge",
        ExecutionStatus::Trashed => "badge badge-warn",
    }
}

/// What a row shows; a row is rebuilt only when one of these changes.
type RowKey = (
    Uuid,
    &'static str,
    u64,
    Option<u64>,
    bool,
    Option<u64>,
    Option<CheckStatus>,
    Option<CheckStatus>,
);

pub(super) fn row_key(e: &Execution) -> RowKey {
    (
        e.id,
        e.status.as_str(),
        e.bytes_read,
        e.rate_bytes_per_sec,
        e.cancel_requested,
        e.duration_ms,
        e.verify_status,
        e.test_restore_status,
    )
}

/// A small badge for a verification or test-restore (nothing when it never ran).
fn check_badge(
    label: &'static str,
    status: Option<CheckStatus>,
    title: String,
    testid: &'static str,
) -> impl IntoView {
    status.map(|s| {
        let (class, text) = match s {
            CheckStatus::Running => ("badge badge-run", format!("{label}…")),
            CheckStatus::Ok => ("badge badge-ok", format!("{label} ✓")),
            CheckStatus::Failed => ("badge badge-bad", format!("{label} ✗")),
        };
        view! {
            <span class=class data-testid=testid data-status=s.as_str() title=title>
                {text}
            </span>
        }
    })
}

pub(super) fn exec_row(actions: RowActions, e: Execution) -> impl IntoView {
    let id = e.id;
    let row = actions.row();
    let status = e.status;
    let task_name = e.task_name.clone();
    let server_run = e.kind == pgward_api_types::ExecutionKind::Server;

    let filename = e
        .objects
        .first()
        .and_then(|o| o.key.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("pgward-{id}.backup"));
    let downloading = RwSignal::new(false);
    let download = move || {
        downloading.set(true);
        let filename = filename.clone();
        row.request(
            move |c| async move { c.download_url(id, None, None).await },
            move |result| {
                downloading.set(false);
                if let Err(e) = result.and_then(|link| start_download(&link.url, &filename)) {
                    actions.error.set(Some(e));
                }
            },
        );
    };

    let cancel_requested = e.cancel_requested;
    let ask_cancel = format!("Cancel this backup of \u{201c}{task_name}\u{201d}?");
    let ask_delete = format!(
        "Move this backup of \u{201c}{task_name}\u{201d} to the trash? It stays restorable until the trash is purged."
    );
    let cancel = row.reloading(move |c| async move { c.cancel_execution(id).await });
    let verify = row.reloading(move |c| async move { c.verify_execution(id).await });
    let delete = row.reloading(move |c| async move { c.delete_execution(id).await });
    let untrash = row.reloading(move |c| async move { c.untrash_execution(id).await });
    let (detail, detail_class) = match status {
        ExecutionStatus::Failed => (e.message.clone(), "row-error small"),
        ExecutionStatus::Trashed => (
            e.purge_at
                .as_ref()
                .map(|t| format!("in the trash; purged {}", format_local(&t.fixed_offset()))),
            "muted small",
        ),
        ExecutionStatus::Cancelled => (e.message.clone(), "muted small"),
        _ => (None, ""),
    };
    let stderr = e.stderr_tail.clone().unwrap_or_default();
    let timing = {
        let mut parts = Vec::new();
        if let Some(t) = &e.started_at {
            parts.push(format!("started {}", format_local(t)));
        }
        if let Some(t) = &e.finished_at {
            parts.push(format!("finished {}", format_local(t)));
        }
        parts.join(", ")
    };
    // The row has no estimate of the total (the details page has): the bar stays indeterminate.
    let progress = match status {
        ExecutionStatus::Running => view! {
            <Progress done=e.bytes_read total=None rate=e.rate_bytes_per_sec testid="exec-progress-bar" />
        }
        .into_any(),
        ExecutionStatus::Queued => "waiting for a worker".into_any(),
        _ if e.bytes_read > 0 => format!("{} read", format_bytes(e.bytes_read)).into_any(),
        _ => "—".into_any(),
    };
    let status_text = if e.cancel_requested && !status.is_final() {
        "cancelling".to_string()
    } else {
        status.as_str().to_string()
    };
    let copies = e.objects.len();
    let verify_title = e
        .objects
        .iter()
        .filter_map(|o| o.verify_error.clone())
        .collect::<Vec<_>>()
        .join("; ");
    let checks = view! {
        {check_badge("verified", e.verify_status, verify_title, "exec-verify-status")}
        " "
        {check_badge(
            "test-restored",
            e.test_restore_status,
            e.test_restore_message.clone().unwrap_or_default(),
            "exec-test-restore-status",
        )}
    };
    view! {
        <tr data-testid="exec-row" data-id=id.to_string() data-status=status.as_str()>
            <td>
                <div class="strong" data-testid="exec-task">
                    {task_name.clone()}
                    {e.database_name.clone().map(|d| view! { <small class="muted">" · " {d}</small> })}
                    {(e.kind == pgward_api_types::ExecutionKind::Server)
                        .then(|| view! { <small class="muted">" · whole server"</small> })}
                </div>
                {detail
                    .map(|m| {
                        view! {
                            <div class=detail_class data-testid="exec-message" title=stderr>
                                {m}
                            </div>
                        }
                    })}
            </td>
            <td class="muted">{trigger_label(e.trigger)}</td>
            <td>
                <span class=status_class(status) data-testid="exec-status" data-status=status.as_str()>
                    {status_text}
                </span>
                <div class="small">{checks}</div>
            </td>
            <td class="nowrap" title=timing>
                <A href=crate::session::at(&format!("/executions/{id}")) attr:data-testid="exec-link">
                    {format_local(&e.scheduled_for)}
                </A>
            </td>
            <td class="nowrap">{e.duration_ms.map(format_duration_ms).unwrap_or_else(|| "—".into())}</td>
            <td class="nowrap" data-testid="exec-size">
                {e.size.map(format_bytes).unwrap_or_else(|| "—".into())}
                {(copies > 1).then(|| view! { <div class="muted small">{format!("× {copies} copies")}</div> })}
            </td>
            <td class="nowrap muted" data-testid="exec-progress">
                {progress}
            </td>
            <td class="actions">
                <Can role=Role::Operator>
                {(!status.is_final())
                    .then(|| {
                        view! {
                            <RowButton
                                testid="exec-cancel"
                                confirm=ask_cancel.clone()
                                disabled=move || row.busy.get() || cancel_requested
                                on_click=cancel
                            >
                                "Cancel"
                            </RowButton>
                        }
                    })}
                {(status == ExecutionStatus::Success)
                    .then(|| {
                        view! {
                            <RowButton testid="exec-download" disabled=row.busy on_click=download.clone()>
                                {move || if downloading.get() { "Downloading…" } else { "Download" }}
                            </RowButton>
                            {if server_run {
                                // The run holds the globals: its databases restore one by one.
                                view! {
                                    <A
                                        href=crate::session::at(&format!("/executions/{id}"))
                                        attr:class="btn btn-small"
                                        attr:data-testid="exec-databases"
                                    >
                                        "Databases…"
                                    </A>
                                }
                                .into_any()
                            } else {
                                view! {
                                    <A
                                        href=crate::session::at(&format!("/restorations/new?execution_id={id}"))
                                        attr:class="btn btn-small"
                                        attr:data-testid="exec-restore"
                                    >
                                        "Restore…"
                                    </A>
                                }
                                .into_any()
                            }}
                            <RowButton testid="exec-verify" disabled=row.busy on_click=verify>
                                "Verify"
                            </RowButton>
                            <DeleteButton testid="exec-delete" confirm=ask_delete.clone() disabled=row.busy on_click=delete />
                        }
                    })}
                {(status == ExecutionStatus::Trashed)
                    .then(|| {
                        view! {
                            <RowButton testid="exec-untrash" disabled=row.busy on_click=untrash>
                                "Restore from trash"
                            </RowButton>
                        }
                    })}
                </Can>
            </td>
        </tr>
    }
}
