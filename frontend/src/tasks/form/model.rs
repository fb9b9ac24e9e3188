//! The task form's inputs as typed, and the conversion from and to the API's task spec.

use std::collections::BTreeMap;

use leptos::prelude::*;
use pgward_api_types::{
    BackupFormat, CompressionAlgorithm, GfsPolicy, PgDumpOptions, RetentionPolicy, TaskScope,
    TaskSpec, VerificationPolicy,
};
use uuid::Uuid;

use crate::ui::browser_timezone;

/// The form's inputs, as the user typed them; `spec()` turns them into what the API takes.
#[derive(Clone, Copy, Default)]
pub struct TaskForm {
    pub name: RwSignal<String>,
    pub database_id: RwSignal<String>,
    /// Every database on the server of `database_id`, chosen by the patterns below.
    pub whole_server: RwSignal<bool>,
    pub include_databases: RwSignal<String>,
    pub exclude_databases: RwSignal<String>,
    pub destination_ids: RwSignal<Vec<Uuid>>,
    pub schedule: RwSignal<String>,
    pub timezone: RwSignal<String>,
    pub active: RwSignal<bool>,
    pub format: RwSignal<String>,
    pub jobs: RwSignal<String>,
    pub verify_schedule: RwSignal<String>,
    pub test_restore: RwSignal<bool>,
    pub test_restore_db: RwSignal<String>,
    pub test_restore_after: RwSignal<bool>,
    pub test_restore_schedule: RwSignal<String>,
    pub compression: RwSignal<String>,
    pub level: RwSignal<String>,
    pub recipients: RwSignal<String>,
    pub include_globals: RwSignal<bool>,
    pub data_only: RwSignal<bool>,
    pub schema_only: RwSignal<bool>,
    pub clean: RwSignal<bool>,
    pub if_exists: RwSignal<bool>,
    pub create: RwSignal<bool>,
    pub no_comments: RwSignal<bool>,
    pub no_owner: RwSignal<bool>,
    pub no_privileges: RwSignal<bool>,
    pub schemas: RwSignal<String>,
    pub exclude_schemas: RwSignal<String>,
    pub tables: RwSignal<String>,
    pub exclude_tables: RwSignal<String>,
    pub timeout: RwSignal<String>,
    pub stall: RwSignal<String>,
    pub anomaly: RwSignal<String>,
    pub keep_days: RwSignal<String>,
    pub keep_last: RwSignal<String>,
    pub gfs: RwSignal<bool>,
    pub daily: RwSignal<String>,
    pub weekly: RwSignal<String>,
    pub monthly: RwSignal<String>,
    pub yearly: RwSignal<String>,
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

pub fn compression_str(c: CompressionAlgorithm) -> &'static str {
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
    pub fn new() -> Self {
        let form = Self::default();
        form.reset();
        form
    }

    /// Defaults for a new task: daily at 02:30 in the browser's time zone, the API's other defaults.
    pub fn reset(&self) {
        self.load(&TaskSpec {
            name: String::new(),
            database_id: Uuid::nil(),
            scope: TaskScope::Database,
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

    pub fn load(&self, spec: &TaskSpec) {
        self.name.set(spec.name.clone());
        self.database_id.set(spec.database_id.to_string());
        let (whole, include, exclude) = match &spec.scope {
            TaskScope::Database => (false, Vec::new(), Vec::new()),
            TaskScope::Server { include, exclude } => (true, include.clone(), exclude.clone()),
        };
        self.whole_server.set(whole);
        self.include_databases.set(include.join("\n"));
        self.exclude_databases.set(exclude.join("\n"));
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

    pub fn spec(&self) -> Result<TaskSpec, BTreeMap<String, String>> {
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
            scope: if self.whole_server.get_untracked() {
                TaskScope::Server {
                    include: lines(&self.include_databases.get_untracked()),
                    exclude: lines(&self.exclude_databases.get_untracked()),
                }
            } else {
                TaskScope::Database
            },
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

/// `None` for an empty (or blank) input.
fn opt_text(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

pub fn takes_level(compression: &str) -> bool {
    matches!(compression, "zstd" | "gzip")
}
