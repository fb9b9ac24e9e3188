//! The restore form of one backup: target, options, and for archives a picker of schemas and tables
//! from the backup's table of contents.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{query_signal, use_navigate};
use pgward_api_types::{
    ArchiveContents, CreateRestorationRequest, RestoreOptions, RestoreTarget, Role,
};
use uuid::Uuid;

use crate::parts::{
    Checkbox, DatabasePicker, Field, RequireRole, SubmitButton, TextField, databases, save,
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
        errors.clear();
        let navigate = navigate.clone();
        save(
            session,
            saving,
            req,
            |c, req| async move { c.create_restoration(&req).await },
            move |result| match result {
                Ok(_) => navigate("/restorations", Default::default()),
                Err(f) => errors.show(f),
            },
        );
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
            <Field label="Target">
                <select data-testid="restore-kind" bind:value=kind>
                    <option value="new_database">"A new database on a registered server"</option>
                    <option value="source">"The database it was taken from"</option>
                    <option value="database">"Another registered database"</option>
                    <option value="connection">"A connection string (not stored)"</option>
                </select>
            </Field>
            <Show when=move || matches!(kind.get().as_str(), "new_database" | "database")>
                <Field
                    label=move || if kind.get() == "new_database" { "On the server of" } else { "Database" }
                    error=errors.at("target.database_id")
                >
                    <DatabasePicker
                        databases
                        value=database_id
                        testid="restore-database"
                        placeholder="Choose a database"
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
            <h3 class="form-section span-2">"How"</h3>
            <div class="span-2 checks">
                <Checkbox class="check" label="All or nothing (single transaction)" value=single testid="restore-single" />
                {move || is_archive().then(|| view! {
                    <Checkbox class="check" label="Drop existing objects first (clean)" value=clean testid="restore-clean" />
                    <Checkbox class="check" label="Skip ownership (no-owner)" value=no_owner testid="restore-no-owner" />
                    <Checkbox class="check" label="Skip privileges (no-privileges)" value=no_privileges testid="restore-no-privileges" />
                })}
                {move || has_globals().then(|| view! {
                    <Checkbox class="check" label="Restore roles and tablespaces first" value=globals_first testid="restore-globals" />
                })}
            </div>
            <Show when=is_archive>
                <Field label="Parallel jobs " note="(not with a single transaction)" error=errors.at("options.jobs")>
                    <input type="number" min="1" max="32" data-testid="restore-jobs" placeholder="1" bind:value=jobs />
                </Field>
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
                <Field
                    label="age identities (AGE-SECRET-KEY-1…, one per line; used for this restore only, never stored)"
                    wide=true
                    error=errors.at("identities")
                >
                    <textarea rows="2" data-testid="restore-identities" spellcheck="false" bind:value=identities></textarea>
                </Field>
            </Show>
            <div class="span-2 form-actions">
                <SubmitButton busy=saving testid="restore-submit" idle="Restore" working="Starting…" />
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
