//! `/restorations`: restores, newest first, refreshing themselves every two seconds while one is queued
//! or running (bytes read of the backup, rate, the client's error output on failure), with cancel.
//! `/restorations/new?execution_id=...`: the restore form of one backup: target, options, and for
//! archives a picker of schemas and tables from the backup's table of contents.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{query_signal, use_navigate};
use pgward_api_types::{
    ArchiveContents, CreateRestorationRequest, Restoration, RestorationListQuery,
    RestorationStatus, RestoreOptions, RestoreTarget,
};
use uuid::Uuid;

use crate::session::{Failure, use_session};
use crate::ui::{
    FieldErrors, confirm, error_banner, failure_banner, field_error, format_bytes,
    format_duration_ms, format_time, poll_while, text_field,
};

const POLL: Duration = Duration::from_secs(2);

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
    let reload = RwSignal::new(0u32);
    let in_flight = StoredValue::new(false);
    let list = LocalResource::new(move || {
        reload.track();
        async move {
            in_flight.set_value(true);
            let r = session
                .call(|c| async move {
                    c.list_restorations(&RestorationListQuery {
                        limit: Some(50),
                        ..Default::default()
                    })
                    .await
                })
                .await;
            in_flight.set_value(false);
            r
        }
    });
    let refresh = move || reload.update(|n| *n = n.wrapping_add(1));
    let live = Memo::new(move |_| {
        list.get()
            .and_then(Result::ok)
            .is_some_and(|p| p.items.iter().any(|r| !r.status.is_final()))
    });
    poll_while(live, in_flight, reload, POLL);
    let action_error = RwSignal::new(None::<String>);
    let rows = move || {
        list.get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default()
    };

    view! {
        <div class="page-header">
            <div>
                <h1>"Restorations"</h1>
                <p class="muted">
                    "Restores of backups, newest first. Start one from a backup on the Executions page."
                </p>
            </div>
            <div class="header-actions">
                {move || {
                    live.get()
                        .then(|| {
                            view! {
                                <span class="live" data-testid="restore-live">
                                    <span class="live-dot"></span>
                                    "Live"
                                </span>
                            }
                        })
                }}
                <button type="button" class="btn" on:click=move |_| refresh()>
                    "Refresh"
                </button>
            </div>
        </div>
        {error_banner(move || action_error.get())}
        {error_banner(move || list.get().and_then(Result::err))}
        <section class="card">
            <Show
                when=move || !rows().is_empty()
                fallback=move || {
                    view! {
                        <p class="muted empty" data-testid="restore-empty">
                            {move || if list.get().is_none() { "Loading…" } else { "No restorations yet." }}
                        </p>
                    }
                }
            >
                <table class="table">
                    <thead>
                        <tr>
                            <th>"Backup"</th>
                            <th>"Into"</th>
                            <th>"Status"</th>
                            <th>"Started"</th>
                            <th>"Duration"</th>
                            <th>"Progress"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=rows
                            key=|r| (r.id, r.status.as_str(), r.bytes_read, r.cancel_requested)
                            children=move |r| restoration_row(r, action_error, refresh)
                        />
                    </tbody>
                </table>
            </Show>
        </section>
    }
}

fn restoration_row(
    r: Restoration,
    action_error: RwSignal<Option<String>>,
    refresh: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let id = r.id;
    let busy = RwSignal::new(false);
    let cancel = move |_| {
        if !confirm(
            "Cancel this restore? A single-transaction restore leaves the target as it was.",
        ) {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let res = session
                .call(|c| async move { c.cancel_restoration(id).await })
                .await;
            busy.set(false);
            match res {
                Ok(_) => refresh(),
                Err(e) => action_error.set(Some(e)),
            }
        });
    };
    let progress = match (r.status, r.total_bytes) {
        (RestorationStatus::Queued, _) => "waiting for a slot".to_string(),
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
                <div class="strong">{r.task_name.clone()}</div>
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
            <td class="nowrap muted" data-testid="restore-progress">{progress}</td>
            <td class="actions">
                {(!status.is_final())
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-small"
                                on:click=cancel
                                disabled=move || busy.get() || r.cancel_requested
                            >
                                "Cancel"
                            </button>
                        }
                    })}
            </td>
        </tr>
    }
}

