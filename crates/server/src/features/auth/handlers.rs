use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use pgward_api_types::{
    ApiError, AuthMethod, AuthStatus, ChangePasswordRequest, LoginRequest, Me, RefreshRequest,
    SetupRequest, TokenPair, User,
};

use super::service;
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::features::api::{Authed, JsonBody, NotAuthenticated};
use crate::state::AppState;

/// Whether first-user setup is still needed (lets the SPA choose between setup and login).
#[utoipa::path(
    operation_id = "auth_status",
    tag = "auth",
    security(()),
    responses((status = 200, description = "setup state", body = AuthStatus))
)]
#[get("/auth/status")]
async fn status(state: web::Data<AppState>) -> Result<web::Json<AuthStatus>, AppError> {
    Ok(web::Json(AuthStatus {
        setup_required: service::setup_required(&state).await?,
        setup_code_required: state.setup_code.is_some(),
    }))
}

/// Create the first administrator. Works only while no user exists.
#[utoipa::path(
    operation_id = "setup",
    tag = "auth",
    security(()),
    responses(
        (status = 201, description = "administrator created; log in next", body = User),
        (status = 403, description = "the setup code from the log is missing or wrong (`setup_code_invalid`)", body = ApiError),
        (status = 409, description = "a user exists already (`already_set_up`)", body = ApiError),
        (status = 422, description = "invalid email or password", body = ApiError),
        JsonBody,
    )
)]
#[post("/auth/setup")]
async fn setup(
    state: web::Data<AppState>,
    body: web::Json<SetupRequest>,
) -> Result<HttpResponse, AppError> {
    let user = service::setup(&state, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(user))
}

/// Log in with email and password. Rate limited per client IP.
#[utoipa::path(
    operation_id = "login",
    tag = "auth",
    security(()),
    responses(
        (status = 200, description = "access and refresh tokens", body = TokenPair),
        (status = 401, description = "wrong email or password (`invalid_credentials`)", body = ApiError),
        (status = 403, description = "the account is disabled (`forbidden`)", body = ApiError),
        (status = 422, description = "invalid body", body = ApiError),
        (status = 429, description = "too many attempts (`rate_limited`); see Retry-After", body = ApiError),
        JsonBody,
    )
)]
#[post("/auth/login")]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    crate::auth::rate_limit::check_client(&state, &req)?;
    let account = body.email.trim().to_lowercase();
    state
        .login_limiter
        .check_account(&account)
        .map_err(AppError::RateLimited)?;
    let client = service::Client::of(&req, &state.config.server.trusted_proxies);
    match service::login(&state, &body.email, &body.password, client).await {
        Ok((pair, user)) => {
            state.login_limiter.succeeded(&account);
            // For the audit log: a login names its user although it came without a token.
            crate::features::audit::service::name_actor(&req, &user);
            Ok(answer(&state, &req, pair, body.refresh_cookie))
        }
        Err(e) => {
            if matches!(e, AppError::InvalidCredentials) {
                state.login_limiter.failed(&account);
            }
            Err(e)
        }
    }
}

/// Exchange a refresh token for a new token pair. The refresh token is single-use.
#[utoipa::path(
    operation_id = "refresh",
    tag = "auth",
    security(()),
    responses(
        (status = 200, description = "new access and refresh tokens", body = TokenPair),
        (status = 401, description = "unknown, used, expired or revoked refresh token", body = ApiError),
        (status = 422, description = "invalid body", body = ApiError),
        JsonBody,
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    let from_cookie = body.refresh_token.is_empty();
    let token = if from_cookie {
        req.cookie(REFRESH_COOKIE)
            .map(|c| c.value().to_string())
            .ok_or(AppError::Unauthorized)?
    } else {
        body.refresh_token.clone()
    };
    let pair = service::refresh(&state, &token).await?;
    Ok(answer(&state, &req, pair, from_cookie))
}

