//! Beside the form: when the task in it runs next, in its own time zone.

use leptos::prelude::*;

use super::Page;
use crate::ui::{alert_error, format_local};

pub(super) fn next_runs_panel(page: Page) -> impl IntoView {
    view! {
        <aside class="card editor-side" data-testid="next-runs-panel">
            <h2>"Next runs"</h2>
            {move || match (page.editing.get(), page.next_runs.get()) {
                (None, _) => {
                    view! {
                        <p class="muted small" data-testid="next-runs-hint">
                            "Save the task to see its next ten run times, in its time zone."
                        </p>
                    }
                        .into_any()
                }
                (Some(_), None) => view! { <p class="muted small">"Loading…"</p> }.into_any(),
                (Some(_), Some(Err(e))) => alert_error(e).into_any(),
                (Some(_), Some(Ok(runs))) if runs.runs.is_empty() => {
                    view! {
                        <p class="muted small" data-testid="next-runs-none">
                            "This schedule never fires."
                        </p>
                    }
                        .into_any()
                }
                (Some(_), Some(Ok(runs))) => {
                    view! {
                        <p class="muted small">{format!("In {}", runs.timezone)}</p>
                        <ol class="next-runs" data-testid="next-runs">
                            {runs
                                .runs
                                .iter()
                                .map(|t| {
                                    view! {
                                        <li data-testid="next-run">
                                            <span class="weekday">{t.format("%a").to_string()}</span>
                                            <span class="mono">{format_local(t)}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                        {(!page.form.active.get())
                            .then(|| {
                                view! {
                                    <p class="muted small">
                                        "The task is paused: these runs happen only once it is active."
                                    </p>
                                }
                            })}
                    }
                        .into_any()
                }
            }}
        </aside>
    }
}
