//! Charts drawn as inline SVG (no script, no external resource): outcomes per day as stacked bars, and
//! each run's size and duration. They scale to their container's width (`viewBox`, `width="100%"`);
//! every colour comes from the stylesheet's variables (`.chart` rules), so they follow the theme.

use leptos::prelude::*;
use pgward_api_types::{DayOutcomes, ExecutionStatus, RunPoint};

use crate::ui::format_time;

/// The drawing's width in `viewBox` units (its height is 170, see [`VIEW_BOX`]); the browser scales it
/// to the container. The outcomes chart, usually as wide as its card, is wider ([`WIDE_VIEW_BOX`]) so
/// that its labels keep a readable size.
const WIDTH: f64 = 600.0;
const WIDE: f64 = 1000.0;
const WIDE_VIEW_BOX: &str = "0 0 1000 170";
/// Room above the plot for the max label, and below it for the x-axis labels.
const TOP: f64 = 18.0;
const BOTTOM: f64 = 150.0;
const PLOT: f64 = BOTTOM - TOP;
const VIEW_BOX: &str = "0 0 600 170";

/// `12.3 MiB`: binary units.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `850 ms`, `12.3 s`, `4.5 min`, `2.1 h`.
pub fn human_duration(ms: u64) -> String {
    let secs = ms as f64 / 1000.0;
    if ms < 1000 {
        format!("{ms} ms")
    } else if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `01-31` from `2025-01-31`.
fn short_day(day: &str) -> String {
    day.get(5..).unwrap_or(day).to_string()
}

/// Up to five evenly spread indices of `n` items, first and last included.
fn label_indices(n: usize) -> Vec<usize> {
    let mut out: Vec<usize> = match n {
        0 => vec![],
        1..=5 => (0..n).collect(),
        _ => (0..5).map(|k| k * (n - 1) / 4).collect(),
    };
    out.dedup();
    out
}

/// The x-axis: the baseline and labels under the chosen slots (`labels` as (centre x, text)).
fn x_axis(labels: Vec<(f64, String)>, width: f64) -> impl IntoView {
    let last = labels.len().saturating_sub(1);
    let texts = labels
        .into_iter()
        .enumerate()
        .map(|(i, (x, text))| {
            // The outer labels stay inside the drawing.
            let anchor = match i {
                0 if last > 0 => "start",
                i if i == last && last > 0 => "end",
                _ => "middle",
            };
            let x = match anchor {
                "start" => 0.0,
                "end" => width,
                _ => x,
            };
            view! {
                <text class="axis-label" x=fmt(x) y=fmt(BOTTOM + 15.0) text-anchor=anchor>
                    {text}
                </text>
            }
        })
        .collect_view();
    view! {
        <g class="axis" aria-hidden="true">
            <line class="axis-line" x1="0" y1=fmt(BOTTOM) x2=fmt(width) y2=fmt(BOTTOM) />
            {texts}
        </g>
    }
}

/// The top gridline with the scale's maximum written on it.
fn max_line(label: String, width: f64) -> impl IntoView {
    view! {
        <g class="axis" aria-hidden="true">
            <line class="grid-line" x1="0" y1=fmt(TOP) x2=fmt(width) y2=fmt(TOP) />
            <text class="axis-label" x="2" y=fmt(TOP - 5.0) text-anchor="start">
                {label}
            </text>
        </g>
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// The figure around a chart: the SVG, or the empty state when there is nothing to draw.
fn figure(
    testid: &'static str,
    caption: &'static str,
    empty: Option<&'static str>,
    chart: impl FnOnce() -> AnyView,
) -> impl IntoView {
    let body = match empty {
        Some(text) => view! { <p class="muted small chart-empty">{text}</p> }.into_any(),
        None => chart(),
    };
    view! {
        <figure class="chart" data-testid=testid>
            <figcaption class="chart-caption">{caption}</figcaption>
            {body}
        </figure>
    }
}

/// The drawing of a chart: scales to its container, one image for screen readers (`summary`), the
/// scale's maximum on top and the x-axis under `plot`.
fn chart_svg(
    (view_box, width): (&'static str, f64),
    summary: String,
    max_label: String,
    labels: Vec<(f64, String)>,
    plot: impl IntoView,
) -> impl IntoView {
    view! {
        <svg
            class="chart-svg"
            viewBox=view_box
            width="100%"
            role="img"
            aria-label=summary
            preserveAspectRatio="xMidYMid meet"
        >
            {max_line(max_label, width)}
            {plot}
            {x_axis(labels, width)}
        </svg>
    }
}

/// One stacked bar per day: succeeded (bottom), failed, cancelled; the scale goes from 0 to the busiest
/// day's total (at least 1).
#[component]
pub fn OutcomeBars(
    days: Vec<DayOutcomes>,
    #[prop(default = "Runs per day")] caption: &'static str,
) -> impl IntoView {
    let total = |d: &DayOutcomes| d.success + d.failed + d.cancelled;
    let max = days.iter().map(total).max().unwrap_or(0).max(1);
    let empty = days
        .iter()
        .all(|d| total(d) == 0)
        .then_some("No finished runs in this period.");
    figure("chart-outcomes", caption, empty, move || {
        let n = days.len();
        let slot = WIDE / n as f64;
        let bar = (slot * 0.7).max(1.0);
        let scale = PLOT / max as f64;
        let (ok, failed, cancelled) = days.iter().fold((0, 0, 0), |(a, b, c), d| {
            (a + d.success, b + d.failed, c + d.cancelled)
        });
        let summary = format!(
            "Runs per day from {} to {}: {} succeeded, {} failed, {} cancelled; at most {} on one day.",
            days.first().map(|d| d.day.as_str()).unwrap_or_default(),
            days.last().map(|d| d.day.as_str()).unwrap_or_default(),
            ok,
            failed,
            cancelled,
            max,
        );
        let labels = label_indices(n)
            .into_iter()
            .map(|i| ((i as f64 + 0.5) * slot, short_day(&days[i].day)))
            .collect();
        let bars = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let x = i as f64 * slot + (slot - bar) / 2.0;
                let mut y = BOTTOM;
                let mut segment = |count: u64, class: &'static str| {
                    (count > 0).then(|| {
                        let h = count as f64 * scale;
                        y -= h;
                        view! {
                            <rect class=class x=fmt(x) y=fmt(y) width=fmt(bar) height=fmt(h) />
                        }
                    })
                };
                let segments = (
                    segment(d.success, "seg-ok"),
                    segment(d.failed, "seg-failed"),
                    segment(d.cancelled, "seg-cancelled"),
                );
                let title = format!(
                    "{}: {} succeeded, {} failed, {} cancelled",
                    d.day, d.success, d.failed, d.cancelled
                );
                view! {
                    <g class="bar" data-day=d.day.clone() data-total=total(d).to_string()>
                        <title>{title}</title>
                        // The whole column answers to the pointer, also on empty days.
                        <rect
                            class="hit"
                            x=fmt(i as f64 * slot)
                            y=fmt(TOP)
                            width=fmt(slot)
                            height=fmt(PLOT)
                        />
                        {segments}
                    </g>
                }
            })
            .collect_view();
        let drawing = chart_svg(
            (WIDE_VIEW_BOX, WIDE),
            summary,
            plural(max, "run", "runs"),
            labels,
            bars,
        );
        view! {
            {drawing}
            <div class="chart-legend small" aria-hidden="true">
                <span class="legend legend-ok">"succeeded"</span>
                <span class="legend legend-failed">"failed"</span>
                <span class="legend legend-cancelled">"cancelled"</span>
            </div>
        }
        .into_any()
    })
}

/// The x positions of `n` runs, oldest on the left, evenly spaced.
fn run_x(i: usize, n: usize) -> f64 {
    (i as f64 + 0.5) * WIDTH / n as f64
}

/// Labels under the first, middle and last run: their day.
fn run_labels(points: &[&RunPoint]) -> Vec<(f64, String)> {
    let n = points.len();
    let mut idx = match n {
        0 => vec![],
        1 | 2 => (0..n).collect(),
        _ => vec![0, (n - 1) / 2, n - 1],
    };
    idx.dedup();
    idx.into_iter()
        .map(|i| {
            (
                run_x(i, n),
                points[i].finished_at.format("%m-%d").to_string(),
            )
        })
        .collect()
}

fn status_point_class(s: ExecutionStatus) -> &'static str {
    match s {
        ExecutionStatus::Success => "point point-ok",
        ExecutionStatus::Failed => "point point-failed",
        _ => "point point-cancelled",
    }
}

