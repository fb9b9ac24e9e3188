//! The rules of users: who exists, with which role, whether they may sign in, and invitations. Every
//! change that could leave pgward without an active administrator runs under one advisory lock, so two
//! admins demoting each other at once cannot both succeed.

use chrono::Utc;
use pgward_api_types::{
    AcceptInvitationRequest, CreateInvitationRequest, CreateUserRequest, CreatedInvitation, Ended,
    Invitation, Role, Session, UpdateUserRequest, User,
};
use pgward_entity::{invitations, sessions, users};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::auth::password;
use crate::crypto::{random_token, token_hash};
use crate::error::AppError;
use crate::features::auth::service::to_dto;
use crate::features::validate::{self, Fields};
use crate::state::AppState;

/// Any fixed number: serialises changes to who is an active administrator.
const ADMINS_LOCK: i64 = 0x7067_7761_7264_0002;
/// Prefix of invitation codes, so a leaked one is recognisable.
const INVITATION_PREFIX: &str = "pgwi_";
const DEFAULT_INVITATION_HOURS: u32 = 72;

async fn lock_admins(tx: &DatabaseTransaction) -> Result<(), AppError> {
    tx.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [ADMINS_LOCK.into()],
    ))
    .await?;
    Ok(())
}

/// Active administrators other than `except`.
async fn other_active_admins(tx: &DatabaseTransaction, except: Uuid) -> Result<u64, AppError> {
    Ok(users::Entity::find()
        .filter(users::Column::Role.eq(Role::Admin.as_str()))
        .filter(users::Column::DisabledAt.is_null())
        .filter(users::Column::Id.ne(except))
        .count(tx)
        .await?)
}

async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<users::Model, AppError> {
    users::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))
}

fn email_taken(e: sea_orm::DbErr) -> AppError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            AppError::Conflict("a user with this email exists already".into())
        }
        _ => e.into(),
    }
}

/// A name, when one is given: an empty one clears it.
fn check_name(f: &mut Fields, name: Option<&str>) {
    if let Some(n) = name.filter(|n| !n.trim().is_empty()) {
        f.check("name", validate::name(n, 100));
    }
}

fn clean_name(name: Option<String>) -> Option<String> {
    name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())
}

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState) -> Result<Vec<User>, AppError> {
    let rows = users::Entity::find()
        .order_by_asc(users::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(rows.iter().map(to_dto).collect())
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(state: &AppState, id: Uuid) -> Result<User, AppError> {
    Ok(to_dto(&find(&state.db, id).await?))
}

/// Inserts a user (admin creation, accepted invitation, `pgward user create`).
async fn insert(
    db: &impl ConnectionTrait,
    email: &str,
    name: Option<String>,
    role: Role,
    password_hash: String,
) -> Result<users::Model, AppError> {
    let now = Utc::now();
    users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.trim().to_lowercase()),
        name: Set(clean_name(name)),
        password_hash: Set(password_hash),
        role: Set(role.as_str().into()),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(email_taken)
}

#[tracing::instrument(skip_all)]
pub async fn create(db: &impl ConnectionTrait, req: CreateUserRequest) -> Result<User, AppError> {
    let mut f = Fields::default();
    f.check("email", validate::email(&req.email));
    f.check("password", validate::password(&req.password));
    check_name(&mut f, req.name.as_deref());
    f.finish()?;
    let hash = password::hash_blocking(req.password).await?;
    let user = insert(db, &req.email, req.name, req.role, hash).await?;
    tracing::info!(user_id = %user.id, role = req.role.as_str(), "user created");
    Ok(to_dto(&user))
}

/// Whether `caller` may take admin rights or access away from `target`: never from themselves (another
/// admin can), so no admin locks themselves out by a slip of the mouse.
fn not_oneself(caller: Uuid, target: Uuid, what: &str) -> Result<(), AppError> {
    if caller == target {
        return Err(AppError::Conflict(format!(
            "you cannot {what} your own account; another administrator can"
        )));
    }
    Ok(())
}

/// An admin changes a user: never demotes or disables themselves (see `not_oneself`).
pub async fn update_by_admin(
    state: &AppState,
    caller: Uuid,
    id: Uuid,
    req: UpdateUserRequest,
) -> Result<User, AppError> {
    change(state, Some(caller), id, req).await
}

/// One's own profile (`PATCH /me`).
pub async fn update(state: &AppState, id: Uuid, req: UpdateUserRequest) -> Result<User, AppError> {
    change(state, None, id, req).await
}

/// Changes name, role or the disabled flag. Demoting or disabling the last active admin is refused
/// (`last_admin`), and so is an admin (`caller`) demoting or disabling themselves; disabling ends the
/// user's sessions and API tokens in the same transaction.
#[tracing::instrument(skip_all, fields(id = %id))]
async fn change(
    state: &AppState,
    caller: Option<Uuid>,
    id: Uuid,
    req: UpdateUserRequest,
) -> Result<User, AppError> {
    let mut f = Fields::default();
    check_name(&mut f, req.name.as_deref());
    f.finish()?;
    let tx = state.db.begin().await?;
    lock_admins(&tx).await?;
    let user = find(&tx, id).await?;
    let was_active_admin = user.role == Role::Admin.as_str() && user.disabled_at.is_none();
    let role = req.role.unwrap_or(crate::auth::extractor::role_of(&user));
    let disabled = req.disabled.unwrap_or(user.disabled_at.is_some());
    if was_active_admin
        && (role != Role::Admin || disabled)
        && other_active_admins(&tx, id).await? == 0
    {
        return Err(AppError::LastAdmin);
    }
    if let Some(caller) = caller {
        if role != Role::Admin {
            not_oneself(caller, id, "demote")?;
        }
        if disabled {
            not_oneself(caller, id, "disable")?;
        }
    }
    let newly_disabled = disabled && user.disabled_at.is_none();
    let mut am: users::ActiveModel = user.into();
    if let Some(n) = req.name {
        am.name = Set(clean_name(Some(n)));
    }
    am.role = Set(role.as_str().into());
    am.disabled_at = Set(if disabled {
        am.disabled_at.take().flatten().or(Some(Utc::now()))
    } else {
        None
    });
    am.updated_at = Set(Utc::now());
    let user = am.update(&tx).await?;
    if newly_disabled {
        end_sessions_in(&tx, id, None).await?;
        crate::features::tokens::service::revoke_all(&tx, id).await?;
    }
    tx.commit().await?;
    tracing::info!(user_id = %id, role = role.as_str(), disabled, "user changed");
    Ok(to_dto(&user))
}

/// Deletes a user (their sessions and tokens go with them); never the last active admin, never oneself.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn delete(state: &AppState, caller: Uuid, id: Uuid) -> Result<(), AppError> {
    let tx = state.db.begin().await?;
    lock_admins(&tx).await?;
    let user = find(&tx, id).await?;
    if user.role == Role::Admin.as_str()
        && user.disabled_at.is_none()
        && other_active_admins(&tx, id).await? == 0
    {
        return Err(AppError::LastAdmin);
    }
    not_oneself(caller, id, "delete")?;
    users::Entity::delete_by_id(id).exec(&tx).await?;
    tx.commit().await?;
    tracing::info!(user_id = %id, "user deleted");
    Ok(())
}

