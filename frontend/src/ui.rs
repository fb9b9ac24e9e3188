//! Small view helpers shared by the pages.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use pgward_api_types::{HealthInfo, HealthStatus};

use crate::session::Failure;

/// An error banner; renders nothing while the message is `None`.
pub fn error_banner(message: impl Fn() -> Option<String> + Send + Sync + 'static) -> impl IntoView {
    move || message().map(alert_error)
}

/// The red banner the browser tests wait for (`data-testid="error"`) when a page cannot go on.
pub fn alert_error(message: String) -> impl IntoView {
    view! {
        <div class="alert alert-error" role="alert" data-testid="error">
            {message}
        </div>
    }
}

/// Asks the browser's `confirm()`; `false` when there is no window.
pub fn confirm(message: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(message).ok())
        .unwrap_or(false)
}

/// `2025-01-31 15:05 +01:00`: a time in the user's zone (see [`time_zone`]) with its offset, or a dash.
pub fn format_time(t: Option<&DateTime<Utc>>) -> String {
    t.map(|t| {
        let offset = offset_at(t)
            .and_then(FixedOffset::east_opt)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
        t.with_timezone(&offset)
            .format("%Y-%m-%d %H:%M %:z")
            .to_string()
    })
    .unwrap_or_else(|| "—".into())
}

/// The browser's clock: chrono's `Utc::now` needs a feature the frontend does not enable on wasm32.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// Where the user's choice of zone is kept; absent: the browser's zone.
const TZ_KEY: &str = "pgward.tz";

thread_local! {
    /// The zone in use and the browser's formatter for it: made once, not for every time on a page.
    static ZONE: std::cell::RefCell<Option<(String, JsValue)>> = const { std::cell::RefCell::new(None) };
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// A formatter of instants as wall-clock parts in `zone`; `None` when the browser does not know the
/// zone. The browser's own time zone database does the work (no zone data in this bundle).
fn formatter(zone: &str) -> Option<JsValue> {
    let options = js_sys::Object::new();
    for (k, v) in [
        ("timeZone", zone),
        ("hourCycle", "h23"),
        ("year", "numeric"),
        ("month", "numeric"),
        ("day", "numeric"),
        ("hour", "numeric"),
        ("minute", "numeric"),
        ("second", "numeric"),
    ] {
        js_sys::Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v)).ok()?;
    }
    let args = js_sys::Array::of2(&JsValue::from_str("en-US"), &options);
    // Reflect::construct, not DateTimeFormat::new: an unknown zone throws a RangeError to catch.
    let ctor = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("Intl"))
        .and_then(|intl| js_sys::Reflect::get(&intl, &JsValue::from_str("DateTimeFormat")))
        .ok()?;
    let ctor: &js_sys::Function = ctor.unchecked_ref();
    js_sys::Reflect::construct(ctor, &args).ok()
}

/// Whether the browser knows `zone` as a time zone.
pub fn is_time_zone(zone: &str) -> bool {
    formatter(zone).is_some()
}

/// The IANA zones the browser knows, for a picker (empty if it cannot list them).
pub fn time_zones() -> Vec<String> {
    let supported = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("Intl"))
        .and_then(|intl| js_sys::Reflect::get(&intl, &JsValue::from_str("supportedValuesOf")))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    supported
        .and_then(|f| f.call1(&JsValue::NULL, &JsValue::from_str("timeZone")).ok())
        .map(|list| {
            js_sys::Array::from(&list)
                .iter()
                .filter_map(|v| v.as_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Seconds east of UTC of the user's zone at `t`: the zone's wall clock at `t`, read as if it were UTC,
/// minus `t`.
fn offset_at(t: &DateTime<Utc>) -> Option<i32> {
    ZONE.with(|z| {
        let mut z = z.borrow_mut();
        if z.is_none() {
            let zone = stored_time_zone().unwrap_or_else(browser_timezone);
            let f = formatter(&zone).or_else(|| formatter("UTC"))?;
            *z = Some((zone, f));
        }
        let (_, f) = z.as_ref()?;
        let format_to_parts = js_sys::Reflect::get(f, &JsValue::from_str("formatToParts"))
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()?;
        let date = js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64));
        let parts = js_sys::Array::from(&format_to_parts.call1(f, &date).ok()?);
        let mut wall = [0i64; 6];
        for part in parts.iter() {
            let kind = js_sys::Reflect::get(&part, &JsValue::from_str("type"))
                .ok()?
                .as_string()?;
            let value = js_sys::Reflect::get(&part, &JsValue::from_str("value")).ok()?;
            let n = value.as_string().and_then(|v| v.parse::<i64>().ok());
            let i = match kind.as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                "second" => 5,
                _ => continue,
            };
            wall[i] = n?;
        }
        let local =
            chrono::NaiveDate::from_ymd_opt(wall[0] as i32, wall[1] as u32, wall[2] as u32)?
                .and_hms_opt(wall[3] as u32, wall[4] as u32, wall[5] as u32)?
                .and_utc();
        i32::try_from(local.timestamp() - t.timestamp()).ok()
    })
}

