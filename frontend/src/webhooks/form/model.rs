//! The webhook form's inputs, and what they save as.

use std::collections::BTreeMap;

use leptos::prelude::*;
use pgward_api_types::{
    CreateWebhookRequest, Database, Destination, EventKind, HttpMethod, Task, UpdateWebhookRequest,
    Webhook, WebhookKind, WebhookTargets,
};
use uuid::Uuid;

use crate::parts::ListResource;
use crate::ui::FieldErrors;

/// What the target checkboxes choose from.
#[derive(Clone, Copy)]
pub struct Lists {
    pub tasks: ListResource<Task>,
    pub databases: ListResource<Database>,
    pub destinations: ListResource<Destination>,
}

/// What a save sends.
#[derive(Clone)]
pub enum Save {
    Create(CreateWebhookRequest),
    Update(Uuid, UpdateWebhookRequest),
}

/// `Name: value` per line.
fn parse_headers(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| format!("\"{line}\" is not \"Name: value\""))?;
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(out)
}

#[derive(Clone, Copy, Default)]
pub struct Form {
    pub editing: RwSignal<Option<Uuid>>,
    pub name: RwSignal<String>,
    pub kind: RwSignal<String>,
    pub active: RwSignal<bool>,
    pub events: RwSignal<Vec<EventKind>>,
    /// The events chosen before switching to Healthchecks (which picks its own).
    pub events_before: RwSignal<Vec<EventKind>>,
    pub all_targets: RwSignal<bool>,
    pub task_ids: RwSignal<Vec<Uuid>>,
    pub database_ids: RwSignal<Vec<Uuid>>,
    pub destination_ids: RwSignal<Vec<Uuid>>,
    pub method: RwSignal<String>,
    pub url: RwSignal<String>,
    pub url_masked: RwSignal<String>,
    pub headers: RwSignal<String>,
    pub header_names: RwSignal<Vec<String>>,
    pub clear_headers: RwSignal<bool>,
    pub template: RwSignal<String>,
    pub secret: RwSignal<String>,
    pub has_secret: RwSignal<bool>,
    pub remove_secret: RwSignal<bool>,
    pub timeout: RwSignal<String>,
    pub attempts: RwSignal<String>,
    pub preview_event: RwSignal<String>,
    pub errors: FieldErrors,
}

impl Form {
    pub fn new() -> Self {
        let form = Self {
            events_before: RwSignal::new(vec![EventKind::ExecutionSuccess]),
            preview_event: RwSignal::new("execution_success".into()),
            ..Default::default()
        };
        form.reset();
        form
    }

    /// Empty, for a new webhook (the preview's sample event stays as chosen).
    pub fn reset(&self) {
        self.errors.clear();
        self.editing.set(None);
        self.name.set(String::new());
        self.kind.set("custom".into());
        self.active.set(true);
        self.events.set(vec![EventKind::ExecutionSuccess]);
        self.all_targets.set(true);
        self.task_ids.set(Vec::new());
        self.database_ids.set(Vec::new());
        self.destination_ids.set(Vec::new());
        self.method.set("POST".into());
        self.url.set(String::new());
        self.url_masked.set(String::new());
        self.headers.set(String::new());
        self.header_names.set(Vec::new());
        self.clear_headers.set(false);
        self.template.set(String::new());
        self.secret.set(String::new());
        self.has_secret.set(false);
        self.remove_secret.set(false);
        self.timeout.set("10".into());
        self.attempts.set("5".into());
    }

    pub fn load(&self, w: &Webhook) {
        self.reset();
        self.editing.set(Some(w.id));
        self.name.set(w.name.clone());
        self.kind.set(w.kind.as_str().into());
        self.active.set(w.active);
        self.events.set(w.events.clone());
        self.all_targets.set(w.targets.all);
        self.task_ids.set(w.targets.task_ids.clone());
        self.database_ids.set(w.targets.database_ids.clone());
        self.destination_ids.set(w.targets.destination_ids.clone());
        self.method.set(w.method.as_str().into());
        self.url_masked.set(w.url_masked.clone());
        self.header_names.set(w.header_names.clone());
        self.template
            .set(w.body_template.clone().unwrap_or_default());
        self.has_secret.set(w.has_secret);
        self.timeout.set(w.timeout_secs.to_string());
        self.attempts.set(w.max_attempts.to_string());
    }

