//! The checks of a backup (verification and test-restore) as recorded on its execution row. The checks
//! themselves run in the restorations feature; this is the one place that writes their columns.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pgward_api_types::{CheckStatus, ExecutionObject, ExecutionStatus};
use pgward_entity::executions;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::error::AppError;
use crate::state::AppState;

/// Which check of a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    Verify,
    TestRestore,
}

impl CheckKind {
    fn columns(self) -> (executions::Column, executions::Column) {
        match self {
            Self::Verify => (
                executions::Column::VerifyStatus,
                executions::Column::VerifiedAt,
            ),
            Self::TestRestore => (
                executions::Column::TestRestoreStatus,
                executions::Column::TestRestoredAt,
            ),
        }
    }
}

/// Records a check's status; its time column doubles as the heartbeat while running. A message is kept
/// for test-restores (what was compared, or why it failed).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn mark_check(
    state: &AppState,
    id: Uuid,
    kind: CheckKind,
    status: CheckStatus,
    message: Option<String>,
) -> Result<(), AppError> {
    let (s, at) = kind.columns();
    let mut q = executions::Entity::update_many()
        .col_expr(s, Expr::value(status.as_str()))
        .col_expr(at, Expr::value(Utc::now()));
    if let CheckKind::TestRestore = kind {
        q = q.col_expr(executions::Column::TestRestoreMessage, Expr::value(message));
    }
    q.filter(executions::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// One heartbeat of a running check (best effort: a missed beat is caught up by the next).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn check_heartbeat(state: &AppState, id: Uuid, kind: CheckKind) {
    let (s, at) = kind.columns();
    let _ = executions::Entity::update_many()
        .col_expr(at, Expr::value(Utc::now()))
        .filter(executions::Column::Id.eq(id))
        .filter(s.eq(CheckStatus::Running.as_str()))
        .exec(&state.db)
        .await;
}

/// A finished verification: what each copy came to, and `ok` only when every copy held.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn record_verification(
    state: &AppState,
    id: Uuid,
    objects: &[ExecutionObject],
    all_ok: bool,
) -> Result<(), AppError> {
    let status = if all_ok {
        CheckStatus::Ok
    } else {
        CheckStatus::Failed
    };
    executions::Entity::update_many()
        .col_expr(
            executions::Column::Objects,
            Expr::value(serde_json::to_value(objects).unwrap_or_default()),
        )
        .col_expr(
            executions::Column::VerifyStatus,
            Expr::value(status.as_str()),
        )
        .col_expr(executions::Column::VerifiedAt, Expr::value(Utc::now()))
        .filter(executions::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// The successful backups of a task, newest first.
#[tracing::instrument(skip_all)]
pub async fn successful_backups(
    state: &AppState,
    task: Uuid,
    kind: Option<pgward_api_types::ExecutionKind>,
) -> Result<Vec<Uuid>, AppError> {
    let mut q = executions::Entity::find()
        .filter(executions::Column::TaskId.eq(task))
        .filter(executions::Column::Status.eq(ExecutionStatus::Success.as_str()));
    if let Some(k) = kind {
        q = q.filter(executions::Column::Kind.eq(k.as_str()));
    }
    Ok(q.order_by_desc(executions::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect())
}

/// The latest finished check of a task's backups: when it ended, and whether it held.
#[tracing::instrument(skip_all)]
pub async fn latest_check(
    state: &AppState,
    task: Uuid,
    kind: CheckKind,
) -> Result<Option<(DateTime<Utc>, bool)>, AppError> {
    let (status, at) = kind.columns();
    let row = executions::Entity::find()
        .filter(executions::Column::TaskId.eq(task))
        .filter(status.is_in([CheckStatus::Ok.as_str(), CheckStatus::Failed.as_str()]))
        .filter(at.is_not_null())
        .order_by_desc(at)
        .one(&state.db)
        .await?;
    Ok(row.and_then(|e| {
        let (s, when) = match kind {
            CheckKind::Verify => (e.verify_status, e.verified_at),
            CheckKind::TestRestore => (e.test_restore_status, e.test_restored_at),
        };
        Some((
            when?,
            s.as_deref().and_then(CheckStatus::parse) == Some(CheckStatus::Ok),
        ))
    }))
}

/// Checks whose process died (no heartbeat within the lease) end as failed.
#[tracing::instrument(skip_all)]
pub async fn reap_checks(
    state: &AppState,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<(), AppError> {
    let limit = now - chrono::Duration::from_std(lease).unwrap_or_default();
    executions::Entity::update_many()
        .col_expr(
            executions::Column::VerifyStatus,
            Expr::value(CheckStatus::Failed.as_str()),
        )
        .filter(executions::Column::VerifyStatus.eq(CheckStatus::Running.as_str()))
        .filter(executions::Column::VerifiedAt.lt(limit))
        .exec(&state.db)
        .await?;
    executions::Entity::update_many()
        .col_expr(
            executions::Column::TestRestoreStatus,
            Expr::value(CheckStatus::Failed.as_str()),
        )
        .col_expr(
            executions::Column::TestRestoreMessage,
            Expr::value("interrupted: the pgward process running it stopped"),
        )
        .filter(executions::Column::TestRestoreStatus.eq(CheckStatus::Running.as_str()))
        .filter(executions::Column::TestRestoredAt.lt(limit))
        .exec(&state.db)
        .await?;
    Ok(())
}