/// The IANA zone the user chose (Profile page), if any.
pub fn stored_time_zone() -> Option<String> {
    local_storage()
        .and_then(|s| s.get_item(TZ_KEY).ok().flatten())
        .filter(|tz| is_time_zone(tz))
}

/// Keeps `zone` (an IANA name) as the user's choice; `None` goes back to following the browser.
pub fn set_time_zone(zone: Option<&str>) -> Result<(), String> {
    if let Some(z) = zone
        && !is_time_zone(z)
    {
        return Err(format!("{z} is not a time zone this browser knows"));
    }
    if let Some(s) = local_storage() {
        let _ = match zone {
            Some(z) => s.set_item(TZ_KEY, z),
            None => s.remove_item(TZ_KEY),
        };
    }
    ZONE.with(|c| *c.borrow_mut() = None);
    Ok(())
}

/// `2025-01-31 02:30 +01:00`: a time in the zone it was given in, with that zone's offset.
pub fn format_local(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M %:z").to_string()
}

/// `1.4 MB` (decimal units, like most storage consoles).
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub fn format_duration_ms(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let secs = ms / 1000;
    if secs < 60 {
        return format!("{:.1} s", ms as f64 / 1000.0);
    }
    if secs < 3600 {
        return format!("{} min {:02} s", secs / 60, secs % 60);
    }
    format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60)
}

/// A form's last failed save: the message for its banner, and the per-field messages under the inputs
/// keyed by the API's JSON field path (e.g. `retention.keep_last`).
#[derive(Clone, Copy, Default)]
pub struct FieldErrors {
    failure: RwSignal<Option<Failure>>,
    fields: RwSignal<BTreeMap<String, String>>,
}

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Shows a failed save: the banner, and each field's message under its input.
    pub fn show(self, failure: Failure) {
        self.fields.set(failure.fields.clone());
        self.failure.set(Some(failure));
    }

    /// A complaint of the form's own about one field: said in the banner; the field is only marked, so
    /// that the message does not stand twice.
    pub fn reject(self, field: &str, message: String) {
        self.failure.set(Some(Failure {
            message: message.clone(),
            fields: BTreeMap::from([(field.to_string(), message)]),
        }));
        self.fields
            .set(BTreeMap::from([(field.to_string(), String::new())]));
    }

    pub fn clear(self) {
        self.failure.set(None);
        self.fields.set(BTreeMap::new());
    }

    /// One field of the form, for its input and the message under it.
    pub fn at(self, key: &'static str) -> FieldKey {
        FieldKey { errors: self, key }
    }

    /// The banner of the form: the message, and every per-field message (also those of fields the form
    /// has no input for).
    pub fn banner(self) -> impl IntoView {
        let failure = self.failure;
        move || {
            failure.get().map(|f| {
                // The API's message repeats every field; the list says it more readably.
                let headline = if f.fields.is_empty() {
                    f.message
                } else {
                    "Please correct the marked fields:".to_string()
                };
                let fields = f
                    .fields
                    .into_iter()
                    .map(|(k, v)| {
                        view! {
                            <li>
                                <code>{k}</code>
                                ": "
                                {v}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="alert alert-error" role="alert" data-testid="error">
                        <div>{headline}</div>
                        <ul class="field-list">{fields}</ul>
                    </div>
                }
            })
        }
    }
}

/// One field of a form's [`FieldErrors`].
#[derive(Clone, Copy)]
pub struct FieldKey {
    errors: FieldErrors,
    key: &'static str,
}

impl FieldKey {
    /// Reactive: the field has a message, so its input is marked invalid.
    pub fn invalid(self) -> bool {
        self.errors.fields.with(|e| e.contains_key(self.key))
    }

    /// The field's message, under its input; renders nothing while there is none.
    pub fn message(self) -> impl IntoView {
        let key = self.key;
        let fields = self.errors.fields;
        move || {
            fields.with(|e| e.get(key).cloned()).map(|m| {
                view! {
                    <small class="field-error" data-testid="field-error" data-field=key>
                        {m}
                    </small>
                }
            })
        }
    }
}

/// The browser's IANA time zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`), else `UTC`.
pub fn browser_timezone() -> String {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &JsValue::from_str("timeZone"))
        .ok()
        .and_then(|v| v.as_string())
        .filter(|tz| !tz.is_empty())
        .unwrap_or_else(|| "UTC".into())
}

