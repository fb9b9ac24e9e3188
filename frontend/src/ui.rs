//! Small view helpers shared by the pages.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// An error banner; renders nothing while the message is `None`.
pub fn error_banner(message: impl Fn() -> Option<String> + Send + Sync + 'static) -> impl IntoView {
    move || {
        message().map(|m| {
            view! {
                <div class="alert alert-error" role="alert" data-testid="error">
                    {m}
                </div>
            }
        })
    }
}

/// Asks the browser's `confirm()`; `false` when there is no window.
pub fn confirm(message: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(message).ok())
        .unwrap_or(false)
}

/// `2025-01-31 14:05 UTC`, or a dash.
pub fn format_time(t: Option<&DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".into())
}
