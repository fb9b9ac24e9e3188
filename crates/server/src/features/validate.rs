//! Small input rules shared by features; each returns the message for the offending field.

use std::collections::BTreeMap;

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

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

/// The key a display name is unique by (a unique index on each `name_key` column): trimmed and
/// lower-cased in every script, so "Ä" and "ä" are the same name.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The name an update leaves a row with: the requested one, trimmed, or else the current one.
pub fn name_after(requested: Option<&str>, current: &str) -> String {
    requested.map(str::trim).unwrap_or(current).to_string()
}

/// The first free name for a copy of `base`: "<base> (copy)", then "<base> (copy 2)", "(copy 3)", ...,
/// free when no row's `name_key` column holds its key.
pub async fn copy_name<E: EntityTrait>(
    db: &DatabaseConnection,
    base: &str,
    name_key_column: E::Column,
) -> Result<String, AppError> {
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            format!("{base} (copy)")
        } else {
            format!("{base} (copy {n})")
        };
        let taken = E::find()
            .filter(name_key_column.eq(name_key(&candidate)))
            .one(db)
            .await?
            .is_some();
        if !taken {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// 409 when a row other than `except` is among `same_name` (a query for the rows holding `name`). The
/// check runs before a write so that a taken name is said before slower checks (a connection test);
/// two writers racing past it still meet the unique index, which `AppError::unique_name` reports alike.
pub async fn ensure_name_free<E: EntityTrait>(
    db: &DatabaseConnection,
    kind: &str,
    name: &str,
    same_name: Select<E>,
    id: E::Column,
    except: Option<uuid::Uuid>,
) -> Result<(), AppError> {
    let q = match except {
        Some(except) => same_name.filter(id.ne(except)),
        None => same_name,
    };
    if q.one(db).await?.is_some() {
        return Err(AppError::name_taken(kind, name.trim()));
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

/// The page size of the lists, unless a list has its own: by default, and at most.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
pub const MAX_PAGE_LIMIT: u32 = 200;

/// The page size a list asks for: `limit`, else `default`; 422 outside 1..=`max`.
pub fn page_limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, AppError> {
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(AppError::field("limit", format!("must be 1 to {max}")));
    }
    Ok(limit)
}

/// `sel` newest first (ids are UUIDv7: ordering by id is ordering by creation), from after the
/// `cursor` of a previous page.
pub fn newest_first<E: EntityTrait>(
    sel: Select<E>,
    id: E::Column,
    cursor: Option<&str>,
) -> Result<Select<E>, AppError> {
    let sel = sel.order_by_desc(id);
    Ok(match self::cursor(cursor)? {
        Some(before) => sel.filter(id.lt(before)),
        None => sel,
    })
}

/// A list's first step with the default page size: the size asked for (422 outside 1..=max) and
/// `sel` newest first from after `cursor`.
pub fn newest_page<E: EntityTrait>(
    sel: Select<E>,
    id: E::Column,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<(Select<E>, u32), AppError> {
    let limit = page_limit(limit, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT)?;
    Ok((newest_first(sel, id, cursor)?, limit))
}

/// One page of `sel` (`limit` rows; one more is fetched to know whether there is a next page) and the
/// cursor of the next page, if any.
pub async fn fetch_page<E: EntityTrait>(
    db: &DatabaseConnection,
    sel: Select<E>,
    limit: u32,
    id: impl Fn(&E::Model) -> uuid::Uuid,
) -> Result<(Vec<E::Model>, Option<String>), AppError> {
    let mut rows = sel.limit(u64::from(limit) + 1).all(db).await?;
    let next = next_cursor(&mut rows, limit, id);
    Ok((rows, next))
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