    pub fn kind(&self) -> WebhookKind {
        WebhookKind::parse(&self.kind.get()).unwrap_or(WebhookKind::Custom)
    }

    fn targets(&self) -> WebhookTargets {
        WebhookTargets {
            all: self.all_targets.get_untracked(),
            task_ids: self.task_ids.get_untracked(),
            database_ids: self.database_ids.get_untracked(),
            destination_ids: self.destination_ids.get_untracked(),
        }
    }

    fn number(value: RwSignal<String>) -> Result<Option<u32>, String> {
        let t = value.get_untracked().trim().to_string();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse()
            .map(Some)
            .map_err(|_| format!("\"{t}\" is not a whole number"))
    }

    /// Healthchecks follows a run: start and outcome. What was chosen before comes back when another
    /// kind is chosen again.
    pub fn switch_kind(&self, kind: String) {
        let was_hc = self.kind.get_untracked() == "healthchecks";
        if kind == "healthchecks" && !was_hc {
            self.events_before.set(self.events.get_untracked());
            self.events.set(vec![
                EventKind::ExecutionStarted,
                EventKind::ExecutionSuccess,
                EventKind::ExecutionFailed,
            ]);
        } else if was_hc && kind != "healthchecks" {
            self.events.set(self.events_before.get_untracked());
        }
        self.kind.set(kind);
    }

    /// What saving the form sends, or the field the form itself finds wrong, and why.
    pub fn save_request(&self) -> Result<Save, (&'static str, String)> {
        let headers = parse_headers(&self.headers.get_untracked()).map_err(|e| ("headers", e))?;
        let timeout = Self::number(self.timeout).map_err(|e| ("timeout_secs", e))?;
        let attempts = Self::number(self.attempts).map_err(|e| ("max_attempts", e))?;
        let kind = WebhookKind::parse(&self.kind.get_untracked()).unwrap_or(WebhookKind::Custom);
        // Generic JSON and Healthchecks send fixed bodies: a template typed under another kind is not
        // sent (the server would refuse it for a field the form no longer shows).
        let uses_template = matches!(
            kind,
            WebhookKind::Custom | WebhookKind::Slack | WebhookKind::Discord
        );
        let method = (kind == WebhookKind::Custom)
            .then(|| HttpMethod::parse(&self.method.get_untracked()))
            .flatten();
        let template = self.template.get_untracked();
        let secret = self.secret.get_untracked();
        let url = self.url.get_untracked().trim().to_string();
        let name = self.name.get_untracked().trim().to_string();
        Ok(match self.editing.get_untracked() {
            None => Save::Create(CreateWebhookRequest {
                name,
                kind,
                active: self.active.get_untracked(),
                events: self.events.get_untracked(),
                targets: self.targets(),
                method,
                url,
                headers,
                body_template: Some(template).filter(|t| uses_template && !t.trim().is_empty()),
                secret: Some(secret).filter(|s| !s.is_empty()),
                timeout_secs: timeout,
                max_attempts: attempts,
            }),
            Some(id) => Save::Update(
                id,
                UpdateWebhookRequest {
                    name: Some(name),
                    active: Some(self.active.get_untracked()),
                    events: Some(self.events.get_untracked()),
                    targets: Some(self.targets()),
                    method,
                    url: Some(url).filter(|u| !u.is_empty()),
                    headers: if self.clear_headers.get_untracked() {
                        Some(BTreeMap::new())
                    } else {
                        Some(headers).filter(|h| !h.is_empty())
                    },
                    body_template: uses_template.then_some(template),
                    secret: if self.remove_secret.get_untracked() {
                        Some(String::new())
                    } else {
                        Some(secret).filter(|s| !s.is_empty())
                    },
                    timeout_secs: timeout,
                    max_attempts: attempts,
                },
            ),
        })
    }
}
