//! `/tasks`: backup tasks. The list with run now, edit, duplicate and delete; a form to create or edit a
//! task (database, destinations, cron schedule in a time zone, output, pg_dump options, limits and
//! retention); and the next ten run times of the task in the form.

use std::collections::{BTreeMap, HashMap};

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use pgward_api_types::{
    BackupFormat, CompressionAlgorithm, GfsPolicy, NextRuns, PgDumpOptions, RetentionPolicy, Task,
    TaskSpec, UpdateTaskRequest, VerificationPolicy,
};
use uuid::Uuid;

use crate::databases::fetch_all;
use crate::session::{Failure, Session, use_session};
use crate::ui::{
    FieldErrors, browser_timezone, confirm, error_banner, failure_banner, field_error,
    format_local, text_field,
};

/// Suggestions for the time-zone input; any IANA name is accepted.
const TIMEZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/Copenhagen",
    "Europe/Oslo",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/Athens",
    "Europe/Istanbul",
    "Europe/Kyiv",
    "Europe/Moscow",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Phoenix",
    "America/Denver",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
];

/// The form's inputs, as the user typed them; `spec()` turns them into what the API takes.
#[derive(Clone, Copy)]
struct TaskForm {
    name: RwSignal<String>,
    database_id: RwSignal<String>,
    destination_ids: RwSignal<Vec<Uuid>>,
    schedule: RwSignal<String>,
    timezone: RwSignal<String>,
    active: RwSignal<bool>,
    format: RwSignal<String>,
    jobs: RwSignal<String>,
    verify_schedule: RwSignal<String>,
    test_restore: RwSignal<bool>,
    test_restore_db: RwSignal<String>,
    test_restore_after: RwSignal<bool>,
    test_restore_schedule: RwSignal<String>,
    compression: RwSignal<String>,
    level: RwSignal<String>,
    recipients: RwSignal<String>,
    include_globals: RwSignal<bool>,
    data_only: RwSignal<bool>,
    schema_only: RwSignal<bool>,
    clean: RwSignal<bool>,
    if_exists: RwSignal<bool>,
    create: RwSignal<bool>,
    no_comments: RwSignal<bool>,
    no_owner: RwSignal<bool>,
    no_privileges: RwSignal<bool>,
    schemas: RwSignal<String>,
    exclude_schemas: RwSignal<String>,
    tables: RwSignal<String>,
    exclude_tables: RwSignal<String>,
    timeout: RwSignal<String>,
    stall: RwSignal<String>,
    anomaly: RwSignal<String>,
    keep_days: RwSignal<String>,
    keep_last: RwSignal<String>,
    gfs: RwSignal<bool>,
    daily: RwSignal<String>,
    weekly: RwSignal<String>,
    monthly: RwSignal<String>,
    yearly: RwSignal<String>,
}

fn s() -> RwSignal<String> {
    RwSignal::new(String::new())
}

fn b() -> RwSignal<bool> {
    RwSignal::new(false)
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn opt_num(n: Option<impl ToString>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

fn format_str(f: BackupFormat) -> &'static str {
    match f {
        BackupFormat::Custom => "custom",
        BackupFormat::Plain => "plain",
        BackupFormat::Directory => "directory",
    }
}

fn compression_str(c: CompressionAlgorithm) -> &'static str {
    match c {
        CompressionAlgorithm::Zstd => "zstd",
        CompressionAlgorithm::Gzip => "gzip",
        CompressionAlgorithm::Lz4 => "lz4",
        CompressionAlgorithm::None => "none",
    }
}

/// Parses the inputs, collecting per-field messages under the API's field names.
struct Parser(BTreeMap<String, String>);

impl Parser {
    fn number<T: std::str::FromStr>(&mut self, key: &str, text: &str) -> Option<T> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        match text.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.0
                    .entry(key.into())
                    .or_insert_with(|| "must be a whole number".into());
                None
            }
        }
    }
}

impl TaskForm {
    fn new() -> Self {
        let form = Self {
            name: s(),
            database_id: s(),
            destination_ids: RwSignal::new(Vec::new()),
            schedule: s(),
            timezone: s(),
            active: b(),
            format: s(),
            jobs: s(),
            verify_schedule: s(),
            test_restore: b(),
            test_restore_db: s(),
            test_restore_after: b(),
            test_restore_schedule: s(),
            compression: s(),
            level: s(),
            recipients: s(),
            include_globals: b(),
            data_only: b(),
            schema_only: b(),
            clean: b(),
            if_exists: b(),
            create: b(),
            no_comments: b(),
            no_owner: b(),
            no_privileges: b(),
            schemas: s(),
            exclude_schemas: s(),
            tables: s(),
            exclude_tables: s(),
            timeout: s(),
            stall: s(),
            anomaly: s(),
            keep_days: s(),
            keep_last: s(),
            gfs: b(),
            daily: s(),
            weekly: s(),
            monthly: s(),
            yearly: s(),
        };
        form.reset();
        form
    }

