use chrono::Utc;
use pgward_api_types::{Event, EventKind, EventListQuery, EventPage, HealthCounts, HealthSummary};
use pgward_entity::{databases, destinations, events, executions};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, QueryTrait, Set, Statement,
    TransactionTrait,
};
use uuid::Uuid;

use crate::error::AppError;
use crate::features::validate;
use crate::features::webhooks::service as delivery;
use crate::state::AppState;

pub use super::stored::{execution_data, restoration_data};

/// What an event is about.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refs {
    pub task: Option<Uuid>,
    pub database: Option<Uuid>,
    pub destination: Option<Uuid>,
    pub execution: Option<Uuid>,
    pub restoration: Option<Uuid>,
}

impl Refs {
    /// An event about a backup run: the run, its task and its database.
    pub fn execution(e: &executions::Model) -> Self {
        Self {
            task: e.task_id,
            database: e.database_id,
            execution: Some(e.id),
            ..Default::default()
        }
    }
}

/// The run (execution or restoration) of kinds that happen at most once per run: those are recorded
/// idempotently, so the catch-up sweep can raise an outcome that a dead process had committed but not
/// announced, without ever doubling one.
fn once_per_run(kind: EventKind, refs: &Refs) -> Option<(events::Column, Uuid)> {
    use EventKind::*;
    match kind {
        // Not backup_anomaly: one run may raise one per finding (size, duration).
        ExecutionStarted | ExecutionSuccess | ExecutionFailed => {
            Some((events::Column::ExecutionId, refs.execution?))
        }
        RestorationStarted | RestorationSuccess | RestorationFailed => {
            Some((events::Column::RestorationId, refs.restoration?))
        }
        _ => None,
    }
}

/// What a health check of a database or destination found, for `record_health_change`.
pub struct HealthCheck<'a> {
    pub resource: crate::background::queues::HealthResource,
    pub id: Uuid,
    pub name: &'a str,
    /// The status stored before this check.
    pub before: &'a str,
    pub ok: bool,
    pub error: Option<String>,
    pub checked_at: chrono::DateTime<Utc>,
}

/// Commits `tx`, which recorded a health check's outcome on its locked row, together with the check's
/// event if it has one (`record_health_change`), then publishes that event's deliveries.
#[tracing::instrument(skip_all)]
pub async fn commit_health_check(
    state: &AppState,
    tx: DatabaseTransaction,
    check: HealthCheck<'_>,
) -> Result<(), DbErr> {
    let deliveries = record_health_change(&tx, check).await?;
    tx.commit().await?;
    publish(state, deliveries).await;
    Ok(())
}

/// A transition healthy <-> unhealthy is an event (in the check's own transaction, so it is announced
/// once); the first check (from unknown) and a check that changes nothing are not. Returns the webhook
/// deliveries to publish after commit.
async fn record_health_change<C: ConnectionTrait>(
    db: &C,
    check: HealthCheck<'_>,
) -> Result<Vec<Uuid>, DbErr> {
    use pgward_api_types::HealthStatus;
    let after = if check.ok {
        HealthStatus::Healthy
    } else {
        HealthStatus::Unhealthy
    };
    if check.before == after.as_str() || check.before == HealthStatus::Unknown.as_str() {
        return Ok(Vec::new());
    }
    use crate::background::queues::HealthResource;
    let mut refs = Refs::default();
    let (healthy, unhealthy, key) = match check.resource {
        HealthResource::Database => {
            refs.database = Some(check.id);
            (
                EventKind::DatabaseHealthy,
                EventKind::DatabaseUnhealthy,
                "database",
            )
        }
        HealthResource::Destination => {
            refs.destination = Some(check.id);
            (
                EventKind::DestinationHealthy,
                EventKind::DestinationUnhealthy,
                "destination",
            )
        }
    };
    let kind = if check.ok { healthy } else { unhealthy };
    let mut data = serde_json::json!({
        "status": after.as_str(),
        "error": check.error,
        "checked_at": check.checked_at,
    });
    data[key] = serde_json::json!({ "id": check.id, "name": check.name });
    record(db, kind, refs, data).await
}

