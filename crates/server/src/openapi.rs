//! The OpenAPI document. Paths and schemas are collected from the handlers registered on the router
//! (utoipa-actix-web); this file adds only what is global: info, tags, the bearer security scheme and the
//! `ApiError` schema (the shared error responses of `features::api` refer to it by name).

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pgward API",
        description = "Backups of PostgreSQL databases you can trust. Every route except health, \
                       `auth/status`, `auth/setup`, `auth/login` and `auth/refresh` needs \
                       `Authorization: Bearer <access token or API token>`. Errors are \
                       `{ \"code\": \"snake_case\", \"message\": \"...\", \"fields\"?: {...} }`."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "First-user setup, login, refresh, logout"),
        (name = "tokens", description = "API tokens for automation"),
        (name = "databases", description = "PostgreSQL databases pgward backs up"),
        (name = "destinations", description = "Where backups are stored: local, S3, GCS, Azure"),
        (name = "tasks", description = "Backup tasks: what, where, when, how, how long"),
        (name = "executions", description = "Runs of tasks: progress, results, download, delete"),
        (name = "events", description = "What happened: health transitions, runs, restores, retention, verifications"),
        (name = "restorations", description = "Restores of backups: checked, verified while read, never reported as success when SQL failed"),
        (name = "webhooks", description = "Notifications: custom templated requests, generic JSON, Healthchecks, Slack, Discord; signed, retried, logged"),
        (name = "system", description = "Health, readiness, versions"),
    ),
    components(schemas(pgward_api_types::ApiError, pgward_api_types::ErrorCode))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT access token or pgw_ API token")
                    .build(),
            ),
        );
    }
}

/// The document as the router serves it, without starting anything (for `pgward openapi` and tests).
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::features::health::configure)
        .configure(crate::features::metrics::configure)
        .service(utoipa_actix_web::scope("/api/v1").configure(crate::features::configure_api))
        .split_for_parts();
    api
}

/// The JSON written to openapi/openapi.json: pretty, with a trailing newline.
pub fn spec_json() -> String {
    let mut s = spec().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