    /// Defaults for a new task: daily at 02:30 in the browser's time zone, the API's other defaults.
    fn reset(&self) {
        self.load(&TaskSpec {
            name: String::new(),
            database_id: Uuid::nil(),
            destination_ids: Vec::new(),
            schedule: "30 2 * * *".into(),
            timezone: browser_timezone(),
            active: true,
            format: BackupFormat::default(),
            parallel_jobs: 1,
            compression: CompressionAlgorithm::default(),
            compression_level: None,
            encryption_recipients: Vec::new(),
            pg_dump_options: PgDumpOptions::default(),
            include_globals: false,
            timeout_minutes: None,
            stall_timeout_minutes: None,
            retention: RetentionPolicy::default(),
            verification: VerificationPolicy::default(),
            anomaly_threshold_percent: None,
        });
        self.database_id.set(String::new());
    }

    fn load(&self, spec: &TaskSpec) {
        self.name.set(spec.name.clone());
        self.database_id.set(spec.database_id.to_string());
        self.destination_ids.set(spec.destination_ids.clone());
        self.schedule.set(spec.schedule.clone());
        self.timezone.set(spec.timezone.clone());
        self.active.set(spec.active);
        self.format.set(format_str(spec.format).into());
        self.jobs.set(spec.parallel_jobs.to_string());
        let v = &spec.verification;
        self.verify_schedule
            .set(v.verify_schedule.clone().unwrap_or_default());
        self.test_restore.set(v.test_restore);
        self.test_restore_db.set(
            v.test_restore_database_id
                .map(|d| d.to_string())
                .unwrap_or_default(),
        );
        self.test_restore_after.set(v.test_restore_after_backup);
        self.test_restore_schedule
            .set(v.test_restore_schedule.clone().unwrap_or_default());
        self.compression
            .set(compression_str(spec.compression).into());
        self.level.set(opt_num(spec.compression_level));
        self.recipients.set(spec.encryption_recipients.join("\n"));
        self.include_globals.set(spec.include_globals);
        let o = &spec.pg_dump_options;
        self.data_only.set(o.data_only);
        self.schema_only.set(o.schema_only);
        self.clean.set(o.clean);
        self.if_exists.set(o.if_exists);
        self.create.set(o.create);
        self.no_comments.set(o.no_comments);
        self.no_owner.set(o.no_owner);
        self.no_privileges.set(o.no_privileges);
        self.schemas.set(o.schemas.join("\n"));
        self.exclude_schemas.set(o.exclude_schemas.join("\n"));
        self.tables.set(o.tables.join("\n"));
        self.exclude_tables.set(o.exclude_tables.join("\n"));
        self.timeout.set(opt_num(spec.timeout_minutes));
        self.stall.set(opt_num(spec.stall_timeout_minutes));
        self.anomaly.set(opt_num(spec.anomaly_threshold_percent));
        let r = &spec.retention;
        self.keep_days.set(opt_num(r.keep_days));
        self.keep_last.set(r.keep_last.to_string());
        self.gfs.set(r.gfs.is_some());
        let g = r.gfs.clone().unwrap_or_default();
        self.daily.set(g.daily.to_string());
        self.weekly.set(g.weekly.to_string());
        self.monthly.set(g.monthly.to_string());
        self.yearly.set(g.yearly.to_string());
    }

