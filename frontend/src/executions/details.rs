//! `/executions/:id`: everything about one backup run: what ran and how it went, its timeline, its
//! checks, every stored copy (each downloadable), the manifest stored beside the backup, and what an
//! operator can do with it. Refreshes itself every two seconds while the run or one of its checks moves.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use pgward_api_types::{
    CheckStatus, Database, Destination, Event, EventListQuery, Execution, ExecutionKind,
    ExecutionListQuery, ExecutionObject, ExecutionStatus, Role,
};
use serde_json::Value;
use uuid::Uuid;

use super::row::{status_class, trigger_label};
use crate::events::{kind_class, summary};
use crate::parts::{
    Can, DatabasePicker, ListResource, LiveBadge, Note, PageHeader, Polling, Progress,
    RefreshButton, RowActions, RowButton, Table, databases, destinations, items, save,
};
use crate::session::{Session, use_session};
use crate::ui::{
    error_banner, format_bytes, format_duration_ms, format_local, format_time, start_download,
};

const POLL: Duration = Duration::from_secs(2);

/// How many of the task's events are searched for this run's: the API cannot filter events by run.
const EVENT_WINDOW: u32 = 200;

/// Still moving: the run itself, or a verification or test-restore of it.
fn moving(e: &Execution) -> bool {
    !e.status.is_final()
        || e.verify_status == Some(CheckStatus::Running)
        || e.test_restore_status == Some(CheckStatus::Running)
}

/// Whether the run changed in more than its live counters. Those change with every poll while it runs;
/// the page is rebuilt only for anything else, so focus and open sections survive the polling.
fn settled_changed(a: Option<&Option<Execution>>, b: Option<&Option<Execution>>) -> bool {
    let key = |e: Option<&Option<Execution>>| {
        e.map(|e| {
            e.as_ref().map(|e| {
                let mut e = e.clone();
                e.bytes_read = 0;
                e.rate_bytes_per_sec = None;
                serde_json::to_string(&e).unwrap_or_default()
            })
        })
    };
    key(a) != key(b)
}

/// What the page's sections share.
#[derive(Clone, Copy)]
struct Page {
    session: Session,
    actions: RowActions,
    /// Bytes read and rate, as of the last poll.
    live: Memo<(u64, Option<u64>)>,
    /// The previous successful run's bytes: what this one will probably read.
    estimate: LocalResource<Option<u64>>,
    events: LocalResource<Result<Vec<Event>, String>>,
    destinations: ListResource<Destination>,
    databases: ListResource<Database>,
    /// The registered database whose server hosts a test-restore's scratch database.
    scratch: RwSignal<String>,
    manifest: RwSignal<Option<Result<Value, String>>>,
    manifest_busy: RwSignal<bool>,
    /// The copy being downloaded.
    downloading: RwSignal<Option<Uuid>>,
}

