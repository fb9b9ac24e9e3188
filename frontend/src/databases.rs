//! `/databases`: the registered databases, a form to add one or edit one, and per-row test, edit and
//! delete.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use pgward_api_types::{
    ConnectionTestResult, CreateDatabaseRequest, Database, Role, UpdateDatabaseRequest,
};
use uuid::Uuid;

use crate::parts::{
    ACTIONS, AddOrEditHeader, Can, DeleteButton, Field, ListCard, Outcome, PageHeader,
    RefreshButton, RowActions, RowButton, TestAndSave, databases, save, table_of, test_outcome,
};
use crate::session::use_session;
use crate::ui::{error_banner, health_badge, health_interval_select, parse_interval};

/// Brings the form into view when a row opens it for editing.
pub(crate) fn scroll_to(id: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    {
        el.scroll_into_view();
    }
}

const COLUMNS: &[&str] = &["Name", "Location", "User", "Version", "Health", ACTIONS];

#[component]
pub fn DatabasesPage() -> impl IntoView {
    let actions = RowActions::new(use_session());
    let editing: Editing = RwSignal::new(None);
    let list = databases(actions.session, Some(actions.reload));
    let rows = table_of(list, COLUMNS, "db-table", move |db| {
        db_row(actions, editing, db)
    });

    view! {
        <PageHeader title="Databases" intro="PostgreSQL databases pgward knows how to reach.">
            <RefreshButton reload=actions.reload testid="db-refresh" />
        </PageHeader>
        {actions.error_banner()}
        <ListCard
            list
            rows
            loading="Loading databases…"
            empty_testid="db-empty"
            empty=|| "No databases yet. Add the first one below."
        />
        <Can role=Role::Operator>
            <DatabaseForm editing on_saved=move || actions.reload.bump() />
        </Can>
    }
}

fn db_row(actions: RowActions, editing: Editing, db: Database) -> impl IntoView {
    let id = db.id;
    let row = actions.row();
    let confirm = format!(
        "Delete the database \u{201c}{}\u{201d} from pgward? The database itself is not touched.",
        db.name
    );
    let test = row.reloading(move |c| async move { c.test_database(id).await });
    let delete = row.reloading(move |c| async move { c.delete_database(id).await });
    let location = format!("{}:{}/{}", db.host, db.port, db.database);
    let stored = db.clone();
    let edit = move || {
        editing.set(Some(stored.clone()));
        scroll_to("db-form");
    };
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
            <td>{health_badge(&db.health, "db-health")}</td>
            <td class="actions">
                <Can role=Role::Operator>
                    // The outcome is recorded in the database's health; the reload shows it.
                    <RowButton testid="db-test" disabled=row.busy on_click=test>
                        "Test"
                    </RowButton>
                    <RowButton testid="db-edit" disabled=row.busy on_click=edit.clone()>
                        "Edit"
                    </RowButton>
                    <DeleteButton testid="db-delete" confirm=confirm.clone() disabled=row.busy on_click=delete />
                </Can>
            </td>
        </tr>
    }
}

fn test_result_view(result: Result<ConnectionTestResult, String>) -> impl IntoView {
    let outcome = match result {
        Ok(r) if r.ok => Outcome::Passed(format!(
            "Connection OK \u{b7} PostgreSQL {} \u{b7} {} ms",
            r.server_version.as_deref().unwrap_or("(unknown version)"),
            r.latency_ms
        )),
        Ok(r) => Outcome::Failed(format!(
            "Connection failed{}: {}",
            r.error_kind.map(|k| format!(" ({k})")).unwrap_or_default(),
            r.message.as_deref().unwrap_or("no details")
        )),
        Err(e) => Outcome::Error(e),
    };
    test_outcome("db-test-result", outcome)
}

/// The database the form edits (`None`: it adds a new one). Rows set it; the form reads it.
type Editing = RwSignal<Option<Database>>;

