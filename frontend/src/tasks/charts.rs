//! Under a task's row, opened by its "Charts" action: its outcomes per day over the last 90 days (in the
//! task's own time zone) and each run's size and duration.

use leptos::prelude::*;
use pgward_api_types::ExecutionStatsQuery;
use uuid::Uuid;

use crate::parts::{OutcomeBars, RunSeries};
use crate::session::use_session;

/// The charts of one task; fetched when shown.
#[component]
pub fn TaskCharts(task_id: Uuid, timezone: String) -> impl IntoView {
    let session = use_session();
    let query = ExecutionStatsQuery {
        task_id: Some(task_id),
        days: Some(90),
        tz: Some(timezone),
    };
    let stats = LocalResource::new(move || {
        let query = query.clone();
        session.call_with(query, |c, q| async move { c.execution_stats(&q).await })
    });
    view! {
        <div class="task-charts" data-testid="task-charts-panel">
            {move || {
                stats
                    .get()
                    .map(|r| match r {
                        Ok(s) => {
                            view! {
                                <p class="muted small">
                                    {format!("Last 90 days, days counted in {}", s.tz)}
                                </p>
                                <div class="chart-grid">
                                    <OutcomeBars days=s.days />
                                    <RunSeries runs=s.runs />
                                </div>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="field-error">{e}</p> }.into_any(),
                    })
                    .unwrap_or_else(|| view! { <p class="muted small">"Loading charts…"</p> }.into_any())
            }}
        </div>
    }
}