/// Records an event and the webhook deliveries it causes on `db` (the caller's transaction, so the event
/// commits with the state change it describes). Returns the deliveries to [`publish`] after the commit;
/// none when a once-per-run event of this run is already recorded.
#[tracing::instrument(skip_all)]
pub async fn record<C: ConnectionTrait>(
    db: &C,
    kind: EventKind,
    refs: Refs,
    data: serde_json::Value,
) -> Result<Vec<Uuid>, DbErr> {
    if let Some((column, run)) = once_per_run(kind, &refs) {
        // Serialises the two recorders of one run's event (its runner and the sweep) until commit.
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [format!("pgward:event:{}:{run}", kind.as_str()).into()],
        ))
        .await?;
        let seen = events::Entity::find()
            .filter(events::Column::Kind.eq(kind.as_str()))
            .filter(column.eq(run))
            .count(db)
            .await?;
        if seen > 0 {
            return Ok(Vec::new());
        }
    }
    let row = events::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind.as_str().into()),
        created_at: Set(Utc::now()),
        task_id: Set(refs.task),
        database_id: Set(refs.database),
        destination_id: Set(refs.destination),
        execution_id: Set(refs.execution),
        restoration_id: Set(refs.restoration),
        data: Set(data),
    };
    let m = row.insert(db).await?;
    let deliveries = match to_dto(&m) {
        Some(event) => delivery::record(db, &event, &refs).await?,
        None => Vec::new(),
    };
    tracing::info!(event = kind.as_str(), webhooks = deliveries.len(), "event");
    Ok(deliveries)
}

/// Hands committed deliveries to the queue (a lost enqueue is picked up by the scheduler's sweep).
#[tracing::instrument(skip_all)]
pub async fn publish(state: &AppState, deliveries: Vec<Uuid>) {
    for id in deliveries {
        delivery::enqueue(state, id).await;
    }
}

/// Records an event with the webhook deliveries it causes (one transaction), then enqueues those. Never
/// fails its caller: an event that cannot be stored is logged instead.
#[tracing::instrument(skip_all)]
pub async fn emit(state: &AppState, kind: EventKind, refs: Refs, data: serde_json::Value) {
    let recorded = async {
        let tx = state.db.begin().await?;
        let deliveries = record(&tx, kind, refs, data).await?;
        tx.commit().await?;
        Ok::<_, DbErr>(deliveries)
    }
    .await;
    match recorded {
        Ok(deliveries) => publish(state, deliveries).await,
        Err(e) => tracing::error!(event = kind.as_str(), error = %e, "recording an event failed"),
    }
}

fn to_dto(m: &events::Model) -> Option<Event> {
    Some(Event {
        id: m.id,
        kind: EventKind::parse(&m.kind)?,
        created_at: m.created_at,
        task_id: m.task_id,
        database_id: m.database_id,
        destination_id: m.destination_id,
        execution_id: m.execution_id,
        restoration_id: m.restoration_id,
        data: m.data.clone(),
    })
}

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, q: EventListQuery) -> Result<EventPage, AppError> {
    use events::Column as C;
    let (sel, limit) =
        validate::newest_page(events::Entity::find(), C::Id, q.limit, q.cursor.as_deref())?;
    let sel = sel
        .apply_if(q.kind, |s, k| s.filter(C::Kind.eq(k.as_str())))
        .apply_if(q.task_id, |s, t| s.filter(C::TaskId.eq(t)))
        .apply_if(q.database_id, |s, d| s.filter(C::DatabaseId.eq(d)))
        .apply_if(q.destination_id, |s, d| s.filter(C::DestinationId.eq(d)));
    let (rows, next_cursor) = validate::fetch_page(&state.db, sel, limit, |r| r.id).await?;
    Ok(EventPage {
        items: rows.iter().filter_map(to_dto).collect(),
        next_cursor,
    })
}

fn count(statuses: impl Iterator<Item = String>) -> HealthCounts {
    let mut c = HealthCounts::default();
    for s in statuses {
        match pgward_api_types::HealthStatus::parse(&s) {
            Some(pgward_api_types::HealthStatus::Healthy) => c.healthy += 1,
            Some(pgward_api_types::HealthStatus::Unhealthy) => c.unhealthy += 1,
            _ => c.unknown += 1,
        }
    }
    c
}

#[tracing::instrument(skip_all)]
pub async fn health_summary(state: &AppState) -> Result<HealthSummary, AppError> {
    let dbs: Vec<String> = databases::Entity::find()
        .select_only()
        .column(databases::Column::HealthStatus)
        .into_tuple()
        .all(&state.db)
        .await?;
    let dests: Vec<String> = destinations::Entity::find()
        .select_only()
        .column(destinations::Column::HealthStatus)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(HealthSummary {
        databases: count(dbs.into_iter()),
        destinations: count(dests.into_iter()),
    })
}
