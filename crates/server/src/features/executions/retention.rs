//! Retention: which successful backups of a task to keep. A backup survives if any rule keeps it: the
//! newest `keep_last`, everything younger than `keep_days`, and grandfather-father-son (the newest backup
//! of each of the last N days, ISO weeks, months and years, in the task's time zone). Nothing is deleted
//! while the task's latest run failed, and one object that cannot be deleted never stops the others.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use pgward_api_types::{CheckStatus, Execution, ExecutionStatus, RetentionPolicy};
use pgward_entity::executions;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use uuid::Uuid;

use super::service;
use crate::error::AppError;
use crate::features::tasks;
use crate::state::AppState;

/// Maps a local time to its GFS period (day, ISO week, month or year).
type Period = fn(&DateTime<Tz>) -> (i32, u32);

/// The ids (of `backups`, newest first) that the policy keeps.
pub fn kept(
    backups: &[(Uuid, DateTime<Utc>)],
    policy: &RetentionPolicy,
    tz: Tz,
    now: DateTime<Utc>,
) -> HashSet<Uuid> {
    let mut keep: HashSet<Uuid> = backups
        .iter()
        .take(policy.keep_last as usize)
        .map(|b| b.0)
        .collect();
    if let Some(days) = policy.keep_days {
        let since = now - chrono::Duration::days(i64::from(days));
        keep.extend(backups.iter().filter(|b| b.1 >= since).map(|b| b.0));
    }
    if let Some(g) = &policy.gfs {
        let periods: [(u32, Period); 4] = [
            (g.daily, |t| (t.year(), t.ordinal())),
            (g.weekly, |t| (t.iso_week().year(), t.iso_week().week())),
            (g.monthly, |t| (t.year(), t.month())),
            (g.yearly, |t| (t.year(), 0)),
        ];
        for (count, bucket) in periods {
            let mut seen = Vec::new();
            // Newest first: the first backup of each bucket is its newest.
            for (id, at) in backups {
                if seen.len() >= count as usize {
                    break;
                }
                let b = bucket(&at.with_timezone(&tz));
                if !seen.contains(&b) {
                    seen.push(b);
                    keep.insert(*id);
                }
            }
        }
    }
    keep
}

/// Successful backups of `task` that the policy would delete now (empty while the latest run failed).
#[tracing::instrument(skip_all)]
pub async fn candidates(
    state: &AppState,
    task: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<executions::Model>, AppError> {
    candidates_under(state, task, now, None).await
}

/// [`candidates`] under `policy` instead of the task's saved one.
async fn candidates_under(
    state: &AppState,
    task: Uuid,
    now: DateTime<Utc>,
    policy: Option<&pgward_api_types::RetentionPreviewQuery>,
) -> Result<Vec<executions::Model>, AppError> {
    let (_, mut spec) = tasks::service::find(state, task).await?;
    if let Some(q) = policy {
        spec.retention = q.apply(&spec.retention);
    }
    let tz = tasks::service::parse_tz(&spec.timezone)
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    // Runs, not a whole-server run's databases, decide whether the latest run failed.
    let latest_final = executions::Entity::find()
        .filter(executions::Column::TaskId.eq(task))
        .filter(executions::Column::ParentId.is_null())
        .filter(executions::Column::Status.is_in([
            ExecutionStatus::Success.as_str(),
            ExecutionStatus::Failed.as_str(),
        ]))
        .order_by_desc(executions::Column::ScheduledFor)
        .one(&state.db)
        .await?;
    if latest_final.is_none_or(|e| e.status != ExecutionStatus::Success.as_str()) {
        return Ok(Vec::new());
    }
    let successes = executions::Entity::find()
        .filter(executions::Column::TaskId.eq(task))
        .filter(executions::Column::Status.eq(ExecutionStatus::Success.as_str()))
        .order_by_desc(executions::Column::ScheduledFor)
        .all(&state.db)
        .await?;
    let delete = select_deletions(&successes, &spec.retention, tz, now);
    Ok(successes
        .into_iter()
        .filter(|e| delete.contains(&e.id))
        .collect())
}

/// Which of a task's successful rows (newest first) retention deletes. Each database is a series of
/// its own (a one-database task has one; a whole-server task one per database on the server, so a
/// database dropped from the server keeps its last backups). A whole-server run's own row (its
/// globals) goes when none of its databases' backups stays, and never the newest.
fn select_deletions(
    successes: &[executions::Model],
    policy: &RetentionPolicy,
    tz: Tz,
    now: DateTime<Utc>,
) -> HashSet<Uuid> {
    let server = pgward_api_types::ExecutionKind::Server.as_str();
    let mut series: std::collections::BTreeMap<Option<&str>, Vec<Backup>> = Default::default();
    for e in successes.iter().filter(|e| e.kind != server) {
        series
            .entry(e.database_name.as_deref())
            .or_default()
            .push(Backup {
                id: e.id,
                at: e.scheduled_for,
                check: check_of(e),
            });
    }
    let mut delete: HashSet<Uuid> = series
        .values()
        .flat_map(|list| to_delete(list, policy, tz, now))
        .collect();
    let runs: Vec<&executions::Model> = successes.iter().filter(|e| e.kind == server).collect();
    for run in runs.iter().skip(1) {
        let kept_child = successes
            .iter()
            .any(|c| c.parent_id == Some(run.id) && !delete.contains(&c.id));
        if !kept_child {
            delete.insert(run.id);
        }
    }
    delete
}

/// What the proofs said of a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Verification or test-restore failed: not a backup to count on.
    Failed,
    /// Verified or test-restored, and nothing failed.
    Passed,
    /// Not checked (yet).
    Unchecked,
}