    fn spec(&self) -> Result<TaskSpec, BTreeMap<String, String>> {
        let mut p = Parser(BTreeMap::new());
        let database_id = match Uuid::parse_str(&self.database_id.get_untracked()) {
            Ok(id) if !id.is_nil() => id,
            _ => {
                p.0.insert("database_id".into(), "choose a database".into());
                Uuid::nil()
            }
        };
        let destination_ids = self.destination_ids.get_untracked();
        if destination_ids.is_empty() {
            p.0.insert(
                "destination_ids".into(),
                "choose at least one destination".into(),
            );
        }
        let format = match self.format.get_untracked().as_str() {
            "plain" => BackupFormat::Plain,
            "directory" => BackupFormat::Directory,
            _ => BackupFormat::Custom,
        };
        // Only the directory format dumps in parallel; the other formats always take one job.
        let parallel_jobs = if format == BackupFormat::Directory {
            p.number("parallel_jobs", &self.jobs.get_untracked())
                .unwrap_or(1)
        } else {
            1
        };
        let compression = match self.compression.get_untracked().as_str() {
            "gzip" => CompressionAlgorithm::Gzip,
            "lz4" => CompressionAlgorithm::Lz4,
            "none" => CompressionAlgorithm::None,
            _ => CompressionAlgorithm::Zstd,
        };
        let compression_level = if takes_level(&self.compression.get_untracked()) {
            p.number("compression_level", &self.level.get_untracked())
        } else {
            None
        };
        let keep_last = p
            .number("retention.keep_last", &self.keep_last.get_untracked())
            .unwrap_or_else(|| {
                p.0.entry("retention.keep_last".into())
                    .or_insert_with(|| "required".into());
                0
            });
        let gfs = if self.gfs.get_untracked() {
            let mut count = |key: &str, sig: RwSignal<String>| {
                p.number::<u32>(key, &sig.get_untracked()).unwrap_or(0)
            };
            Some(GfsPolicy {
                daily: count("retention.gfs", self.daily),
                weekly: count("retention.gfs", self.weekly),
                monthly: count("retention.gfs", self.monthly),
                yearly: count("retention.gfs", self.yearly),
            })
        } else {
            None
        };
        let spec = TaskSpec {
            name: self.name.get_untracked().trim().to_string(),
            database_id,
            destination_ids,
            schedule: self.schedule.get_untracked().trim().to_string(),
            timezone: self.timezone.get_untracked().trim().to_string(),
            active: self.active.get_untracked(),
            format,
            parallel_jobs,
            compression,
            compression_level,
            encryption_recipients: lines(&self.recipients.get_untracked()),
            pg_dump_options: PgDumpOptions {
                data_only: self.data_only.get_untracked(),
                schema_only: self.schema_only.get_untracked(),
                clean: self.clean.get_untracked(),
                if_exists: self.if_exists.get_untracked(),
                create: self.create.get_untracked(),
                no_comments: self.no_comments.get_untracked(),
                no_owner: self.no_owner.get_untracked(),
                no_privileges: self.no_privileges.get_untracked(),
                schemas: lines(&self.schemas.get_untracked()),
                exclude_schemas: lines(&self.exclude_schemas.get_untracked()),
                tables: lines(&self.tables.get_untracked()),
                exclude_tables: lines(&self.exclude_tables.get_untracked()),
            },
            include_globals: self.include_globals.get_untracked(),
            timeout_minutes: p.number("timeout_minutes", &self.timeout.get_untracked()),
            stall_timeout_minutes: p.number("stall_timeout_minutes", &self.stall.get_untracked()),
            anomaly_threshold_percent: p
                .number("anomaly_threshold_percent", &self.anomaly.get_untracked()),
            retention: RetentionPolicy {
                keep_days: p.number("retention.keep_days", &self.keep_days.get_untracked()),
                keep_last,
                gfs,
            },
            verification: VerificationPolicy {
                verify_schedule: opt_text(&self.verify_schedule.get_untracked()),
                test_restore: self.test_restore.get_untracked(),
                test_restore_database_id: Uuid::parse_str(
                    self.test_restore_db.get_untracked().trim(),
                )
                .ok(),
                test_restore_after_backup: self.test_restore_after.get_untracked(),
                test_restore_schedule: opt_text(&self.test_restore_schedule.get_untracked()),
            },
        };
        if p.0.is_empty() { Ok(spec) } else { Err(p.0) }
    }
}

/// "verified ✓ / ✗" with the time as a tooltip; nothing when it never happened.
fn proof_badge(
    label: &'static str,
    ok: Option<bool>,
    at: Option<chrono::DateTime<chrono::Utc>>,
    testid: &'static str,
) -> impl IntoView {
    let title = format!("last: {}", crate::ui::format_time(at.as_ref()));
    ok.map(|ok| {
        let (class, mark) = if ok {
            ("badge badge-ok", "✓")
        } else {
            ("badge badge-bad", "✗")
        };
        view! {
            <span class=class data-testid=testid data-ok=ok.to_string() title=title>
                {format!("{label} {mark}")}
            </span>
        }
    })
}

/// `None` for an empty (or blank) input.
fn opt_text(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

fn takes_level(compression: &str) -> bool {
    matches!(compression, "zstd" | "gzip")
}

/// A success message of a row action, with an optional link (label, href).
type Note = (String, Option<(String, String)>);

/// Everything the list, its rows and the form share.
#[derive(Clone, Copy)]
struct Page {
    session: Session,
    form: TaskForm,
    /// The task in the form; `None` while creating a new one.
    editing: RwSignal<Option<Uuid>>,
    editing_name: RwSignal<String>,
    next_runs: RwSignal<Option<Result<NextRuns, String>>>,
    reload: RwSignal<u32>,
    note: RwSignal<Option<Note>>,
    action_error: RwSignal<Option<String>>,
    failure: RwSignal<Option<Failure>>,
    errors: FieldErrors,
    saved: RwSignal<bool>,
}

impl Page {
    fn refresh(&self) {
        self.reload.update(|n| *n = n.wrapping_add(1));
    }

    fn load_next_runs(&self, id: Uuid) {
        let page = *self;
        page.next_runs.set(None);
        spawn_local(async move {
            let result = page
                .session
                .call(|c| async move { c.task_next_runs(id).await })
                .await;
            // Only if the form still shows that task.
            if page.editing.get_untracked() == Some(id) {
                page.next_runs.set(Some(result));
            }
        });
    }

    fn edit(&self, task: &Task) {
        self.form.load(&task.spec);
        self.editing.set(Some(task.id));
        self.editing_name.set(task.spec.name.clone());
        self.failure.set(None);
        self.errors.set(BTreeMap::new());
        self.saved.set(false);
        self.load_next_runs(task.id);
        scroll_to("task-editor");
    }

    fn new_task(&self) {
        self.form.reset();
        self.editing.set(None);
        self.editing_name.set(String::new());
        self.next_runs.set(None);
        self.failure.set(None);
        self.errors.set(BTreeMap::new());
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
        session,
        form: TaskForm::new(),
        editing: RwSignal::new(None),
        editing_name: RwSignal::new(String::new()),
        next_runs: RwSignal::new(None),
        reload: RwSignal::new(0),
        note: RwSignal::new(None),
        action_error: RwSignal::new(None),
        failure: RwSignal::new(None),
        errors: RwSignal::new(BTreeMap::new()),
        saved: RwSignal::new(false),
    };
    let tasks = LocalResource::new(move || {
        page.reload.track();
        session.call(|c| async move { c.list_tasks().await.map(|l| l.items) })
    });
    let databases = LocalResource::new(move || fetch_all(session));
    let destinations = LocalResource::new(move || {
        session.call(|c| async move { c.list_destinations().await.map(|l| l.items) })
    });
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
        <div class="page-header">
            <div>
                <h1>"Backup tasks"</h1>
                <p class="muted">"What to back up, where to, and when."</p>
            </div>
            <div class="header-actions">
                <button
                    type="button"
                    class="btn"
                    data-testid="task-refresh"
                    on:click=move |_| page.refresh()
                >
                    "Refresh"
                </button>
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
            </div>
        </div>
        {error_banner(move || page.action_error.get())}
        {move || {
            page.note
                .get()
                .map(|(text, link)| {
                    view! {
                        <div class="alert alert-ok" role="status" data-testid="task-note">
                            {text}
                            {link
                                .map(|(label, href)| {
                                    view! {
                                        " "
                                        <a href=href data-testid="task-note-link">
                                            {label}
                                        </a>
                                    }
                                })}
                        </div>
                    }
                })
        }}
        <section class="card">
            {move || match tasks.get() {
                None => view! { <p class="muted pad">"Loading tasks…"</p> }.into_any(),
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
                        <p class="empty" data-testid="task-empty">
                            "No backup tasks yet. Create the first one below."
                        </p>
                    }
                        .into_any()
                }
                Some(Ok(items)) => {
                    view! {
                        <table class="table" data-testid="task-table">
                            <thead>
                                <tr>
                                    <th>"Name"</th>
                                    <th>"Database"</th>
                                    <th>"Schedule"</th>
                                    <th>"Next run"</th>
                                    <th>"Status"</th>
                                    <th class="actions">"Actions"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {items
                                    .into_iter()
                                    .map(|t| task_row(page, t, db_names))
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any()
                }
            }}
        </section>
        <div class="editor" id="task-editor">
            {task_form(page, databases, destinations)}
            {next_runs_panel(page)}
        </div>
    }
}

