//! `/databases`: the registered databases, a form to add one and per-row test and delete.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use pgward_api_types::{ConnectionTestResult, CreateDatabaseRequest, Database, DatabaseListQuery};

use crate::session::{Session, use_session};
use crate::ui::{confirm, error_banner};

/// Upper bound on pages fetched for the table (200 rows each).
const MAX_PAGES: usize = 50;

pub async fn fetch_all(session: Session) -> Result<Vec<Database>, String> {
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let query = DatabaseListQuery {
            limit: Some(200),
            cursor: cursor.take(),
            ..Default::default()
        };
        let page = session
            .call(|c| {
                let query = query.clone();
                async move { c.list_databases(&query).await }
            })
            .await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(items)
}

#[component]
pub fn DatabasesPage() -> impl IntoView {
    let session = use_session();
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        reload.track();
        fetch_all(session)
    });
    let refresh = move || reload.update(|n| *n = n.wrapping_add(1));
    // Errors of row actions (test, delete).
    let action_error = RwSignal::new(None::<String>);

    view! {
        <div class="page-header">
            <div>
                <h1>"Databases"</h1>
                <p class="muted">"PostgreSQL databases pgward knows how to reach."</p>
            </div>
            <button type="button" class="btn" data-testid="db-refresh" on:click=move |_| refresh()>
                "Refresh"
            </button>
        </div>
        {error_banner(move || action_error.get())}
        <section class="card">
            {move || match list.get() {
                None => view! { <p class="muted pad">"Loading databases…"</p> }.into_any(),
                Some(Err(e)) => {
                    view! {
                        <div class="alert alert-error" role="alert" data-testid="error">
                            {e}
                        </div>
                    }
                        .into_any()
                }
                Some(Ok(items)) if items.is_empty() => {
                    view! {
                        <p class="empty" data-testid="db-empty">
                            "No databases yet. Add the first one below."
                        </p>
                    }
                        .into_any()
                }
                Some(Ok(items)) => {
                    view! {
                        <table class="table" data-testid="db-table">
                            <thead>
                                <tr>
                                    <th>"Name"</th>
                                    <th>"Location"</th>
                                    <th>"User"</th>
                                    <th>"Version"</th>
                                    <th>"Health"</th>
                                    <th class="actions">"Actions"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {items
                                    .into_iter()
                                    .map(|db| db_row(session, db, refresh, action_error))
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any()
                }
            }}
        </section>
        <AddDatabase on_saved=refresh />
    }
}

fn db_row(
    session: Session,
    db: Database,
    refresh: impl Fn() + Copy + Send + Sync + 'static,
    action_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = db.id;
    let busy = RwSignal::new(false);
    let name = db.name.clone();
    let test = move |_| {
        busy.set(true);
        action_error.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.test_database(id).await })
                .await;
            busy.set(false);
            match result {
                // The outcome is recorded in the database's health; the reload shows it.
                Ok(_) => refresh(),
                Err(e) => action_error.set(Some(e)),
            }
        });
    };
    let delete = move |_| {
        if !confirm(&format!(
            "Delete the database \u{201c}{name}\u{201d} from pgward? The database itself is not touched."
        )) {
            return;
        }
        busy.set(true);
        action_error.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.delete_database(id).await })
                .await;
            busy.set(false);
            match result {
                Ok(()) => refresh(),
                Err(e) => action_error.set(Some(e)),
            }
        });
    };
    let location = format!("{}:{}/{}", db.host, db.port, db.database);
    let badge = crate::ui::health_badge(&db.health, "db-health");
    view! {
        <tr data-testid="db-row" data-id=id.to_string()>
            <td>
                <div class="strong" data-testid="db-name">
                    {db.name.clone()}
                </div>
                {db.description.clone().map(|d| view! { <div class="muted small">{d}</div> })}
            </td>
            <td class="mono" title=db.masked_connection_string.clone()>
                {location}
            </td>
            <td class="mono">{db.username.clone()}</td>
            <td>{db.server_version.clone().unwrap_or_else(|| "—".into())}</td>
            <td>{badge}</td>
            <td class="actions">
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="db-test"
                    on:click=test
                    disabled=move || busy.get()
                >
                    "Test"
                </button>
                <button
                    type="button"
                    class="btn btn-small btn-danger"
                    data-testid="db-delete"
                    on:click=delete
                    disabled=move || busy.get()
                >
                    "Delete"
                </button>
            </td>
        </tr>
    }
}

