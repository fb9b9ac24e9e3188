//! `/events`: what happened, newest first (health transitions, runs, restores, retention, failed
//! verifications, anomalies), with the health summary of databases and destinations on top. Refreshes
//! itself every ten seconds.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::query_signal;
use pgward_api_types::{Event, EventKind, EventListQuery};

use crate::session::use_session;
use crate::ui::{error_banner, format_time, poll_while};

const POLL: Duration = Duration::from_secs(10);

pub(crate) fn kind_class(k: EventKind) -> &'static str {
    match k {
        EventKind::DatabaseUnhealthy
        | EventKind::DestinationUnhealthy
        | EventKind::ExecutionFailed
        | EventKind::RestorationFailed
        | EventKind::VerificationFailed
        | EventKind::BackupOverdue => "badge badge-bad",
        EventKind::BackupAnomaly => "badge badge-warn",
        EventKind::DatabaseHealthy
        | EventKind::DestinationHealthy
        | EventKind::ExecutionSuccess
        | EventKind::RestorationSuccess => "badge badge-ok",
        _ => "badge badge-info",
    }
}

/// One line saying what the event is about, from its data.
pub(crate) fn summary(e: &Event) -> String {
    let d = &e.data;
    let name = |path: [&str; 2]| d[path[0]][path[1]].as_str().map(str::to_string);
    let what = name(["task", "name"])
        .or_else(|| name(["database", "name"]))
        .or_else(|| name(["destination", "name"]))
        .or_else(|| d["restoration"]["task_name"].as_str().map(str::to_string))
        .unwrap_or_default();
    let detail = d["error"]
        .as_str()
        .or_else(|| d["execution"]["message"].as_str())
        .or_else(|| d["restoration"]["message"].as_str())
        .map(|m| format!(" — {m}"))
        .unwrap_or_default();
    let anomaly = d["metric"]
        .as_str()
        .map(|m| format!(" — {m} {}% from the median", d["change_percent"]))
        .unwrap_or_default();
    format!("{what}{anomaly}{detail}")
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let session = use_session();
    let (kind_q, set_kind_q) = query_signal::<String>("kind");
    let kind = Memo::new(move |_| kind_q.get().as_deref().and_then(EventKind::parse));
    let reload = RwSignal::new(0u32);
    let in_flight = StoredValue::new(false);
    // Older pages through the API's cursor; `None` is the newest page (the one kept live by polling).
    let cursor = RwSignal::new(None::<String>);
    let pages_back = RwSignal::new(Vec::<Option<String>>::new());
    Effect::new(move |_| {
        kind.track();
        cursor.set(None);
        pages_back.set(Vec::new());
    });
    let events = LocalResource::new(move || {
        reload.track();
        let query = EventListQuery {
            kind: kind.get(),
            limit: Some(100),
            cursor: cursor.get(),
            ..Default::default()
        };
        async move {
            in_flight.set_value(true);
            let r = session
                .call(|c| {
                    let q = query.clone();
                    async move { c.list_events(&q).await }
                })
                .await;
            in_flight.set_value(false);
            r
        }
    });
    let health = LocalResource::new(move || {
        reload.track();
        session.call(|c| async move { c.health_summary().await })
    });
    let always = Memo::new(|_| true);
    poll_while(always, in_flight, reload, POLL);

    view! {
        <div class="page-header">
            <div>
                <h1>"Events"</h1>
                <p class="muted">"What happened, newest first."</p>
            </div>
        </div>
        {error_banner(move || events.get().and_then(Result::err))}
        <section class="card" data-testid="health-summary">
            {move || {
                health
                    .get()
                    .and_then(Result::ok)
                    .map(|h| {
                        view! {
                            <div class="filters">
                                <span>
                                    "Databases: "
                                    <span class="badge badge-ok">{format!("{} healthy", h.databases.healthy)}</span>
                                    " "
                                    <span class="badge badge-bad">{format!("{} unhealthy", h.databases.unhealthy)}</span>
                                    " "
                                    <span class="badge">{format!("{} unchecked", h.databases.unknown)}</span>
                                </span>
                                <span>
                                    "Destinations: "
                                    <span class="badge badge-ok">{format!("{} healthy", h.destinations.healthy)}</span>
                                    " "
                                    <span class="badge badge-bad">{format!("{} unhealthy", h.destinations.unhealthy)}</span>
                                    " "
                                    <span class="badge">{format!("{} unchecked", h.destinations.unknown)}</span>
                                </span>
                            </div>
                        }
                    })
            }}
        </section>
        <section class="card">
            <div class="filters">
                <label class="field inline">
                    <span>"Kind"</span>
                    <select
                        data-testid="events-filter-kind"
                        prop:value=move || kind_q.get().unwrap_or_default()
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            set_kind_q.set((!v.is_empty()).then_some(v));
                        }
                    >
                        <option value="">"All events"</option>
                        {EventKind::ALL
                            .iter()
                            .map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> })
                            .collect_view()}
                    </select>
                </label>
            </div>
            <table class="table" data-testid="events-table">
                <thead>
                    <tr>
                        <th>"When"</th>
                        <th>"Event"</th>
                        <th>"About"</th>
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=move || events.get().and_then(Result::ok).map(|p| p.items).unwrap_or_default()
                        key=|e| e.id
                        children=|e| {
                            view! {
                                <tr data-testid="event-row" data-kind=e.kind.as_str()>
                                    <td class="nowrap">{format_time(Some(&e.created_at))}</td>
                                    <td><span class=kind_class(e.kind)>{e.kind.as_str()}</span></td>
                                    <td class="small">{summary(&e)}</td>
                                </tr>
                            }
                        }
                    />
                </tbody>
            </table>
            <div class="actions">
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="events-newer"
                    disabled=move || pages_back.with(Vec::is_empty)
                    on:click=move |_| {
                        let mut back = pages_back.get_untracked();
                        cursor.set(back.pop().flatten());
                        pages_back.set(back);
                    }
                >
                    "← Newer"
                </button>
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="events-older"
                    disabled=move || {
                        events.get().and_then(Result::ok).and_then(|p| p.next_cursor).is_none()
                    }
                    on:click=move |_| {
                        let next = events.get_untracked().and_then(Result::ok).and_then(|p| p.next_cursor);
                        if next.is_some() {
                            pages_back.update(|b| b.push(cursor.get_untracked()));
                            cursor.set(next);
                        }
                    }
                >
                    "Older →"
                </button>
            </div>
        </section>
    }
}
