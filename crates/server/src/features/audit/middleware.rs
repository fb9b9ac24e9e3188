//! The one place requests are audited. Wraps the API: after the handler, with the route the router
//! matched, it records mutations, downloads and sign-ins with the caller, the resource, the names of the
//! fields the body set (`edge::BodyFields`: never their values, so no secret reaches the log), the
//! answer's status and the client's address. A failure to record is logged, and does not
//! undo or fail a request that already happened.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, web};
use pgward_api_types::{AuditActor, AuthMethod};

use super::service::{self, Actor, NewEntry};
use crate::auth::extractor::Resolved;
use crate::auth::policy;
use crate::features::auth::service::Client;
use crate::state::AppState;

/// Reads that are audited: what gives a backup's contents away.
const AUDITED_READS: &[&str] = &[
    "download_execution",
    "execution_download_url",
    "download_by_link",
];

/// Successful calls not worth a line: a browser refreshes its session every few minutes (a refused
/// refresh, e.g. a reused token, is recorded).
const QUIET_WHEN_OK: &[&str] = &["refresh"];

pub async fn audit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !req.path().starts_with("/api/v1/") {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mutation = req.method() != Method::GET && req.method() != Method::HEAD;
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(state) = state else {
        return Ok(res);
    };
    let method = res.request().method().as_str().to_string();
    let Some(pattern) = res.request().match_pattern() else {
        return Ok(res);
    };
    let Some(route) = policy::route(&method, &pattern) else {
        return Ok(res);
    };
    let status = res.status().as_u16();
    let op = route.operation_id.as_str();
    let audited =
        (mutation && !(QUIET_WHEN_OK.contains(&op) && status < 400)) || AUDITED_READS.contains(&op);
    if !audited {
        return Ok(res);
    }
    let req = res.request().clone();
    let actor = actor_of(&req);
    let fields = req
        .extensions()
        .get::<crate::edge::BodyFields>()
        .map(|f| f.0.clone())
        .unwrap_or_default();
    let client = Client::of(&req, &state.config.server.trusted_proxies);
    let mut resource_id = req.match_info().get("id").map(str::to_string);
    // A creation names its new resource in the answer's body.
    let res = if resource_id.is_none() && method == "POST" && res.status().is_success() {
        let (http_req, http_res) = res.into_parts();
        let (head, body) = http_res.into_parts();
        let bytes = actix_web::body::to_bytes(body)
            .await
            .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
        resource_id = created_id(&bytes);
        ServiceResponse::new(http_req, head.set_body(BoxBody::new(bytes)))
    } else {
        res
    };
    let (resource, action) = resource_and_action(&method, &pattern);
    let entry = NewEntry {
        actor,
        operation: op.to_string(),
        method,
        path: pattern,
        resource,
        resource_id,
        action,
        fields,
        status,
        client_addr: client.addr,
        user_agent: client.user_agent,
    };
    if let Err(e) = service::record(&state.db, entry).await {
        tracing::error!(error = %e, operation = op, "could not write the audit log entry");
    }
    Ok(res)
}

fn actor_of(req: &actix_web::HttpRequest) -> AuditActor {
    let ext = req.extensions();
    if let Some(Some(a)) = ext.get::<Resolved>().map(|r| r.0.as_ref()) {
        let token = a.method == AuthMethod::ApiToken;
        return AuditActor {
            user_id: Some(a.user.id),
            email: Some(a.user.email.clone()),
            token_id: token.then_some(a.credential_id),
            token_name: a.token_name.clone(),
        };
    }
    ext.get::<Actor>().map_or(
        AuditActor {
            user_id: None,
            email: None,
            token_id: None,
            token_name: None,
        },
        |a| a.0.clone(),
    )
}

/// The id in a creation's answer: `{"id": …}`, or one level down (`{"api_token": {"id": …}}`).
fn created_id(body: &Bytes) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let id = |v: &serde_json::Value| v.get("id").and_then(|i| i.as_str()).map(str::to_string);
    id(&v).or_else(|| v.as_object()?.values().find_map(id))
}

/// `/api/v1/tasks/{id}/run` → ("tasks", "run"); `/api/v1/tasks` POST → ("tasks", "create").
fn resource_and_action(method: &str, pattern: &str) -> (String, String) {
    let parts: Vec<&str> = pattern
        .trim_start_matches("/api/v1/")
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let resource = parts.first().copied().unwrap_or("").to_string();
    let last = parts.last().copied().unwrap_or("");
    let action = if parts.len() > 1 && !last.starts_with('{') {
        last.replace('-', "_")
    } else {
        match method {
            "POST" => "create",
            "PATCH" | "PUT" => "update",
            "DELETE" => "delete",
            _ => "read",
        }
        .to_string()
    };
    (resource, action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_the_route_verb_or_the_method() {
        let cases = [
            ("POST", "/api/v1/tasks", ("tasks", "create")),
            ("PATCH", "/api/v1/tasks/{id}", ("tasks", "update")),
            ("DELETE", "/api/v1/tasks/{id}", ("tasks", "delete")),
            ("POST", "/api/v1/tasks/{id}/run", ("tasks", "run")),
            (
                "GET",
                "/api/v1/executions/{id}/download-url",
                ("executions", "download_url"),
            ),
            ("POST", "/api/v1/auth/login", ("auth", "login")),
            ("POST", "/api/v1/me/password", ("me", "password")),
        ];
        for (m, p, (r, a)) in cases {
            assert_eq!(
                resource_and_action(m, p),
                (r.to_string(), a.to_string()),
                "{m} {p}"
            );
        }
    }

    #[test]
    fn a_creation_is_named_by_the_id_in_its_answer() {
        assert_eq!(
            created_id(&Bytes::from_static(br#"{"id":"a","name":"x"}"#)).as_deref(),
            Some("a")
        );
        assert_eq!(
            created_id(&Bytes::from_static(
                br#"{"token":"pgw_x","api_token":{"id":"b"}}"#
            ))
            .as_deref(),
            Some("b")
        );
        assert_eq!(created_id(&Bytes::from_static(b"[]")), None);
    }
}