fn test_result_view(result: Result<ConnectionTestResult, String>) -> impl IntoView {
    let (status, class, text) = match result {
        Ok(r) if r.ok => (
            "ok",
            "alert alert-ok",
            format!(
                "Connection OK \u{b7} PostgreSQL {} \u{b7} {} ms",
                r.server_version.as_deref().unwrap_or("(unknown version)"),
                r.latency_ms
            ),
        ),
        Ok(r) => (
            "failed",
            "alert alert-error",
            format!(
                "Connection failed{}: {}",
                r.error_kind.map(|k| format!(" ({k})")).unwrap_or_default(),
                r.message.as_deref().unwrap_or("no details")
            ),
        ),
        Err(e) => ("error", "alert alert-error", e),
    };
    view! {
        <div class=class role="status" data-testid="db-test-result" data-status=status>
            {text}
        </div>
    }
}

#[component]
fn AddDatabase(on_saved: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let session = use_session();
    let name = RwSignal::new(String::new());
    let conn = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let skip_test = RwSignal::new(false);
    let interval = RwSignal::new(String::new());
    let testing = RwSignal::new(false);
    let saving = RwSignal::new(false);
    let test_result = RwSignal::new(None::<Result<ConnectionTestResult, String>>);
    let error = RwSignal::new(None::<String>);

    // A test result belongs to the connection string it was made with.
    Effect::new(move |prev: Option<()>| {
        conn.track();
        if prev.is_some() {
            test_result.set(None);
        }
    });

    let run_test = move |_| {
        let cs = conn.get_untracked();
        if cs.trim().is_empty() {
            test_result.set(Some(Err("Enter a connection string first.".into())));
            return;
        }
        testing.set(true);
        test_result.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| {
                    let cs = cs.clone();
                    async move { c.test_connection(&cs).await }
                })
                .await;
            testing.set(false);
            // Only show it if the string was not changed meanwhile.
            if conn.get_untracked() == cs {
                test_result.set(Some(result));
            }
        });
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let desc = description.get_untracked().trim().to_string();
        let req = CreateDatabaseRequest {
            name: name.get_untracked().trim().to_string(),
            connection_string: conn.get_untracked().trim().to_string(),
            description: (!desc.is_empty()).then_some(desc),
            skip_connection_test: skip_test.get_untracked(),
            health_interval_secs: crate::ui::parse_interval(interval),
        };
        saving.set(true);
        error.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| {
                    let req = req.clone();
                    async move { c.create_database(&req).await }
                })
                .await;
            saving.set(false);
            match result {
                Ok(_) => {
                    name.set(String::new());
                    conn.set(String::new());
                    description.set(String::new());
                    skip_test.set(false);
                    interval.set(String::new());
                    test_result.set(None);
                    on_saved();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <section class="card">
            <h2>"Add a database"</h2>
            <form class="form-grid" on:submit=on_submit data-testid="db-add-form">
                <label class="field">
                    <span>"Name"</span>
                    <input
                        type="text"
                        required
                        maxlength="100"
                        placeholder="e.g. billing-production"
                        data-testid="db-add-name"
                        bind:value=name
                    />
                </label>
                <label class="field">
                    <span>"Description " <small class="muted">"(optional)"</small></span>
                    <input
                        type="text"
                        maxlength="1000"
                        data-testid="db-add-description"
                        bind:value=description
                    />
                </label>
                <label class="field span-2">
                    <span>"Connection string"</span>
                    <input
                        type="password"
                        required
                        maxlength="2048"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="postgres://user:password@host:5432/dbname"
                        data-testid="db-add-conn"
                        bind:value=conn
                    />
                    <small class="muted">
                        "Stored encrypted; pgward never shows it again, only host, port, database and user."
                    </small>
                </label>
                {crate::ui::health_interval_select(interval, "db-add-interval")}
                <div class="span-2">
                    {move || test_result.get().map(test_result_view)}
                    {error_banner(move || error.get())}
                </div>
                <div class="form-actions span-2">
                    <label class="checkbox">
                        <input type="checkbox" data-testid="db-add-skip-test" bind:checked=skip_test />
                        <span>"Skip connection test"</span>
                    </label>
                    <div class="spacer"></div>
                    <button
                        type="button"
                        class="btn"
                        data-testid="db-add-test"
                        on:click=run_test
                        disabled=move || testing.get()
                    >
                        {move || if testing.get() { "Testing…" } else { "Test connection" }}
                    </button>
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="db-add-submit"
                        disabled=move || saving.get()
                    >
                        {move || if saving.get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </form>
        </section>
    }
}
