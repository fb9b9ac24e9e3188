use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use pgward_api_types::{
    AcceptInvitationRequest, ApiError, AuthMethod, CreateInvitationRequest, CreateUserRequest,
    CreatedInvitation, Ended, InvitationList, SessionList, UpdateProfileRequest, UpdateUserRequest,
    User, UserList,
};
use serde::Deserialize;
use uuid::Uuid;

use super::service;
use crate::error::AppError;
use crate::features::api::{Authed, JsonBody, MalformedQuery, NotAuthenticated};
use crate::state::AppState;

crate::features::api::errors!(pub NoSuchUser { 404 => "no such user" });
/// Every user, oldest first. Admins only.
#[utoipa::path(
    operation_id = "list_users",
    tag = "users",
    responses((status = 200, description = "the users", body = UserList), NotAuthenticated)
)]
#[get("/users")]
async fn list(ctx: Authed) -> Result<web::Json<UserList>, AppError> {
    Ok(web::Json(UserList {
        items: service::list(&ctx.state).await?,
    }))
}

/// Create a user with a password you give them (they should change it); or invite them instead
/// (`POST /invitations`) so that they choose it. Admins only.
#[utoipa::path(
    operation_id = "create_user",
    tag = "users",
    responses(
        (status = 201, description = "created", body = User),
        (status = 409, description = "a user with this email exists", body = ApiError),
        (status = 422, description = "invalid fields", body = ApiError),
        NotAuthenticated, JsonBody,
    )
)]
#[post("/users")]
async fn create(ctx: Authed, body: web::Json<CreateUserRequest>) -> Result<HttpResponse, AppError> {
    let user = service::create(&ctx.state.db, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(user))
}

/// One user. Admins only.
#[utoipa::path(
    operation_id = "get_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, description = "the user", body = User), NotAuthenticated, NoSuchUser)
)]
#[get("/users/{id}")]
async fn get(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<User>, AppError> {
    Ok(web::Json(service::get(&ctx.state, id.into_inner()).await?))
}

/// Change a user's name, role or disabled flag; omitted fields are kept. Disabling ends the user's
/// sessions and API tokens at once. No admin demotes or disables themselves (409; another admin can).
/// Admins only.
#[utoipa::path(
    operation_id = "update_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "user id")),
    responses(
        (status = 200, description = "updated", body = User),
        (status = 422, description = "invalid fields", body = ApiError),
        (status = 409, description = "the last active administrator (`last_admin`), or oneself (`conflict`)", body = ApiError),
        NotAuthenticated, JsonBody, NoSuchUser,
    )
)]
#[patch("/users/{id}")]
async fn update(
    ctx: Authed,
    id: web::Path<Uuid>,
    body: web::Json<UpdateUserRequest>,
) -> Result<web::Json<User>, AppError> {
    Ok(web::Json(
        service::update_by_admin(
            &ctx.state,
            ctx.auth.user.id,
            id.into_inner(),
            body.into_inner(),
        )
        .await?,
    ))
}

/// Delete a user; their sessions and API tokens end with them (the audit log keeps their email). No
/// admin deletes themselves (409). Admins only.
#[utoipa::path(
    operation_id = "delete_user",
    tag = "users",
    params(("id" = Uuid, Path, description = "user id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 409, description = "the last active administrator (`last_admin`), or oneself (`conflict`)", body = ApiError),
        NotAuthenticated, NoSuchUser,
    )
)]
#[delete("/users/{id}")]
async fn delete(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    service::delete(&ctx.state, ctx.auth.user.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct EndSessionsQuery {
    /// Also revoke the user's API tokens.
    #[serde(default)]
    api_tokens: bool,
}

/// End every session of a user (and with `api_tokens=true` their API tokens). Admins only.
#[utoipa::path(
    operation_id = "end_user_sessions",
    tag = "users",
    params(("id" = Uuid, Path, description = "user id"), EndSessionsQuery),
    responses(
        (status = 200, description = "what was ended", body = Ended),
        NotAuthenticated, NoSuchUser, MalformedQuery,
    )
)]
#[post("/users/{id}/end-sessions")]
async fn end_sessions(
    ctx: Authed,
    id: web::Path<Uuid>,
    query: web::Query<EndSessionsQuery>,
) -> Result<web::Json<Ended>, AppError> {
    Ok(web::Json(
        service::end_sessions(&ctx.state, id.into_inner(), query.api_tokens).await?,
    ))
}

/// Pending invitations (not accepted, revoked or expired). Admins only.
#[utoipa::path(
    operation_id = "list_invitations",
    tag = "users",
    responses((status = 200, description = "pending invitations", body = InvitationList), NotAuthenticated)
)]
#[get("/invitations")]
async fn list_invitations(ctx: Authed) -> Result<web::Json<InvitationList>, AppError> {
    Ok(web::Json(InvitationList {
        items: service::list_invitations(&ctx.state).await?,
    }))
}

