//! The databases on a server, for whole-server backups: every database a backup can read (no
//! templates, none that refuses connections), chosen by shell-style include and exclude patterns.

use std::time::Duration;

use sqlx::Connection;

use super::ConnInfo;
use super::admin::{AdminError, connect};

/// A pattern is 1-200 characters of `glob` syntax (`*`, `?`, `[abc]`, `[!abc]`).
pub fn check_pattern(p: &str) -> Result<(), String> {
    if p.is_empty() || p.len() > 200 || p.contains('\0') {
        return Err("patterns must be 1-200 characters".into());
    }
    glob::Pattern::new(p)
        .map(|_| ())
        .map_err(|e| format!("{p:?} is not a pattern: {}", e.msg))
}

/// The names of `all` that `include` keeps (all of them when it is empty) and `exclude` does not
/// name, sorted. A pattern that does not parse matches nothing (they are checked when saved).
pub fn select(all: &[String], include: &[String], exclude: &[String]) -> Vec<String> {
    let compile = |ps: &[String]| -> Vec<glob::Pattern> {
        ps.iter()
            .filter_map(|p| glob::Pattern::new(p).ok())
            .collect()
    };
    let (inc, exc) = (compile(include), compile(exclude));
    // Database names are case-sensitive, and so is the match.
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: false,
        require_literal_leading_dot: false,
    };
    let mut out: Vec<String> = all
        .iter()
        .filter(|n| include.is_empty() || inc.iter().any(|p| p.matches_with(n, opts)))
        .filter(|n| !exc.iter().any(|p| p.matches_with(n, opts)))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every database on the server of `conn` that can be dumped: not a template, accepting connections.
pub async fn list(conn: &ConnInfo, timeout: Duration) -> Result<Vec<String>, AdminError> {
    let mut c = connect(conn, timeout).await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database \
         WHERE NOT datistemplate AND datallowconn ORDER BY datname",
    )
    .fetch_all(&mut c)
    .await
    .map_err(|e| AdminError::Statement(e.to_string()))?;
    let _ = c.close().await;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn include_then_exclude_case_sensitively() {
        let all = names(&["app_a", "app_b", "App_c", "postgres", "app_tmp", "x*y"]);
        assert_eq!(
            select(&all, &[], &[]),
            names(&["App_c", "app_a", "app_b", "app_tmp", "postgres", "x*y"])
        );
        assert_eq!(
            select(&all, &names(&["app_*"]), &names(&["*tmp"])),
            names(&["app_a", "app_b"])
        );
        assert_eq!(
            select(&all, &[], &names(&["postgres", "app_[ab]"])).len(),
            3
        );
        assert_eq!(select(&all, &names(&["x[*]y"]), &[]), names(&["x*y"]));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(check_pattern("app_[").is_err());
        assert!(check_pattern("").is_err());
        assert!(check_pattern(&"a".repeat(201)).is_err());
        assert!(check_pattern("app_*").is_ok());
    }
}
