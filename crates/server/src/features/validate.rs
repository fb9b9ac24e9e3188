//! Small input rules shared by features; each returns the message for the offending field.

use std::collections::BTreeMap;

use crate::error::AppError;

/// Collects field errors and turns them into one 422.
#[derive(Default)]
pub struct Fields(BTreeMap<String, String>);

impl Fields {
    pub fn check(&mut self, field: &str, result: Result<(), String>) {
        if let Err(m) = result {
            self.0.entry(field.to_string()).or_insert(m);
        }
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

/// A display name: trimmed, 1..=max characters, no control characters. Any script is welcome.
pub fn name(value: &str, max: usize) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    if v.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

pub fn optional_text(value: Option<&str>, max: usize) -> Result<(), String> {
    match value {
        Some(v) if v.chars().count() > max => Err(format!("must be at most {max} characters")),
        Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            Err("must not contain control characters".into())
        }
        _ => Ok(()),
    }
}

pub fn email(value: &str) -> Result<(), String> {
    let v = value.trim();
    let valid = v.len() <= 254
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if valid {
        Ok(())
    } else {
        Err("must be an email address like admin@example.com".into())
    }
}

pub fn password(value: &str) -> Result<(), String> {
    let n = value.chars().count();
    if n < 12 {
        return Err("must be at least 12 characters".into());
    }
    if n > 1024 {
        return Err("must be at most 1024 characters".into());
    }
    Ok(())
}

/// The id a `cursor` query parameter stands for (lists page by id); 422 when it is not one of ours.
pub fn cursor(c: Option<&str>) -> Result<Option<uuid::Uuid>, AppError> {
    use base64::Engine;
    match c.filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| uuid::Uuid::from_slice(&b).ok())
            .map(Some)
            .ok_or_else(|| AppError::field("cursor", "is not a cursor from a previous page")),
    }
}

/// Cuts `rows` (fetched with `limit + 1`) to `limit` and returns the cursor of the next page, if any.
pub fn next_cursor<T>(
    rows: &mut Vec<T>,
    limit: u32,
    id: impl Fn(&T) -> uuid::Uuid,
) -> Option<String> {
    use base64::Engine;
    if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|r| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id(r).as_bytes()))
    } else {
        None
    }
}