/// The form that adds a database, or edits the one in `editing` with the same fields.
#[component]
fn DatabaseForm(
    editing: Editing,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
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
    let edit_id = Memo::new(move |_| editing.with(|e| e.as_ref().map(|d| d.id)));

    let clear = move || {
        for s in [name, conn, description, interval] {
            s.set(String::new());
        }
        skip_test.set(false);
        test_result.set(None);
        error.set(None);
    };
    // Opening a database for editing fills the form with what is stored; the connection string is
    // never returned by the API, so it starts blank and a blank one keeps the stored value.
    Effect::new(move || {
        let Some(db) = editing.get() else { return };
        clear();
        name.set(db.name.clone());
        description.set(db.description.clone().unwrap_or_default());
        interval.set(
            db.health
                .interval_secs
                .map(|s| s.to_string())
                .unwrap_or_default(),
        );
    });
    let stop_editing = move || {
        editing.set(None);
        clear();
    };

    // A test result belongs to the connection string it was made with.
    Effect::new(move |prev: Option<()>| {
        conn.track();
        if prev.is_some() {
            test_result.set(None);
        }
    });

    let run_test = move || {
        let cs = conn.get_untracked().trim().to_string();
        let saved = edit_id.get_untracked();
        if cs.is_empty() && saved.is_none() {
            test_result.set(Some(Err("Enter a connection string first.".into())));
            return;
        }
        test_result.set(None);
        let tested = conn.get_untracked();
        save(
            session,
            testing,
            (cs, saved),
            // Editing with the string left blank tests the stored one.
            |c, (cs, saved)| async move {
                match saved.filter(|_| cs.is_empty()) {
                    Some(id) => c.test_database(id).await,
                    None => c.test_connection(&cs).await,
                }
            },
            move |result| {
                // Only show it if the string was not changed meanwhile.
                if conn.get_untracked() == tested {
                    test_result.set(Some(result.map_err(|f| f.message)));
                }
            },
        );
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let desc = description.get_untracked().trim().to_string();
        let cs = conn.get_untracked().trim().to_string();
        let req = match edit_id.get_untracked() {
            None => Save::Create(CreateDatabaseRequest {
                name: name.get_untracked().trim().to_string(),
                connection_string: cs,
                description: (!desc.is_empty()).then_some(desc),
                skip_connection_test: skip_test.get_untracked(),
                health_interval_secs: parse_interval(interval),
            }),
            Some(id) => Save::Update(
                id,
                UpdateDatabaseRequest {
                    name: Some(name.get_untracked().trim().to_string()),
                    connection_string: (!cs.is_empty()).then_some(cs),
                    // An empty description clears the stored one.
                    description: Some(desc),
                    skip_connection_test: skip_test.get_untracked(),
                    // `Some(None)` goes back to the server's default.
                    health_interval_secs: Some(parse_interval(interval)),
                },
            ),
        };
        error.set(None);
        save(
            session,
            saving,
            req,
            |c, req| async move {
                match req {
                    Save::Create(req) => c.create_database(&req).await,
                    Save::Update(id, req) => c.update_database(id, &req).await,
                }
            },
            move |result| match result {
                Ok(_) => {
                    stop_editing();
                    on_saved();
                }
                Err(f) => error.set(Some(f.message)),
            },
        );
    };

    let is_editing = move || edit_id.get().is_some();
    view! {
        <section class="card" id="db-form">
            <AddOrEditHeader
                noun="database"
                name=Signal::derive(move || editing.get().map(|db| db.name))
                editing=Signal::derive(is_editing)
                prefix="db"
                on_cancel=stop_editing
            />
            <form
                class="form-grid"
                on:submit=on_submit
                data-testid="db-add-form"
                data-mode=move || if is_editing() { "edit" } else { "add" }
            >
                <Field label="Name">
                    <input
                        type="text"
                        required
                        maxlength="100"
                        placeholder="e.g. billing-production"
                        data-testid="db-add-name"
                        bind:value=name
                    />
                </Field>
                <Field label="Description " note="(optional)">
                    <input
                        type="text"
                        maxlength="1000"
                        data-testid="db-add-description"
                        bind:value=description
                    />
                </Field>
                <Field label="Connection string" wide=true>
                    <input
                        type="password"
                        required=move || !is_editing()
                        maxlength="2048"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder=move || {
                            if is_editing() {
                                "leave blank to keep the stored value"
                            } else {
                                "postgres://user:password@host:5432/dbname"
                            }
                        }
                        data-testid="db-add-conn"
                        bind:value=conn
                    />
                    <small class="muted">
                        {move || match editing.get() {
                            Some(db) => format!(
                                "Leave blank to keep the stored value ({}). Stored encrypted; pgward never shows it again.",
                                db.masked_connection_string,
                            ),
                            None => "Stored encrypted; pgward never shows it again, only host, port, database and user.".to_string(),
                        }}
                    </small>
                </Field>
                {health_interval_select(interval, "db-add-interval")}
                <div class="span-2">
                    {move || test_result.get().map(test_result_view)}
                    {error_banner(move || error.get())}
                </div>
                <TestAndSave
                    skip=skip_test
                    skip_label="Skip connection test"
                    testing
                    test_label="Test connection"
                    on_test=run_test
                    saving
                    testids=["db-add-skip-test", "db-add-test", "db-add-submit"]
                />
            </form>
        </section>
    }
}

/// What the form's Save sends.
#[derive(Clone)]
enum Save {
    Create(CreateDatabaseRequest),
    Update(Uuid, UpdateDatabaseRequest),
}