/// Ends a user's sessions, all but `keep`.
async fn end_sessions_in(
    db: &impl ConnectionTrait,
    user: Uuid,
    keep: Option<Uuid>,
) -> Result<u64, AppError> {
    let mut q = sessions::Entity::update_many()
        .col_expr(
            sessions::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(sessions::Column::UserId.eq(user))
        .filter(sessions::Column::RevokedAt.is_null());
    if let Some(k) = keep {
        q = q.filter(sessions::Column::Id.ne(k));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// An admin ends every session of a user (their API tokens too, with `tokens`).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn end_sessions(state: &AppState, id: Uuid, tokens: bool) -> Result<Ended, AppError> {
    find(&state.db, id).await?;
    let tx = state.db.begin().await?;
    let sessions = end_sessions_in(&tx, id, None).await?;
    let api_tokens = if tokens {
        crate::features::tokens::service::revoke_all(&tx, id).await?
    } else {
        0
    };
    tx.commit().await?;
    tracing::info!(user_id = %id, sessions, api_tokens, "sessions ended by an administrator");
    Ok(Ended {
        sessions,
        api_tokens,
    })
}

/// A user's sessions that still stand, newest first (`current`: the caller's).
pub async fn list_own_sessions(
    state: &AppState,
    user: Uuid,
    current: Option<Uuid>,
) -> Result<Vec<Session>, AppError> {
    let rows = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user))
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(sessions::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|s| Session {
            id: s.id,
            created_at: s.created_at,
            last_used_at: s
                .access_used_at
                .map_or(s.last_used_at, |a| a.max(s.last_used_at)),
            expires_at: s.expires_at,
            client_addr: s.client_addr,
            user_agent: s.user_agent,
            current: Some(s.id) == current,
        })
        .collect())
}

/// Ends one of the user's own sessions.
pub async fn end_own_session(state: &AppState, user: Uuid, id: Uuid) -> Result<(), AppError> {
    let res = sessions::Entity::update_many()
        .col_expr(
            sessions::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(sessions::Column::Id.eq(id))
        .filter(sessions::Column::UserId.eq(user))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("session"));
    }
    Ok(())
}

/// The caller's own sessions (`keep`: the one to spare, e.g. the caller's current session).
pub async fn end_own_sessions(
    state: &AppState,
    user: Uuid,
    keep: Option<Uuid>,
) -> Result<u64, AppError> {
    end_sessions_in(&state.db, user, keep).await
}

