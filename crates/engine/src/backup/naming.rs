//! Object names: `<prefix>/<task-slug>/<YYYY>/<MM>/<DD>/<task-slug>-<local time with offset>-<id>.<ext>`,
//! in the task's time zone, so a listing sorts by time and reads like the schedule an operator wrote.

use chrono::{DateTime, TimeZone};

use super::options::{Compression, DumpFormat};

/// Lower-case ASCII letters, digits and single dashes; never empty.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out
        .trim_end_matches('-')
        .chars()
        .take(60)
        .collect::<String>();
    if out.is_empty() {
        "backup".to_string()
    } else {
        out
    }
}

pub fn extension(format: DumpFormat, compression: Compression, encrypted: bool) -> String {
    let mut ext = format.extension().to_string();
    if let Some(c) = compression.extension() {
        ext.push('.');
        ext.push_str(c);
    }
    if encrypted {
        ext.push_str(".age");
    }
    ext
}

/// `name` without the extension [`extension`] gives (`x.v2.dump.zst.age` -> `x.v2`), or as it is.
pub fn strip_extension(name: &str) -> &str {
    let mut rest = name.strip_suffix(".age").unwrap_or(name);
    for c in [".zst", ".gz", ".lz4"] {
        rest = rest.strip_suffix(c).unwrap_or(rest);
    }
    [".sql", ".dump", ".tar"]
        .iter()
        .find_map(|f| rest.strip_suffix(f))
        .unwrap_or(name)
}

pub fn object_key<Tz: TimeZone>(
    prefix: &str,
    task_slug: &str,
    at: &DateTime<Tz>,
    short_id: &str,
    ext: &str,
) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let prefix = prefix.trim_matches('/');
    let body = format!(
        "{task_slug}/{}/{task_slug}-{}-{short_id}.{ext}",
        at.format("%Y/%m/%d"),
        at.format("%Y%m%dT%H%M%S%z"),
    );
    if prefix.is_empty() {
        body
    } else {
        format!("{prefix}/{body}")
    }
}

/// `<dump name without its extensions>.globals.sql[.zst][.age]`, beside the dump.
pub fn globals_key(object_key: &str, compression: Compression, encrypted: bool) -> String {
    let (dir, file) = object_key
        .rsplit_once('/')
        .map_or(("", object_key), |(d, f)| (d, f));
    let stem = file.split('.').next().unwrap_or(file);
    let name = format!(
        "{stem}.globals.{}",
        extension(DumpFormat::Plain, compression, encrypted)
    );
    if dir.is_empty() {
        name
    } else {
        format!("{dir}/{name}")
    }
}

pub fn manifest_key(object_key: &str) -> String {
    format!("{object_key}.manifest.json")
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    #[test]
    fn a_name_loses_only_the_extension_pgward_would_give_it() {
        assert_eq!(strip_extension("nightly.v2.dump.zst.age"), "nightly.v2");
        assert_eq!(strip_extension("nightly.dump"), "nightly");
        assert_eq!(strip_extension("a/b.sql.gz"), "a/b");
        assert_eq!(strip_extension("notes.txt"), "notes.txt");
        assert_eq!(strip_extension("x.zst"), "x.zst");
    }

    #[test]
    fn names_carry_the_local_time_and_offset() {
        let at = FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 3, 29, 1, 30, 0)
            .unwrap();
        let ext = extension(DumpFormat::Custom, Compression::Zstd { level: 3 }, true);
        assert_eq!(
            object_key("/backups/", &slug("Shop DB (prod)"), &at, "1a2b3c4d", &ext),
            "backups/shop-db-prod/2026/03/29/shop-db-prod-20260329T013000+0100-1a2b3c4d.dump.zst.age"
        );
        assert_eq!(slug("数据库"), "backup");
    }
}