#[component]
pub fn ExecutionPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get_str("id").and_then(|s| Uuid::parse_str(s).ok())));

    let poll = Polling::new();
    let actions = RowActions::with_reload(session, poll.reload);
    let execution = poll.resource(move || {
        let id = id.get();
        async move {
            let id = id.ok_or_else(|| "This address names no execution.".to_string())?;
            session
                .call(move |c| async move { c.get_execution(id).await })
                .await
        }
    });
    // The last good answer stays on screen when one poll fails (its error shows in the banner).
    let settled = Memo::new_with_compare(
        move |prev: Option<&Option<Execution>>| {
            execution
                .get()
                .and_then(Result::ok)
                .or_else(|| prev.cloned().flatten())
        },
        settled_changed,
    );
    let live = Memo::new(move |_| {
        execution
            .get()
            .and_then(Result::ok)
            .map(|e| (e.bytes_read, e.rate_bytes_per_sec))
            .unwrap_or_default()
    });
    let refreshing = Memo::new(move |_| settled.with(|e| e.as_ref().is_some_and(moving)));
    poll.every(POLL, refreshing);

    let task_id = Memo::new(move |_| settled.with(|e| e.as_ref().and_then(|e| e.task_id)));
    let estimate = LocalResource::new(move || {
        let task = task_id.get();
        async move {
            let query = ExecutionListQuery {
                task_id: Some(task?),
                status: Some(ExecutionStatus::Success),
                limit: Some(1),
                ..Default::default()
            };
            let page = session
                .call_with(query, |c, q| async move { c.list_executions(&q).await })
                .await
                .ok()?;
            page.items.first().map(|e| e.bytes_read).filter(|b| *b > 0)
        }
    });

    // Events name their run but cannot be asked for by it: take the newest of the run's task (or, for
    // an upload, of its database) and keep this run's.
    let scope = Memo::new(move |_| {
        settled.with(|e| {
            e.as_ref().map(|e| {
                (
                    e.id,
                    e.task_id,
                    e.task_id.is_none().then_some(e.database_id).flatten(),
                )
            })
        })
    });
    let events = LocalResource::new(move || {
        poll.reload.track();
        let scope = scope.get();
        async move {
            let Some((id, task_id, database_id)) = scope else {
                return Ok(Vec::new());
            };
            if task_id.is_none() && database_id.is_none() {
                return Ok(Vec::new());
            }
            let query = EventListQuery {
                task_id,
                database_id,
                limit: Some(EVENT_WINDOW),
                ..Default::default()
            };
            let page = session
                .call_with(query, |c, q| async move { c.list_events(&q).await })
                .await?;
            Ok(page
                .items
                .into_iter()
                .filter(|ev| ev.execution_id == Some(id))
                .collect())
        }
    });

    // A test-restore goes to the task's own scratch server unless the operator picks another.
    let scratch = RwSignal::new(String::new());
    let task_scratch = LocalResource::new(move || {
        let task = task_id.get();
        async move {
            let task = task?;
            let task = session
                .call(move |c| async move { c.get_task(task).await })
                .await
                .ok()?;
            task.spec.verification.test_restore_database_id
        }
    });
    Effect::new(move |_| {
        if let Some(Some(db)) = task_scratch.get()
            && scratch.with_untracked(String::is_empty)
        {
            scratch.set(db.to_string());
        }
    });

    let manifest = RwSignal::new(None);
    // The router keeps this page when only the id changes: another run's manifest must not stay shown.
    Effect::new(move |_| {
        id.track();
        manifest.set(None);
    });

    let page = Page {
        session,
        actions,
        live,
        estimate,
        events,
        destinations: destinations(session, None),
        databases: databases(session, None),
        scratch,
        manifest,
        manifest_busy: RwSignal::new(false),
        downloading: RwSignal::new(None),
    };

    view! {
        <PageHeader title="Execution" intro="One backup run: how it went, where it is stored, what it holds.">
            <div class="header-actions">
                <LiveBadge live=refreshing testid="exec-detail-live" title="Refreshing every 2 seconds" />
                <A href=crate::session::at("/executions") attr:class="btn" attr:data-testid="exec-detail-back">
                    "All executions"
                </A>
                <RefreshButton reload=poll.reload testid="exec-detail-refresh" />
            </div>
        </PageHeader>
        {error_banner(move || execution.get().and_then(Result::err))}
        {actions.error_banner()}
        {actions.note_banner("exec-detail-note")}
        {move || match settled.get() {
            Some(e) => details(page, e).into_any(),
            None if execution.get().is_none() => {
                view! { <p class="muted pad">"Loading the execution…"</p> }.into_any()
            }
            None => ().into_any(),
        }}
    }
}

/// A label and its value in the facts grid.
fn fact(
    label: &'static str,
    testid: &'static str,
    value: impl IntoView + 'static,
) -> impl IntoView {
    view! {
        <div class="fact">
            <dt>{label}</dt>
            <dd data-testid=testid>{value}</dd>
        </div>
    }
}

fn or_dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "—".into())
}