fn task_row(page: Page, task: Task, db_names: Memo<HashMap<Uuid, String>>) -> impl IntoView {
    let id = task.id;
    let busy = RwSignal::new(false);
    let session = page.session;
    let name = task.spec.name.clone();
    let db_id = task.spec.database_id;

    let run_name = name.clone();
    let run = move |_| {
        busy.set(true);
        page.action_error.set(None);
        page.note.set(None);
        let name = run_name.clone();
        spawn_local(async move {
            let result = session.call(|c| async move { c.run_task(id).await }).await;
            busy.set(false);
            match result {
                Ok(_) => page.note.set(Some((
                    format!("A backup of \u{201c}{name}\u{201d} is queued."),
                    Some((
                        "Follow it in Executions".into(),
                        format!("/executions?task_id={id}"),
                    )),
                ))),
                Err(e) => page.action_error.set(Some(e)),
            }
        });
    };
    let edit_task = task.clone();
    let edit = move |_| page.edit(&edit_task);
    let duplicate = move |_| {
        busy.set(true);
        page.action_error.set(None);
        page.note.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.duplicate_task(id).await })
                .await;
            busy.set(false);
            match result {
                Ok(copy) => {
                    page.note.set(Some((
                        format!(
                            "Created \u{201c}{}\u{201d}. It is inactive until you activate it.",
                            copy.spec.name
                        ),
                        None,
                    )));
                    page.refresh();
                }
                Err(e) => page.action_error.set(Some(e)),
            }
        });
    };
    let delete_name = name.clone();
    let delete = move |_| {
        if !confirm(&format!(
            "Delete the task \u{201c}{delete_name}\u{201d}? Its past executions and stored backups stay."
        )) {
            return;
        }
        busy.set(true);
        page.action_error.set(None);
        page.note.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.delete_task(id).await })
                .await;
            busy.set(false);
            match result {
                Ok(()) => {
                    if page.editing.get_untracked() == Some(id) {
                        page.new_task();
                    }
                    page.refresh();
                }
                Err(e) => page.action_error.set(Some(e)),
            }
        });
    };

    let next = task
        .next_run_at
        .as_ref()
        .map(format_local)
        .unwrap_or_else(|| "—".into());
    let (status_class, status_text) = if task.spec.active {
        ("badge badge-ok", "active")
    } else {
        ("badge", "paused")
    };
    let destinations = task.spec.destination_ids.len();
    view! {
        <tr
            data-testid="task-row"
            data-id=id.to_string()
            class:selected=move || page.editing.get() == Some(id)
        >
            <td>
                <div class="strong" data-testid="task-name">
                    {name.clone()}
                </div>
                <div class="muted small">
                    {format!(
                        "{} \u{b7} {} destination{}",
                        compression_str(task.spec.compression),
                        destinations,
                        if destinations == 1 { "" } else { "s" },
                    )}
                </div>
            </td>
            <td data-testid="task-database">
                {move || {
                    db_names.with(|m| m.get(&db_id).cloned()).unwrap_or_else(|| "—".into())
                }}
            </td>
            <td>
                <div class="mono" data-testid="task-schedule">
                    {task.spec.schedule.clone()}
                </div>
                <div class="muted small" data-testid="task-timezone">
                    {task.spec.timezone.clone()}
                </div>
            </td>
            <td class="nowrap" data-testid="task-next-run">
                {next}
            </td>
            <td>
                <span class=status_class data-testid="task-active">
                    {status_text}
                </span>
                <div class="small">
                    {proof_badge("verified", task.last_verify_ok, task.last_verified_at, "task-verified")}
                    " "
                    {proof_badge(
                        "test-restored",
                        task.last_test_restore_ok,
                        task.last_test_restored_at,
                        "task-test-restored",
                    )}
                </div>
            </td>
            <td class="actions">
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="task-run"
                    on:click=run
                    disabled=move || busy.get()
                >
                    "Run now"
                </button>
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="task-edit"
                    on:click=edit
                    disabled=move || busy.get()
                >
                    "Edit"
                </button>
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="task-duplicate"
                    on:click=duplicate
                    disabled=move || busy.get()
                >
                    "Duplicate"
                </button>
                <button
                    type="button"
                    class="btn btn-small btn-danger"
                    data-testid="task-delete"
                    on:click=delete
                    disabled=move || busy.get()
                >
                    "Delete"
                </button>
            </td>
        </tr>
    }
}

