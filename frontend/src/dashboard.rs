//! `/dashboard`: the first page after login. Health of databases and destinations (with what is wrong),
//! each task's latest run, webhooks whose last delivery failed, and the latest events. Refreshes itself.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;
use pgward_api_types::{
    DeliveryStatus, Event, EventListQuery, ExecutionStatsQuery, ExecutionStatus, HealthCounts,
    HealthStatus, Task,
};

use crate::events::{kind_class, summary};
use crate::executions::status_class;
use crate::parts::{ListCard, OutcomeBars, PageHeader, Polling, Progress, Tone, each, table_of};
use crate::session::use_session;
use crate::ui::{browser_timezone, format_bytes, format_local, format_time};

const POLL: Duration = Duration::from_secs(15);

fn counts(label: &'static str, testid: &'static str, c: HealthCounts) -> impl IntoView {
    let unhealthy = if c.unhealthy > 0 {
        "badge badge-bad"
    } else {
        "badge"
    };
    view! {
        <div class="stat" data-testid=testid>
            <div class="stat-label">{label}</div>
            <div>
                <span class="badge badge-ok" data-testid="healthy-count">
                    {format!("{} healthy", c.healthy)}
                </span>
                " "
                <span class=unhealthy>
                    {format!("{} unhealthy", c.unhealthy)}
                </span>
                " "
                <span class="badge">{format!("{} unchecked", c.unknown)}</span>
            </div>
        </div>
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let session = use_session();
    let poll = Polling::new();
    let reload = poll.reload;
    let health = LocalResource::new(move || {
        reload.track();
        session.call(|c| async move { c.health_summary().await })
    });
    // Unhealthy resources by name, with their last error.
    let problems = LocalResource::new(move || {
        reload.track();
        session.call(|c| async move {
            let dbs = c
                .all_databases(&pgward_api_types::DatabaseListQuery {
                    status: Some(HealthStatus::Unhealthy),
                    ..Default::default()
                })
                .await?;
            let dests = c.list_destinations().await?.items;
            let mut out: Vec<(String, String, Option<String>)> = dbs
                .into_iter()
                .filter(|d| d.health.status == HealthStatus::Unhealthy)
                .map(|d| ("database".to_string(), d.name, d.health.last_error))
                .collect();
            out.extend(
                dests
                    .into_iter()
                    .filter(|d| d.health.status == HealthStatus::Unhealthy)
                    .map(|d| ("destination".to_string(), d.name, d.health.last_error)),
            );
            Ok(out)
        })
    });
    let tasks = poll
        .resource(move || session.call(|c| async move { c.list_tasks().await.map(|l| l.items) }));
    let events = LocalResource::new(move || {
        reload.track();
        session.call(|c| async move {
            c.list_events(&EventListQuery {
                limit: Some(8),
                ..Default::default()
            })
            .await
            .map(|p| p.items)
        })
    });
    let failing_hooks = LocalResource::new(move || {
        reload.track();
        session.call(|c| async move {
            Ok(c.list_webhooks()
                .await?
                .items
                .into_iter()
                .filter(|w| w.last_delivery_status == Some(DeliveryStatus::Failed))
                .collect::<Vec<_>>())
        })
    });
    // Every task's outcomes per day, counted in the browser's time zone.
    let timezone = browser_timezone();
    let stats = LocalResource::new(move || {
        reload.track();
        let query = ExecutionStatsQuery {
            task_id: None,
            days: Some(30),
            tz: Some(timezone.clone()),
        };
        session.call_with(query, |c, q| async move { c.execution_stats(&q).await })
    });
    poll.every(POLL, Signal::stored(true));

    view! {
        <PageHeader title="Dashboard" intro="Is everything backed up, and is anything wrong?" />
        <section class="card" data-testid="dashboard-health">
            <h2>"Health"</h2>
            {move || {
                health
                    .get()
                    .map(|r| match r {
                        Ok(h) => {
                            view! {
                                <div class="stats">
                                    {counts("Databases", "dashboard-databases", h.databases)}
                                    {counts("Destinations", "dashboard-destinations", h.destinations)}
                                </div>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="field-error">{e}</p> }.into_any(),
                    })
            }}
            {move || {
                problems
                    .get()
                    .and_then(Result::ok)
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        view! {
                            <ul class="problems" data-testid="dashboard-problems">
                                {p
                                    .into_iter()
                                    .map(|(what, name, error)| {
                                        view! {
                                            <li>
                                                <span class="badge badge-bad">{what}</span>
                                                " "
                                                <strong>{name}</strong>
                                                " "
                                                <span class="muted">{error.unwrap_or_default()}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })
            }}
        </section>
        <section class="card" data-testid="dashboard-outcomes">
            <h2>"Last 30 days"</h2>
            {move || {
                stats
                    .get()
                    .map(|r| match r {
                        Ok(s) => {
                            view! {
                                <OutcomeBars
                                    days=s.days
                                    caption="Finished runs per day, all tasks"
                                />
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="field-error">{e}</p> }.into_any(),
                    })
                    .unwrap_or_else(|| view! { <p class="muted">"Loading…"</p> }.into_any())
            }}
        </section>
        <ListCard
            list=tasks
            rows=table_of(tasks, TASK_COLUMNS, None, task_row)
            empty=|| view! { "No backup tasks yet. " <A href=crate::session::at("/tasks")>"Create one"</A> "." }
            tone=Tone::Panel
            testid="dashboard-tasks"
        >
            <h2>"Backup tasks"</h2>
        </ListCard>
        {move || {
            failing_hooks
                .get()
                .and_then(Result::ok)
                .filter(|w| !w.is_empty())
                .map(|w| {
                    view! {
                        <section class="card" data-testid="dashboard-webhooks">
                            <h2>"Webhooks whose last delivery failed"</h2>
                            <ul class="problems">
                                {w
                                    .into_iter()
                                    .map(|w| {
                                        view! {
                                            <li>
                                                <A href=crate::session::at("/webhooks")>{w.name}</A>
                                                " "
                                                <span class="muted">
                                                    {format_time(w.last_delivery_at.as_ref())}
                                                </span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </section>
                    }
                })
        }}
        <ListCard
            list=events
            rows=move || each(events, event_line)
            empty=|| "Nothing has happened yet."
            tone=Tone::Panel
            testid="dashboard-events"
        >
            <div class="page-header">
                <h2>"Latest events"</h2>
                <A href=crate::session::at("/events")>"All events"</A>
            </div>
        </ListCard>
    }
}

const TASK_COLUMNS: &[&str] = &["Task", "Latest run", "Status", "Size", "Next run"];

fn task_row(t: Task) -> impl IntoView {
    let last = t.last_execution.clone();
    let status = last.as_ref().map(|e| e.status);
    // No success within the schedule's interval plus grace.
    let overdue = t.overdue_since.map(|since| {
        view! {
            " "
            <span
                class="badge badge-bad"
                data-testid="dashboard-task-overdue"
                title=format!(
                    "no successful backup in time (since {})",
                    format_time(Some(&since)),
                )
            >
                "overdue"
            </span>
        }
    });
    view! {
        <tr data-testid="dashboard-task" data-name=t.spec.name.clone()>
            <td>{t.spec.name.clone()}</td>
            <td>
                {last
                    .as_ref()
                    .map(|e| format_local(&e.scheduled_for))
                    .unwrap_or_else(|| "never".into())}
            </td>
            <td>
                {status
                    .map(|s| {
                        view! {
                            <span
                                class=status_class(s)
                                data-testid="dashboard-task-status"
                                data-status=s.as_str()
                            >
                                {s.as_str()}
                            </span>
                        }
                    })} {overdue}
                {last
                    .as_ref()
                    .filter(|e| e.status == ExecutionStatus::Running)
                    .map(|e| {
                        view! {
                            <Progress
                                done=e.bytes_read
                                total=None
                                rate=e.rate_bytes_per_sec
                                testid="dashboard-task-progress"
                            />
                        }
                    })}
            </td>
            <td>
                {last
                    .as_ref()
                    .and_then(|e| e.size)
                    .map(format_bytes)
                    .unwrap_or_else(|| "—".into())}
            </td>
            <td>
                {t
                    .next_run_at
                    .map(|n| format_local(&n))
                    .unwrap_or_else(|| "paused".into())}
            </td>
        </tr>
    }
}

fn event_line(e: Event) -> impl IntoView {
    view! {
        <div class="event-line" data-testid="dashboard-event" data-kind=e.kind.as_str()>
            <span class=kind_class(e.kind)>{e.kind.as_str()}</span>
            " "
            <span>{summary(&e)}</span>
            " "
            <span class="muted small">{format_time(Some(&e.created_at))}</span>
        </div>
    }
}
