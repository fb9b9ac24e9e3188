//! `/executions`: backup runs, newest first, filtered by status and task (both kept in the URL). The
//! list refreshes itself every two seconds while a run on the page is queued or running. Per row:
//! cancel, download (a short-lived link the browser streams to disk) and delete.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::query_signal;
use pgward_api_types::{
    CheckStatus, Execution, ExecutionListQuery, ExecutionStatus, ExecutionTrigger,
};
use uuid::Uuid;

use crate::session::{Session, use_session};
use crate::ui::{
    confirm, error_banner, format_bytes, format_duration_ms, format_local, poll_while,
    start_download,
};

const PAGE_SIZE: u32 = 50;
const POLL: Duration = Duration::from_secs(2);

const STATUSES: [ExecutionStatus; 7] = [
    ExecutionStatus::Queued,
    ExecutionStatus::Running,
    ExecutionStatus::Success,
    ExecutionStatus::Failed,
    ExecutionStatus::Cancelled,
    ExecutionStatus::Trashed,
    ExecutionStatus::Deleted,
];

fn trigger_label(t: ExecutionTrigger) -> &'static str {
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

#[derive(Clone, PartialEq)]
enum ListState {
    Loading,
    Error(String),
    Empty,
    Rows,
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

fn row_key(e: &Execution) -> RowKey {
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

#[component]
pub fn ExecutionsPage() -> impl IntoView {
    let session = use_session();
    let (status_q, set_status_q) = query_signal::<String>("status");
    let (task_q, set_task_q) = query_signal::<String>("task_id");
    let status = Memo::new(move |_| status_q.get().as_deref().and_then(ExecutionStatus::parse));
    let task = Memo::new(move |_| task_q.get().and_then(|t| Uuid::parse_str(&t).ok()));

    // Cursor of the page shown, and those of the newer pages before it.
    let cursor = RwSignal::new(None::<String>);
    let newer = RwSignal::new(Vec::<Option<String>>::new());
    // A filter change starts over at the newest page.
    Effect::new(move |prev: Option<()>| {
        status.track();
        task.track();
        if prev.is_some() {
            cursor.set(None);
            newer.set(Vec::new());
        }
    });

    let reload = RwSignal::new(0u32);
    let in_flight = StoredValue::new(false);
    let list = LocalResource::new(move || {
        reload.track();
        let query = ExecutionListQuery {
            task_id: task.get(),
            status: status.get(),
            limit: Some(PAGE_SIZE),
            cursor: cursor.get(),
            ..Default::default()
        };
        async move {
            in_flight.set_value(true);
            let result = session
                .call(|c| {
                    let query = query.clone();
                    async move { c.list_executions(&query).await }
                })
                .await;
            in_flight.set_value(false);
            result
        }
    });
    let refresh = move || reload.update(|n| *n = n.wrapping_add(1));

    let tasks = LocalResource::new(move || {
        session.call(|c| async move { c.list_tasks().await.map(|l| l.items) })
    });

    // The last answer stays in place while the next one loads, so polling does not flicker; rows are
    // keyed, so only those that changed are rebuilt.
    let rows = move || {
        list.get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default()
    };
    let next_cursor =
        Memo::new(move |_| list.get().and_then(Result::ok).and_then(|p| p.next_cursor));
    let state = Memo::new(move |_| match list.get() {
        None => ListState::Loading,
        Some(Err(e)) => ListState::Error(e),
        Some(Ok(p)) if p.items.is_empty() => ListState::Empty,
        Some(Ok(_)) => ListState::Rows,
    });
    let live = Memo::new(move |_| {
        list.get().and_then(Result::ok).is_some_and(|p| {
            p.items.iter().any(|e| {
                !e.status.is_final()
                    || e.verify_status == Some(CheckStatus::Running)
                    || e.test_restore_status == Some(CheckStatus::Running)
            })
        })
    });

    // Poll while something on the page is still queued or running.
    poll_while(live, in_flight, reload, POLL);

    let action_error = RwSignal::new(None::<String>);

    view! {
        <div class="page-header">
            <div>
                <h1>"Executions"</h1>
                <p class="muted">"Every backup run, newest first."</p>
            </div>
            <div class="header-actions">
                {move || {
                    live.get()
                        .then(|| {
                            view! {
                                <span class="live" data-testid="exec-live" title="Refreshing every 2 seconds">
                                    <span class="live-dot"></span>
                                    "Live"
                                </span>
                            }
                        })
                }}
                <button
                    type="button"
                    class="btn"
                    data-testid="exec-refresh"
                    on:click=move |_| refresh()
                >
                    "Refresh"
                </button>
            </div>
        </div>
        {error_banner(move || action_error.get())}
        <section class="card">
            <div class="filters">
                <label class="field inline">
                    <span>"Status"</span>
                    <select
                        data-testid="exec-filter-status"
                        prop:value=move || status_q.get().unwrap_or_default()
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            set_status_q.set((!v.is_empty()).then_some(v));
                        }
                    >
                        <option value="">"All statuses"</option>
                        {STATUSES
                            .iter()
                            .map(|s| {
                                let value = s.as_str();
                                view! {
                                    <option
                                        value=value
                                        prop:selected=move || {
                                            status_q.with(|q| q.as_deref() == Some(value))
                                        }
                                    >
                                        {value}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="field inline">
                    <span>"Task"</span>
                    <select
                        data-testid="exec-filter-task"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            set_task_q.set((!v.is_empty()).then_some(v));
                        }
                    >
                        <option value="" prop:selected=move || task_q.with(Option::is_none)>
                            "All tasks"
                        </option>
                        {move || {
                            tasks
                                .get()
                                .and_then(Result::ok)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|t| {
                                    let id = t.id.to_string();
                                    let value = id.clone();
                                    view! {
                                        <option
                                            value=value
                                            prop:selected=move || {
                                                task_q.with(|q| q.as_deref() == Some(id.as_str()))
                                            }
                                        >
                                            {t.spec.name}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                {move || {
                    (status_q.with(Option::is_some) || task_q.with(Option::is_some))
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn-small btn-link"
                                    data-testid="exec-filter-clear"
                                    on:click=move |_| {
                                        set_status_q.set(None);
                                        set_task_q.set(None);
                                    }
                                >
                                    "Clear filters"
                                </button>
                            }
                        })
                }}
            </div>
            {move || match state.get() {
                ListState::Loading => {
                    view! { <p class="muted pad">"Loading executions…"</p> }.into_any()
                }
                ListState::Error(e) => {
                    view! {
                        <div class="alert alert-error" role="alert" data-testid="error">
                            {e}
                        </div>
                    }
                        .into_any()
                }
                ListState::Empty => {
                    view! {
                        <p class="empty" data-testid="exec-empty">
                            {if status_q.with_untracked(Option::is_some)
                                || task_q.with_untracked(Option::is_some)
                            {
                                "No executions match these filters."
                            } else {
                                "No backups have run yet. Start one with Run now on the Tasks page."
                            }}
                        </p>
                    }
                        .into_any()
                }
                ListState::Rows => {
                    view! {
                        <table class="table" data-testid="exec-table">
                            <thead>
                                <tr>
                                    <th>"Task"</th>
                                    <th>"Trigger"</th>
                                    <th>"Status"</th>
                                    <th>"Scheduled for"</th>
                                    <th>"Duration"</th>
                                    <th>"Size"</th>
                                    <th>"Progress"</th>
                                    <th class="actions">"Actions"</th>
                                </tr>
                            </thead>
                            <tbody>
                                <For
                                    each=rows
                                    key=row_key
                                    children=move |e| exec_row(session, e, refresh, action_error)
                                />
                            </tbody>
                        </table>
                    }
                        .into_any()
                }
            }}
            <div
                class="pager"
                class:hidden=move || newer.with(Vec::is_empty) && next_cursor.with(Option::is_none)
            >
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="exec-newer"
                    disabled=move || newer.with(Vec::is_empty)
                    on:click=move |_| {
                        let mut stack = newer.get_untracked();
                        if let Some(prev) = stack.pop() {
                            newer.set(stack);
                            cursor.set(prev);
                        }
                    }
                >
                    "← Newer"
                </button>
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="exec-older"
                    disabled=move || next_cursor.with(Option::is_none)
                    on:click=move |_| {
                        if let Some(next) = next_cursor.get_untracked() {
                            newer.update(|s| s.push(cursor.get_untracked()));
                            cursor.set(Some(next));
                        }
                    }
                >
                    "Older →"
                </button>
            </div>
        </section>
    }
}

fn exec_row(
    session: Session,
    e: Execution,
    refresh: impl Fn() + Copy + Send + Sync + 'static,
    action_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = e.id;
    let busy = RwSignal::new(false);
    let status = e.status;
    let task_name = e.task_name.clone();

    let cancel_name = task_name.clone();
    let cancel = move |_| {
        if !confirm(&format!(
            "Cancel this backup of \u{201c}{cancel_name}\u{201d}?"
        )) {
            return;
        }
        busy.set(true);
        action_error.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.cancel_execution(id).await })
                .await;
            busy.set(false);
            match result {
                Ok(_) => refresh(),
                Err(e) => action_error.set(Some(e)),
            }
        });
    };

    let filename = e
        .objects
        .first()
        .and_then(|o| o.key.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("pgward-{id}.backup"));
    let downloading = RwSignal::new(false);
    let download = move |_| {
        busy.set(true);
        downloading.set(true);
        action_error.set(None);
        let filename = filename.clone();
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.download_url(id, None, None).await })
                .await;
            busy.set(false);
            downloading.set(false);
            match result.and_then(|link| start_download(&link.url, &filename)) {
                Ok(()) => {}
                Err(e) => action_error.set(Some(e)),
            }
        });
    };

    let delete_name = task_name.clone();
    let delete = move |_| {
        let question = format!(
            "Move this backup of \u{201c}{delete_name}\u{201d} to the trash? It stays restorable until the trash is purged."
        );
        if !confirm(&question) {
            return;
        }
        busy.set(true);
        action_error.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.delete_execution(id).await })
                .await;
            busy.set(false);
            match result {
                Ok(_) => refresh(),
                Err(e) => action_error.set(Some(e)),
            }
        });
    };

    let untrash = move |_| {
        busy.set(true);
        action_error.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.untrash_execution(id).await })
                .await;
            busy.set(false);
            match result {
                Ok(_) => refresh(),
                Err(e) => action_error.set(Some(e)),
            }
        });
    };

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
    let progress = match status {
        ExecutionStatus::Running => {
            let rate = e
                .rate_bytes_per_sec
                .map(|r| format!(" \u{b7} {}/s", format_bytes(r)))
                .unwrap_or_default();
            format!("{} read{rate}", format_bytes(e.bytes_read))
        }
        ExecutionStatus::Queued => "waiting for a worker".into(),
        _ if e.bytes_read > 0 => format!("{} read", format_bytes(e.bytes_read)),
        _ => "—".into(),
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
    let verify = move |_| {
        busy.set(true);
        action_error.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.verify_execution(id).await })
                .await;
            busy.set(false);
            match result {
                Ok(_) => refresh(),
                Err(e) => action_error.set(Some(e)),
            }
        });
    };

    view! {
        <tr data-testid="exec-row" data-id=id.to_string() data-status=status.as_str()>
            <td>
                <div class="strong" data-testid="exec-task">
                    {task_name.clone()}
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
                {format_local(&e.scheduled_for)}
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
                {(!status.is_final())
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-small"
                                data-testid="exec-cancel"
                                on:click=cancel
                                disabled=move || busy.get() || e.cancel_requested
                            >
                                "Cancel"
                            </button>
                        }
                    })}
                {(status == ExecutionStatus::Success)
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-small"
                                data-testid="exec-download"
                                on:click=download
                                disabled=move || busy.get()
                            >
                                {move || if downloading.get() { "Downloading…" } else { "Download" }}
                            </button>
                            <a
                                class="btn btn-small"
                                data-testid="exec-restore"
                                href=format!("/restorations/new?execution_id={id}")
                            >
                                "Restore…"
                            </a>
                            <button
                                type="button"
                                class="btn btn-small"
                                data-testid="exec-verify"
                                on:click=verify
                                disabled=move || busy.get()
                            >
                                "Verify"
                            </button>
                            <button
                                type="button"
                                class="btn btn-small btn-danger"
                                data-testid="exec-delete"
                                on:click=delete
                                disabled=move || busy.get()
                            >
                                "Delete"
                            </button>
                        }
                    })}
                {(status == ExecutionStatus::Trashed)
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-small"
                                data-testid="exec-untrash"
                                on:click=untrash
                                disabled=move || busy.get()
                            >
                                "Restore from trash"
                            </button>
                        }
                    })}
            </td>
        </tr>
    }
}
