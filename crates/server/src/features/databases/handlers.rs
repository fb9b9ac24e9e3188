use actix_web::{HttpResponse, delete, get, patch, post, web};
use pgward_api_types::{
    ApiError, ConnectionTestResult, CreateDatabaseRequest, Database, DatabaseListQuery,
    DatabasePage, TestConnectionRequest, UpdateDatabaseRequest,
};
use uuid::Uuid;

use super::service;
use crate::error::AppError;
use crate::features::api::{
    Authed, JsonBody, NameTaken, NoSuchDatabase, NotAuthenticated, PageQuery,
};

/// List databases, oldest first, with cursor pagination and filters.
#[utoipa::path(
    operation_id = "list_databases",
    tag = "databases",
    params(DatabaseListQuery),
    responses(
        (status = 200, description = "a page of databases", body = DatabasePage),
        NotAuthenticated, PageQuery,
    )
)]
#[get("/databases")]
async fn list(
    ctx: Authed,
    query: web::Query<DatabaseListQuery>,
) -> Result<web::Json<DatabasePage>, AppError> {
    Ok(web::Json(
        service::list(&ctx.state, query.into_inner()).await?,
    ))
}

/// Register a database. The connection is tested first unless `skip_connection_test` is set.
#[utoipa::path(
    operation_id = "create_database",
    tag = "databases",
    responses(
        (status = 201, description = "registered", body = Database),
        (status = 422, description = "invalid fields, or the connection test failed (`connection_test_failed`)", body = ApiError),
        NotAuthenticated, JsonBody, NameTaken,
    )
)]
#[post("/databases")]
async fn create(
    ctx: Authed,
    body: web::Json<CreateDatabaseRequest>,
) -> Result<HttpResponse, AppError> {
    let db = service::create(&ctx.state, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(db))
}

/// One database.
#[utoipa::path(
    operation_id = "get_database",
    tag = "databases",
    params(("id" = Uuid, Path, description = "database id")),
    responses(
        (status = 200, description = "the database", body = Database),
        NotAuthenticated, NoSuchDatabase,
    )
)]
#[get("/databases/{id}")]
async fn get(ctx: Authed, id: web::Path<Uuid>) -> Result<web::Json<Database>, AppError> {
    Ok(web::Json(service::get(&ctx.state, id.into_inner()).await?))
}

/// Change a database; omitted fields are kept. A new connection string is tested before it is saved.
#[utoipa::path(
    operation_id = "update_database",
    tag = "databases",
    params(("id" = Uuid, Path, description = "database id")),
    responses(
        (status = 200, description = "updated", body = Database),
        (status = 422, description = "invalid fields, or the connection test failed", body = ApiError),
        NotAuthenticated, JsonBody, NoSuchDatabase, NameTaken,
    )
)]
#[patch("/databases/{id}")]
async fn update(
    ctx: Authed,
    id: web::Path<Uuid>,
    body: web::Json<UpdateDatabaseRequest>,
) -> Result<web::Json<Database>, AppError> {
    Ok(web::Json(
        service::update(&ctx.state, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Remove a database from pgward (the database itself is not touched).
#[utoipa::path(
    operation_id = "delete_database",
    tag = "databases",
    params(("id" = Uuid, Path, description = "database id")),
    responses((status = 204, description = "deleted"), NotAuthenticated, NoSuchDatabase)
)]
#[delete("/databases/{id}")]
async fn delete(ctx: Authed, id: web::Path<Uuid>) -> Result<HttpResponse, AppError> {
    service::delete(&ctx.state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Test a saved database's connection and record the outcome in its health.
#[utoipa::path(
    operation_id = "test_database",
    tag = "databases",
    params(("id" = Uuid, Path, description = "database id")),
    responses(
        (status = 200, description = "the outcome; `ok: false` is a failed test, not an error", body = ConnectionTestResult),
        NotAuthenticated, NoSuchDatabase,
    )
)]
#[post("/databases/{id}/test")]
async fn test_saved(
    ctx: Authed,
    id: web::Path<Uuid>,
) -> Result<web::Json<ConnectionTestResult>, AppError> {
    Ok(web::Json(
        service::test_saved(&ctx.state, id.into_inner()).await?,
    ))
}

/// Test a connection string without saving it.
#[utoipa::path(
    operation_id = "test_connection",
    tag = "databases",
    responses(
        (status = 200, description = "the outcome; `ok: false` is a failed test, not an error", body = ConnectionTestResult),
        (status = 422, description = "not a valid connection string", body = ApiError),
        NotAuthenticated, JsonBody,
    )
)]
#[post("/databases/test-connection")]
async fn test_connection(
    ctx: Authed,
    body: web::Json<TestConnectionRequest>,
) -> Result<web::Json<ConnectionTestResult>, AppError> {
    Ok(web::Json(
        service::test_connection(&ctx.state, &body.connection_string).await?,
    ))
}
