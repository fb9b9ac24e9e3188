//! `/restorations`: restores, newest first, refreshing themselves every two seconds while one is queued
//! or running (bytes read of the backup, rate, the client's error output on failure), with cancel.
//! `/restorations/new?execution_id=...`: the restore form of one backup (see [`new`]).
//! `/restorations/:id`: one restore in full (see [`details`]).

mod details;
mod new;

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;
use pgward_api_types::{Restoration, RestorationListQuery, RestorationStatus, Role};

use crate::parts::{
    Can, LiveBadge, PageHeader, Polling, Progress, RefreshButton, RowActions, RowButton, Table,
    items,
};
use crate::session::use_session;
use crate::ui::{error_banner, format_bytes, format_duration_ms, format_time};

pub use details::RestorationPage;
pub use new::NewRestorationPage;

const POLL: Duration = Duration::from_secs(2);

const COLUMNS: &[&str] = &[
    "Backup", "Into", "Status", "Started", "Duration", "Progress", "",
];

fn status_class(s: RestorationStatus) -> &'static str {
    match s {
        RestorationStatus::Queued => "badge badge-info",
        RestorationStatus::Running => "badge badge-run",
        RestorationStatus::Success => "badge badge-ok",
        RestorationStatus::Failed => "badge badge-bad",
        RestorationStatus::Cancelled => "badge badge-warn",
    }
}

#[component]
pub fn RestorationsPage() -> impl IntoView {
    let session = use_session();
    let poll = Polling::new();
    let actions = RowActions::with_reload(session, poll.reload);
    let list = poll.resource(move || {
        session.call(|c| async move {
            c.list_restorations(&RestorationListQuery {
                limit: Some(50),
                ..Default::default()
            })
            .await
        })
    });
    let live = Memo::new(move |_| {
        list.get()
            .and_then(Result::ok)
            .is_some_and(|p| p.items.iter().any(|r| !r.status.is_final()))
    });
    poll.every(POLL, live);

    view! {
        <PageHeader
            title="Restorations"
            intro="Restores of backups, newest first. Start one from a backup on the Executions page."
        >
            <div class="header-actions">
                <LiveBadge live testid="restore-live" />
                <RefreshButton reload=poll.reload />
            </div>
        </PageHeader>
        {actions.error_banner()}
        {error_banner(move || list.get().and_then(Result::err))}
        <section class="card">
            <Show
                when=move || !items(list).is_empty()
                fallback=move || {
                    view! {
                        <p class="muted empty" data-testid="restore-empty">
                            {move || if list.get().is_none() { "Loading…" } else { "No restorations yet." }}
                        </p>
                    }
                }
            >
                <Table columns=COLUMNS>
                    <For
                        each=move || items(list)
                        key=|r| (r.id, r.status.as_str(), r.bytes_read, r.cancel_requested)
                        children=move |r| restoration_row(actions, r)
                    />
                </Table>
            </Show>
        </section>
    }
}

fn restoration_row(actions: RowActions, r: Restoration) -> impl IntoView {
    let id = r.id;
    let row = actions.row();
    let cancel_requested = r.cancel_requested;
    let cancel = row.reloading(move |c| async move { c.cancel_restoration(id).await });
    let progress = match (r.status, r.total_bytes) {
        (RestorationStatus::Queued, _) => "waiting for a slot".to_string(),
        (RestorationStatus::Running, _) => String::new(),
        (_, Some(total)) if total > 0 => {
            let pct = (r.bytes_read as f64 / total as f64 * 100.0).min(100.0);
            let rate = r
                .rate_bytes_per_sec
                .filter(|_| r.status == RestorationStatus::Running)
                .map(|b| format!(" \u{b7} {}/s", format_bytes(b)))
                .unwrap_or_default();
            format!("{pct:.0}% of {}{rate}", format_bytes(total))
        }
        _ => format_bytes(r.bytes_read),
    };
    let target = match &r.new_database_name {
        Some(n) => format!("new database {n} ({})", r.target),
        None => r.target.clone(),
    };
    let detail = r.message.clone().map(|m| match &r.error_code {
        Some(code) => format!("{code}: {m}"),
        None => m,
    });
    let stderr = r.stderr_tail.clone().unwrap_or_default();
    let status = r.status;
    view! {
        <tr data-testid="restore-row" data-status=status.as_str()>
            <td>
                <A href=crate::session::at(&format!("/restorations/{id}")) attr:class="strong" attr:data-testid="restore-link">
                    {r.task_name.clone()}
                </A>
                <div class="muted small mono">{r.client_version.clone().unwrap_or_default()}</div>
                {detail
                    .map(|m| {
                        view! {
                            <div class="row-error small" data-testid="restore-message" title=stderr>
                                {m}
                            </div>
                        }
                    })}
            </td>
            <td class="small">{target}</td>
            <td>
                <span class=status_class(status) data-testid="restore-status">
                    {if r.cancel_requested && !status.is_final() { "cancelling" } else { status.as_str() }}
                </span>
            </td>
            <td class="nowrap">{format_time(r.started_at.as_ref())}</td>
            <td class="nowrap">{r.duration_ms.map(format_duration_ms).unwrap_or_else(|| "—".into())}</td>
            <td class="nowrap muted" data-testid="restore-progress">
                {(status == RestorationStatus::Running)
                    .then(|| {
                        view! {
                            <Progress
                                done=r.bytes_read
                                total=r.total_bytes
                                rate=r.rate_bytes_per_sec
                                testid="restore-progress-bar"
                            />
                        }
                    })}
                {progress}
            </td>
            <td class="actions">
                <Can role=Role::Operator>
                    {(!status.is_final())
                        .then(|| {
                            view! {
                                <RowButton
                                    testid="restore-cancel"
                                    confirm="Cancel this restore? A single-transaction restore leaves the target as it was."
                                    disabled=move || row.busy.get() || cancel_requested
                                    on_click=cancel
                                >
                                    "Cancel"
                                </RowButton>
                            }
                        })}
                </Can>
            </td>
        </tr>
    }
}