fn check_of(e: &executions::Model) -> Proof {
    let checks = [&e.verify_status, &e.test_restore_status]
        .map(|c| c.as_deref().and_then(CheckStatus::parse));
    if checks.contains(&Some(CheckStatus::Failed)) {
        Proof::Failed
    } else if checks.contains(&Some(CheckStatus::Ok)) {
        Proof::Passed
    } else {
        Proof::Unchecked
    }
}

/// One successful backup as retention sees it.
#[derive(Debug, Clone, Copy)]
pub struct Backup {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub check: Proof,
}

/// The ids (of `backups`, newest first) retention deletes. The policy counts only backups no proof
/// failed (a corrupt backup never takes a good one's place); the newest backup that passed a proof is
/// never deleted; a backup whose proof failed goes once a newer good backup is kept (before that it may
/// be all there is).
pub fn to_delete(
    backups: &[Backup],
    policy: &RetentionPolicy,
    tz: Tz,
    now: DateTime<Utc>,
) -> HashSet<Uuid> {
    let good: Vec<(Uuid, DateTime<Utc>)> = backups
        .iter()
        .filter(|b| b.check != Proof::Failed)
        .map(|b| (b.id, b.at))
        .collect();
    let mut keep = kept(&good, policy, tz, now);
    if let Some(proven) = backups.iter().find(|b| b.check == Proof::Passed) {
        keep.insert(proven.id);
    }
    let newest_kept_good = backups
        .iter()
        .filter(|b| b.check != Proof::Failed && keep.contains(&b.id))
        .map(|b| b.at)
        .max();
    backups
        .iter()
        .filter(|b| match b.check {
            Proof::Failed => newest_kept_good.is_some_and(|t| b.at < t),
            _ => !keep.contains(&b.id),
        })
        .map(|b| b.id)
        .collect()
}

#[tracing::instrument(skip_all)]
pub async fn preview(
    state: &AppState,
    task: Uuid,
    policy: &pgward_api_types::RetentionPreviewQuery,
) -> Result<Vec<Execution>, AppError> {
    Ok(candidates_under(state, task, Utc::now(), Some(policy))
        .await?
        .iter()
        .map(service::to_dto)
        .collect())
}

