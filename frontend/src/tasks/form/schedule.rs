//! "When": the cron schedule, the time zone it is read in, and whether the task runs at all.

use leptos::prelude::*;

use super::TaskForm;
use crate::parts::{Checkbox, Field};
use crate::ui::FieldErrors;

/// Suggestions for the time-zone input; any IANA name is accepted.
const TIMEZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/Copenhagen",
    "Europe/Oslo",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/Athens",
    "Europe/Istanbul",
    "Europe/Kyiv",
    "Europe/Moscow",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Phoenix",
    "America/Denver",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
];

#[component]
pub fn ScheduleSection(form: TaskForm, errors: FieldErrors) -> impl IntoView {
    let (schedule, timezone) = (errors.at("schedule"), errors.at("timezone"));
    view! {
        <h3 class="form-section span-2">"When"</h3>
        <Field label="Schedule (cron)" error=schedule>
            <input
                type="text"
                class="mono"
                spellcheck="false"
                placeholder="30 2 * * *"
                data-testid="task-form-schedule"
                class:invalid=move || schedule.invalid()
                bind:value=form.schedule
            />
            <small class="muted">
                "minute hour day-of-month month day-of-week, or @hourly, @daily, @weekly, @monthly"
            </small>
        </Field>
        <Field label="Time zone" error=timezone>
            <input
                type="text"
                list="pgward-timezones"
                spellcheck="false"
                placeholder="UTC"
                data-testid="task-form-timezone"
                class:invalid=move || timezone.invalid()
                bind:value=form.timezone
            />
            <datalist id="pgward-timezones">
                {TIMEZONES.iter().map(|tz| view! { <option value=*tz></option> }).collect_view()}
            </datalist>
            <small class="muted">"IANA name; the schedule follows its daylight-saving changes."</small>
        </Field>
        <div class="span-2 checks">
            <Checkbox label="Active (run on schedule)" value=form.active testid="task-form-active" />
        </div>
    }
}
