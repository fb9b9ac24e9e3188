//! `/restorations/:id`: one restore in full: what was read and where it went, its options, a timeline,
//! live progress with Cancel while it runs, and why it failed (the client's error output).

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use pgward_api_types::{Restoration, RestorationStatus, RestoreOptions, RestoreTargetKind, Role};
use uuid::Uuid;

use super::{POLL, status_class};
use crate::parts::{Can, LiveBadge, Polling, Progress, RefreshButton, RowActions, RowButton};
use crate::session::use_session;
use crate::ui::{error_banner, format_duration_ms, format_time};

pub(super) fn target_kind_label(k: RestoreTargetKind) -> &'static str {
    match k {
        RestoreTargetKind::Source => "the database it was taken from",
        RestoreTargetKind::Database => "another registered database",
        RestoreTargetKind::Connection => "a connection string",
        RestoreTargetKind::NewDatabase => "a new database",
        RestoreTargetKind::Replace => "replace (restored beside it, checked, then swapped)",
    }
}

/// The options as a reader would list them; `None` for a plain restore of everything.
fn options_text(o: &RestoreOptions) -> Vec<String> {
    let mut out = Vec::new();
    let flags = [
        (o.clean, "clean"),
        (o.single_transaction, "single transaction"),
        (o.no_owner, "no owner"),
        (o.no_privileges, "no privileges"),
        (o.globals_first, "roles and tablespaces first"),
    ];
    out.extend(
        flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, l)| l.to_string()),
    );
    if let Some(j) = o.jobs {
        out.push(format!("{j} parallel jobs"));
    }
    if !o.schemas.is_empty() {
        out.push(format!("schemas: {}", o.schemas.join(", ")));
    }
    if !o.tables.is_empty() {
        out.push(format!("tables: {}", o.tables.join(", ")));
    }
    out
}

#[component]
pub fn RestorationPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| Uuid::parse_str(&s).ok())));
    let poll = Polling::new();
    let actions = RowActions::with_reload(session, poll.reload);
    let restoration = poll.resource(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => {
                    session
                        .call(|c| async move { c.get_restoration(id).await })
                        .await
                }
                None => Err("There is no restoration at this address.".to_string()),
            }
        }
    });
    let live = Memo::new(move |_| {
        restoration
            .get()
            .and_then(Result::ok)
            .is_some_and(|r| !r.status.is_final())
    });
    poll.every(POLL, live);
    let current = move || restoration.get().and_then(Result::ok);
    let cancel_requested = Memo::new(move |_| current().is_some_and(|r| r.cancel_requested));
    let row = actions.row();
    let cancel = row.reloading(move |c| {
        let id = id.get_untracked().unwrap_or_default();
        async move { c.cancel_restoration(id).await }
    });
    // Only the bar follows each poll: the Cancel button stays in place, keeping keyboard focus.
    let bar = move || {
        current().map(|r| match r.status {
            RestorationStatus::Queued => view! {
                <p class="muted" data-testid="restoration-waiting">"Waiting for a free slot…"</p>
            }
            .into_any(),
            _ => view! {
                <Progress
                    done=r.bytes_read
                    total=r.total_bytes
                    rate=r.rate_bytes_per_sec
                    testid="restoration-progress"
                />
            }
            .into_any(),
        })
    };

    view! {
        <div class="page-header">
            <div>
                <h1>"Restoration"</h1>
                <p class="muted">
                    <A href=crate::session::at("/restorations") attr:data-testid="restoration-back">"All restorations"</A>
                </p>
            </div>
            <div class="header-actions">
                <LiveBadge live testid="restoration-live" />
                <RefreshButton reload=poll.reload testid="restoration-refresh" />
            </div>
        </div>
        {actions.error_banner()}
        {error_banner(move || restoration.get().and_then(Result::err))}
        <Show when=move || live.get()>
            <section class="card restoration-live">
                {bar}
                <Can role=Role::Operator>
                    <RowButton
                        testid="restoration-cancel"
                        danger=true
                        confirm="Cancel this restore? A single-transaction restore or a replace leaves the target as it was."
                        disabled=move || row.busy.get() || cancel_requested.get()
                        on_click=cancel
                    >
                        {move || if cancel_requested.get() { "Cancelling…" } else { "Cancel" }}
                    </RowButton>
                </Can>
            </section>
        </Show>
        {move || match restoration.get() {
            None => Some(view! { <p class="muted pad">"Loading…"</p> }.into_any()),
            Some(Err(_)) => None,
            Some(Ok(r)) => Some(details(r).into_any()),
        }}
    }
}