fn details(page: Page, e: Execution) -> impl IntoView {
    let id = e.id;
    let status = e.status;
    let status_text = if e.cancel_requested && !status.is_final() {
        "cancelling"
    } else {
        status.as_str()
    };
    let task_name = e.task_name.clone();
    let task = match e.task_id {
        Some(t) => view! {
            <A href=crate::session::at(&format!("/executions?task_id={t}")) attr:title="Every run of this task">
                {task_name}
            </A>
        }
        .into_any(),
        None => task_name.into_any(),
    };
    let databases = page.databases;
    let database_id = e.database_id;
    let kind = e.kind;
    let database_name = e.database_name.clone();
    let database = move || {
        let registered = database_id.map(|d| {
            items(databases)
                .into_iter()
                .find(|db| db.id == d)
                .map(|db| db.name)
                .unwrap_or_else(|| d.to_string())
        });
        // A whole-server run's database, or the run itself, on the registered database's server.
        match (kind, &database_name, registered) {
            (_, Some(name), Some(r)) => Some(format!("{name} (on the server of {r})")),
            (ExecutionKind::Server, None, Some(r)) => {
                Some(format!("every chosen database on the server of {r}"))
            }
            (_, _, r) => r,
        }
    };
    let part_of = e.parent_id.map(|p| {
        view! {
            <div class="fact">
                <dt>"Part of"</dt>
                <dd data-testid="exec-detail-parent">
                    <A href=crate::session::at(&format!("/executions/{p}"))>"its whole-server run"</A>
                </dd>
            </div>
        }
    });
    let live = page.live;
    let bytes_read = move || {
        let (bytes, _) = live.get();
        (bytes > 0).then(|| format_bytes(bytes))
    };
    let trash = match (e.trashed_at, e.purge_at) {
        (Some(since), purge) => format!(
            "in the trash since {}; purged {}",
            format_time(Some(&since)),
            format_time(purge.as_ref())
        ),
        _ => "not in the trash".into(),
    };
    let estimate = page.estimate;
    let progress = (!status.is_final()).then_some({
        move || {
            let (done, rate) = live.get();
            if status == ExecutionStatus::Queued {
                return view! {
                    <p class="muted" data-testid="exec-detail-progress">
                        "Waiting for a worker…"
                    </p>
                }
                .into_any();
            }
            let total = estimate.get().flatten();
            view! {
                <div class="exec-detail-progress">
                    <Progress done total rate testid="exec-detail-progress" />
                    {total
                        .map(|_| {
                            view! {
                                <small class="muted">
                                    "Total estimated from the previous successful run."
                                </small>
                            }
                        })}
                </div>
            }
            .into_any()
        }
    });
    let message = e.message.clone().map(|m| {
        let class = if status == ExecutionStatus::Failed {
            "alert alert-error"
        } else {
            "alert"
        };
        view! {
            <div class=class data-testid="exec-detail-message">
                {m}
            </div>
        }
    });
    let stderr = e
        .stderr_tail
        .clone()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            view! {
                <h3 class="detail-subhead">"pg_dump's last error output"</h3>
                <pre class="code" tabindex="0" data-testid="exec-detail-stderr">{s}</pre>
            }
        });

    view! {
        <section class="card" data-testid="exec-detail" data-id=id.to_string() data-status=status.as_str()>
            <div class="card-header">
                <h2 data-testid="exec-detail-task">{task}</h2>
                <div class="header-actions">
                    <span class=status_class(status) data-testid="exec-detail-status" data-status=status.as_str()>
                        {status_text}
                    </span>
                </div>
            </div>
            {progress}
            <dl class="facts">
                {fact("Database", "exec-detail-database", move || or_dash(database()))}
                {part_of}
                {fact("Trigger", "exec-detail-trigger", trigger_label(e.trigger))}
                {fact("Stored size", "exec-detail-size", or_dash(e.size.map(format_bytes)))}
                {fact("Bytes read (uncompressed)", "exec-detail-bytes-read", move || or_dash(bytes_read()))}
                {fact("Copies", "exec-detail-copies", e.objects.len().to_string())}
                {fact("Server version", "exec-detail-server-version", or_dash(e.server_version.clone()))}
                {fact("pg_dump version", "exec-detail-pg-dump-version", or_dash(e.pg_dump_version.clone()))}
                {fact("Trash", "exec-detail-trash", trash)}
                <div class="fact fact-wide">
                    <dt>"SHA-256"</dt>
                    <dd data-testid="exec-detail-sha256"><code class="break">{or_dash(e.sha256.clone())}</code></dd>
                </div>
            </dl>
            {message}
            {stderr}
            {operator_actions(page, &e)}
        </section>
        {(kind == ExecutionKind::Server).then(|| view! { <RunDatabases session=page.session run=id /> })}
        {timeline(page, &e)}
        {checks(page, &e)}
        {copies(page, &e)}
        {manifest(page, &e)}
    }
}

