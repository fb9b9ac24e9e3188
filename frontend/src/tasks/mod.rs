//! `/tasks`: backup tasks. The list with run now, edit, duplicate and delete; a form to create or edit a
//! task (database, destinations, cron schedule in a time zone, output, pg_dump options, limits and
//! retention); the next ten run times of the task in the form; and, under a row, the task's charts.

mod charts;
mod form;
mod list;
mod next_runs;

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use pgward_api_types::{NextRuns, Role, Task};
use uuid::Uuid;

use crate::parts::{Can, PageHeader, RefreshButton, RowActions, databases, destinations, tasks};
use crate::session::use_session;
use crate::ui::FieldErrors;

use form::TaskForm;

/// Everything the list, its rows and the form share.
#[derive(Clone, Copy)]
struct Page {
    actions: RowActions,
    form: TaskForm,
    /// The task in the form; `None` while creating a new one.
    editing: RwSignal<Option<Uuid>>,
    editing_name: RwSignal<String>,
    next_runs: RwSignal<Option<Result<NextRuns, String>>>,
    errors: FieldErrors,
    saved: RwSignal<bool>,
}

impl Page {
    fn load_next_runs(&self, id: Uuid) {
        let page = *self;
        page.next_runs.set(None);
        spawn_local(async move {
            let result = page
                .actions
                .session
                .call(|c| async move { c.task_next_runs(id).await })
                .await;
            // Only if the form still shows that task.
            if page.editing.get_untracked() == Some(id) {
                page.next_runs.set(Some(result));
            }
        });
    }

    /// The form shows `task` as the server has it now (after opening it or saving it).
    fn show(&self, task: &Task) {
        self.form.load(&task.spec);
        self.editing.set(Some(task.id));
        self.editing_name.set(task.spec.name.clone());
        self.load_next_runs(task.id);
    }

    fn edit(&self, task: &Task) {
        self.show(task);
        self.errors.clear();
        self.saved.set(false);
        scroll_to("task-editor");
    }

    fn new_task(&self) {
        self.form.reset();
        self.editing.set(None);
        self.editing_name.set(String::new());
        self.next_runs.set(None);
        self.errors.clear();
        self.saved.set(false);
    }
}

fn scroll_to(id: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    {
        el.scroll_into_view();
    }
}

#[component]
pub fn TasksPage() -> impl IntoView {
    let session = use_session();
    let page = Page {
        actions: RowActions::new(session),
        form: TaskForm::new(),
        editing: RwSignal::new(None),
        editing_name: RwSignal::new(String::new()),
        next_runs: RwSignal::new(None),
        errors: FieldErrors::new(),
        saved: RwSignal::new(false),
    };
    let tasks = tasks(session, Some(page.actions.reload));
    let databases = databases(session, None);
    let destinations = destinations(session, None);
    let db_names = Memo::new(move |_| {
        databases
            .get()
            .and_then(Result::ok)
            .map(|dbs| {
                dbs.into_iter()
                    .map(|d| (d.id, d.name))
                    .collect::<HashMap<_, _>>()
            })
            .unwrap_or_default()
    });

    view! {
        <PageHeader title="Backup tasks" intro="What to back up, where to, and when.">
            <div class="header-actions">
                <RefreshButton reload=page.actions.reload testid="task-refresh" />
                <Can role=Role::Operator>
                    <button
                        type="button"
                        class="btn btn-primary"
                        data-testid="task-new"
                        on:click=move |_| {
                            page.new_task();
                            scroll_to("task-editor");
                        }
                    >
                        "New task"
                    </button>
                </Can>
            </div>
        </PageHeader>
        {page.actions.error_banner()}
        {page.actions.note_banner("task-note")}
        {list::task_list(page, tasks, db_names)}
        // Viewers read the list; only operators edit.
        <Can role=Role::Operator>
            <div class="editor" id="task-editor">
                {form::task_form(page, databases, destinations)}
                {next_runs::next_runs_panel(page)}
            </div>
        </Can>
    }
}
