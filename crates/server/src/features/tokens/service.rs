use chrono::Utc;
use pgward_api_types::{ApiToken, AuthMethod, CreateApiTokenRequest, CreatedApiToken, Role};
use pgward_entity::api_tokens;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::auth::{API_TOKEN_PREFIX, Authenticated};
use crate::crypto::{random_token, token_hash};
use crate::error::AppError;
use crate::features::validate::{self, Fields};
use crate::state::AppState;

/// How many characters of a token are kept to recognise it in lists.
const SHOWN_PREFIX: usize = 12;

fn to_dto(t: &api_tokens::Model, owner: Role) -> ApiToken {
    ApiToken {
        role: t
            .role
            .as_deref()
            .and_then(Role::parse)
            .map_or(owner, |r| r.min(owner)),
        id: t.id,
        name: t.name.clone(),
        prefix: t.prefix.clone(),
        created_at: t.created_at,
        expires_at: t.expires_at,
        last_used_at: t.last_used_at,
    }
}

/// Creates a token for the caller. Only a person logged in may: a token that could mint tokens would let
/// one leaked token outlive its own revocation and expiry.
#[tracing::instrument(skip_all)]
pub async fn create(
    state: &AppState,
    caller: &Authenticated,
    req: CreateApiTokenRequest,
) -> Result<CreatedApiToken, AppError> {
    if caller.method == AuthMethod::ApiToken {
        return Err(AppError::Forbidden(
            "an API token cannot create API tokens; log in to create one".into(),
        ));
    }
    let user = caller.user.id;
    let mut f = Fields::default();
    f.check("name", validate::name(&req.name, 100));
    if let Some(d) = req.expires_in_days {
        f.check(
            "expires_in_days",
            if (1..=3650).contains(&d) {
                Ok(())
            } else {
                Err("must be 1 to 3650".into())
            },
        );
    }
    let role = req.role.unwrap_or(caller.role);
    if role > caller.role {
        f.check(
            "role",
            Err(format!(
                "must be at most your own role ({})",
                caller.role.as_str()
            )),
        );
    }
    f.finish()?;
    let token = random_token(API_TOKEN_PREFIX);
    let now = Utc::now();
    let row = api_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        name: Set(req.name.trim().to_string()),
        prefix: Set(token.chars().take(SHOWN_PREFIX).collect()),
        token_hash: Set(token_hash(&token)),
        created_at: Set(now),
        expires_at: Set(Some(
            now + chrono::Duration::days(
                req.expires_in_days
                    .unwrap_or(state.config.auth.api_token_ttl_days)
                    .into(),
            ),
        )),
        last_used_at: Set(None),
        revoked_at: Set(None),
        role: Set(Some(role.as_str().into())),
    }
    .insert(&state.db)
    .await?;
    tracing::info!(token_id = %row.id, role = role.as_str(), "API token created");
    Ok(CreatedApiToken {
        token,
        api_token: to_dto(&row, caller.role),
    })
}

/// The caller's tokens that still work (revoked ones are kept for the record but not listed).
#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState, user: Uuid, owner: Role) -> Result<Vec<ApiToken>, AppError> {
    let rows = api_tokens::Entity::find()
        .filter(api_tokens::Column::UserId.eq(user))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .order_by_asc(api_tokens::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(rows.iter().map(|t| to_dto(t, owner)).collect())
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn revoke(state: &AppState, user: Uuid, id: Uuid) -> Result<(), AppError> {
    let res = api_tokens::Entity::update_many()
        .col_expr(
            api_tokens::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(api_tokens::Column::Id.eq(id))
        .filter(api_tokens::Column::UserId.eq(user))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("API token"));
    }
    tracing::info!(token_id = %id, "API token revoked");
    Ok(())
}

/// Ends every API token of a user (a password change or reset: whoever had the old password may have
/// made tokens with it).
#[tracing::instrument(skip_all)]
pub async fn revoke_all<C: sea_orm::ConnectionTrait>(
    db: &C,
    user: Uuid,
) -> Result<u64, sea_orm::DbErr> {
    let res = api_tokens::Entity::update_many()
        .col_expr(
            api_tokens::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(api_tokens::Column::UserId.eq(user))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
