//! `Authenticated`: the extractor that makes a handler require a bearer token (access JWT or API token)
//! and the role the route needs (`policy`). A handler without it is public, and the route-table tests in
//! tests/ check that only the routes the policy calls public are, and that every role gets its answer.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use chrono::Utc;
use pgward_api_types::{AuthMethod, Role};
use pgward_entity::{api_tokens, sessions, users};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::API_TOKEN_PREFIX;
use crate::crypto::token_hash;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: users::Model,
    pub method: AuthMethod,
    /// The session (JWT) or API token id the request came with.
    pub credential_id: Uuid,
    /// What the request may do: the user's role, or for an API token the lower of the token's and its
    /// owner's.
    pub role: Role,
    /// The API token's name, when the request came with one (for the audit log).
    pub token_name: Option<String>,
}

impl Authenticated {
    fn new(user: users::Model, method: AuthMethod, credential_id: Uuid) -> Self {
        let role = role_of(&user);
        Self {
            user,
            method,
            credential_id,
            role,
            token_name: None,
        }
    }
}

/// A stored role; an unknown value (impossible under the table's CHECK) counts as the least.
pub fn role_of(user: &users::Model) -> Role {
    Role::parse(&user.role).unwrap_or(Role::Viewer)
}

/// What the authentication middleware found for this request. Resolving credentials needs the catalog
/// (async); doing it before the handler's extractors run means a bad token is refused with 401 before
/// the body is even looked at, whatever order extractors finish in.
#[derive(Clone)]
pub struct Resolved(pub Option<Authenticated>);

pub fn bearer(headers: &actix_web::http::header::HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Looks up the credential behind a bearer token: an API token (`pgw_...`) or a JWT access token.
pub async fn resolve(state: &AppState, token: &str) -> Result<Option<Authenticated>, AppError> {
    if token.starts_with(API_TOKEN_PREFIX) {
        by_api_token(state, token).await
    } else {
        by_access_token(state, token).await
    }
}

impl FromRequest for Authenticated {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = req.extensions().get::<Resolved>().and_then(|r| r.0.clone());
        std::future::ready(match found {
            Some(auth) => {
                tracing::Span::current().record("user_id", tracing::field::display(auth.user.id));
                // The route's entry in the policy table (the router has matched by now).
                let needed =
                    super::policy::required(req.method().as_str(), req.match_pattern().as_deref());
                if needed.allows(auth.role) {
                    Ok(auth)
                } else {
                    Err(AppError::Forbidden(format!(
                        "this needs the {} role; you act as {}",
                        needed.as_str(),
                        auth.role.as_str()
                    ))
                    .into())
                }
            }
            None => Err(AppError::Unauthorized.into()),
        })
    }
}

async fn by_api_token(state: &AppState, token: &str) -> Result<Option<Authenticated>, AppError> {
    let now = Utc::now();
    // The token and its (enabled) owner in one round trip: this runs on every API request.
    let Some((row, Some(user))) = api_tokens::Entity::find()
        .find_also_related(users::Entity)
        .filter(api_tokens::Column::TokenHash.eq(token_hash(token)))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .filter(users::Column::DisabledAt.is_null())
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    // Tokens made before every token had an expiry end `auth.api_token_ttl_days` after creation.
    let expires = row.expires_at.unwrap_or(
        row.created_at + chrono::Duration::days(i64::from(state.config.auth.api_token_ttl_days)),
    );
    if expires <= now {
        return Ok(None);
    }
    let owner = role_of(&user);
    let role = row
        .role
        .as_deref()
        .and_then(Role::parse)
        .map_or(owner, |r| r.min(owner));
    let auth = |id: Uuid, name: String| Authenticated {
        role,
        token_name: Some(name),
        ..Authenticated::new(user.clone(), AuthMethod::ApiToken, id)
    };
    // Recording every use would write on every request; once a minute is enough to answer "is it used?".
    if row
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::minutes(1))
    {
        let (id, name) = (row.id, row.name.clone());
        let mut am: api_tokens::ActiveModel = row.into();
        am.last_used_at = Set(Some(now));
        am.update(&state.db).await?;
        return Ok(Some(auth(id, name)));
    }
    Ok(Some(auth(row.id, row.name)))
}

async fn by_access_token(state: &AppState, token: &str) -> Result<Option<Authenticated>, AppError> {
    let Some(claims) = state.auth.verify(token) else {
        return Ok(None);
    };
    // The session and its (enabled) user in one round trip: this runs on every API request.
    let Some((session, Some(user))) = sessions::Entity::find_by_id(claims.sid)
        .find_also_related(users::Entity)
        .filter(sessions::Column::UserId.eq(claims.sub))
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
        .filter(users::Column::DisabledAt.is_null())
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    // For the sessions list ("last used"); once a minute is enough.
    let now = Utc::now();
    if session
        .access_used_at
        .is_none_or(|t| now - t > chrono::Duration::minutes(1))
    {
        sessions::Entity::update_many()
            .col_expr(
                sessions::Column::AccessUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(sessions::Column::Id.eq(session.id))
            .exec(&state.db)
            .await?;
    }
    Ok(Some(Authenticated::new(
        user,
        AuthMethod::Session,
        claims.sid,
    )))
}
