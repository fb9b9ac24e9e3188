//! A webhook's delivery history: each delivery with its attempts' requests and responses, and "Send
//! again" for a failed one.

use leptos::prelude::*;
use leptos::task::spawn_local;
use pgward_api_types::{
    DeliveryAttempt, DeliveryStatus, Role, WebhookDelivery, WebhookDeliveryQuery,
};
use uuid::Uuid;

use super::list::status_badge;
use super::request_text;
use crate::parts::{ListCard, Reload, Tone, each};
use crate::session::{Session, use_session};
use crate::ui::format_time;

#[component]
pub fn History(id: Uuid, name: String, reload: Reload) -> impl IntoView {
    let session = use_session();
    let deliveries = LocalResource::new(move || {
        reload.track();
        session.call(move |c| async move {
            c.webhook_deliveries(id, &WebhookDeliveryQuery::default())
                .await
                .map(|p| p.items)
        })
    });
    view! {
        <ListCard
            list=deliveries
            rows=move || each(deliveries, move |d| delivery(d, session, reload))
            empty=|| "Nothing sent yet."
            tone=Tone::Panel
            testid="webhook-deliveries"
        >
            <div class="page-header">
                <h2>{format!("Delivery history: {name}")}</h2>
                <button type="button" class="btn btn-small" on:click=move |_| reload.bump()>
                    "Refresh"
                </button>
            </div>
        </ListCard>
    }
}

fn delivery(d: WebhookDelivery, session: Session, reload: Reload) -> impl IntoView {
    let (webhook, id) = (d.webhook_id, d.id);
    let again_error = RwSignal::new(None::<String>);
    // Sending again is an operator's; the list is drawn again if the role arrives later.
    let may_send = session.can(Role::Operator);
    let send_again = (d.status == DeliveryStatus::Failed && may_send).then(|| {
        view! {
            <button
                type="button"
                class="btn btn-small"
                data-testid="delivery-redeliver"
                on:click=move |_| {
                    spawn_local(async move {
                        match session
                            .call(|c| async move { c.redeliver_webhook_delivery(webhook, id).await })
                            .await
                        {
                            Ok(_) => reload.bump(),
                            Err(e) => again_error.set(Some(e)),
                        }
                    });
                }
            >
                "Send again"
            </button>
        }
    });
    view! {
        <div class="delivery" data-testid="delivery">
            <div>
                {status_badge(Some(d.status))}
                " "
                <strong>{d.event_kind.as_str()}</strong>
                {d.test.then_some(" (test)")}
                " · "
                {format_time(Some(&d.created_at))}
                {d
                    .next_attempt_at
                    .map(|t| format!(" · next attempt {}", format_time(Some(&t))))}
                " "
                {send_again}
                {move || again_error.get().map(|e| view! { <span class="field-error">{e}</span> })}
            </div>
            {d.attempts.into_iter().map(attempt).collect_view()}
        </div>
    }
}

fn attempt(a: DeliveryAttempt) -> impl IntoView {
    let outcome = match (a.response_status, a.error.clone()) {
        (Some(s), _) => format!("HTTP {s}"),
        (None, Some(e)) => e,
        (None, None) => "no response".into(),
    };
    view! {
        <details class="attempt" data-testid="delivery-attempt">
            <summary>
                {format!(
                    "Attempt {} · {} · {} ms · {}",
                    a.attempt,
                    format_time(Some(&a.started_at)),
                    a.duration_ms,
                    outcome,
                )}
            </summary>
            <pre class="code" tabindex="0">{request_text(&a.request)}</pre>
            {a.error.map(|e| view! { <p class="field-error">{e}</p> })}
            {a
                .response_body
                .map(|b| {
                    view! {
                        <p class="muted small">"Response"</p>
                        <pre class="code" tabindex="0">{b}</pre>
                    }
                })}
        </details>
    }
}
