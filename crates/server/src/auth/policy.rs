//! Who may call what: one table from API operation (`operationId`) to the least role it needs, applied
//! in one place — `Authenticated`'s extractor, which every protected handler takes first — to the route
//! the router matched. The OpenAPI document carries each operation's entry as `x-pgward-role`, so the
//! table is documented where clients look, and `tests/api/roles.rs` checks every route of the route
//! table against every role.

use std::collections::HashMap;
use std::sync::LazyLock;

use pgward_api_types::Role;

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials (health, the auth entry points, a signed download link).
    Public,
    /// A user or token with at least this role.
    Least(Role),
}

impl Access {
    /// The value of `x-pgward-role` in the OpenAPI document.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Least(r) => r.as_str(),
        }
    }

    pub fn allows(self, role: Role) -> bool {
        match self {
            Self::Public => true,
            Self::Least(least) => role >= least,
        }
    }
}

/// The table. An operation missing here needs `admin` (closed by default), and the route-table test
/// fails until it is listed.
pub fn of(operation_id: &str) -> Option<Access> {
    use Access::{Least, Public};
    use Role::{Admin, Operator, Viewer};
    Some(match operation_id {
        "healthz" | "readyz" | "auth_status" | "setup" | "login" | "refresh"
        | "accept_invitation" | "download_by_link" => Public,

        // One's own account: every role.
        "logout"
        | "me"
        | "update_me"
        | "change_password"
        | "list_my_sessions"
        | "end_my_session"
        | "end_my_other_sessions"
        | "list_api_tokens"
        | "create_api_token"
        | "revoke_api_token" => Least(Viewer),

        // Reading, except backups' contents.
        "list_databases"
        | "get_database"
        | "list_destinations"
        | "get_destination"
        | "list_tasks"
        | "get_task"
        | "task_next_runs"
        | "task_retention_preview"
        | "list_executions"
        | "execution_stats"
        | "get_execution"
        | "get_execution_manifest"
        | "execution_contents"
        | "list_restorations"
        | "get_restoration"
        | "list_events"
        | "health_summary"
        | "list_webhooks"
        | "get_webhook"
        | "list_webhook_deliveries"
        | "system_info"
        | "metrics" => Least(Viewer),

        // Changing what is backed up and where, running, restoring, and reading backups' contents.
        "create_database"
        | "update_database"
        | "delete_database"
        | "test_database"
        | "test_connection"
        | "create_destination"
        | "update_destination"
        | "delete_destination"
        | "test_destination"
        | "test_destination_config"
        | "create_task"
        | "update_task"
        | "delete_task"
        | "duplicate_task"
        | "run_task"
        | "cancel_execution"
        | "delete_execution"
        | "untrash_execution"
        | "verify_execution"
        | "test_restore_execution"
        | "download_execution"
        | "execution_download_url"
        | "upload_dump"
        | "create_restoration"
        | "cancel_restoration"
        | "create_webhook"
        | "update_webhook"
        | "delete_webhook"
        | "duplicate_webhook"
        | "test_webhook"
        | "preview_webhook"
        | "redeliver_webhook_delivery" => Least(Operator),

        // People and the record of what they did.
        "list_users" | "create_user" | "get_user" | "update_user" | "delete_user"
        | "end_user_sessions" | "list_invitations" | "create_invitation" | "revoke_invitation"
        | "list_audit" | "rebuild_catalog" | "back_up_catalog" => Least(Admin),

        _ => return None,
    })
}

/// One route of the router, as the OpenAPI document lists it.
#[derive(Debug, Clone)]
pub struct Route {
    pub operation_id: String,
    pub access: Access,
}

/// (method, path template) → route, from the document collected from the router: the path templates
/// are the patterns actix matches (`/api/v1/tasks/{id}`).
static ROUTES: LazyLock<HashMap<(String, String), Route>> = LazyLock::new(|| {
    let spec = serde_json::to_value(crate::openapi::spec()).unwrap_or_default();
    let mut routes = HashMap::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            routes.insert(
                (method.to_ascii_uppercase(), path.clone()),
                Route {
                    operation_id: id.to_string(),
                    access: of(id).unwrap_or(Access::Least(Role::Admin)),
                },
            );
        }
    }
    routes
});

/// The route behind a matched request (`HttpRequest::match_pattern`), if the router has it.
pub fn route(method: &str, pattern: &str) -> Option<&'static Route> {
    ROUTES.get(&(method.to_ascii_uppercase(), pattern.to_string()))
}

/// Each path template of the router with its routes by method, to find the route of a concrete path
/// before the router did (middleware), and to tell a wrong method (405) from a missing path (404).
type Template = (actix_web::dev::ResourceDef, Vec<(String, &'static Route)>);
static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    let mut by_path: std::collections::BTreeMap<&str, Vec<(String, &'static Route)>> =
        Default::default();
    for ((method, path), route) in ROUTES.iter() {
        by_path
            .entry(path.as_str())
            .or_default()
            .push((method.clone(), route));
    }
    by_path
        .into_iter()
        .map(|(path, mut routes)| {
            routes.sort_by(|a, b| a.0.cmp(&b.0));
            (actix_web::dev::ResourceDef::new(path), routes)
        })
        .collect()
});

/// The templates a concrete path matches. A fixed segment wins over a parameter
/// (`/databases/test-connection` is not `/databases/{id}`), as in the router.
fn templates_at(path: &str) -> Vec<&'static Vec<(String, &'static Route)>> {
    let matching: Vec<_> = TEMPLATES
        .iter()
        .filter(|(def, _)| def.is_match(path))
        .collect();
    let fixed: Vec<_> = matching
        .iter()
        .filter(|(def, _)| !def.pattern().is_some_and(|p| p.contains('{')))
        .map(|(_, r)| r)
        .collect();
    if fixed.is_empty() {
        matching.into_iter().map(|(_, r)| r).collect()
    } else {
        fixed
    }
}

/// The methods the route at `path` (a concrete path) takes; empty when no route is there.
pub fn methods_at(path: &str) -> Vec<String> {
    let mut found: Vec<String> = templates_at(path)
        .into_iter()
        .flat_map(|routes| routes.iter().map(|(m, _)| m.clone()))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The route a request with `method` to the concrete `path` will reach, before the router ran.
pub fn route_at(method: &str, path: &str) -> Option<&'static Route> {
    let method = method.to_ascii_uppercase();
    templates_at(path)
        .into_iter()
        .flat_map(|routes| routes.iter())
        .find(|(m, _)| *m == method)
        .map(|(_, r)| *r)
}

/// What a request to `pattern` with `method` needs; a route the table does not know needs `admin`.
pub fn required(method: &str, pattern: Option<&str>) -> Access {
    pattern
        .and_then(|p| route(method, p))
        .map_or(Access::Least(Role::Admin), |r| r.access)
}
