//! The rules of authentication. Takes the state, returns `AppError`.

use chrono::Utc;
use pgward_api_types::{SetupRequest, TokenPair, User};
use pgward_entity::{sessions, users};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use crate::auth::{REFRESH_TOKEN_PREFIX, password};
use crate::crypto::{random_token, token_hash};
use crate::error::AppError;
use crate::features::validate::{self, Fields};
use crate::state::AppState;

/// Any fixed number: the advisory lock that serialises first-user setup across connections and processes.
const SETUP_LOCK: i64 = 0x7067_7761_7264_0001;

pub fn to_dto(u: &users::Model) -> User {
    User {
        id: u.id,
        email: u.email.clone(),
        name: u.name.clone(),
        role: crate::auth::extractor::role_of(u),
        disabled: u.disabled_at.is_some(),
        created_at: u.created_at,
    }
}

/// Where a login came from, kept with its session for the sessions list.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub addr: Option<String>,
    pub user_agent: Option<String>,
}

impl Client {
    pub fn of(req: &actix_web::HttpRequest, trusted: &[ipnet::IpNet]) -> Self {
        Self {
            addr: crate::auth::client_ip(req, trusted).map(|ip| ip.to_string()),
            user_agent: req
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(300).collect()),
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn setup_required(state: &AppState) -> Result<bool, AppError> {
    Ok(users::Entity::find().count(&state.db).await? == 0)
}

/// A fresh setup code: 12 characters of an alphabet without look-alikes (about 60 bits).
pub fn new_setup_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Creates the first administrator. Exactly one of any number of concurrent calls succeeds: the check and
/// the insert run under a transaction-scoped advisory lock.
#[tracing::instrument(skip_all)]
pub async fn setup(state: &AppState, req: SetupRequest) -> Result<User, AppError> {
    let mut f = Fields::default();
    f.check("email", validate::email(&req.email));
    f.check("password", validate::password(&req.password));
    if let Some(n) = req.name.as_deref().filter(|n| !n.trim().is_empty()) {
        f.check("name", validate::name(n, 100));
    }
    f.finish()?;
    if !setup_required(state).await? {
        return Err(AppError::AlreadySetUp);
    }
    if let Some(code) = &state.setup_code {
        use secrecy::ExposeSecret;
        let given = req
            .setup_code
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_ascii_uppercase();
        let expected = code.expose_secret();
        let same = given.len() == expected.len()
            && given
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            tracing::warn!("first-user setup refused: missing or wrong setup code");
            return Err(AppError::SetupCodeInvalid);
        }
    }
    let hash = password::hash_blocking(req.password).await?;
    let email = req.email.trim().to_lowercase();
    let name = req
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let user = state
        .db
        .transaction::<_, users::Model, AppError>(|tx| {
            Box::pin(async move {
                tx.execute_raw(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DbBackend::Postgres,
                    "SELECT pg_advisory_xact_lock($1)",
                    [SETUP_LOCK.into()],
                ))
                .await?;
                if users::Entity::find().count(tx).await? > 0 {
                    return Err(AppError::AlreadySetUp);
                }
                let now = Utc::now();
                let user = users::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    email: Set(email),
                    name: Set(name),
                    password_hash: Set(hash),
                    role: Set(pgward_api_types::Role::Admin.as_str().into()),
                    disabled_at: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(tx)
                .await?;
                Ok(user)
            })
        })
        .await?;
    tracing::info!(user_id = %user.id, "first administrator created");
    Ok(to_dto(&user))
}

#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    email: &str,
    pw: &str,
    client: Client,
) -> Result<(TokenPair, users::Model), AppError> {
    let email = email.trim().to_lowercase();
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(&state.db)
        .await?;
    let hash = user.as_ref().map_or_else(
        || password::dummy_hash().to_string(),
        |u| u.password_hash.clone(),
    );
    let ok = password::verify_blocking(pw.to_string(), hash).await;
    let user = match (user, ok) {
        (Some(u), true) => u,
        _ => return Err(AppError::InvalidCredentials),
    };
    // Told only to whoever knows the password: a disabled account is not a wrong password.
    if user.disabled_at.is_some() {
        return Err(AppError::Forbidden(
            "this account is disabled; ask an administrator".into(),
        ));
    }
    let pair = new_session(state, user.id, client).await?;
    tracing::info!(user_id = %user.id, "login");
    Ok((pair, user))
}

async fn new_session(
    state: &AppState,
    user_id: Uuid,
    client: Client,
) -> Result<TokenPair, AppError> {
    let refresh = random_token(REFRESH_TOKEN_PREFIX);
    let now = Utc::now();
    let session = sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        refresh_hash: Set(token_hash(&refresh)),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::seconds(state.auth.refresh_ttl_secs)),
        last_used_at: Set(now),
        revoked_at: Set(None),
        client_addr: Set(client.addr),
        user_agent: Set(client.user_agent),
        access_used_at: Set(None),
    }
    .insert(&state.db)
    .await?;
    pair(state, user_id, session.id, refresh)
}