/// Cancel, Restore and Restore from trash (verify and test-restore sit with the checks).
fn operator_actions(page: Page, e: &Execution) -> impl IntoView + use<> {
    let id = e.id;
    let status = e.status;
    let kind = e.kind;
    let cancel_requested = e.cancel_requested;
    let row = page.actions.row();
    let ask_cancel = format!("Cancel this backup of \u{201c}{}\u{201d}?", e.task_name);
    let cancel = row.reloading(move |c| async move { c.cancel_execution(id).await });
    let untrash = row.reloading(move |c| async move { c.untrash_execution(id).await });
    let any =
        !status.is_final() || matches!(status, ExecutionStatus::Success | ExecutionStatus::Trashed);
    any.then(|| view! {
        <Can role=Role::Operator>
            <div class="form-actions detail-actions">
                {(!status.is_final())
                    .then(|| {
                        view! {
                            <RowButton
                                testid="exec-detail-cancel"
                                confirm=ask_cancel.clone()
                                disabled=move || row.busy.get() || cancel_requested
                                on_click=cancel
                            >
                                {if cancel_requested { "Cancelling…" } else { "Cancel" }}
                            </RowButton>
                        }
                    })}
                {(status == ExecutionStatus::Success && kind == ExecutionKind::Database)
                    .then(|| {
                        view! {
                            <A
                                href=crate::session::at(&format!("/restorations/new?execution_id={id}"))
                                attr:class="btn btn-small btn-primary"
                                attr:data-testid="exec-detail-restore"
                            >
                                "Restore…"
                            </A>
                        }
                    })}
                {(status == ExecutionStatus::Trashed)
                    .then(|| {
                        view! {
                            <RowButton testid="exec-detail-untrash" disabled=row.busy on_click=untrash>
                                "Restore from trash"
                            </RowButton>
                        }
                    })}
            </div>
        </Can>
    })
}