/// The restore form of one backup.
#[component]
pub fn NewRestorationPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let (exec_q, _) = query_signal::<String>("execution_id");
    let execution = Memo::new(move |_| exec_q.get().and_then(|s| Uuid::parse_str(&s).ok()));
    let exec = LocalResource::new(move || {
        let id = execution.get();
        async move {
            match id {
                Some(id) => {
                    session
                        .call(|c| async move { c.get_execution(id).await })
                        .await
                }
                None => Err("No backup chosen: start a restore from the Executions page.".into()),
            }
        }
    });
    let databases = LocalResource::new(move || {
        session.call(|c| async move { c.all_databases(&Default::default()).await })
    });

    let kind = RwSignal::new("new_database".to_string());
    let database_id = RwSignal::new(String::new());
    let new_name = RwSignal::new(String::new());
    let connection = RwSignal::new(String::new());
    let identities = RwSignal::new(String::new());
    let clean = RwSignal::new(false);
    let single = RwSignal::new(true);
    let no_owner = RwSignal::new(false);
    let no_privileges = RwSignal::new(false);
    let globals_first = RwSignal::new(false);
    let jobs = RwSignal::new(String::new());
    let chosen_schemas = RwSignal::new(BTreeSet::<String>::new());
    let chosen_tables = RwSignal::new(BTreeSet::<String>::new());
    let contents = RwSignal::new(None::<Result<ArchiveContents, String>>);
    let errors: FieldErrors = RwSignal::new(Default::default());
    let failure = RwSignal::new(None::<Failure>);
    let saving = RwSignal::new(false);

    let key = move || {
        exec.get()
            .and_then(Result::ok)
            .and_then(|e| e.objects.first().map(|o| o.key.clone()))
            .unwrap_or_default()
    };
    let is_archive = move || {
        let k = key();
        k.contains(".dump") || k.contains(".tar")
    };
    let encrypted = move || key().ends_with(".age");
    let has_globals = move || {
        exec.get()
            .and_then(Result::ok)
            .is_some_and(|e| e.objects.iter().any(|o| o.key.contains(".globals.")))
    };

    let load_contents = move |_| {
        let Some(id) = execution.get_untracked() else {
            return;
        };
        contents.set(None);
        spawn_local(async move {
            let r = session
                .call(|c| async move { c.execution_contents(id).await })
                .await;
            contents.set(Some(r));
        });
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(execution_id) = execution.get_untracked() else {
            return;
        };
        let db = Uuid::parse_str(&database_id.get_untracked()).ok();
        let target = match kind.get_untracked().as_str() {
            "source" => RestoreTarget::Source,
            "database" => RestoreTarget::Database {
                database_id: db.unwrap_or_default(),
            },
            "connection" => RestoreTarget::Connection {
                connection_string: connection.get_untracked().trim().to_string(),
            },
            _ => RestoreTarget::NewDatabase {
                database_id: db.unwrap_or_default(),
                name: new_name.get_untracked().trim().to_string(),
            },
        };
        let req = CreateRestorationRequest {
            execution_id,
            destination_id: None,
            target,
            options: RestoreOptions {
                clean: clean.get_untracked(),
                single_transaction: single.get_untracked(),
                jobs: jobs.get_untracked().trim().parse().ok(),
                no_owner: no_owner.get_untracked(),
                no_privileges: no_privileges.get_untracked(),
                schemas: chosen_schemas.get_untracked().into_iter().collect(),
                tables: chosen_tables.get_untracked().into_iter().collect(),
                globals_first: globals_first.get_untracked(),
            },
            identities: identities
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        };
        saving.set(true);
        failure.set(None);
        errors.set(Default::default());
        let navigate = navigate.clone();
        spawn_local(async move {
            let r = session
                .call_detailed(|c| {
                    let req = req.clone();
                    async move { c.create_restoration(&req).await }
                })
                .await;
            saving.set(false);
            match r {
                Ok(_) => navigate("/restorations", Default::default()),
                Err(f) => {
                    errors.set(f.fields.clone());
                    failure.set(Some(f));
                }
            }
        });
    };

    let check = |label: &'static str, value: RwSignal<bool>, testid: &'static str| {
        view! {
            <label class="check">
                <input type="checkbox" data-testid=testid bind:checked=value />
                <span>{label}</span>
            </label>
        }
    };

    view! {
        <div class="page-header">
            <div>
                <h1>"Restore a backup"</h1>
                <p class="muted mono small" data-testid="restore-object">{key}</p>
            </div>
        </div>
        {error_banner(move || exec.get().and_then(Result::err))}
        <form class="card form-grid" on:submit=submit data-testid="restore-form">
            {failure_banner(failure)}
            <h3 class="form-section span-2">"Into"</h3>
            <label class="field">
                <span>"Target"</span>
                <select data-testid="restore-kind" bind:value=kind>
                    <option value="new_database">"A new database on a registered server"</option>
                    <option value="source">"The database it was taken from"</option>
                    <option value="database">"Another registered database"</option>
                    <option value="connection">"A connection string (not stored)"</option>
                </select>
            </label>
            <Show when=move || matches!(kind.get().as_str(), "new_database" | "database")>
                <label class="field">
                    <span>
                        {move || if kind.get() == "new_database" { "On the server of" } else { "Database" }}
                    </span>
                    <select data-testid="restore-database" bind:value=database_id>
                        <option value="">"Choose a database"</option>
                        {move || {
                            databases
                                .get()
                                .and_then(Result::ok)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|d| view! { <option value=d.id.to_string()>{d.name}</option> })
                                .collect_view()
                        }}
                    </select>
                    {field_error(errors, "target.database_id")}
                </label>
            </Show>
            <Show when=move || kind.get() == "new_database">
                {text_field("New database name", "text", new_name, "restore-name", "shop_restored", errors, "target.name")}
            </Show>
            <Show when=move || kind.get() == "connection">
                {text_field(
                    "Connection string",
                    "password",
                    connection,
                    "restore-connection",
                    "postgres://user:password@host:5432/db",
                    errors,
                    "target.connection_string",
                )}
            </Show>
            <h3 class="form-section span-2">"How"</h3>
            <div class="span-2 checks">
                {check("All or nothing (single transaction)", single, "restore-single")}
                {move || is_archive().then(|| view! {
                    {check("Drop existing objects first (clean)", clean, "restore-clean")}
                    {check("Skip ownership (no-owner)", no_owner, "restore-no-owner")}
                    {check("Skip privileges (no-privileges)", no_privileges, "restore-no-privileges")}
                })}
                {move || has_globals().then(|| check("Restore roles and tablespaces first", globals_first, "restore-globals"))}
            </div>
            <Show when=is_archive>
                <label class="field">
                    <span>"Parallel jobs " <small class="muted">"(not with a single transaction)"</small></span>
                    <input type="number" min="1" max="32" data-testid="restore-jobs" placeholder="1" bind:value=jobs />
                    {field_error(errors, "options.jobs")}
                </label>
                <div class="span-2">
                    <button type="button" class="btn" data-testid="restore-load-contents" on:click=load_contents>
                        "Choose schemas and tables…"
                    </button>
                    <span class="muted small">" Nothing chosen restores everything."</span>
                    {move || match contents.get() {
                        None => None,
                        Some(Err(e)) => Some(view! { <div class="row-error small">{e}</div> }.into_any()),
                        Some(Ok(toc)) => Some(toc_picker(toc, chosen_schemas, chosen_tables).into_any()),
                    }}
                </div>
            </Show>
            <Show when=encrypted>
                <label class="field span-2">
                    <span>"age identities (AGE-SECRET-KEY-1…, one per line; used for this restore only, never stored)"</span>
                    <textarea rows="2" data-testid="restore-identities" spellcheck="false" bind:value=identities></textarea>
                    {field_error(errors, "identities")}
                </label>
            </Show>
            <div class="span-2 form-actions">
                <button type="submit" class="btn btn-primary" data-testid="restore-submit" disabled=move || saving.get()>
                    {move || if saving.get() { "Starting…" } else { "Restore" }}
                </button>
                <a class="btn" href="/executions">"Back"</a>
            </div>
        </form>
    }
}

fn toc_picker(
    toc: ArchiveContents,
    schemas: RwSignal<BTreeSet<String>>,
    tables: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    let toggle = |set: RwSignal<BTreeSet<String>>, item: String| {
        move |_| {
            set.update(|s| {
                if !s.remove(&item) {
                    s.insert(item.clone());
                }
            })
        }
    };
    view! {
        <div class="toc" data-testid="restore-toc">
            <div>
                <h4>"Schemas"</h4>
                {toc.schemas
                    .into_iter()
                    .map(|s| {
                        let checked = s.clone();
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    prop:checked=move || schemas.with(|c| c.contains(&checked))
                                    on:change=toggle(schemas, s.clone())
                                />
                                <span class="mono">{s}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
            <div>
                <h4>"Tables"</h4>
                {toc.tables
                    .into_iter()
                    .map(|t| {
                        let checked = t.clone();
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    prop:checked=move || tables.with(|c| c.contains(&checked))
                                    on:change=toggle(tables, t.clone())
                                />
                                <span class="mono">{t}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}
