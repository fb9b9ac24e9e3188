//! What the HTTP handlers of every feature share: the extractor of an authenticated request and the
//! error responses the OpenAPI document lists again and again, declared once.
//!
//! Error responses come in sets (types implementing `utoipa::IntoResponses`) that a handler names in
//! `#[utoipa::path(responses(...))]` beside its own tuples, e.g. `NotAuthenticated, JsonBody`. Each
//! response of a set has an `ApiError` body referred to by name, so `openapi.rs` registers that schema.

use std::collections::BTreeMap;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};

use crate::auth::Authenticated;
use crate::state::AppState;

/// An authenticated request: the application state and the caller. A handler that takes it needs a
/// bearer token and answers 401 without one (document it with [`NotAuthenticated`]); take it first, so
/// that the token is looked at before the path, query or body.
pub struct Authed {
    pub state: web::Data<AppState>,
    pub auth: Authenticated,
}

impl FromRequest for Authed {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Both extractors are ready at once: `Authenticated` reads what the auth middleware resolved,
        // `Data` the app data.
        ready(
            Authenticated::from_request(req, payload)
                .into_inner()
                .and_then(|auth| {
                    let state = web::Data::<AppState>::from_request(req, payload).into_inner()?;
                    Ok(Self { state, auth })
                }),
        )
    }
}

/// A feature's mount point: `routes! { list, create, get }` defines `pub fn configure` registering those
/// handlers of the feature's `handlers` module, in that order — a fixed path such as
/// `/databases/test-connection` before `/databases/{id}`, so that it is not taken for an id.
macro_rules! routes {
    ($($handler:ident),+ $(,)?) => {
        pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
            $(cfg.service(handlers::$handler);)+
        }
    };
}
pub(crate) use routes;

/// Responses with an `ApiError` body, by status code.
pub(crate) fn error_responses(list: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|&(status, description)| {
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    Content::new(Some(Ref::from_schema_name("ApiError"))),
                )
                .build();
            (status.to_string(), response.into())
        })
        .collect()
}

/// Declares a set of error responses: `errors!(pub NoSuchThing { 404 => "no such thing" });`.
macro_rules! errors {
    ($(#[$attr:meta])* $vis:vis $name:ident { $($status:literal => $description:literal),+ $(,)? }) => {
        $(#[$attr])*
        $vis enum $name {}

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::Response>,
            > {
                $crate::features::api::error_responses(&[$(($status, $description)),+])
            }
        }
    };
}

pub(crate) use errors;

errors!(
    /// Every operation that needs a token.
    pub NotAuthenticated { 401 => "not authenticated" }
);
errors!(
    /// Every operation with a JSON request body: not JSON or unreadable (400), over the size limit (413).
    /// A body of the wrong shape is a 422, which each operation describes with its own rules.
    pub JsonBody { 400 => "malformed body", 413 => "body too large" }
);
errors!(
    /// Every operation with query parameters.
    pub MalformedQuery { 400 => "malformed query" }
);
errors!(
    /// The cursor-paginated lists (`limit`, `cursor` and filters in the query).
    pub PageQuery { 400 => "malformed query", 422 => "invalid limit or cursor" }
);
errors!(
    /// Creating or renaming something whose name must be unique.
    pub NameTaken { 409 => "the name is taken" }
);

// What an unknown (or unparsable) `{id}` answers, by resource.
errors!(pub NoSuchDatabase { 404 => "no such database" });
errors!(pub NoSuchDestination { 404 => "no such destination" });
errors!(pub NoSuchTask { 404 => "no such task" });
errors!(pub NoSuchExecution { 404 => "no such execution" });
errors!(pub NoSuchRestoration { 404 => "no such restoration" });
errors!(pub NoSuchWebhook { 404 => "no such webhook" });