fn pair(
    state: &AppState,
    user_id: Uuid,
    session: Uuid,
    refresh: String,
) -> Result<TokenPair, AppError> {
    Ok(TokenPair {
        access_token: state.auth.issue(user_id, session)?,
        token_type: "Bearer".into(),
        expires_in: state.auth.access_ttl_secs,
        refresh_token: refresh,
        refresh_expires_in: state.auth.refresh_ttl_secs,
    })
}

/// Rotates the refresh token: the old one stops working, so a stolen copy used after the owner refreshed
/// is refused — and, because a rotated token presented again means two parties hold the session, the
/// whole session (every token rotated from that login) ends. The session (and thus logout) stays the
/// same across rotations.
#[tracing::instrument(skip_all)]
pub async fn refresh(state: &AppState, refresh_token: &str) -> Result<TokenPair, AppError> {
    let now = Utc::now();
    let presented = token_hash(refresh_token);
    let Some(session) = sessions::Entity::find()
        .filter(sessions::Column::RefreshHash.eq(presented.as_str()))
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .one(&state.db)
        .await?
    else {
        end_family_of_retired(state, &presented).await?;
        return Err(AppError::Unauthorized);
    };
    let new_refresh = random_token(REFRESH_TOKEN_PREFIX);
    let (id, user_id) = (session.id, session.user_id);
    let tx = state.db.begin().await?;
    // Compare-and-swap on the old hash: two concurrent refreshes with the same token cannot both win.
    let updated = sessions::Entity::update_many()
        .col_expr(
            sessions::Column::RefreshHash,
            sea_orm::sea_query::Expr::value(token_hash(&new_refresh)),
        )
        .col_expr(
            sessions::Column::LastUsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(sessions::Column::Id.eq(id))
        .filter(sessions::Column::RefreshHash.eq(presented.as_str()))
        .exec(&tx)
        .await?;
    if updated.rows_affected == 1 {
        tx.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "INSERT INTO session_retired_refresh (refresh_hash, session_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
            [presented.clone().into(), id.into()],
        ))
        .await?;
    }
    tx.commit().await?;
    if updated.rows_affected != 1 {
        // The other refresh won, so this token was already rotated away: a reuse.
        end_family_of_retired(state, &presented).await?;
        return Err(AppError::Unauthorized);
    }
    pair(state, user_id, id, new_refresh)
}

/// A refresh token that was rotated away is being presented again: ends the session it belonged to.
async fn end_family_of_retired(state: &AppState, presented: &str) -> Result<(), AppError> {
    let ended = state
        .db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "UPDATE sessions SET revoked_at = now() WHERE revoked_at IS NULL AND id = \
             (SELECT session_id FROM session_retired_refresh WHERE refresh_hash = $1)",
            [presented.into()],
        ))
        .await?;
    if ended.rows_affected() > 0 {
        tracing::warn!(
            "a rotated refresh token was presented again: the session it belonged to was ended"
        );
    }
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn logout(state: &AppState, session_id: Uuid) -> Result<(), AppError> {
    sessions::Entity::update_many()
        .col_expr(
            sessions::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(sessions::Column::Id.eq(session_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(())
}

/// `pgward user reset-password`: sets a new password and ends every session of that user.
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    db: &sea_orm::DatabaseConnection,
    email: &str,
    new_password: &str,
) -> Result<(), AppError> {
    validate::password(new_password).map_err(|m| AppError::field("password", m))?;
    let email = email.trim().to_lowercase();
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let hash = password::hash_blocking(new_password.to_string()).await?;
    let uid = user.id;
    let mut am: users::ActiveModel = user.into();
    am.password_hash = Set(hash);
    am.updated_at = Set(Utc::now());
    am.update(db).await?;
    sessions::Entity::update_many()
        .col_expr(
            sessions::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(sessions::Column::UserId.eq(uid))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    crate::features::tokens::service::revoke_all(db, uid).await?;
    Ok(())
}

/// Sets a new password after checking the current one; ends every other session of the user and all
/// of the user's API tokens, in one transaction with the change.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    state: &AppState,
    user: &users::Model,
    keep_session: Uuid,
    current: String,
    new_password: &str,
) -> Result<(), AppError> {
    validate::password(new_password).map_err(|m| AppError::field("new_password", m))?;
    if !password::verify_blocking(current, user.password_hash.clone()).await {
        return Err(AppError::InvalidCredentials);
    }
    let hash = password::hash_blocking(new_password.to_string()).await?;
    let uid = user.id;
    let tx = state.db.begin().await?;
    users::Entity::update_many()
        .col_expr(
            users::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .col_expr(
            users::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(users::Column::Id.eq(uid))
        .exec(&tx)
        .await?;
    sessions::Entity::update_many()
        .col_expr(
            sessions::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(sessions::Column::UserId.eq(uid))
        .filter(sessions::Column::Id.ne(keep_session))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(&tx)
        .await?;
    let tokens = crate::features::tokens::service::revoke_all(&tx, uid).await?;
    tx.commit().await?;
    tracing::info!(user_id = %uid, tokens, "password changed; other sessions and API tokens ended");
    Ok(())
}
