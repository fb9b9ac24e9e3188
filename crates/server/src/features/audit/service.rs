//! Writing, listing and pruning audit entries.

use chrono::{DateTime, Utc};
use pgward_api_types::{AuditActor, AuditEntry, AuditPage, AuditQuery};
use pgward_entity::audit_log;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryTrait, Set};
use uuid::Uuid;

use crate::error::AppError;
use crate::features::validate;
use crate::state::AppState;

/// Who did it, for public routes where no token says so: set by the handler (a login names the user).
#[derive(Debug, Clone)]
pub struct Actor(pub AuditActor);

/// Names `user` as who made this request (a login, an accepted invitation: no token says so).
pub fn name_actor(req: &actix_web::HttpRequest, user: &pgward_entity::users::Model) {
    actix_web::HttpMessage::extensions_mut(req).insert(Actor(AuditActor {
        user_id: Some(user.id),
        email: Some(user.email.clone()),
        token_id: None,
        token_name: None,
    }));
}

/// One entry to write (see `AuditEntry` for the meaning of each field).
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub actor: AuditActor,
    pub operation: String,
    pub method: String,
    pub path: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub action: String,
    pub fields: Vec<String>,
    pub status: u16,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

#[tracing::instrument(skip_all, fields(operation = %e.operation))]
pub async fn record<C: sea_orm::ConnectionTrait>(
    db: &C,
    e: NewEntry,
) -> Result<(), sea_orm::DbErr> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        actor_user_id: Set(e.actor.user_id),
        actor_email: Set(e.actor.email),
        actor_token_id: Set(e.actor.token_id),
        actor_token_name: Set(e.actor.token_name),
        operation: Set(e.operation),
        method: Set(e.method),
        path: Set(e.path),
        resource: Set(e.resource),
        resource_id: Set(e.resource_id),
        action: Set(e.action),
        fields: Set(serde_json::json!(e.fields)),
        status: Set(i32::from(e.status)),
        client_addr: Set(e.client_addr),
        user_agent: Set(e.user_agent),
    }
    .insert(db)
    .await?;
    Ok(())
}

fn to_dto(m: audit_log::Model) -> AuditEntry {
    AuditEntry {
        id: m.id,
        at: m.at,
        actor: AuditActor {
            user_id: m.actor_user_id,
            email: m.actor_email,
            token_id: m.actor_token_id,
            token_name: m.actor_token_name,
        },
        operation: m.operation,
        method: m.method,
        path: m.path,
        resource: m.resource,
        resource_id: m.resource_id,
        action: m.action,
        fields: serde_json::from_value(m.fields).unwrap_or_default(),
        status: u16::try_from(m.status).unwrap_or_default(),
        client_addr: m.client_addr,
        user_agent: m.user_agent,
    }
}

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, q: AuditQuery) -> Result<AuditPage, AppError> {
    use audit_log::Column as C;
    let mut f = validate::Fields::default();
    f.check(
        "resource",
        validate::optional_text(q.resource.as_deref(), 100),
    );
    f.check(
        "resource_id",
        validate::optional_text(q.resource_id.as_deref(), 200),
    );
    f.check("action", validate::optional_text(q.action.as_deref(), 100));
    f.finish()?;
    let (sel, limit) = validate::newest_page(
        audit_log::Entity::find(),
        C::Id,
        q.limit,
        q.cursor.as_deref(),
    )?;
    let given = |t: Option<String>| t.filter(|t| !t.is_empty());
    let sel = sel
        .apply_if(q.user_id, |s, u| s.filter(C::ActorUserId.eq(u)))
        .apply_if(q.token_id, |s, t| s.filter(C::ActorTokenId.eq(t)))
        .apply_if(given(q.resource), |s, r| s.filter(C::Resource.eq(r)))
        .apply_if(given(q.resource_id), |s, r| s.filter(C::ResourceId.eq(r)))
        // The action (`delete`) or the whole operation (`delete_task`).
        .apply_if(given(q.action), |s, a| {
            s.filter(
                sea_orm::Condition::any()
                    .add(C::Action.eq(a.clone()))
                    .add(C::Operation.eq(a)),
            )
        })
        .apply_if(q.since, |s, t| s.filter(C::At.gte(t)))
        .apply_if(q.until, |s, t| s.filter(C::At.lt(t)));
    let (rows, next_cursor) = validate::fetch_page(&state.db, sel, limit, |r| r.id).await?;
    Ok(AuditPage {
        items: rows.into_iter().map(to_dto).collect(),
        next_cursor,
    })
}

/// Deletes entries older than `retention_days` (0: keeps everything). Part of the housekeeping pass.
#[tracing::instrument(skip_all)]
pub async fn prune(state: &AppState, now: DateTime<Utc>) -> Result<u64, AppError> {
    let days = state.config.auth.audit_retention_days;
    if days == 0 {
        return Ok(0);
    }
    let res = audit_log::Entity::delete_many()
        .filter(audit_log::Column::At.lt(now - chrono::Duration::days(i64::from(days))))
        .exec(&state.db)
        .await?;
    if res.rows_affected > 0 {
        tracing::info!(
            deleted = res.rows_affected,
            "audit log entries past retention deleted"
        );
    }
    Ok(res.rows_affected)
}
