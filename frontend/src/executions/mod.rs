//! `/executions`: backup runs, newest first, filtered by status and task (both kept in the URL). The
//! list refreshes itself every two seconds while a run on the page is queued or running. Per row:
//! cancel, download (a short-lived link the browser streams to disk) and delete; each row links to its
//! run's page (`details`).

mod details;
mod row;

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::query_signal;
use pgward_api_types::{CheckStatus, ExecutionListQuery, ExecutionStatus};
use uuid::Uuid;

use crate::parts::{
    ACTIONS, ClearFilters, FilterSelect, ListCard, LiveBadge, PageHeader, Pager, Pages, Polling,
    RefreshButton, RowActions, Table, items, labelled, tasks,
};
use crate::session::use_session;

pub use details::ExecutionPage;
pub(crate) use row::status_class;

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

const COLUMNS: &[&str] = &[
    "Task",
    "Trigger",
    "Status",
    "Scheduled for",
    "Duration",
    "Size",
    "Progress",
    ACTIONS,
];

#[component]
pub fn ExecutionsPage() -> impl IntoView {
    let session = use_session();
    let (status_q, set_status_q) = query_signal::<String>("status");
    let (task_q, set_task_q) = query_signal::<String>("task_id");
    let status = Memo::new(move |_| status_q.get().as_deref().and_then(ExecutionStatus::parse));
    let task = Memo::new(move |_| task_q.get().and_then(|t| Uuid::parse_str(&t).ok()));
    let pages = Pages::new();
    pages.restart_on(move || {
        status.track();
        task.track();
    });

    let poll = Polling::new();
    let actions = RowActions::with_reload(session, poll.reload);
    let list = poll.resource(move || {
        let query = ExecutionListQuery {
            task_id: task.get(),
            status: status.get(),
            limit: Some(PAGE_SIZE),
            cursor: pages.cursor(),
            ..Default::default()
        };
        session.call_with(query, |c, q| async move { c.list_executions(&q).await })
    });
    let tasks = tasks(session, None);

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
    poll.every(POLL, live);

    let filtered = move || status_q.with(Option::is_some) || task_q.with(Option::is_some);
    // Rows are keyed, so polling rebuilds only those that changed.
    let rows = move || {
        view! {
            <Table columns=COLUMNS testid="exec-table">
                <For
                    each=move || items(list)
                    key=row::row_key
                    children=move |e| row::exec_row(actions, e)
                />
            </Table>
        }
    };
    let empty = move || {
        if untrack(filtered) {
            "No executions match these filters."
        } else {
            "No backups have run yet. Start one with Run now on the Tasks page."
        }
    };

    view! {
        <PageHeader title="Executions" intro="Every backup run, newest first.">
            <div class="header-actions">
                <LiveBadge live testid="exec-live" title="Refreshing every 2 seconds" />
                <RefreshButton reload=poll.reload testid="exec-refresh" />
            </div>
        </PageHeader>
        {actions.error_banner()}
        <ListCard
            list
            rows
            loading="Loading executions…"
            empty_testid="exec-empty"
            empty
            footer=move || {
                view! { <Pager list pages testids=("exec-newer", "exec-older") hide_alone=true /> }
            }
        >
            <div class="filters">
                <FilterSelect
                    label="Status"
                    testid="exec-filter-status"
                    query=(status_q, set_status_q)
                    all="All statuses"
                    options=|| STATUSES.iter().map(|s| labelled(s.as_str())).collect()
                />
                <FilterSelect
                    label="Task"
                    testid="exec-filter-task"
                    query=(task_q, set_task_q)
                    all="All tasks"
                    options=move || {
                        items(tasks).into_iter().map(|t| (t.id.to_string(), t.spec.name)).collect()
                    }
                />
                <ClearFilters
                    shown=filtered
                    testid="exec-filter-clear"
                    on_clear=move || {
                        set_status_q.set(None);
                        set_task_q.set(None);
                    }
                />
            </div>
        </ListCard>
    }
}
