use actix_web::{HttpResponse, delete, get, patch, post, web};
use pgward_api_types::{
    ApiError, ConnectionTestResult, CreateDatabaseRequest, Database, DatabaseListQuery,
    DatabasePage, TestConnectionRequest, UpdateDatabaseRequest,
};
use uuid::Uuid;

use super::service;
use crate::auth::Authenticated;
use crate::error::AppError;
use crate::state::AppState;

/// List databases, oldest first, with cursor pagination and filters.
#[utoipa::path(
    operation_id = "list_databases",
    tag = "databases",
    params(DatabaseListQuery),
    responses(
        (status = 200, description = "a page of databases", body = DatabasePage),
        (status = 400, description = "malformed query", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 422, description = "invalid limit or cursor", body = ApiError),
    )
)]
#[get("/databases")]
async fn list(
    state: web::Data<AppState>,
    _auth: Authenticated,
    query: web::Query<DatabaseListQuery>,
) -> Result<web::Json<DatabasePage>, AppError> {
    Ok(web::Json(service::list(&state, query.into_inner()).await?))
}

/// Register a database. The connection is tested first unless `skip_connection_test` is set.
#[utoipa::path(
    operation_id = "create_database",
    tag = "databases",
    request_body = CreateDatabaseRequest,
    responses(
        (status = 201, description = "registered", body = Database),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 409, description = "the name is taken", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "invalid fields, or the connection test failed (`connection_test_failed`)", body = ApiError),
    )
)]
#[post("/databases")]
async fn create(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: web::Json<CreateDatabaseRequest>,
) -> Result<HttpResponse, AppError> {
    let db = service::create(&state, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(db))
}

/// One database.
#[utoipa::path(
    operation_id = "get_database",
    tag = "databases",
    params(("id" = Uuid, Path, description = "database id")),
    responses(
        (status = 200, description = "the database", body = Database),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such database", body = ApiError),
    )
)]
#[get("/databases/{id}")]
async fn get(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<web::Json<Database>, AppError> {
    Ok(web::Json(service::get(&state, id.into_inner()).await?))
}

/// Change a database; omitted fields are kept. A new connection string is tested before it is saved.
#[utoipa::path(
    operation_id = "update_database",
    tag = "databases",
    params(("id" = Uuid, Path, description = "database id")),
    request_body = UpdateDatabaseRequest,
    responses(
        (status = 200, description = "updated", body = Database),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such database", body = ApiError),
        (status = 409, description = "the name is taken", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "invalid fields, or the connection test failed", body = ApiError),
    )
)]
#[patch("/databases/{id}")]
async fn update(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<UpdateDatabaseRequest>,
) -> Result<web::Json<Database>, AppError> {
    Ok(web::Json(
        service::update(&state, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Remove a database from pgward (the database itself is not touched).
#[utoipa::path(
    operation_id = "delete_database",
    tag = "databases",
    params(("id" = Uuid, Path, description = "database id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such database", body = ApiError),
    )
)]
#[delete("/databases/{id}")]
async fn delete(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    service::delete(&state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Test a saved database's connection and record the outcome in its health.
#[utoipa::path(
    operation_id = "test_database",
    tag = "databases",
    params(("id" = Uuid, Path, description = "database id")),
    responses(
        (status = 200, description = "the outcome; `ok: false` is a failed test, not an error", body = ConnectionTestResult),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 404, description = "no such database", body = ApiError),
    )
)]
#[post("/databases/{id}/test")]
async fn test_saved(
    state: web::Data<AppState>,
    _auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<web::Json<ConnectionTestResult>, AppError> {
    Ok(web::Json(
        service::test_saved(&state, id.into_inner()).await?,
    ))
}

/// Test a connection string without saving it.
#[utoipa::path(
    operation_id = "test_connection",
    tag = "databases",
    request_body = TestConnectionRequest,
    responses(
        (status = 200, description = "the outcome; `ok: false` is a failed test, not an error", body = ConnectionTestResult),
        (status = 400, description = "malformed body", body = ApiError),
        (status = 401, description = "not authenticated", body = ApiError),
        (status = 413, description = "body too large", body = ApiError),
        (status = 422, description = "not a valid connection string", body = ApiError),
    )
)]
#[post("/databases/test-connection")]
async fn test_connection(
    state: web::Data<AppState>,
    _auth: Authenticated,
    body: web::Json<TestConnectionRequest>,
) -> Result<web::Json<ConnectionTestResult>, AppError> {
    Ok(web::Json(
        service::test_connection(&state, &body.connection_string).await?,
    ))
}