fn invitation_dto(i: &invitations::Model) -> Invitation {
    Invitation {
        id: i.id,
        email: i.email.clone(),
        name: i.name.clone(),
        role: Role::parse(&i.role).unwrap_or(Role::Viewer),
        created_at: i.created_at,
        expires_at: i.expires_at,
    }
}

#[tracing::instrument(skip_all)]
pub async fn create_invitation(
    state: &AppState,
    by: Uuid,
    req: CreateInvitationRequest,
) -> Result<CreatedInvitation, AppError> {
    let mut f = Fields::default();
    f.check("email", validate::email(&req.email));
    check_name(&mut f, req.name.as_deref());
    if let Some(h) = req.expires_in_hours {
        f.check(
            "expires_in_hours",
            if (1..=720).contains(&h) {
                Ok(())
            } else {
                Err("must be 1 to 720".into())
            },
        );
    }
    f.finish()?;
    let email = req.email.trim().to_lowercase();
    if users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .count(&state.db)
        .await?
        > 0
    {
        return Err(AppError::Conflict(
            "a user with this email exists already".into(),
        ));
    }
    let code = random_token(INVITATION_PREFIX);
    let now = Utc::now();
    let hours = req.expires_in_hours.unwrap_or(DEFAULT_INVITATION_HOURS);
    let row = invitations::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        name: Set(clean_name(req.name)),
        role: Set(req.role.as_str().into()),
        code_hash: Set(token_hash(&code)),
        created_by: Set(Some(by)),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::hours(i64::from(hours))),
        accepted_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&state.db)
    .await?;
    tracing::info!(invitation_id = %row.id, role = req.role.as_str(), "invitation created");
    Ok(CreatedInvitation {
        code,
        invitation: invitation_dto(&row),
    })
}

fn pending() -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(invitations::Column::AcceptedAt.is_null())
        .add(invitations::Column::RevokedAt.is_null())
        .add(invitations::Column::ExpiresAt.gt(Utc::now()))
}

#[tracing::instrument(skip_all)]
pub async fn list_invitations(state: &AppState) -> Result<Vec<Invitation>, AppError> {
    let rows = invitations::Entity::find()
        .filter(pending())
        .order_by_asc(invitations::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(rows.iter().map(invitation_dto).collect())
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn revoke_invitation(state: &AppState, id: Uuid) -> Result<(), AppError> {
    let res = invitations::Entity::update_many()
        .col_expr(
            invitations::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(invitations::Column::Id.eq(id))
        .filter(pending())
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("invitation"));
    }
    Ok(())
}

/// Turns a pending invitation into a user. The code works once: it is marked accepted in the same
/// transaction that creates the user, guarded by its own still-pending state.
#[tracing::instrument(skip_all)]
pub async fn accept_invitation(
    state: &AppState,
    req: AcceptInvitationRequest,
) -> Result<users::Model, AppError> {
    let mut f = Fields::default();
    f.check("password", validate::password(&req.password));
    check_name(&mut f, req.name.as_deref());
    f.finish()?;
    let hash = password::hash_blocking(req.password).await?;
    let tx = state.db.begin().await?;
    let Some(inv) = invitations::Entity::find()
        .filter(invitations::Column::CodeHash.eq(token_hash(req.code.trim())))
        .filter(pending())
        .one(&tx)
        .await?
    else {
        return Err(AppError::NotFound(
            "invitation (unknown, used, revoked or expired code)",
        ));
    };
    let claimed = invitations::Entity::update_many()
        .col_expr(
            invitations::Column::AcceptedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(invitations::Column::Id.eq(inv.id))
        .filter(invitations::Column::AcceptedAt.is_null())
        .exec(&tx)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::NotFound(
            "invitation (unknown, used, revoked or expired code)",
        ));
    }
    let role = Role::parse(&inv.role).unwrap_or(Role::Viewer);
    let user = insert(&tx, &inv.email, req.name.or(inv.name), role, hash).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, invitation_id = %inv.id, "invitation accepted");
    Ok(user)
}

/// `pgward user set-role`.
pub async fn set_role_by_email(
    db: &sea_orm::DatabaseConnection,
    email: &str,
    role: Role,
) -> Result<(), AppError> {
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let tx = db.begin().await?;
    lock_admins(&tx).await?;
    if user.role == Role::Admin.as_str()
        && role != Role::Admin
        && user.disabled_at.is_none()
        && other_active_admins(&tx, user.id).await? == 0
    {
        return Err(AppError::LastAdmin);
    }
    let mut am: users::ActiveModel = user.into();
    am.role = Set(role.as_str().into());
    am.updated_at = Set(Utc::now());
    am.update(&tx).await?;
    tx.commit().await?;
    Ok(())
}
