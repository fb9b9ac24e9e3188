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
                       `auth/status`, `auth/setup`, `auth/login`, `auth/refresh`, \
                       `auth/accept-invitation` and download links needs \
                       `Authorization: Bearer <access token or API token>`, and the role each \
                       operation's `x-pgward-role` names (viewer < operator < admin). Errors are \
                       `{ \"code\": \"snake_case\", \"message\": \"...\", \"fields\"?: {...} }`."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "First-user setup, login, refresh, logout"),
        (name = "tokens", description = "API tokens for automation"),
        (name = "users", description = "Users, roles and invitations (admins)"),
        (name = "audit", description = "Who did what, when and from where (admins)"),
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

/// What the route table adds to every operation once it is collected: the least role it needs
/// (`x-pgward-role`, from `auth::policy`), the 403 a lower role gets, and `security: []` on public
/// operations (no credentials, rather than utoipa's `[{}]`, "optionally none", which generators read as
/// needing an authenticated client).
pub fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use crate::auth::policy::{self, Access};
    use utoipa::openapi::extensions::ExtensionsBuilder;
    for item in api.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            binary_bodies(op);
            let access = op
                .operation_id
                .as_deref()
                .and_then(policy::of)
                .unwrap_or(Access::Least(pgward_api_types::Role::Admin));
            let ext = ExtensionsBuilder::new()
                .add("x-pgward-role", access.as_str())
                .build();
            match &mut op.extensions {
                Some(e) => e.merge(ext),
                None => op.extensions = Some(ext),
            }
            match access {
                Access::Public => op.security = Some(Vec::new()),
                Access::Least(pgward_api_types::Role::Viewer) => {}
                Access::Least(_) => {
                    if !op.responses.responses.contains_key("403") {
                        op.responses.responses.extend(crate::features::api::error_responses(&[(
                            403,
                            "the caller's role may not do this (`forbidden`); see x-pgward-role",
                        )]));
                    }
                }
            }
        }
    }
    api
}

/// Raw bytes (`application/octet-stream`, the upload body and the downloads) as what they are, a binary
/// string, rather than utoipa's rendering of `Vec<u8>` as an array of integers: generated clients then
/// take and give files and streams instead of lists of numbers held in memory.
fn binary_bodies(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let binary = |(media, content): (&String, &mut RefOr<utoipa::openapi::Content>)| {
        if let (true, RefOr::T(c)) = (media == "application/octet-stream", content) {
            c.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                    .into(),
            );
        }
    };
    if let Some(RefOr::T(body)) = &mut op.request_body {
        body.content.iter_mut().for_each(binary);
    }
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(r) = response {
            r.content.iter_mut().for_each(binary);
        }
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
    finish(api)
}

/// The JSON written to openapi/openapi.json: pretty, with a trailing newline.
pub fn spec_json() -> String {
    let mut s = spec().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