/// Applies the policy: deletes objects and manifests of every candidate; a candidate whose deletion
/// fails keeps its status and records why. Returns the ids deleted.
#[tracing::instrument(skip_all)]
pub async fn apply(
    state: &AppState,
    task: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, AppError> {
    let mut deleted = Vec::new();
    for e in candidates(state, task, now).await? {
        let failures = service::delete_objects(state, &service::objects_of(&e)).await;
        let (status, message) = if failures.is_empty() {
            (
                ExecutionStatus::Deleted.as_str(),
                "removed by retention".to_string(),
            )
        } else {
            (
                ExecutionStatus::Success.as_str(),
                format!("retention could not delete: {}", failures.join("; ")),
            )
        };
        // The status change and its event commit together; a run another pass already handled
        // (rows_affected 0) is neither counted nor announced again.
        let tx = state.db.begin().await?;
        let changed = executions::Entity::update_many()
            .col_expr(executions::Column::Status, Expr::value(status))
            .col_expr(executions::Column::Message, Expr::value(message))
            .filter(executions::Column::Id.eq(e.id))
            .filter(executions::Column::Status.eq(ExecutionStatus::Success.as_str()))
            .exec(&tx)
            .await?
            .rows_affected
            == 1;
        if !failures.is_empty() {
            tx.commit().await?;
            tracing::warn!(execution_id = %e.id, "retention could not delete every object");
            continue;
        }
        let deliveries = if changed {
            deleted.push(e.id);
            crate::features::events::service::record(
                &tx,
                pgward_api_types::EventKind::RetentionDeleted,
                crate::features::events::service::Refs {
                    task: Some(task),
                    database: e.database_id,
                    execution: Some(e.id),
                    ..Default::default()
                },
                serde_json::json!({
                    "execution": crate::features::events::service::execution_data(&super::service::to_dto(&e)),
                    "task": { "id": task, "name": e.task_name },
                    "destination_ids": e.destination_ids,
                }),
            )
            .await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        crate::features::events::service::publish(state, deliveries).await;
    }
    if !deleted.is_empty() {
        tracing::info!(task_id = %task, count = deleted.len(), "retention removed old backups");
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use pgward_api_types::GfsPolicy;

    use super::*;

    fn daily_for(days: i64, now: DateTime<Utc>) -> Vec<(Uuid, DateTime<Utc>)> {
        (0..days)
            .map(|d| (Uuid::from_u128(d as u128), now - chrono::Duration::days(d)))
            .collect()
    }

    #[test]
    fn failed_proofs_take_no_place_and_the_newest_proven_backup_stays() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap();
        let at = |d: i64| now - chrono::Duration::days(d);
        let b = |n: u128, d: i64, check: Proof| Backup {
            id: Uuid::from_u128(n),
            at: at(d),
            check,
        };
        let p = RetentionPolicy {
            keep_days: None,
            keep_last: 2,
            gfs: None,
        };
        // Newest first: a corrupt one, two unchecked, an old verified one, an older corrupt one.
        let list = [
            b(1, 0, Proof::Failed),
            b(2, 1, Proof::Unchecked),
            b(3, 2, Proof::Unchecked),
            b(4, 3, Proof::Passed),
            b(5, 4, Proof::Failed),
            b(6, 5, Proof::Unchecked),
        ];
        let gone = to_delete(&list, &p, chrono_tz::UTC, now);
        let ids: HashSet<u128> = gone.iter().map(|u| u.as_u128()).collect();
        // 2 and 3 are the last two good ones; 4 is the newest proven; 1 is newer than every kept good
        // backup (kept for now); 5 and 6 go.
        assert_eq!(ids, HashSet::from([5, 6]));
    }

    fn row(
        n: u128,
        days_ago: i64,
        kind: &str,
        parent: Option<u128>,
        db: Option<&str>,
    ) -> executions::Model {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap();
        executions::Model {
            id: Uuid::from_u128(n),
            task_id: None,
            task_name: "t".into(),
            database_id: None,
            trigger: "schedule".into(),
            status: ExecutionStatus::Success.as_str().into(),
            scheduled_for: now - chrono::Duration::days(days_ago),
            timezone: "UTC".into(),
            created_at: now,
            started_at: None,
            finished_at: None,
            worker_id: None,
            heartbeat_at: None,
            cancel_requested: false,
            object_key: None,
            objects: serde_json::json!([]),
            destination_ids: serde_json::json!([]),
            pending_uploads: serde_json::json!([]),
            bytes_read: 0,
            size: None,
            rate_bps: None,
            sha256: None,
            server_version: None,
            pg_dump_version: None,
            message: None,
            stderr_tail: None,
            verify_status: None,
            verified_at: None,
            test_restore_status: None,
            test_restored_at: None,
            test_restore_message: None,
            trashed_at: None,
            server_key: None,
            kind: kind.into(),
            parent_id: parent.map(Uuid::from_u128),
            database_name: db.map(str::to_string),
        }
    }

    #[test]
    fn a_whole_server_task_keeps_each_database_on_its_own_and_a_run_while_it_holds_one() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap();
        let p = RetentionPolicy {
            keep_days: None,
            keep_last: 2,
            gfs: None,
        };
        // Three runs (newest first): "a" in all three, "b" only in the oldest (dropped since).
        let rows = [
            row(100, 0, "server", None, None),
            row(101, 0, "database", Some(100), Some("a")),
            row(200, 1, "server", None, None),
            row(201, 1, "database", Some(200), Some("a")),
            row(300, 2, "server", None, None),
            row(301, 2, "database", Some(300), Some("a")),
            row(302, 2, "database", Some(300), Some("b")),
        ];
        let gone: HashSet<u128> = select_deletions(&rows, &p, chrono_tz::UTC, now)
            .iter()
            .map(|u| u.as_u128())
            .collect();
        // "a" keeps its newest two; "b"'s only backup stays, and with it the run that holds it.
        assert_eq!(gone, HashSet::from([301]));
        let p1 = RetentionPolicy { keep_last: 1, ..p };
        let gone: HashSet<u128> = select_deletions(&rows[..4], &p1, chrono_tz::UTC, now)
            .iter()
            .map(|u| u.as_u128())
            .collect();
        assert_eq!(gone, HashSet::from([201, 200]));
    }

    #[test]
    fn keep_last_holds_even_when_everything_is_old() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap();
        let b = daily_for(30, now + chrono::Duration::days(-400));
        let p = RetentionPolicy {
            keep_days: Some(7),
            keep_last: 3,
            gfs: None,
        };
        assert_eq!(kept(&b, &p, chrono_tz::UTC, now).len(), 3);
    }

    #[test]
    fn gfs_keeps_the_newest_of_each_day_week_month_and_year_over_a_year() {
        let now = Utc.with_ymd_and_hms(2026, 12, 31, 2, 30, 0).unwrap();
        let b = daily_for(365, now);
        let p = RetentionPolicy {
            keep_days: None,
            keep_last: 1,
            gfs: Some(GfsPolicy {
                daily: 7,
                weekly: 4,
                monthly: 12,
                yearly: 2,
            }),
        };
        let k = kept(&b, &p, chrono_tz::Europe::Berlin, now);
        let dates: HashSet<String> = b
            .iter()
            .filter(|x| k.contains(&x.0))
            .map(|x| x.1.format("%Y-%m-%d").to_string())
            .collect();
        // 7 days (25-31 Dec); the newest of ISO weeks 53, 52, 51, 50 (Dec 31, Sun 27, Sun 20, Sun 13);
        // the last day of each month Jan-Dec; 2026's newest (Dec 31). Overlaps count once.
        for d in [
            "2026-12-31",
            "2026-12-25",
            "2026-12-20",
            "2026-12-13",
            "2026-11-30",
            "2026-06-30",
            "2026-01-31",
        ] {
            assert!(dates.contains(d), "{d} missing from {dates:?}");
        }
        assert!(
            !dates.contains("2026-12-24")
                && !dates.contains("2026-12-06")
                && !dates.contains("2026-06-29")
        );
        assert_eq!(k.len(), 7 + 2 + 11, "{dates:?}");
    }
}