/// The stored size of each run (bars) and its duration (a line with a point per run), side by side.
#[component]
pub fn RunSeries(runs: Vec<RunPoint>) -> impl IntoView {
    let sized: Vec<RunPoint> = runs.iter().filter(|r| r.size.is_some()).cloned().collect();
    let timed: Vec<RunPoint> = runs
        .into_iter()
        .filter(|r| r.duration_ms.is_some())
        .collect();
    view! {
        <div class="chart-pair">
            {size_chart(sized)}
            {duration_chart(timed)}
        </div>
    }
}

fn size_chart(runs: Vec<RunPoint>) -> impl IntoView {
    let empty = runs.is_empty().then_some("No backup sizes yet.");
    figure("chart-sizes", "Backup size", empty, move || {
        let points: Vec<&RunPoint> = runs.iter().collect();
        let n = points.len();
        let max = points
            .iter()
            .filter_map(|r| r.size)
            .max()
            .unwrap_or(0)
            .max(1);
        let slot = WIDTH / n as f64;
        let bar = (slot * 0.7).clamp(1.0, 24.0);
        let summary = format!(
            "Backup size of {} from {} to {}: largest {}, latest {}.",
            plural(n as u64, "run", "runs"),
            format_time(points.first().map(|r| &r.finished_at)),
            format_time(points.last().map(|r| &r.finished_at)),
            human_bytes(max),
            human_bytes(points.last().and_then(|r| r.size).unwrap_or(0)),
        );
        let bars = points
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let size = r.size.unwrap_or(0);
                let h = (size as f64 / max as f64 * PLOT).max(1.0);
                let title = format!(
                    "{}: {} ({})",
                    format_time(Some(&r.finished_at)),
                    human_bytes(size),
                    r.status.as_str()
                );
                view! {
                    <rect
                        class="bar seg-size"
                        data-execution=r.execution_id.to_string()
                        x=fmt(run_x(i, n) - bar / 2.0)
                        y=fmt(BOTTOM - h)
                        width=fmt(bar)
                        height=fmt(h)
                    >
                        <title>{title}</title>
                    </rect>
                }
            })
            .collect_view();
        chart_svg(
            (VIEW_BOX, WIDTH),
            summary,
            format!("max {}", human_bytes(max)),
            run_labels(&points),
            bars,
        )
        .into_any()
    })
}

