//! Progress of a running backup or restore: a bar (a real `<progress>`, so assistive technology reads
//! it), bytes done of the total, the rate, and the time left at that rate.

use leptos::prelude::*;

use crate::ui::{format_bytes, format_duration_ms};

/// Seconds left at `rate` bytes/s for `total - done` bytes, when all three are known and moving.
pub fn eta_secs(done: u64, total: Option<u64>, rate: Option<u64>) -> Option<u64> {
    let (total, rate) = (total?, rate.filter(|r| *r > 0)?);
    Some(total.saturating_sub(done).div_ceil(rate))
}

/// `done` bytes of `total` (unknown: an indeterminate bar), at `rate` bytes/s. Props are plain values:
/// the page re-renders it with each poll.
#[component]
pub fn Progress(
    done: u64,
    total: Option<u64>,
    rate: Option<u64>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    // A total that is an estimate (the last run's size) can be passed: never show more than 99 %
    // before the run says it is done.
    let percent = total
        .filter(|t| *t > 0)
        .map(|t| ((done as f64 / t as f64) * 100.0).clamp(0.0, 99.0));
    let mut text = match total {
        Some(t) => format!("{} of {}", format_bytes(done), format_bytes(t)),
        None => format_bytes(done),
    };
    if let Some(r) = rate.filter(|r| *r > 0) {
        text.push_str(&format!(" · {}/s", format_bytes(r)));
    }
    if let Some(eta) = eta_secs(done, total, rate) {
        text.push_str(&format!(" · about {} left", format_duration_ms(eta * 1000)));
    }
    let label = text.clone();
    view! {
        <div class="progress" data-testid=testid>
            {match percent {
                Some(p) => view! {
                    <progress max="100" value=format!("{p:.0}") aria-label=label></progress>
                }.into_any(),
                None => view! { <progress aria-label=label></progress> }.into_any(),
            }}
            <span class="small muted progress-text">{text}</span>
        </div>
    }
}
