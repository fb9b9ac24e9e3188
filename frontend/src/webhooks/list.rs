//! A webhook as a table row, with send test now, history, edit, duplicate and delete.

use leptos::prelude::*;
use pgward_api_types::{DeliveryStatus, Role, Webhook};

use super::Page;
use crate::parts::{Can, DeleteButton, RowButton};
use crate::ui::format_time;

pub(super) fn status_badge(s: Option<DeliveryStatus>) -> impl IntoView {
    let (class, text) = match s {
        None => ("badge", "never sent"),
        Some(DeliveryStatus::Success) => ("badge badge-ok", "delivered"),
        Some(DeliveryStatus::Failed) => ("badge badge-bad", "failed"),
        Some(DeliveryStatus::Retrying) => ("badge badge-warn", "retrying"),
        Some(DeliveryStatus::Queued) => ("badge badge-info", "queued"),
        Some(DeliveryStatus::Sending) => ("badge badge-info", "sending"),
    };
    view! { <span class=class data-testid="delivery-status">{text}</span> }
}

pub(super) fn webhook_row(page: Page, w: Webhook) -> impl IntoView {
    let id = w.id;
    let actions = page.actions;
    let row = actions.row();
    let name = w.name.clone();
    let targets = if w.targets.all {
        "all".to_string()
    } else {
        format!(
            "{} tasks, {} databases, {} destinations",
            w.targets.task_ids.len(),
            w.targets.database_ids.len(),
            w.targets.destination_ids.len()
        )
    };
    let events = w
        .events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ");

    let test_name = name.clone();
    let test = move || {
        let name = test_name.clone();
        row.run_and_report(
            move |c| async move { c.test_webhook(id).await },
            move |d| {
                let a = d.attempts.first();
                let what = match (
                    a.and_then(|a| a.response_status),
                    a.and_then(|a| a.error.clone()),
                ) {
                    (Some(s), _) if d.status == DeliveryStatus::Success => {
                        format!("delivered (HTTP {s})")
                    }
                    (_, Some(e)) => format!("failed: {e}"),
                    _ => "failed".into(),
                };
                // Opens the history on the delivery just made.
                page.show_history(id, name.clone());
                format!("Test of \"{name}\" {what}").into()
            },
        );
    };
    let history_name = name.clone();
    let edit = w.clone();
    let duplicate = move || {
        row.run_and_report(
            move |c| async move { c.duplicate_webhook(id).await },
            |w| format!("Created \"{}\" (paused until you activate it)", w.name).into(),
        );
    };
    let delete = move || {
        row.run(
            move |c| async move { c.delete_webhook(id).await },
            move |()| {
                if page
                    .history
                    .with_untracked(|h| h.as_ref().is_some_and(|h| h.0 == id))
                {
                    page.history.set(None);
                }
                actions.reload.bump();
            },
        );
    };
    let confirm = format!("Delete the webhook \"{name}\" and its delivery history?");

    view! {
        <tr data-testid="webhook-row" data-name=name.clone()>
            <td>
                <strong>{name.clone()}</strong>
                <div class="muted small">{w.kind.label()}</div>
            </td>
            <td class="small">{events}</td>
            <td class="small">{targets}</td>
            <td class="small">
                <code>{format!("{} {}", w.method.as_str(), w.url_masked)}</code>
            </td>
            <td>
                {if w.active {
                    view! { <span class="badge badge-ok">"active"</span> }.into_any()
                } else {
                    view! { <span class="badge">"paused"</span> }.into_any()
                }}
                " "
                {status_badge(w.last_delivery_status)}
                <div class="muted small">{format_time(w.last_delivery_at.as_ref())}</div>
            </td>
            <td class="actions">
                <Can role=Role::Operator>
                    <RowButton testid="webhook-test" on_click=test.clone()>
                        "Send test now"
                    </RowButton>
                </Can>
                <RowButton
                    testid="webhook-history"
                    on_click=move || page.show_history(id, history_name.clone())
                >
                    "History"
                </RowButton>
                <Can role=Role::Operator>
                    <RowButton
                        testid="webhook-edit"
                        on_click={
                            let edit = edit.clone();
                            move || page.form.load(&edit)
                        }
                    >
                        "Edit"
                    </RowButton>
                    <RowButton testid="webhook-duplicate" on_click=duplicate>
                        "Duplicate"
                    </RowButton>
                    <DeleteButton testid="webhook-delete" confirm=confirm.clone() on_click=delete />
                </Can>
            </td>
        </tr>
    }
}
