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
    if !e.starts_with('@') {
        for (value, (name, low, high, names)) in e.split_whitespace().zip(FIELDS) {
            check_field(value, name, low, high, names)?;
        }
    }
    // What the checks above let through and croner still refuses (an impossible combination).
    Cron::from_str(e).map_err(|err| {
        format!("not a schedule croner can use ({err}); fields: minute hour day-of-month month day-of-week")
    })
}

/// The five fields in order: name, range, and the names allowed instead of numbers.
const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &["L"]),
    (
        "month",
        1,
        12,
        &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ],
    ),
    (
        "day of week",
        0,
        7,
        &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    ),
];

/// One field: a list of `*`, values, ranges `a-b`, each optionally with a step `/n`; a message that names
/// the field and its range when a part is not one.
fn check_field(value: &str, name: &str, low: u32, high: u32, names: &[&str]) -> Result<(), String> {
    let range = || {
        let words = names
            .first()
            .zip(names.last())
            .filter(|_| names.len() > 1)
            .map(|(a, b)| format!(" or {a}-{b}"))
            .unwrap_or_default();
        format!("{low}-{high}{words}")
    };
    for part in value.split(',') {
        let (base, step) = match part.split_once('/') {
            Some((b, s)) => (b, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(n) if n >= 1 && n <= high.max(1) => {}
                _ => {
                    return Err(format!(
                        "{name}: the step in \"{part}\" must be a number from 1 to {}",
                        high.max(1)
                    ));
                }
            }
        }
        if base == "*" || base == "?" {
            continue;
        }
        // `#` (nth weekday) and `L`/`W` suffixes are croner's extensions: the number before them counts.
        let ends: Vec<&str> = base.split('-').collect();
        if ends.len() > 2 || ends.iter().any(|x| x.is_empty()) {
            return Err(format!(
                "{name}: \"{part}\" is not a value, a range a-b or *, each with an optional /step ({})",
                range()
            ));
        }
        for end in &ends {
            if names.iter().any(|n| n.eq_ignore_ascii_case(end)) {
                continue;
            }
            let core = end
                .split(['#', 'W'])
                .next()
                .unwrap_or(end)
                .trim_end_matches('L');
            if core.is_empty() && end.ends_with('L') {
                continue;
            }
            if names.iter().any(|n| n.eq_ignore_ascii_case(core)) {
                continue;
            }
            match core.parse::<u32>() {
                Ok(n) if (low..=high).contains(&n) => {}
                Ok(n) => return Err(format!("{name}: {n} is out of range {}", range())),
                Err(_) => {
                    return Err(format!(
                        "{name}: \"{end}\" is not a number or name in {}",
                        range()
                    ));
                }
            }
        }
    }
    Ok(())
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

    /// What an operator reads for a schedule that cannot be used: the field, and what it takes.
    #[test]
    fn a_bad_schedule_names_the_field_and_its_range() {
        let table = [
            ("61 * * * *", "minute: 61 is out of range 0-59"),
            ("0 24 * * *", "hour: 24 is out of range 0-23"),
            ("0 0 32 * *", "day of month: 32 is out of range 1-31"),
            ("0 0 0 * *", "day of month: 0 is out of range 1-31"),
            ("0 0 * 13 *", "month: 13 is out of range 1-12 or JAN-DEC"),
            ("0 0 * * 8", "day of week: 8 is out of range 0-7 or SUN-SAT"),
            (
                "0 0 * * FUN",
                "day of week: \"FUN\" is not a number or name in 0-7 or SUN-SAT",
            ),
            (
                "*/0 * * * *",
                "minute: the step in \"*/0\" must be a number from 1 to 59",
            ),
            (
                "1-2-3 * * * *",
                "minute: \"1-2-3\" is not a value, a range a-b or *, each with an optional /step (0-59)",
            ),
            ("0 0-25 * * *", "hour: 25 is out of range 0-23"),
        ];
        for (expr, said) in table {
            assert_eq!(parse_cron(expr).unwrap_err(), said, "{expr}");
        }
        for fine in [
            "*/15 9-17 * * MON-FRI",
            "0 3 L * *",
            "0 3 * JAN,JUL 1#1",
            "0,30 */2 1-15 * 0-6",
            "5 4 * * SUN",
        ] {
            assert!(
                parse_cron(fine).is_ok(),
                "{fine}: {:?}",
                parse_cron(fine).err()
            );
        }
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
