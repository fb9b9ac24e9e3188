use actix_web::{get, web};
use pgward_api_types::{AuditPage, AuditQuery};

use super::service;
use crate::error::AppError;
use crate::features::api::{Authed, NotAuthenticated, PageQuery};

/// The audit log, newest first: every mutation (including refused ones), download and sign-in, with
/// who, what (the names of the fields sent, never their values), when and from where. Admins only.
#[utoipa::path(
    operation_id = "list_audit",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "a page of entries", body = AuditPage),
        NotAuthenticated, PageQuery,
    )
)]
#[get("/audit")]
async fn list(
    ctx: Authed,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditPage>, AppError> {
    Ok(web::Json(
        service::list(&ctx.state, query.into_inner()).await?,
    ))
}