fn details(r: Restoration) -> impl IntoView {
    let status = r.status;
    let cancel_requested = r.cancel_requested;
    let status_text = if cancel_requested && !status.is_final() {
        "cancelling"
    } else {
        status.as_str()
    };
    let backup = match r.execution_id {
        Some(e) => view! {
            <A href=crate::session::at(&format!("/executions/{e}")) attr:data-testid="restoration-execution">
                {r.task_name.clone()}
            </A>
        }
        .into_any(),
        None => view! { <span>{r.task_name.clone()} " (backup deleted)"</span> }.into_any(),
    };
    let options = options_text(&r.options);
    let options = if options.is_empty() {
        "none (everything, as the backup holds it)".to_string()
    } else {
        options.join(" · ")
    };
    let failure = r.message.clone().map(|m| {
        view! {
            <div class="alert alert-error" role="alert" data-testid="restoration-error">
                {r.error_code.clone().map(|c| view! { <code>{c}</code> ": " })}
                {m}
            </div>
        }
    });
    let replace = (r.target_kind == RestoreTargetKind::Replace).then(|| {
        view! {
            <dt>"Original kept as"</dt>
            <dd class="mono" data-testid="restoration-previous-name">
                {r.previous_database_name.clone().unwrap_or_else(|| "—".into())}
            </dd>
            <dt>"Original kept until"</dt>
            <dd data-testid="restoration-previous-kept-until">
                {format_time(r.previous_kept_until.as_ref())}
            </dd>
            <dt>"Original dropped"</dt>
            <dd data-testid="restoration-previous-dropped">
                {format_time(r.previous_dropped_at.as_ref())}
            </dd>
        }
    });
    let stderr = r.stderr_tail.clone().filter(|s| !s.trim().is_empty());
    view! {
        <div data-testid="restoration" data-status=status.as_str()>
            {failure}
            <section class="card">
                <dl class="restore-facts">
                    <dt>"Status"</dt>
                    <dd>
                        <span class=status_class(status) data-testid="restoration-status">
                            {status_text}
                        </span>
                    </dd>
                    <dt>"Backup"</dt>
                    <dd>{backup}</dd>
                    <dt>"Copy read"</dt>
                    <dd>
                        <div class="mono small" data-testid="restoration-object">{r.object_key.clone()}</div>
                        <div class="muted small mono">"destination " {r.destination_id.to_string()}</div>
                    </dd>
                    <dt>"Into"</dt>
                    <dd data-testid="restoration-target">
                        <div>{target_kind_label(r.target_kind)}</div>
                        <div class="mono small">{r.target.clone()}</div>
                        {r.new_database_name.clone().map(|n| view! {
                            <div class="muted small">"Database created: " <span class="mono">{n}</span></div>
                        })}
                    </dd>
                    {replace}
                    <dt>"Options"</dt>
                    <dd data-testid="restoration-options">{options}</dd>
                    <dt>"Created"</dt>
                    <dd data-testid="restoration-created">{format_time(Some(&r.created_at))}</dd>
                    <dt>"Started"</dt>
                    <dd data-testid="restoration-started">{format_time(r.started_at.as_ref())}</dd>
                    <dt>"Finished"</dt>
                    <dd data-testid="restoration-finished">{format_time(r.finished_at.as_ref())}</dd>
                    <dt>"Duration"</dt>
                    <dd data-testid="restoration-duration">
                        {r.duration_ms.map(format_duration_ms).unwrap_or_else(|| "—".into())}
                    </dd>
                    <dt>"Client"</dt>
                    <dd class="mono small" data-testid="restoration-client-version">
                        {r.client_version.clone().unwrap_or_else(|| "—".into())}
                    </dd>
                    <dt>"Server"</dt>
                    <dd class="mono small" data-testid="restoration-server-version">
                        {r.server_version.clone().unwrap_or_else(|| "—".into())}
                    </dd>
                </dl>
            </section>
            {stderr.map(|s| view! {
                <section class="card">
                    <h2>"Log tail"</h2>
                    <pre class="code" tabindex="0" data-testid="restoration-stderr">{s}</pre>
                </section>
            })}
        </div>
    }
}