fn check(label: &'static str, value: RwSignal<bool>, testid: &'static str) -> impl IntoView {
    view! {
        <label class="checkbox">
            <input type="checkbox" data-testid=testid bind:checked=value />
            <span>{label}</span>
        </label>
    }
}

fn lines_field(
    label: &'static str,
    value: RwSignal<String>,
    testid: &'static str,
    placeholder: &'static str,
    errors: FieldErrors,
    key: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <textarea
                rows="3"
                spellcheck="false"
                placeholder=placeholder
                data-testid=testid
                class:invalid=move || errors.with(|e| e.contains_key(key))
                bind:value=value
            ></textarea>
            {field_error(errors, key)}
        </label>
    }
}

type DbResource = LocalResource<Result<Vec<pgward_api_types::Database>, String>>;
type DestResource = LocalResource<Result<Vec<pgward_api_types::Destination>, String>>;

fn database_select(page: Page, databases: DbResource) -> impl IntoView {
    let form = page.form;
    let errors = page.errors;
    view! {
        <label class="field">
            <span>"Database"</span>
            <select
                data-testid="task-form-database"
                class:invalid=move || errors.with(|e| e.contains_key("database_id"))
                bind:value=form.database_id
            >
                <option value="">"Choose a database…"</option>
                {move || {
                    databases
                        .get()
                        .and_then(Result::ok)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|d| {
                            let id = d.id.to_string();
                            let value = id.clone();
                            view! {
                                <option
                                    value=value
                                    prop:selected=move || form.database_id.with(|v| *v == id)
                                >
                                    {d.name}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
            {field_error(errors, "database_id")}
        </label>
    }
}

fn destination_checks(page: Page, destinations: DestResource) -> impl IntoView {
    let form = page.form;
    let errors = page.errors;
    view! {
        <div class="field span-2">
            <span>"Destinations"</span>
            <div class="check-list" data-testid="task-form-destinations">
                {move || match destinations.get() {
                    None => view! { <span class="muted">"Loading…"</span> }.into_any(),
                    Some(Err(e)) => view! { <span class="field-error">{e}</span> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => {
                        view! {
                            <span class="muted">
                                "No destinations yet. " <a href="/destinations">"Add one first"</a>
                                "."
                            </span>
                        }
                            .into_any()
                    }
                    Some(Ok(list)) => {
                        list.into_iter()
                            .map(|d| {
                                let id = d.id;
                                view! {
                                    <label class="checkbox">
                                        <input
                                            type="checkbox"
                                            data-testid="task-dest-option"
                                            data-name=d.name.clone()
                                            prop:checked=move || {
                                                form.destination_ids.with(|v| v.contains(&id))
                                            }
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                form.destination_ids
                                                    .update(|v| {
                                                        v.retain(|x| *x != id);
                                                        if on {
                                                            v.push(id);
                                                        }
                                                    });
                                            }
                                        />
                                        <span>{d.name.clone()}</span>
                                        <small class="muted">
                                            {crate::destinations::kind_label(d.config.kind())}
                                        </small>
                                    </label>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }
                }}
            </div>
            <small class="muted">"Each backup is written to every selected destination."</small>
            {field_error(errors, "destination_ids")}
        </div>
    }
}

fn task_form(page: Page, databases: DbResource, destinations: DestResource) -> impl IntoView {
    let form = page.form;
    let errors = page.errors;
    let saving = RwSignal::new(false);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        page.saved.set(false);
        let spec = match form.spec() {
            Ok(spec) => spec,
            Err(fields) => {
                page.errors.set(fields.clone());
                page.failure.set(Some(Failure {
                    message: "Please correct the marked fields.".into(),
                    fields,
                }));
                return;
            }
        };
        let editing = page.editing.get_untracked();
        saving.set(true);
        page.failure.set(None);
        page.errors.set(BTreeMap::new());
        spawn_local(async move {
            let result = page
                .session
                .call_detailed(|c| {
                    let spec = spec.clone();
                    async move {
                        match editing {
                            None => c.create_task(&spec).await,
                            Some(id) => c.update_task(id, &update_request(spec)).await,
                        }
                    }
                })
                .await;
            saving.set(false);
            match result {
                Ok(task) => {
                    form.load(&task.spec);
                    page.editing.set(Some(task.id));
                    page.editing_name.set(task.spec.name.clone());
                    page.saved.set(true);
                    page.refresh();
                    page.load_next_runs(task.id);
                }
                Err(f) => {
                    page.errors.set(f.fields.clone());
                    page.failure.set(Some(f));
                }
            }
        });
    };

    let level_placeholder = move || match form.compression.get().as_str() {
        "zstd" => "3",
        "gzip" => "6",
        _ => "—",
    };

    view! {
        <section class="card editor-main">
            <div class="card-header">
                <h2 data-testid="task-form-title">
                    {move || match page.editing.get() {
                        None => "New backup task".to_string(),
                        Some(_) => format!("Edit \u{201c}{}\u{201d}", page.editing_name.get()),
                    }}
                </h2>
                {move || {
                    page.editing
                        .get()
                        .map(|_| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn-small"
                                    data-testid="task-form-new"
                                    on:click=move |_| page.new_task()
                                >
                                    "Start a new task"
                                </button>
                            }
                        })
                }}
            </div>
            <form class="form-grid" on:submit=on_submit data-testid="task-form">
                <h3 class="form-section span-2">"What"</h3>
                {text_field(
                    "Name",
                    "text",
                    form.name,
                    "task-form-name",
                    "e.g. billing nightly",
                    errors,
                    "name",
                )}
                {database_select(page, databases)}
                {destination_checks(page, destinations)}

                <h3 class="form-section span-2">"When"</h3>
                <label class="field">
                    <span>"Schedule (cron)"</span>
                    <input
                        type="text"
                        class="mono"
                        spellcheck="false"
                        placeholder="30 2 * * *"
                        data-testid="task-form-schedule"
                        class:invalid=move || errors.with(|e| e.contains_key("schedule"))
                        bind:value=form.schedule
                    />
                    <small class="muted">
                        "minute hour day-of-month month day-of-week, or @hourly, @daily, @weekly, @monthly"
                    </small>
                    {field_error(errors, "schedule")}
                </label>
                <label class="field">
                    <span>"Time zone"</span>
                    <input
                        type="text"
                        list="pgward-timezones"
                        spellcheck="false"
                        placeholder="UTC"
                        data-testid="task-form-timezone"
                        class:invalid=move || errors.with(|e| e.contains_key("timezone"))
                        bind:value=form.timezone
                    />
                    <datalist id="pgward-timezones">
                        {TIMEZONES.iter().map(|tz| view! { <option value=*tz></option> }).collect_view()}
                    </datalist>
                    <small class="muted">"IANA name; the schedule follows its daylight-saving changes."</small>
                    {field_error(errors, "timezone")}
                </label>
                <div class="span-2 checks">
                    {check("Active (run on schedule)", form.active, "task-form-active")}
                </div>

                <h3 class="form-section span-2">"Output"</h3>
                <label class="field">
                    <span>"Format"</span>
                    <select data-testid="task-form-format" bind:value=form.format>
                        <option value="custom">"Custom archive (pg_restore)"</option>
                        <option value="plain">"Plain SQL (psql)"</option>
                        <option value="directory">"Directory archive, parallel (pg_restore -j)"</option>
                    </select>
                </label>
                <Show when=move || form.format.get() == "directory">
                    <label class="field">
                        <span>"Parallel jobs " <small class="muted">"(1-16)"</small></span>
                        <input
                            type="number"
                            min="1"
                            max="16"
                            data-testid="task-form-jobs"
                            class:invalid=move || errors.with(|e| e.contains_key("parallel_jobs"))
                            bind:value=form.jobs
                        />
                        {field_error(errors, "parallel_jobs")}
                    </label>
                </Show>
                <div class="field-row">
                    <label class="field">
                        <span>"Compression"</span>
                        <select
                            data-testid="task-form-compression"
                            bind:value=form.compression
                            on:change=move |ev| {
                                if !takes_level(&event_target_value(&ev)) {
                                    form.level.set(String::new());
                                }
                            }
                        >
                            <option value="zstd">"zstd"</option>
                            <option value="gzip">"gzip"</option>
                            <option value="lz4">"lz4"</option>
                            <option value="none">"none"</option>
                        </select>
                    </label>
                    <label class="field">
                        <span>
                            "Level "
                            <small class="muted">
                                {move || match form.compression.get().as_str() {
                                    "zstd" => "(1-19)",
                                    "gzip" => "(1-9)",
                                    _ => "",
                                }}
                            </small>
                        </span>
                        <input
                            type="number"
                            min="1"
                            max="19"
                            data-testid="task-form-level"
                            placeholder=level_placeholder
                            disabled=move || !takes_level(&form.compression.get())
                            class:invalid=move || errors.with(|e| e.contains_key("compression_level"))
                            bind:value=form.level
                        />
                    </label>
                    <div class="span-2">{field_error(errors, "compression_level")}</div>
                </div>
                <div class="span-2">
                    {lines_field(
                        "Encrypt to age recipients (one public key per line; empty: no encryption)",
                        form.recipients,
                        "task-form-recipients",
                        "age1…",
                        errors,
                        "encryption_recipients",
                    )}
                </div>
                <div class="span-2 checks">
                    {check(
                        "Also store roles and tablespaces (pg_dumpall --globals-only)",
                        form.include_globals,
                        "task-form-globals",
                    )}
                </div>

                <h3 class="form-section span-2">"pg_dump options"</h3>
                <div class="span-2 check-grid" data-testid="task-form-dump-options">
                    {check("Data only", form.data_only, "task-form-data-only")}
                    {check("Schema only", form.schema_only, "task-form-schema-only")}
                    {check("Clean (drop objects first)", form.clean, "task-form-clean")}
                    {check("If exists", form.if_exists, "task-form-if-exists")}
                    {check("Create database", form.create, "task-form-create")}
                    {check("No comments", form.no_comments, "task-form-no-comments")}
                    {check("No owner", form.no_owner, "task-form-no-owner")}
                    {check("No privileges", form.no_privileges, "task-form-no-privileges")}
                </div>
                <div class="span-2">
                    {field_error(errors, "pg_dump_options.data_only")}
                    {field_error(errors, "pg_dump_options.if_exists")}
                </div>
                {lines_field(
                    "Only schemas (patterns, one per line)",
                    form.schemas,
                    "task-form-schemas",
                    "public",
                    errors,
                    "pg_dump_options.schemas",
                )}
                {lines_field(
                    "Exclude schemas",
                    form.exclude_schemas,
                    "task-form-exclude-schemas",
                    "audit",
                    errors,
                    "pg_dump_options.exclude_schemas",
                )}
                {lines_field(
                    "Only tables (patterns, one per line)",
                    form.tables,
                    "task-form-tables",
                    "public.orders*",
                    errors,
                    "pg_dump_options.tables",
                )}
                {lines_field(
                    "Exclude tables",
                    form.exclude_tables,
                    "task-form-exclude-tables",
                    "public.sessions",
                    errors,
                    "pg_dump_options.exclude_tables",
                )}

                <h3 class="form-section span-2">"Limits and retention"</h3>
                {text_field(
                    "Timeout (minutes, optional)",
                    "number",
                    form.timeout,
                    "task-form-timeout",
                    "no limit",
                    errors,
                    "timeout_minutes",
                )}
                {text_field(
                    "Stall timeout (minutes without output, optional)",
                    "number",
                    form.stall,
                    "task-form-stall",
                    "no limit",
                    errors,
                    "stall_timeout_minutes",
                )}
                {text_field(
                    "Anomaly above (% from the median of the last 10 runs, optional)",
                    "number",
                    form.anomaly,
                    "task-form-anomaly",
                    "server default",
                    errors,
                    "anomaly_threshold_percent",
                )}
                {text_field(
                    "Keep backups younger than (days, optional)",
                    "number",
                    form.keep_days,
                    "task-form-keep-days",
                    "no age rule",
                    errors,
                    "retention.keep_days",
                )}
                {text_field(
                    "Always keep the newest",
                    "number",
                    form.keep_last,
                    "task-form-keep-last",
                    "7",
                    errors,
                    "retention.keep_last",
                )}
                <div class="span-2 checks">
                    {check(
                        "Grandfather-father-son: also keep the newest daily, weekly, monthly and yearly backups",
                        form.gfs,
                        "task-form-gfs",
                    )}
                </div>
                {move || {
                    form.gfs
                        .get()
                        .then(|| {
                            view! {
                                <div class="span-2 gfs-grid">
                                    {text_field(
                                        "Daily",
                                        "number",
                                        form.daily,
                                        "task-form-gfs-daily",
                                        "0",
                                        errors,
                                        "retention.gfs.daily",
                                    )}
                                    {text_field(
                                        "Weekly",
                                        "number",
                                        form.weekly,
                                        "task-form-gfs-weekly",
                                        "0",
                                        errors,
                                        "retention.gfs.weekly",
                                    )}
                                    {text_field(
                                        "Monthly",
                                        "number",
                                        form.monthly,
                                        "task-form-gfs-monthly",
                                        "0",
                                        errors,
                                        "retention.gfs.monthly",
                                    )}
                                    {text_field(
                                        "Yearly",
                                        "number",
                                        form.yearly,
                                        "task-form-gfs-yearly",
                                        "0",
                                        errors,
                                        "retention.gfs.yearly",
                                    )}
                                </div>
                                <div class="span-2">{field_error(errors, "retention.gfs")}</div>
                            }
                        })
                }}

                <h3 class="form-section span-2">"Proof"</h3>
                {text_field(
                    "Verify stored backups on this cron (optional)",
                    "text",
                    form.verify_schedule,
                    "task-form-verify-schedule",
                    "0 6 * * 0",
                    errors,
                    "verification.verify_schedule",
                )}
                <div class="span-2 checks">
                    {check(
                        "Test-restore into a scratch database and compare row counts",
                        form.test_restore,
                        "task-form-test-restore",
                    )}
                </div>
                {move || {
                    form.test_restore
                        .get()
                        .then(|| {
                            view! {
                                <label class="field">
                                    <span>"On the server of"</span>
                                    <select
                                        data-testid="task-form-test-restore-db"
                                        bind:value=form.test_restore_db
                                    >
                                        <option value="">"Choose a database…"</option>
                                        {move || {
                                            databases
                                                .get()
                                                .and_then(Result::ok)
                                                .unwrap_or_default()
                                                .into_iter()
                                                .map(|d| {
                                                    let id = d.id.to_string();
                                                    let value = id.clone();
                                                    view! {
                                                        <option
                                                            value=value
                                                            prop:selected=move || {
                                                                form.test_restore_db.with(|v| *v == id)
                                                            }
                                                        >
                                                            {d.name}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()
                                        }}
                                    </select>
                                    {field_error(errors, "verification.test_restore_database_id")}
                                </label>
                                {text_field(
                                    "Also on this cron (optional)",
                                    "text",
                                    form.test_restore_schedule,
                                    "task-form-test-restore-schedule",
                                    "0 7 * * 0",
                                    errors,
                                    "verification.test_restore_schedule",
                                )}
                                <div class="span-2 checks">
                                    {check(
                                        "After each successful backup",
                                        form.test_restore_after,
                                        "task-form-test-restore-after",
                                    )}
                                </div>
                                <div class="span-2">
                                    {field_error(errors, "verification.test_restore_after_backup")}
                                </div>
                            }
                        })
                }}

                <div class="span-2">
                    {move || {
                        page.saved
                            .get()
                            .then(|| {
                                view! {
                                    <div class="alert alert-ok" role="status" data-testid="task-saved">
                                        "Task saved."
                                    </div>
                                }
                            })
                    }}
                    {failure_banner(page.failure)}
                </div>
                <div class="form-actions span-2">
                    <div class="spacer"></div>
                    {move || {
                        page.editing
                            .get()
                            .map(|_| {
                                view! {
                                    <button
                                        type="button"
                                        class="btn"
                                        data-testid="task-form-cancel"
                                        on:click=move |_| page.new_task()
                                    >
                                        "Cancel"
                                    </button>
                                }
                            })
                    }}
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="task-form-submit"
                        disabled=move || saving.get()
                    >
                        {move || match (saving.get(), page.editing.get()) {
                            (true, _) => "Saving…",
                            (false, None) => "Create task",
                            (false, Some(_)) => "Save changes",
                        }}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// Every field, so that the form is the whole truth: an emptied level or timeout is sent as null, which
/// clears it.
fn update_request(spec: TaskSpec) -> UpdateTaskRequest {
    UpdateTaskRequest {
        name: Some(spec.name),
        database_id: Some(spec.database_id),
        destination_ids: Some(spec.destination_ids),
        schedule: Some(spec.schedule),
        timezone: Some(spec.timezone),
        active: Some(spec.active),
        format: Some(spec.format),
        parallel_jobs: Some(spec.parallel_jobs),
        compression: Some(spec.compression),
        compression_level: Some(spec.compression_level),
        encryption_recipients: Some(spec.encryption_recipients),
        pg_dump_options: Some(spec.pg_dump_options),
        include_globals: Some(spec.include_globals),
        timeout_minutes: Some(spec.timeout_minutes),
        stall_timeout_minutes: Some(spec.stall_timeout_minutes),
        retention: Some(spec.retention),
        verification: Some(spec.verification),
        anomaly_threshold_percent: Some(spec.anomaly_threshold_percent),
    }
}

fn next_runs_panel(page: Page) -> impl IntoView {
    view! {
        <aside class="card editor-side" data-testid="next-runs-panel">
            <h2>"Next runs"</h2>
            {move || match (page.editing.get(), page.next_runs.get()) {
                (None, _) => {
                    view! {
                        <p class="muted small" data-testid="next-runs-hint">
                            "Save the task to see its next ten run times, in its time zone."
                        </p>
                    }
                        .into_any()
                }
                (Some(_), None) => view! { <p class="muted small">"Loading…"</p> }.into_any(),
                (Some(_), Some(Err(e))) => {
                    view! {
                        <div class="alert alert-error" role="alert" data-testid="error">
                            {e}
                        </div>
                    }
                        .into_any()
                }
                (Some(_), Some(Ok(runs))) if runs.runs.is_empty() => {
                    view! {
                        <p class="muted small" data-testid="next-runs-none">
                            "This schedule never fires."
                        </p>
                    }
                        .into_any()
                }
                (Some(_), Some(Ok(runs))) => {
                    view! {
                        <p class="muted small">{format!("In {}", runs.timezone)}</p>
                        <ol class="next-runs" data-testid="next-runs">
                            {runs
                                .runs
                                .iter()
                                .map(|t| {
                                    view! {
                                        <li data-testid="next-run">
                                            <span class="weekday">{t.format("%a").to_string()}</span>
                                            <span class="mono">{format_local(t)}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                        {(!page.form.active.get())
                            .then(|| {
                                view! {
                                    <p class="muted small">
                                        "The task is paused: these runs happen only once it is active."
                                    </p>
                                }
                            })}
                    }
                        .into_any()
                }
            }}
        </aside>
    }
}
