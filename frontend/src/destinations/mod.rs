//! `/destinations`: where backups are stored. The list with per-row test, edit and delete, and a form to
//! add or edit one (local directory, S3, GCS or Azure). Secrets are write-only: the API never returns them, the list
//! only says which are stored.

mod form;

use leptos::prelude::*;
use pgward_api_types::{Destination, DestinationConfig, Role};

use crate::parts::{
    ACTIONS, Can, DeleteButton, ListCard, PageHeader, RefreshButton, RowActions, RowButton,
    destinations, table_of,
};
use crate::session::use_session;
use crate::ui::health_badge;

const COLUMNS: &[&str] = &["Name", "Kind", "Location", "Health", ACTIONS];

#[component]
pub fn DestinationsPage() -> impl IntoView {
    let actions = RowActions::new(use_session());
    let editing: form::Editing = RwSignal::new(None);
    let list = destinations(actions.session, Some(actions.reload));
    let rows = table_of(list, COLUMNS, "dest-table", move |d| {
        dest_row(actions, editing, d)
    });

    view! {
        <PageHeader
            title="Destinations"
            intro="Where backups are written: a local directory or object storage."
        >
            <RefreshButton reload=actions.reload testid="dest-refresh" />
        </PageHeader>
        {actions.error_banner()}
        {actions.note_banner("dest-note")}
        <ListCard
            list
            rows
            loading="Loading destinations…"
            empty_testid="dest-empty"
            empty=|| "No destinations yet. Add the first one below."
        />
        <Can role=Role::Operator>
            <form::DestinationForm editing on_saved=move || actions.reload.bump() />
        </Can>
    }
}

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "local" => "Local directory",
        "s3" => "Amazon S3",
        "gcs" => "Google Cloud Storage",
        "azure" => "Azure Blob",
        _ => "Other",
    }
}

fn join_prefix(base: String, prefix: Option<&str>) -> String {
    match prefix
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
    {
        Some(p) => format!("{base}/{p}"),
        None => base,
    }
}

/// Where the destination writes, and a detail line (endpoint, region, credentials).
fn summary(d: &Destination) -> (String, String) {
    let has = |field: &str| d.secrets_set.iter().any(|s| s == field);
    let creds = |field: &str| {
        if has(field) {
            "credentials stored"
        } else {
            "no credentials stored"
        }
    };
    match &d.config {
        DestinationConfig::Local { path } => (path.clone(), "on the pgward server".into()),
        DestinationConfig::S3 {
            endpoint,
            region,
            bucket,
            prefix,
            ..
        } => (
            join_prefix(format!("s3://{bucket}"), prefix.as_deref()),
            format!(
                "{} \u{b7} {region} \u{b7} {}",
                endpoint.as_deref().unwrap_or("AWS"),
                creds("secret_access_key")
            ),
        ),
        DestinationConfig::Gcs { bucket, prefix, .. } => (
            join_prefix(format!("gs://{bucket}"), prefix.as_deref()),
            creds("service_account_json").into(),
        ),
        DestinationConfig::Azure {
            account,
            container,
            prefix,
            use_emulator,
            ..
        } => (
            join_prefix(format!("{account}/{container}"), prefix.as_deref()),
            if *use_emulator {
                "Azurite emulator".into()
            } else {
                creds("access_key").into()
            },
        ),
    }
}

fn dest_row(actions: RowActions, editing: form::Editing, d: Destination) -> impl IntoView {
    let id = d.id;
    let row = actions.row();
    let name = d.name.clone();
    let test = move || {
        let name = name.clone();
        row.request(
            move |c| async move { c.test_destination(id).await },
            move |result| {
                match result {
                    Ok(r) if r.ok => actions.say(format!(
                        "\u{201c}{name}\u{201d} works: wrote, read back and deleted a probe object in {} ms.",
                        r.latency_ms
                    )),
                    Ok(r) => actions.error.set(Some(format!(
                        "\u{201c}{name}\u{201d} failed its test: {}",
                        r.message.unwrap_or_else(|| "no details".into())
                    ))),
                    Err(e) => actions.error.set(Some(e)),
                }
                // The outcome is recorded in the destination's health; the reload shows it.
                actions.reload.bump();
            },
        );
    };
    let confirm = format!(
        "Delete the destination \u{201c}{}\u{201d}? Backups already stored there are not touched.",
        d.name
    );
    let delete = row.reloading(move |c| async move { c.delete_destination(id).await });
    let (location, detail) = summary(&d);
    let stored = d.clone();
    let edit = move || {
        editing.set(Some(stored.clone()));
        crate::databases::scroll_to("dest-form");
    };
    let kind = d.config.kind();
    view! {
        <tr data-testid="dest-row" data-id=id.to_string()>
            <td>
                <div class="strong" data-testid="dest-name">
                    {d.name.clone()}
                </div>
            </td>
            <td>
                <span class="kind" data-testid="dest-kind" data-kind=kind>
                    {kind_label(kind)}
                </span>
            </td>
            <td>
                <div class="mono" data-testid="dest-location">
                    {location}
                </div>
                <div class="muted small">{detail}</div>
            </td>
            <td>{health_badge(&d.health, "dest-health")}</td>
            <td class="actions">
                <Can role=Role::Operator>
                    <RowButton testid="dest-test" disabled=row.busy on_click=test.clone()>
                        "Test"
                    </RowButton>
                    <RowButton testid="dest-edit" disabled=row.busy on_click=edit.clone()>
                        "Edit"
                    </RowButton>
                    <DeleteButton testid="dest-delete" confirm=confirm.clone() disabled=row.busy on_click=delete />
                </Can>
            </td>
        </tr>
    }
}
