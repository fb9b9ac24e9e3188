//! Cron schedules in IANA time zones (croner + chrono-tz).
//!
//! Daylight saving follows croner's rules (the Open Cron Pattern Specification): a run that falls into
//! the spring-forward gap happens at the first instant after the gap (02:30 -> 03:00 in Europe/Berlin),
//! and a run in the fall-back overlap happens once, at its first occurrence.

use std::str::FromStr;

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use croner::Cron;

const ALIASES: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

pub fn parse_tz(tz: &str) -> Result<Tz, String> {
    Tz::from_str(tz.trim())
        .map_err(|_| format!("unknown time zone {tz:?}; use an IANA name like Europe/Berlin"))
}

/// Five fields (minute hour day-of-month month day-of-week) or an @alias.
pub fn parse_cron(expr: &str) -> Result<Cron, String> {
    let e = expr.trim();
    if e.len() > 200 {
        return Err("must be at most 200 characters".into());
    }
    let ok_shape = if e.starts_with('@') {
        ALIASES.contains(&e.to_lowercase().as_str())
    } else {
        e.split_whitespace().count() == 5
    };
    if !ok_shape {
        return Err("must have five fields (minute hour day month weekday), e.g. \"30 2 * * *\", or be @hourly/@daily/@weekly/@monthly/@yearly".into());
    }
    Cron::from_str(e).map_err(|err| format!("invalid cron expression: {err}"))
}

/// The next `n` runs strictly after `after`, each in the task's time zone.
pub fn next_runs(
    cron: &Cron,
    tz: Tz,
    after: DateTime<Utc>,
    n: usize,
) -> Vec<DateTime<FixedOffset>> {
    let start = after.with_timezone(&tz);
    cron.iter_after(start)
        .take(n)
        .map(|t| t.fixed_offset())
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn runs_follow_the_wall_clock_across_daylight_saving() {
        let cron = parse_cron("30 2 * * *").unwrap();
        let tz = parse_tz("Europe/Berlin").unwrap();
        // 2026-03-29: clocks jump from 02:00 to 03:00; 2026-10-25: from 03:00 back to 02:00.
        let spring = next_runs(
            &cron,
            tz,
            Utc.with_ymd_and_hms(2026, 3, 27, 12, 0, 0).unwrap(),
            3,
        );
        let s: Vec<String> = spring.iter().map(|t| t.to_rfc3339()).collect();
        assert_eq!(
            s,
            [
                "2026-03-28T02:30:00+01:00",
                "2026-03-29T03:00:00+02:00",
                "2026-03-30T02:30:00+02:00"
            ]
        );
        let autumn = next_runs(
            &cron,
            tz,
            Utc.with_ymd_and_hms(2026, 10, 24, 12, 0, 0).unwrap(),
            3,
        );
        let a: Vec<String> = autumn.iter().map(|t| t.to_rfc3339()).collect();
        assert_eq!(
            a,
            [
                "2026-10-25T02:30:00+02:00",
                "2026-10-26T02:30:00+01:00",
                "2026-10-27T02:30:00+01:00"
            ]
        );
    }

    #[test]
    fn only_five_field_expressions_and_known_aliases_are_accepted() {
        assert!(parse_cron("@daily").is_ok());
        assert!(parse_cron("0 */6 * * MON-FRI").is_ok());
        assert!(parse_cron("0 0 * * * *").is_err());
        assert!(parse_cron("61 * * * *").is_err());
        assert!(parse_cron("@sometimes").is_err());
        assert!(parse_tz("Mars/Olympus").is_err());
    }
}
