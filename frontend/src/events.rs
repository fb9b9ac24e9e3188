//! `/events`: what happened, newest first (health transitions, runs, restores, retention, failed
//! verifications, anomalies), with the health summary of databases and destinations on top. Refreshes
//! itself every ten seconds.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::query_signal;
use pgward_api_types::{Event, EventKind, EventListQuery, HealthCounts};

use crate::parts::{FilterSelect, PageHeader, Pager, Pages, Polling, Table, items, labelled};
use crate::session::use_session;
use crate::ui::{error_banner, format_time};

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

fn health_counts(label: &'static str, c: HealthCounts) -> impl IntoView {
    view! {
        <span>
            {label}
            <span class="badge badge-ok">{format!("{} healthy", c.healthy)}</span>
            " "
            <span class="badge badge-bad">{format!("{} unhealthy", c.unhealthy)}</span>
            " "
            <span class="badge">{format!("{} unchecked", c.unknown)}</span>
        </span>
    }
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let session = use_session();
    let (kind_q, set_kind_q) = query_signal::<String>("kind");
    let kind = Memo::new(move |_| kind_q.get().as_deref().and_then(EventKind::parse));
    let poll = Polling::new();
    // Older pages through the API's cursor; the newest page is the one kept live by polling.
    let pages = Pages::new();
    pages.restart_on(move || kind.track());
    let events = poll.resource(move || {
        let query = EventListQuery {
            kind: kind.get(),
            limit: Some(100),
            cursor: pages.cursor(),
            ..Default::default()
        };
        session.call(move |c| {
            let q = query.clone();
            async move { c.list_events(&q).await }
        })
    });
    let health = LocalResource::new(move || {
        poll.reload.track();
        session.call(|c| async move { c.health_summary().await })
    });
    poll.every(POLL, Signal::stored(true));

    view! {
        <PageHeader title="Events" intro="What happened, newest first." />
        {error_banner(move || events.get().and_then(Result::err))}
        <section class="card" data-testid="health-summary">
            {move || {
                health
                    .get()
                    .and_then(Result::ok)
                    .map(|h| {
                        view! {
                            <div class="filters">
                                {health_counts("Databases: ", h.databases)}
                                {health_counts("Destinations: ", h.destinations)}
                            </div>
                        }
                    })
            }}
        </section>
        <section class="card">
            <div class="filters">
                <FilterSelect
                    label="Kind"
                    testid="events-filter-kind"
                    query=(kind_q, set_kind_q)
                    all="All events"
                    options=|| EventKind::ALL.iter().map(|k| labelled(k.as_str())).collect()
                />
            </div>
            <Table columns=&["When", "Event", "About"] testid="events-table">
                <For
                    each=move || items(events)
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
            </Table>
            <Pager list=events pages testids=("events-newer", "events-older") class="actions" />
        </section>
    }
}