fn duration_chart(runs: Vec<RunPoint>) -> impl IntoView {
    let empty = runs.is_empty().then_some("No run durations yet.");
    figure("chart-durations", "Duration", empty, move || {
        let points: Vec<&RunPoint> = runs.iter().collect();
        let n = points.len();
        let max = points
            .iter()
            .filter_map(|r| r.duration_ms)
            .max()
            .unwrap_or(0)
            .max(1);
        let y = |ms: u64| BOTTOM - ms as f64 / max as f64 * PLOT;
        let line = points
            .iter()
            .enumerate()
            .map(|(i, r)| {
                format!(
                    "{},{}",
                    fmt(run_x(i, n)),
                    fmt(y(r.duration_ms.unwrap_or(0)))
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        let summary = format!(
            "Duration of {} from {} to {}: longest {}, latest {}.",
            plural(n as u64, "run", "runs"),
            format_time(points.first().map(|r| &r.finished_at)),
            format_time(points.last().map(|r| &r.finished_at)),
            human_duration(max),
            human_duration(points.last().and_then(|r| r.duration_ms).unwrap_or(0)),
        );
        let dots = points
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let ms = r.duration_ms.unwrap_or(0);
                let title = format!(
                    "{}: {} ({})",
                    format_time(Some(&r.finished_at)),
                    human_duration(ms),
                    r.status.as_str()
                );
                view! {
                    <circle
                        class=status_point_class(r.status)
                        data-execution=r.execution_id.to_string()
                        cx=fmt(run_x(i, n))
                        cy=fmt(y(ms))
                        r="3"
                    >
                        <title>{title}</title>
                    </circle>
                }
            })
            .collect_view();
        chart_svg(
            (VIEW_BOX, WIDTH),
            summary,
            format!("max {}", human_duration(max)),
            run_labels(&points),
            view! {
                <polyline class="series-line" points=line />
                {dots}
            },
        )
        .into_any()
    })
}
