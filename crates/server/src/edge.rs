//! Rules of the HTTP edge that hold for every route: what a JSON body may be, and what a request that
//! matches no route is told.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpMessage, web};
use futures::StreamExt;

use crate::error::AppError;
use crate::state::AppState;

/// The names of the top-level fields a JSON body set (not null), for the audit log: names only, never
/// values, so no secret reaches it.
#[derive(Debug, Clone, Default)]
pub struct BodyFields(pub Vec<String>);

/// Every JSON request body of the API is an object. Reads the body (up to the JSON limit; a larger one
/// goes on to be refused by the handler's extractor), and
/// - refuses one that is valid JSON but not an object (an array, a string, …) with 422: serde would
///   otherwise read `[null, null]` as a struct of two fields;
/// - writes integral numbers written with a fraction (`1.0`) as integers, since JSON Schema counts them
///   as integers and the OpenAPI document declares integer fields;
/// - notes the fields it set (`BodyFields`).
///
/// A body that is not JSON at all passes unchanged, for the extractor to answer 400.
pub async fn json_bodies(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let mutation = req.method() != Method::GET && req.method() != Method::HEAD;
    if !(mutation && req.path().starts_with("/api/v1/") && is_json(&req)) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(0, |s| s.config.server.body_limit);
    let mut payload = req.take_payload();
    let mut buf = BytesMut::new();
    let mut failed = None;
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(c) => {
                buf.extend_from_slice(&c);
                if buf.len() > limit {
                    break;
                }
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let mut body = buf.freeze();
    if failed.is_none()
        && body.len() <= limit
        && !body.iter().all(u8::is_ascii_whitespace)
        && let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body)
    {
        let Some(object) = value.as_object() else {
            // Refused here only for a caller the route lets in: anyone else gets the 401 or 403
            // of the handler's extractor first, as with any other body.
            if may_call(&req) {
                let e = AppError::field("body", "must be a JSON object");
                let resp = actix_web::ResponseError::error_response(&e);
                return Ok(req.into_response(resp).map_into_boxed_body());
            }
            return pass_on(req, body, failed, payload, next).await;
        };
        let fields = object
            .iter()
            .filter(|(_, v)| !v.is_null())
            .take(50)
            .map(|(k, _)| k.chars().take(100).collect())
            .collect();
        req.extensions_mut().insert(BodyFields(fields));
        if integral_floats_to_integers(&mut value) {
            body = Bytes::from(serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec()));
        }
    }
    pass_on(req, body, failed, payload, next).await
}

/// Hands the request on with its body: what was read (`body`, then a read error if there was one),
/// then whatever was not read yet.
async fn pass_on(
    mut req: ServiceRequest,
    body: Bytes,
    failed: Option<actix_web::error::PayloadError>,
    payload: actix_web::dev::Payload,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let head = futures::stream::iter(std::iter::once(Ok(body)).chain(failed.map(Err)));
    let rest: std::pin::Pin<
        Box<dyn futures::Stream<Item = Result<Bytes, actix_web::error::PayloadError>>>,
    > = Box::pin(head.chain(payload));
    req.set_payload(actix_web::dev::Payload::Stream { payload: rest });
    // The length changed if numbers were rewritten; the payload now says where it ends.
    req.headers_mut()
        .remove(actix_web::http::header::CONTENT_LENGTH);
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// Whether the caller gets past the route's authentication and role (as `Authenticated` will judge).
fn may_call(req: &ServiceRequest) -> bool {
    use crate::auth::policy::Access;
    let Some(route) = crate::auth::policy::route_at(req.method().as_str(), req.path()) else {
        return false;
    };
    match route.access {
        Access::Public => true,
        needed => req
            .extensions()
            .get::<crate::auth::extractor::Resolved>()
            .and_then(|r| r.0.as_ref())
            .is_some_and(|a| needed.allows(a.role)),
    }
}

fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"))
}

/// Rewrites `1.0` as `1` everywhere in `v`; whether anything changed.
fn integral_floats_to_integers(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                *v = Value::from(f as i64);
                true
            }
            _ => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, i| integral_floats_to_integers(i) | changed),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |changed, i| integral_floats_to_integers(i) | changed),
        _ => false,
    }
}

/// What a request that no route took is told: 405 with `Allow` when the path is a route's with other
/// methods, else 404.
pub fn unmatched(path: &str) -> AppError {
    let methods = crate::auth::policy::methods_at(path);
    if methods.is_empty() {
        AppError::NotFound("route")
    } else {
        AppError::MethodNotAllowed(methods)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_floats_become_integers_and_others_stay() {
        let mut v =
            serde_json::json!({"a": 1.0, "b": [2.0, 2.5], "c": {"d": -3.0}, "e": "1.0", "f": 7});
        assert!(integral_floats_to_integers(&mut v));
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": [2, 2.5], "c": {"d": -3}, "e": "1.0", "f": 7})
        );
        let mut plain = serde_json::json!({"a": 1, "b": "x"});
        assert!(!integral_floats_to_integers(&mut plain));
    }
}