/// Starts the browser's own download of `url` (a short-lived link from the API): the browser streams
/// the file to disk, so backups of any size never pass through this page's memory.
pub fn start_download(url: &str, filename: &str) -> Result<(), String> {
    let fail = |e: JsValue| format!("could not start the download: {e:?}");
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let anchor: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(fail)?.unchecked_into();
    anchor.set_href(url);
    // Honoured for pgward's own links; object stores' presigned URLs are served as binary downloads.
    anchor.set_download(filename);
    anchor.set_hidden(true);
    let body = document.body().ok_or("no document body")?;
    body.append_child(&anchor).map_err(fail)?;
    anchor.click();
    anchor.remove();
    Ok(())
}

/// How often a database or destination is health-checked: the server's default or a choice (seconds
/// in the value; empty = default).
pub fn health_interval_select(value: RwSignal<String>, testid: &'static str) -> impl IntoView {
    const CHOICES: [(&str, &str); 7] = [
        ("", "Server default"),
        ("60", "Every minute"),
        ("300", "Every 5 minutes"),
        ("900", "Every 15 minutes"),
        ("3600", "Every hour"),
        ("21600", "Every 6 hours"),
        ("86400", "Every day"),
    ];
    view! {
        <label class="field">
            <span>"Health check"</span>
            <select data-testid=testid bind:value=value>
                {CHOICES
                    .into_iter()
                    .map(|(v, label)| view! { <option value=v>{label}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

/// The chosen interval in seconds (`None`: the server's default).
pub fn parse_interval(value: RwSignal<String>) -> Option<u32> {
    value.get_untracked().parse().ok()
}

/// A health badge; its tooltip says what the last check found, how long it took, how often the
/// resource is checked and when next.
pub fn health_badge(health: &HealthInfo, testid: &'static str) -> impl IntoView + use<> {
    let status = health.status;
    let class = match status {
        HealthStatus::Healthy => "badge badge-ok",
        HealthStatus::Unhealthy => "badge badge-bad",
        HealthStatus::Unknown => "badge",
    };
    let mut title = match (&health.last_error, health.last_checked_at) {
        (Some(err), _) => err.clone(),
        (None, Some(t)) => format!("Last checked {}", format_time(Some(&t))),
        (None, None) => "Not checked yet".into(),
    };
    if let Some(ms) = health.latency_ms {
        title.push_str(&format!(" ({ms} ms)"));
    }
    title.push_str(&match health.interval_secs {
        Some(s) => format!(
            "; checked every {}",
            format_duration_ms(u64::from(s) * 1000)
        ),
        None => "; checked at the server's default interval".into(),
    });
    if let Some(next) = health.next_check_at {
        title.push_str(&format!("; next {}", format_time(Some(&next))));
    }
    view! {
        <span class=class title=title data-testid=testid>
            {status.as_str()}
        </span>
    }
}
