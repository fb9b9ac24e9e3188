//! The restore form of one backup: target, options, and for archives a picker of schemas and tables
//! from the backup's table of contents. Every target that overwrites an existing database asks for its
//! name to be typed first.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{query_signal, use_navigate};
use pgward_api_types::{
    ArchiveContents, CreateRestorationRequest, RestoreOptions, RestoreTarget, Role,
};
use uuid::Uuid;

use crate::parts::{
    Checkbox, DatabasePicker, Field, RequireRole, TextField, databases, items, save,
};
use crate::session::use_session;
use crate::ui::{FieldErrors, error_banner};

/// The restore form of one backup, for operators.
#[component]
pub fn NewRestorationPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Operator>
            <RestoreForm />
        </RequireRole>
    }
}

#[component]
fn RestoreForm() -> impl IntoView {
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
    let databases = databases(session, None);
    let source_id = Memo::new(move |_| exec.get().and_then(Result::ok).and_then(|e| e.database_id));

    // Until the user picks a target: replace when the backup's database is still registered (restoring
    // into the database a backup came from is what replace makes safe), else a new database.
    let chosen_kind = RwSignal::new(None::<String>);
    let kind = Memo::new(move |_| {
        chosen_kind.get().unwrap_or_else(|| {
            if source_id.get().is_some() {
                "replace"
            } else {
                "new_database"
            }
            .to_string()
        })
    });
    let database_id = RwSignal::new(String::new());
    Effect::new(move || {
        if let Some(id) = source_id.get()
            && database_id.with_untracked(String::is_empty)
        {
            database_id.set(id.to_string());
        }
    });
    let new_name = RwSignal::new(String::new());
    let connection = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let end_sessions = RwSignal::new(false);
    let drop_previous = RwSignal::new(false);
    let keep_hours = RwSignal::new(String::new());
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
    let errors = FieldErrors::new();
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
    // Targets restored over what a database holds now; a new database (also replace's copy) is empty.
    let overwrites_in_place =
        move || matches!(kind.get().as_str(), "source" | "database" | "connection");
    let is_replace = move || kind.get() == "replace";

    // The PostgreSQL name of the database about to be overwritten, typed again to confirm; `None` while
    // unknown (list loading, nothing chosen) or for a target that overwrites nothing.
    let target_name = Memo::new(move |_| {
        let registered = |id: Option<Uuid>| {
            let id = id?;
            items(databases)
                .into_iter()
                .find(|d| d.id == id)
                .map(|d| d.database)
        };
        let picked = Uuid::parse_str(&database_id.get()).ok();
        match kind.get().as_str() {
            "source" => registered(source_id.get()),
            "database" | "replace" => registered(picked),
            "connection" => connection.with(|c| database_of_url(c)),
            _ => None,
        }
    });
    let needs_confirm = move || overwrites_in_place() || is_replace();
    let confirmed = move || {
        !needs_confirm()
            || target_name.with(|n| n.as_deref().is_some_and(|n| confirm.with(|c| c == n)))
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
        if !confirmed() {
            return;
        }
        let db = Uuid::parse_str(&database_id.get_untracked()).ok();
        let kind = kind.get_untracked();
        let keep = keep_hours.get_untracked().trim().to_string();
        let keep = if keep.is_empty() || drop_previous.get_untracked() {
            None
        } else if let Ok(h) = keep.parse::<u32>() {
            Some(h)
        } else {
            errors.reject(
                "target.keep_hours",
                "Keep the original for a whole number of hours (1-8760).".into(),
            );
            return;
        };
        let target = match kind.as_str() {
            "source" => RestoreTarget::Source,
            "database" => RestoreTarget::Database {
                database_id: db.unwrap_or_default(),
            },
            "connection" => RestoreTarget::Connection {
                connection_string: connection.get_untracked().trim().to_string(),
            },
            "replace" => RestoreTarget::Replace {
                database_id: db,
                confirm_name: confirm.get_untracked(),
                end_sessions: end_sessions.get_untracked(),
                drop_previous: drop_previous.get_untracked(),
                keep_hours: keep,
            },
            _ => RestoreTarget::NewDatabase {
                database_id: db.unwrap_or_default(),
                name: new_name.get_untracked().trim().to_string(),
            },
        };
        // Replace restores the whole backup into an empty copy: no selection, nothing to clean.
        let whole = kind == "replace";
        let in_place = matches!(kind.as_str(), "source" | "database" | "connection");
        let req = CreateRestorationRequest {
            execution_id,
            destination_id: None,
            target,
            options: RestoreOptions {
                clean: in_place && clean.get_untracked(),
                single_transaction: single.get_untracked(),
                jobs: jobs.get_untracked().trim().parse().ok(),
                no_owner: no_owner.get_untracked(),
                no_privileges: no_privileges.get_untracked(),
                schemas: if whole {
                    Vec::new()
                } else {
                    chosen_schemas.get_untracked().into_iter().collect()
                },
                tables: if whole {
                    Vec::new()
                } else {
                    chosen_tables.get_untracked().into_iter().collect()
                },
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
        errors.clear();
        let navigate = navigate.clone();
        save(
            session,
            saving,
            req,
            |c, req| async move { c.create_restoration(&req).await },
            move |result| match result {
                Ok(r) => navigate(&format!("/restorations/{}", r.id), Default::default()),
                Err(f) => errors.show(f),
            },
        );
    };

    let confirm_label = move || match target_name.get() {
        Some(n) => format!("Type {n} to confirm"),
        None => "Type the target database's name to confirm".to_string(),
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
            {errors.banner()}
            <h3 class="form-section span-2">"Into"</h3>
            <Field label="Target" wide=true error=errors.at("target")>
                <select
                    data-testid="restore-kind"
                    prop:value=move || kind.get()
                    on:change=move |ev| chosen_kind.set(Some(event_target_value(&ev)))
                >
                    {KINDS
                        .into_iter()
                        .map(|(value, label)| {
                            view! {
                                <option value=value prop:selected=move || kind.with(|k| k == value)>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </Field>
            <p class="span-2 muted small target-help" data-testid="restore-target-help">
                {move || target_help(&kind.get())}
            </p>
            <Show when=move || matches!(kind.get().as_str(), "new_database" | "database" | "replace")>
                <Field
                    label=move || match kind.get().as_str() {
                        "new_database" => "On the server of",
                        "replace" => "Database to replace",
                        _ => "Database",
                    }
                    error=errors.at("target.database_id")
                >
                    <DatabasePicker
                        databases
                        value=database_id
                        testid="restore-database"
                        placeholder="Choose a database"
                        error=errors.at("target.database_id")
                    />
                </Field>
            </Show>
            <Show when=move || kind.get() == "new_database">
                <TextField
                    label="New database name"
                    value=new_name
                    testid="restore-name"
                    placeholder="shop_restored"
                    error=errors.at("target.name")
                />
            </Show>
            <Show when=move || kind.get() == "connection">
                <TextField
                    label="Connection string"
                    kind="password"
                    value=connection
                    testid="restore-connection"
                    placeholder="postgres://user:password@host:5432/db"
                    error=errors.at("target.connection_string")
                />
            </Show>
            <Show when=is_replace>
                <div class="span-2 checks">
                    <Checkbox
                        class="check"
                        label="End sessions connected to it at the swap"
                        value=end_sessions
                        testid="restore-end-sessions"
                    />
                    <Checkbox
                        class="check"
                        label="Drop the original right after the swap"
                        value=drop_previous
                        testid="restore-drop-previous"
                    />
                </div>
                <Show when=move || !drop_previous.get()>
                    <Field
                        label="Keep the original for (hours) "
                        note="(empty: the server's default, usually 168)"
                        error=errors.at("target.keep_hours")
                    >
                        <input
                            type="number"
                            min="1"
                            max="8760"
                            data-testid="restore-keep-hours"
                            placeholder="168"
                            class:invalid=move || errors.at("target.keep_hours").invalid()
                            bind:value=keep_hours
                        />
                    </Field>
                </Show>
            </Show>
            <Show when=needs_confirm>
                <Field label=confirm_label wide=true error=errors.at("target.confirm_name")>
                    <input
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        data-testid="restore-confirm"
                        class:invalid=move || errors.at("target.confirm_name").invalid()
                        bind:value=confirm
                    />
                </Field>
            </Show>
            <h3 class="form-section span-2">"How"</h3>
            <div class="span-2 checks">
                <Checkbox class="check" label="All or nothing (single transaction)" value=single testid="restore-single" />
                <Show when=overwrites_in_place>
                    <Checkbox class="check" label="Drop existing objects first (clean)" value=clean testid="restore-clean" />
                </Show>
                {move || is_archive().then(|| view! {
                    <Checkbox class="check" label="Skip ownership (no-owner)" value=no_owner testid="restore-no-owner" />
                    <Checkbox class="check" label="Skip privileges (no-privileges)" value=no_privileges testid="restore-no-privileges" />
                })}
                {move || has_globals().then(|| view! {
                    <Checkbox class="check" label="Restore roles and tablespaces first" value=globals_first testid="restore-globals" />
                })}
            </div>
            <div class="span-2">
                {move || (overwrites_in_place() && !is_archive() && !key().is_empty()).then(|| view! {
                    <p class="small warn-text" data-testid="restore-clean-note">
                        "This is a plain dump: clean empties the whole target first (every schema but the system ones \
                         is dropped), so use it only with a backup of the whole database. Replace is the safer way."
                    </p>
                })}
                {errors.at("options.clean").message()}
                {errors.at("options").message()}
            </div>
            <Show when=is_archive>
                <Field label="Parallel jobs " note="(not with a single transaction)" error=errors.at("options.jobs")>
                    <input type="number" min="1" max="32" data-testid="restore-jobs" placeholder="1" bind:value=jobs />
                </Field>
                <Show
                    when=move || !is_replace()
                    fallback=|| view! {
                        <p class="span-2 muted small">"Replace restores the whole backup."</p>
                    }
                >
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
            </Show>
            <Show when=encrypted>
                <Field
                    label="age identities (AGE-SECRET-KEY-1…, one per line; used for this restore only, never stored)"
                    wide=true
                    error=errors.at("identities")
                >
                    <textarea rows="2" data-testid="restore-identities" spellcheck="false" bind:value=identities></textarea>
                </Field>
            </Show>
            <div class="span-2 form-actions">
                <button
                    type="submit"
                    class="btn btn-primary"
                    data-testid="restore-submit"
                    disabled=move || saving.get() || !confirmed()
                >
                    {move || if saving.get() { "Starting…" } else { "Restore" }}
                </button>
                <A href=crate::session::at("/executions") attr:class="btn" attr:data-testid="restore-back">"Back"</A>
            </div>
        </form>
    }
}

/// The targets, in the select's order (value, label).
const KINDS: [(&str, &str); 5] = [
    (
        "replace",
        "Replace a database safely (restore beside it, check, then swap)",
    ),
    ("new_database", "A new database on a registered server"),
    (
        "source",
        "The database it was taken from (over what it holds)",
    ),
    (
        "database",
        "Another registered database (over what it holds)",
    ),
    ("connection", "A connection string (not stored)"),
];

/// What a target does and what it risks, under the select.
fn target_help(kind: &str) -> &'static str {
    match kind {
        "replace" => {
            "Restores the backup into a new database beside the chosen one, checks its checksum and its row \
             counts against the backup's manifest, and only then swaps the names in one transaction: the \
             database is never left half-restored. The original is kept under a dated name \
             (<name>_before_<date>) for the hours below, or dropped right away. Needs the CREATEDB privilege \
             and a moment without sessions: connected sessions make the swap fail unless you let pgward end \
             them."
        }
        "source" => {
            "Restores over the database the backup was taken from, on top of the objects it holds now: they \
             make statements fail unless clean drops them first, and without a single transaction a failure \
             can leave the database half-restored. Replace does this safely."
        }
        "database" => {
            "Restores over another registered database, on top of the objects it holds now: they make \
             statements fail unless clean drops them first, and without a single transaction a failure can \
             leave the database half-restored."
        }
        "connection" => {
            "Restores over any database you can reach: the connection string is tested first, used for this \
             restore only and never stored. Existing objects make statements fail unless clean drops them \
             first, and without a single transaction a failure can leave the database half-restored."
        }
        _ => {
            "Creates a new, empty database with this name on the chosen database's server and restores into \
             it; nothing existing is touched. If the restore fails, the new database is dropped again."
        }
    }
}

/// The database a `postgres://` URL names: its path, else (as libpq does) the user's name.
fn database_of_url(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://")?.1;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let name = if path.is_empty() {
        let (user, _) = authority.rsplit_once('@')?;
        user.split(':').next().unwrap_or_default()
    } else {
        path
    };
    let name = percent_decode(name);
    (!name.is_empty()).then_some(name)
}

/// `%XX` escapes decoded (a URL's database or user name may hold them); anything malformed kept as is.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn toc_picker(
    toc: ArchiveContents,
    schemas: RwSignal<BTreeSet<String>>,
    tables: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    view! {
        <div class="toc" data-testid="restore-toc">
            {toc_column("Schemas", toc.schemas, schemas)}
            {toc_column("Tables", toc.tables, tables)}
        </div>
    }
}

/// A checkbox per name; checking one adds it to `chosen`.
fn toc_column(
    title: &'static str,
    names: Vec<String>,
    chosen: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    let checks = names
        .into_iter()
        .map(|name| {
            let item = name.clone();
            let checked = name.clone();
            view! {
                <label class="check">
                    <input
                        type="checkbox"
                        prop:checked=move || chosen.with(|c| c.contains(&checked))
                        on:change=move |_| {
                            chosen
                                .update(|s| {
                                    if !s.remove(&item) {
                                        s.insert(item.clone());
                                    }
                                })
                        }
                    />
                    <span class="mono">{name}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <div>
            <h4>{title}</h4>
            {checks}
        </div>
    }
}
