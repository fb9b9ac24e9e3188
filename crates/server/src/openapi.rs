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
    links(api)
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

/// OpenAPI links from each creation to what can be done with what it created: `POST /tasks` answers a
/// task whose `id` is the `{id}` of `GET/PATCH/DELETE /tasks/{id}` and `POST /tasks/{id}/run`. Clients
/// and the fuzzer's stateful phase follow them (create, then read, change, delete).
fn links(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::link::LinkBuilder;
    // Read the collected document as JSON (schemas by name, operations by path), write into the typed one.
    let Ok(doc) = serde_json::to_value(&api) else {
        return api;
    };
    let schemas = &doc["components"]["schemas"];
    let Some(paths) = doc["paths"].as_object() else {
        return api;
    };
    let targets: Vec<(&String, &str)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .filter_map(move |(_, op)| Some((path, op["operationId"].as_str()?)))
        })
        .collect();
    // What lives at `{prefix}/{id}` (and below, with no other parameter).
    let reachable_below = |prefix: &str| -> Vec<&str> {
        let at = format!("{prefix}/{{id}}");
        targets
            .iter()
            .filter(|(p, _)| {
                (**p == at || p.starts_with(&format!("{at}/"))) && p.matches('{').count() == 1
            })
            .map(|(_, id)| *id)
            .collect()
    };
    for (path, item) in paths {
        for status in ["201", "202", "200"] {
            let Some(name) =
                item["post"]["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                    .as_str()
                    .and_then(|r| r.rsplit('/').next())
            else {
                continue;
            };
            let Some(pointer) = id_pointer(schemas, name) else {
                continue;
            };
            // Below the collection created into, else below the collection of what was answered
            // (`POST /tasks/{id}/run` answers an `Execution`: `/executions/{id}`).
            let mut reachable = reachable_below(path);
            if reachable.is_empty() {
                reachable = reachable_below(&format!("/api/v1/{}s", name.to_lowercase()));
            }
            let Some(RefOr::T(response)) = api
                .paths
                .paths
                .get_mut(path)
                .and_then(|i| i.post.as_mut())
                .and_then(|op| op.responses.responses.get_mut(status))
            else {
                continue;
            };
            for id in &reachable {
                let link = LinkBuilder::new()
                    .operation_id(*id)
                    .parameter("id", format!("$response.body#{pointer}"))
                    .build();
                response.links.insert((*id).to_string(), RefOr::T(link));
            }
        }
    }
    api
}

/// Where the id of what a schema describes is: `/id`, or one level down (`/api_token/id`).
fn id_pointer(schemas: &serde_json::Value, name: &str) -> Option<String> {
    // Properties of the schema itself and of what it flattens in (`allOf`).
    let schema = &schemas[name];
    let mut props: Vec<(&String, &serde_json::Value)> = Vec::new();
    for part in std::iter::once(schema).chain(schema["allOf"].as_array().into_iter().flatten()) {
        props.extend(part["properties"].as_object().into_iter().flatten());
    }
    if props.iter().any(|(p, _)| *p == "id") {
        return Some("/id".into());
    }
    props.iter().find_map(|(prop, s)| {
        let inner = s["$ref"].as_str()?.rsplit('/').next()?;
        schemas[inner]["properties"]
            .get("id")
            .map(|_| format!("/{prop}/id"))
    })
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