/// The browser's refresh token: out of reach of scripts, sent only to the auth routes of this site.
const REFRESH_COOKIE: &str = "pgward_refresh";

fn refresh_cookie(
    state: &AppState,
    req: &HttpRequest,
    value: String,
    max_age: i64,
) -> Cookie<'static> {
    // Secure when the browser reaches pgward over TLS (directly or as its public URL says).
    let tls = req.connection_info().scheme() == "https"
        || state.config.public_url().starts_with("https://");
    // The path the browser sees, under the base path behind a reverse proxy.
    Cookie::build(REFRESH_COOKIE, value)
        .path(format!("{}/api/v1/auth", state.config.base_path()))
        .http_only(true)
        .secure(tls)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish()
}

/// The token pair as JSON; in cookie mode the refresh token is moved into the cookie.
fn answer(state: &AppState, req: &HttpRequest, mut pair: TokenPair, cookie: bool) -> HttpResponse {
    let mut resp = HttpResponse::Ok();
    if cookie {
        let token = std::mem::take(&mut pair.refresh_token);
        resp.cookie(refresh_cookie(state, req, token, pair.refresh_expires_in));
    }
    resp.json(pair)
}

/// End the current session: its access and refresh tokens stop working at once.
#[utoipa::path(
    operation_id = "logout",
    tag = "auth",
    responses(
        (status = 204, description = "logged out"),
        (status = 422, description = "API tokens have no session; revoke the token instead", body = ApiError),
        NotAuthenticated,
    )
)]
#[post("/auth/logout")]
async fn logout(ctx: Authed, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let Authed { state, auth } = ctx;
    if auth.method != AuthMethod::Session {
        return Err(AppError::field(
            "authorization",
            "API tokens have no session; revoke the token instead",
        ));
    }
    service::logout(&state, auth.credential_id).await?;
    // The browser forgets its refresh cookie too.
    Ok(HttpResponse::NoContent()
        .cookie(refresh_cookie(&state, &req, String::new(), 0))
        .finish())
}

/// The authenticated user.
#[utoipa::path(
    operation_id = "me",
    tag = "auth",
    responses((status = 200, description = "the caller", body = Me), NotAuthenticated)
)]
#[get("/me")]
async fn me(auth: Authenticated) -> web::Json<Me> {
    web::Json(Me {
        user: service::to_dto(&auth.user),
        auth_method: auth.method,
        effective_role: auth.role,
    })
}

/// Change the caller's password. Every other session and every API token of the user ends (whoever
/// knew the old password may have made them); this session goes on. Only a logged-in person can, never
/// an API token.
#[utoipa::path(
    operation_id = "change_password",
    tag = "auth",
    responses(
        (status = 204, description = "changed; other sessions and the API tokens ended"),
        (status = 401, description = "not authenticated, or the current password is wrong (`invalid_credentials`)", body = ApiError),
        (status = 403, description = "an API token cannot change the password", body = ApiError),
        (status = 422, description = "the new password is too short", body = ApiError),
        (status = 429, description = "too many wrong current passwords (`rate_limited`)", body = ApiError),
        JsonBody,
    )
)]
#[post("/me/password")]
async fn change_password(
    ctx: Authed,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let Authed { state, auth } = ctx;
    if auth.method != AuthMethod::Session {
        return Err(AppError::Forbidden(
            "an API token cannot change the password; log in".into(),
        ));
    }
    let account = auth.user.email.to_lowercase();
    state
        .login_limiter
        .check_account(&account)
        .map_err(AppError::RateLimited)?;
    let body = body.into_inner();
    match service::change_password(
        &state,
        &auth.user,
        auth.credential_id,
        body.current_password,
        &body.new_password,
    )
    .await
    {
        Err(AppError::InvalidCredentials) => {
            state.login_limiter.failed(&account);
            Err(AppError::InvalidCredentials)
        }
        other => other.map(|()| HttpResponse::NoContent().finish()),
    }
}
