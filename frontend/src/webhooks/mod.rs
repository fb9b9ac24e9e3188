//! `/webhooks`: who hears about events. The list (send test now, edit, duplicate, history, delete), a
//! form whose fields follow the kind (custom HTTP, generic JSON, Healthchecks, Slack, Discord) with a
//! template editor and a preview rendered by the server from a sample event, and each webhook's
//! delivery history with every attempt's request and response. URLs, header values and secrets are
//! write-only: the form shows what is stored (masked URL, header names) and keeps it unless replaced.

mod form;
mod history;
mod list;

use leptos::prelude::*;
use pgward_api_types::{DeliveryRequest, Role};
use uuid::Uuid;

use crate::parts::{
    ACTIONS, Can, ListCard, PageHeader, Reload, RowActions, api_list, databases, destinations,
    table_of, tasks,
};
use crate::session::use_session;

use form::{Form, Lists, WebhookForm};
use history::History;

const COLUMNS: &[&str] = &["Name", "Events", "Targets", "Request", "Status", ACTIONS];

/// What the list's rows act on besides the list: the delivery history shown and the form.
#[derive(Clone, Copy)]
struct Page {
    actions: RowActions,
    /// The webhook whose deliveries are shown (id, name).
    history: RwSignal<Option<(Uuid, String)>>,
    history_reload: Reload,
    form: Form,
}

impl Page {
    fn show_history(&self, id: Uuid, name: String) {
        self.history.set(Some((id, name)));
        self.history_reload.bump();
    }
}

/// A request as it goes over the wire: request line, headers, blank line, body.
fn request_text(r: &DeliveryRequest) -> String {
    let headers = r
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n");
    format!("{} {}\n{headers}\n\n{}", r.method.as_str(), r.url, r.body)
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let session = use_session();
    let page = Page {
        actions: RowActions::new(session),
        history: RwSignal::new(None),
        history_reload: Reload::new(),
        form: Form::new(),
    };
    let list = api_list(session, Some(page.actions.reload), |c| async move {
        c.list_webhooks().await.map(|l| l.items)
    });
    let lists = Lists {
        tasks: tasks(session, None),
        databases: databases(session, None),
        destinations: destinations(session, None),
    };
    let rows = table_of(list, COLUMNS, "webhook-table", move |w| {
        list::webhook_row(page, w)
    });

    view! {
        <PageHeader
            title="Webhooks"
            intro="Tell people and tools what happened: any URL with your own template, Healthchecks, Slack, Discord."
        />
        {page.actions.error_banner()}
        {page.actions.note_banner("webhook-note")}
        <ListCard list rows loading="Loading webhooks…" empty=|| "No webhooks yet." />
        {move || {
            page.history
                .get()
                .map(|(id, name)| view! { <History id name reload=page.history_reload /> })
        }}
        <Can role=Role::Operator>
            <WebhookForm form=page.form lists on_saved=move || page.actions.reload.bump() />
        </Can>
    }
}
