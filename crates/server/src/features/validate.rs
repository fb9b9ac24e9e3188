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