/// A whole-server run's databases: each one's backup, with its own page (restore from there).
#[component]
fn RunDatabases(session: Session, run: Uuid) -> impl IntoView {
    let list = LocalResource::new(move || async move {
        let query = ExecutionListQuery {
            parent_id: Some(run),
            limit: Some(200),
            ..Default::default()
        };
        session
            .call_with(query, |c, q| async move { c.list_executions(&q).await })
            .await
            .map(|p| p.items)
    });
    view! {
        <section class="card" data-testid="exec-detail-databases">
            <div class="card-header">
                <h2>"Databases"</h2>
            </div>
            {move || match list.get() {
                None => view! { <p class="muted pad">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert-error">{e}</p> }.into_any(),
                Some(Ok(items)) if items.is_empty() => {
                    view! { <p class="muted pad">"No database was backed up by this run."</p> }.into_any()
                }
                Some(Ok(items)) => {
                    let rows = items
                        .into_iter()
                        .map(|c| {
                            let href = crate::session::at(&format!("/executions/{}", c.id));
                            let name = c.database_name.clone().unwrap_or_default();
                            view! {
                                <tr data-testid="exec-detail-database-row">
                                    <td><A href=href>{name}</A></td>
                                    <td>
                                        <span class=status_class(c.status) data-status=c.status.as_str()>
                                            {c.status.as_str()}
                                        </span>
                                    </td>
                                    <td>{or_dash(c.size.map(format_bytes))}</td>
                                    <td>{or_dash(c.duration_ms.map(format_duration_ms))}</td>
                                    <td class="muted">{c.message.clone().unwrap_or_default()}</td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <Table columns=&["Database", "Status", "Size", "Duration", "Message"]>
                            {rows}
                        </Table>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

/// One moment of the run.
#[derive(Clone)]
struct Moment {
    at: DateTime<Utc>,
    /// The run's own times in the task's zone (as the run's list shows them), the rest as
    /// `format_time` shows them.
    when: String,
    kind: &'static str,
    label: String,
    class: &'static str,
}

/// The run's own times, its checks and the events recorded for it, oldest first.
fn timeline(page: Page, e: &Execution) -> impl IntoView + use<> {
    let mut own = vec![Moment {
        at: e.scheduled_for.to_utc(),
        when: format_local(&e.scheduled_for),
        kind: "scheduled",
        label: format!("Due ({} run)", trigger_label(e.trigger)),
        class: "badge",
    }];
    if let Some(t) = &e.started_at {
        own.push(Moment {
            at: t.to_utc(),
            when: format_local(t),
            kind: "started",
            label: "Picked up by a worker".into(),
            class: "badge badge-run",
        });
    }
    if let Some(t) = &e.finished_at {
        own.push(Moment {
            at: t.to_utc(),
            when: format_local(t),
            kind: "finished",
            label: match e.duration_ms {
                Some(ms) => format!(
                    "Ended {} after {}",
                    e.status.as_str(),
                    format_duration_ms(ms)
                ),
                None => format!("Ended {}", e.status.as_str()),
            },
            class: status_class(e.status),
        });
    }
    if let Some(t) = &e.verified_at {
        own.push(Moment {
            at: *t,
            when: format_time(Some(t)),
            kind: "verified",
            label: format!("Copies verified: {}", check_text(e.verify_status)),
            class: "badge badge-info",
        });
    }
    if let Some(t) = &e.test_restored_at {
        own.push(Moment {
            at: *t,
            when: format_time(Some(t)),
            kind: "test_restored",
            label: format!("Test-restore: {}", check_text(e.test_restore_status)),
            class: "badge badge-info",
        });
    }
    if let Some(t) = &e.trashed_at {
        own.push(Moment {
            at: *t,
            when: format_time(Some(t)),
            kind: "trashed",
            label: format!(
                "Moved to the trash; purged {}",
                format_time(e.purge_at.as_ref())
            ),
            class: "badge badge-warn",
        });
    }
    let duration = e.duration_ms.map(format_duration_ms);
    let events = page.events;
    let entries = move || {
        let mut all = own.clone();
        all.extend(items_ok(events).into_iter().map(|ev| Moment {
            at: ev.created_at,
            when: format_time(Some(&ev.created_at)),
            kind: ev.kind.as_str(),
            label: summary(&ev),
            class: kind_class(ev.kind),
        }));
        all.sort_by_key(|m| m.at);
        all.into_iter()
            .map(|m| {
                view! {
                    <li data-testid="exec-timeline-entry" data-kind=m.kind>
                        <span class="nowrap timeline-when">{m.when}</span>
                        <span class=m.class>{m.kind}</span>
                        <span class="small">{m.label}</span>
                    </li>
                }
            })
            .collect_view()
    };
    let events_error = move || {
        events.get().and_then(Result::err).map(|e| {
            view! {
                <p class="field-error">{format!("The events could not be loaded: {e}")}</p>
            }
        })
    };
    view! {
        <section class="card" data-testid="exec-detail-timeline">
            <div class="card-header">
                <h2>"Timeline"</h2>
                <span class="muted" data-testid="exec-detail-duration">
                    {duration.map(|d| format!("Took {d}"))}
                </span>
            </div>
            <ol class="timeline">{entries}</ol>
            {events_error}
        </section>
    }
}

fn items_ok(events: LocalResource<Result<Vec<Event>, String>>) -> Vec<Event> {
    events.get().and_then(Result::ok).unwrap_or_default()
}

fn check_text(status: Option<CheckStatus>) -> &'static str {
    match status {
        None => "never ran",
        Some(CheckStatus::Running) => "running",
        Some(CheckStatus::Ok) => "passed",
        Some(CheckStatus::Failed) => "failed",
    }
}

/// Verification of the copies and the test-restore, with the buttons that start them.
fn checks(page: Page, e: &Execution) -> impl IntoView + use<> {
    let id = e.id;
    let done = e.status == ExecutionStatus::Success;
    let row = page.actions.row();
    let verify_running = e.verify_status == Some(CheckStatus::Running);
    let restore_running = e.test_restore_status == Some(CheckStatus::Running);
    let verify_errors = e
        .objects
        .iter()
        .filter_map(|o| o.verify_error.clone())
        .collect::<Vec<_>>()
        .join("; ");
    let verify = move || {
        row.run_and_report(
            move |c| async move { c.verify_execution(id).await },
            |_| Note::from("Verification started.".to_string()),
        )
    };
    let scratch = page.scratch;
    let test_restore = move || {
        let database = Uuid::parse_str(&scratch.get_untracked()).ok();
        row.run_and_report(
            move |c| async move { c.test_restore_execution(id, database).await },
            |_| Note::from("Test-restore started.".to_string()),
        )
    };
    let databases = page.databases;
    view! {
        <section class="card" data-testid="exec-detail-checks">
            <h2>"Checks"</h2>
            <dl class="facts">
                <div class="fact">
                    <dt>"Verification"</dt>
                    <dd>
                        <span data-testid="exec-detail-verify-status" data-status=e.verify_status.map(CheckStatus::as_str).unwrap_or("none")>
                            {check_text(e.verify_status)}
                        </span>
                        {e.verified_at.map(|t| view! { <div class="muted small">{format_time(Some(&t))}</div> })}
                        {(!verify_errors.is_empty()).then(|| view! {
                            <div class="row-error small" data-testid="exec-detail-verify-message">{verify_errors.clone()}</div>
                        })}
                    </dd>
                </div>
                <div class="fact">
                    <dt>"Test-restore"</dt>
                    <dd>
                        <span data-testid="exec-detail-test-restore-status" data-status=e.test_restore_status.map(CheckStatus::as_str).unwrap_or("none")>
                            {check_text(e.test_restore_status)}
                        </span>
                        {e.test_restored_at.map(|t| view! { <div class="muted small">{format_time(Some(&t))}</div> })}
                        {e.test_restore_message.clone().map(|m| {
                            let class = if e.test_restore_status == Some(CheckStatus::Failed) { "row-error small" } else { "muted small" };
                            view! { <div class=class data-testid="exec-detail-test-restore-message">{m}</div> }
                        })}
                    </dd>
                </div>
            </dl>
            {done.then(|| view! {
                <Can role=Role::Operator>
                    <div class="filters">
                        <label class="field inline">
                            <span>"Server for the scratch database"</span>
                            <DatabasePicker
                                databases
                                value=scratch
                                testid="exec-detail-test-restore-db"
                                placeholder="The task's test-restore database"
                            />
                        </label>
                        <button
                            type="button"
                            class="btn"
                            data-testid="exec-detail-test-restore"
                            disabled=move || row.busy.get() || restore_running
                            on:click=move |_| test_restore()
                        >
                            {if restore_running { "Test-restoring…" } else { "Test-restore" }}
                        </button>
                        <button
                            type="button"
                            class="btn"
                            data-testid="exec-detail-verify"
                            disabled=move || row.busy.get() || verify_running
                            on:click=move |_| verify()
                        >
                            {if verify_running { "Verifying…" } else { "Verify copies" }}
                        </button>
                    </div>
                </Can>
            })}
        </section>
    }
}

const COPY_COLUMNS: &[&str] = &[
    "Destination",
    "Object",
    "Size",
    "Verified",
    crate::parts::ACTIONS,
];

/// One row per stored copy, each downloadable from its own destination.
fn copies(page: Page, e: &Execution) -> impl IntoView + use<> {
    let downloadable = e.status == ExecutionStatus::Success;
    let rows = e
        .objects
        .iter()
        .cloned()
        .map(|o| copy_row(page, e.id, downloadable, o))
        .collect_view();
    view! {
        <section class="card" data-testid="exec-detail-copies">
            <h2>"Copies"</h2>
            {if e.objects.is_empty() {
                view! { <p class="empty" data-testid="exec-copies-empty">"No stored copies."</p> }.into_any()
            } else {
                view! { <Table columns=COPY_COLUMNS testid="exec-copies">{rows}</Table> }.into_any()
            }}
        </section>
    }
}

fn copy_row(page: Page, id: Uuid, downloadable: bool, o: ExecutionObject) -> impl IntoView {
    let destination_id = o.destination_id;
    let destinations = page.destinations;
    let name = move || {
        items(destinations)
            .into_iter()
            .find(|d| d.id == destination_id)
            .map(|d| d.name)
            .unwrap_or_else(|| destination_id.to_string())
    };
    let filename = o
        .key
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("pgward-{id}.backup"));
    let row = page.actions.row();
    let actions = page.actions;
    let downloading = page.downloading;
    let download = move || {
        downloading.set(Some(destination_id));
        let filename = filename.clone();
        row.request(
            move |c| async move { c.download_url(id, Some(destination_id), None).await },
            move |result| {
                downloading.set(None);
                if let Err(e) = result.and_then(|link| start_download(&link.url, &filename)) {
                    actions.error.set(Some(e));
                }
            },
        );
    };
    let verified = match (&o.verify_error, &o.verified_at) {
        (Some(err), _) => view! { <span class="row-error small">{err.clone()}</span> }.into_any(),
        (None, Some(t)) => {
            view! { <span class="ok-text">{format!("✓ {}", format_time(Some(t)))}</span> }
                .into_any()
        }
        (None, None) => view! { <span class="muted">"not yet"</span> }.into_any(),
    };
    view! {
        <tr data-testid="exec-copy" data-destination-id=destination_id.to_string()>
            <td class="strong" data-testid="exec-copy-destination">{name}</td>
            <td><code class="break" data-testid="exec-copy-key">{o.key.clone()}</code></td>
            <td class="nowrap" data-testid="exec-copy-size">{format_bytes(o.size)}</td>
            <td data-testid="exec-copy-verified" data-ok=(o.verify_error.is_none() && o.verified_at.is_some()).to_string()>
                {verified}
            </td>
            <td class="actions">
                {downloadable.then(|| view! {
                    <Can role=Role::Operator>
                        <RowButton testid="exec-copy-download" disabled=row.busy on_click=download.clone()>
                            {move || if downloading.get() == Some(destination_id) { "Downloading…" } else { "Download" }}
                        </RowButton>
                    </Can>
                })}
            </td>
        </tr>
    }
}

/// The manifest stored beside the (first) copy, fetched when asked for: it is read from the destination.
fn manifest(page: Page, e: &Execution) -> impl IntoView + use<> {
    let id = e.id;
    let stored = !e.objects.is_empty()
        && matches!(
            e.status,
            ExecutionStatus::Success | ExecutionStatus::Trashed
        );
    let manifest = page.manifest;
    let busy = page.manifest_busy;
    let session = page.session;
    let load = move || {
        save(
            session,
            busy,
            (),
            move |c, ()| async move { c.execution_manifest(id, None).await },
            move |result| manifest.set(Some(result.map_err(|f| f.message))),
        );
    };
    let shown = move || manifest.with(Option::is_some);
    let body = move || {
        manifest.get().map(|m| match m {
            Err(e) => view! { <p class="field-error" data-testid="exec-manifest-error">{e}</p> }
                .into_any(),
            Ok(m) => view! {
                <div data-testid="exec-manifest">
                    {manifest_summary(&m)}
                    <pre class="code" tabindex="0" data-testid="exec-manifest-json">
                        {serde_json::to_string_pretty(&m).unwrap_or_default()}
                    </pre>
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <section class="card" data-testid="exec-detail-manifest">
            <div class="card-header">
                <h2>"Manifest"</h2>
                {stored.then(|| view! {
                    <button
                        type="button"
                        class="btn btn-small"
                        data-testid="exec-manifest-show"
                        aria-expanded=move || shown().to_string()
                        disabled=move || busy.get()
                        on:click=move |_| if shown() { manifest.set(None) } else { load() }
                    >
                        {move || if busy.get() { "Loading…" } else if shown() { "Hide manifest" } else { "Show manifest" }}
                    </button>
                })}
            </div>
            {if stored {
                view! { <p class="muted small">"The JSON stored beside the backup: enough to verify and restore it without pgward's catalog."</p> }.into_any()
            } else {
                view! { <p class="muted small">"This run has no stored copy to read a manifest from."</p> }.into_any()
            }}
            {body}
        </section>
    }
}

/// The manifest's main facts; an older or unknown manifest just shows fewer.
fn manifest_summary(m: &Value) -> impl IntoView + use<> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let compression = match &m["compression"] {
        Value::Object(c) => c.get("algorithm").and_then(Value::as_str).map(|a| {
            match c.get("level").and_then(Value::as_i64) {
                Some(level) => format!("{a} (level {level})"),
                None => a.to_string(),
            }
        }),
        other => text(other),
    }
    .map(|c| match m["compressed_in"].as_str() {
        Some(place) => format!("{c}, in the {place}"),
        None => c,
    });
    let rows = m["row_counts"].as_object().map(|counts| {
        let total: i64 = counts.values().filter_map(Value::as_i64).sum();
        format!("{total} in {} tables", counts.len())
    });
    let encrypted = m["recipient_fingerprints"].as_array().map(|r| {
        if r.is_empty() {
            "no".to_string()
        } else {
            format!("yes ({} recipients)", r.len())
        }
    });
    view! {
        <dl class="facts" data-testid="exec-manifest-summary">
            {fact("Format", "exec-manifest-format", or_dash(text(&m["format"])))}
            {fact("Compression", "exec-manifest-compression", or_dash(compression))}
            {fact("pg_dump version", "exec-manifest-pg-dump-version", or_dash(text(&m["pg_dump_version"])))}
            {fact("Rows recorded", "exec-manifest-rows", or_dash(rows))}
            {fact("Tables", "exec-manifest-tables", or_dash(m["table_count"].as_i64().map(|n| n.to_string())))}
            {fact("Encrypted", "exec-manifest-encrypted", or_dash(encrypted))}
        </dl>
    }
}