/// Invite someone: answers a one-time code (shown only now) that they use to choose their password.
/// Admins only.
#[utoipa::path(
    operation_id = "create_invitation",
    tag = "users",
    responses(
        (status = 201, description = "created; give `code` to the person", body = CreatedInvitation),
        (status = 409, description = "a user with this email exists", body = ApiError),
        (status = 422, description = "invalid fields", body = ApiError),
        NotAuthenticated, JsonBody,
    )
)]
#[post("/invitations")]
async fn create_invitation(
    ctx: Authed,
    body: web::Json<CreateInvitationRequest>,
) -> Result<HttpResponse, AppError> {
    let created =
        service::create_invitation(&ctx.state, ctx.auth.user.id, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Withdraw a pending invitation. Admins only.
#[utoipa::path(
    operation_id = "revoke_invitation",
    tag = "users",
    params(("id" = Uuid, Path, description = "invitation id")),
    responses(
        (status = 204, description = "revoked"),
        (status = 404, description = "no such pending invitation", body = ApiError),
        NotAuthenticated,
    )
)]
#[delete("/invitations/{id}")]
async fn revoke_invitation(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    service::revoke_invitation(&ctx.state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accept an invitation: become a user with the invitation's email and role, with your own password;
/// then log in. The code works once.
#[utoipa::path(
    operation_id = "accept_invitation",
    tag = "auth",
    security(()),
    responses(
        (status = 201, description = "the new user; log in next", body = User),
        (status = 404, description = "unknown, used, revoked or expired code", body = ApiError),
        (status = 409, description = "a user with this email exists", body = ApiError),
        (status = 422, description = "invalid password or name", body = ApiError),
        (status = 429, description = "too many attempts (`rate_limited`)", body = ApiError),
        JsonBody,
    )
)]
#[post("/auth/accept-invitation")]
async fn accept_invitation(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<AcceptInvitationRequest>,
) -> Result<HttpResponse, AppError> {
    // Codes are long and random, but guessing is still limited like logins.
    crate::auth::rate_limit::check_client(&state, &req)?;
    let user = service::accept_invitation(&state, body.into_inner()).await?;
    crate::features::audit::service::name_actor(&req, &user);
    Ok(HttpResponse::Created().json(crate::features::auth::service::to_dto(&user)))
}

/// Change one's own name.
#[utoipa::path(
    operation_id = "update_me",
    tag = "auth",
    responses(
        (status = 200, description = "the caller, updated", body = User),
        (status = 422, description = "invalid name", body = ApiError),
        NotAuthenticated, JsonBody,
    )
)]
#[patch("/me")]
async fn update_me(
    ctx: Authed,
    body: web::Json<UpdateProfileRequest>,
) -> Result<web::Json<User>, AppError> {
    let name = body.into_inner().name.unwrap_or_default();
    let change = UpdateUserRequest {
        name: Some(name),
        ..Default::default()
    };
    Ok(web::Json(
        service::update(&ctx.state, ctx.auth.user.id, change).await?,
    ))
}

/// One's own sessions that still stand, newest first; `current` marks this request's.
#[utoipa::path(
    operation_id = "list_my_sessions",
    tag = "auth",
    responses((status = 200, description = "the caller's sessions", body = SessionList), NotAuthenticated)
)]
#[get("/me/sessions")]
async fn list_my_sessions(ctx: Authed) -> Result<web::Json<SessionList>, AppError> {
    let current = (ctx.auth.method == AuthMethod::Session).then_some(ctx.auth.credential_id);
    Ok(web::Json(SessionList {
        items: service::list_own_sessions(&ctx.state, ctx.auth.user.id, current).await?,
    }))
}

/// End every session of one's own but this one.
#[utoipa::path(
    operation_id = "end_my_other_sessions",
    tag = "auth",
    responses((status = 200, description = "what was ended", body = Ended), NotAuthenticated)
)]
#[post("/me/sessions/end-others")]
async fn end_my_other_sessions(ctx: Authed) -> Result<web::Json<Ended>, AppError> {
    let keep = (ctx.auth.method == AuthMethod::Session).then_some(ctx.auth.credential_id);
    let sessions = service::end_own_sessions(&ctx.state, ctx.auth.user.id, keep).await?;
    Ok(web::Json(Ended {
        sessions,
        api_tokens: 0,
    }))
}

/// End one of one's own sessions (its access and refresh tokens stop working at once).
#[utoipa::path(
    operation_id = "end_my_session",
    tag = "auth",
    params(("id" = Uuid, Path, description = "session id")),
    responses(
        (status = 204, description = "ended"),
        (status = 404, description = "no such session of yours", body = ApiError),
        NotAuthenticated,
    )
)]
#[delete("/me/sessions/{id}")]
async fn end_my_session(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    service::end_own_session(&ctx.state, ctx.auth.user.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
