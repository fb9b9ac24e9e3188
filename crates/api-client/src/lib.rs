//! A typed client for the pgward REST API, shared by the SPA (wasm32), the integration tests and any tool
//! that talks to a running server. Every method maps to one route; errors keep the server's `ApiError`.

use pgward_api_types::*;
use reqwest::{Method, StatusCode};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

#[derive(Debug)]
pub enum ClientError {
    /// The server answered with an error body.
    Api { status: u16, error: ApiError },
    /// The request did not reach the server or the answer was cut.
    Transport(String),
    /// The server answered something that is not what the contract says.
    Decode { status: u16, message: String },
}

impl ClientError {
    /// The API error code, when the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { error, .. } => Some(error.code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Decode { status, .. } => Some(*status),
            Self::Transport(_) => None,
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Api { error, .. } => write!(f, "{}", error.message),
            Self::Transport(m) => write!(f, "could not reach pgward: {m}"),
            Self::Decode { status, message } => {
                write!(f, "unexpected answer ({status}): {message}")
            }
        }
    }
}

impl std::error::Error for ClientError {}

pub type Result<T> = std::result::Result<T, ClientError>;

#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Client {
    /// `base` is the server's origin, e.g. `http://127.0.0.1:8080` (no trailing `/api`).
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            token: None,
        }
    }

    /// A copy of this client that sends `Authorization: Bearer <token>` (an access token or API token).
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Self {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        query: &[(&str, String)],
    ) -> Result<T> {
        let (status, bytes) = self.send_raw(method, path, body, query).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            status,
            message: e.to_string(),
        })
    }

    async fn send_raw<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        query: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>)> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?
            .to_vec();
        if status.is_success() {
            return Ok((status.as_u16(), bytes));
        }
        match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(error) => Err(ClientError::Api {
                status: status.as_u16(),
                error,
            }),
            Err(_) => Err(ClientError::Decode {
                status: status.as_u16(),
                message: String::from_utf8_lossy(&bytes).chars().take(500).collect(),
            }),
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(String, String)]) -> Result<T> {
        let query: Vec<(&str, String)> =
            query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.send::<(), T>(Method::GET, path, None, &query).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    /// A POST without a body: an action on a resource (run, verify, duplicate, ...).
    async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send::<(), T>(Method::POST, path, None, &[]).await
    }

    async fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }

    async fn no_content(&self, method: Method, path: &str) -> Result<()> {
        let (status, _) = self.send_raw::<()>(method, path, None, &[]).await?;
        if status == StatusCode::NO_CONTENT.as_u16() || status == StatusCode::OK.as_u16() {
            Ok(())
        } else {
            Err(ClientError::Decode {
                status,
                message: "expected 204".into(),
            })
        }
    }

    // --- health and system -------------------------------------------------------------------------

    pub async fn health(&self) -> Result<Health> {
        self.get("/healthz", &[]).await
    }

    pub async fn system(&self) -> Result<SystemInfo> {
        self.get("/api/v1/system", &[]).await
    }

    // --- auth ----------------------------------------------------------------------------------------

    pub async fn auth_status(&self) -> Result<AuthStatus> {
        self.get("/api/v1/auth/status", &[]).await
    }

    pub async fn setup(&self, req: &SetupRequest) -> Result<User> {
        self.post("/api/v1/auth/setup", req).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<TokenPair> {
        let req = LoginRequest {
            email: email.into(),
            password: password.into(),
            refresh_cookie: false,
        };
        self.post("/api/v1/auth/login", &req).await
    }

    /// Logs in as a browser does: the refresh token goes into an HttpOnly cookie the browser keeps
    /// (the returned pair's `refresh_token` is empty); `refresh_with_cookie` uses it.
    pub async fn login_with_cookie(&self, email: &str, password: &str) -> Result<TokenPair> {
        let req = LoginRequest {
            email: email.into(),
            password: password.into(),
            refresh_cookie: true,
        };
        self.post("/api/v1/auth/login", &req).await
    }

    /// A new token pair for the refresh token in the browser's `pgward_refresh` cookie.
    pub async fn refresh_with_cookie(&self) -> Result<TokenPair> {
        self.post(
            "/api/v1/auth/refresh",
            &RefreshRequest {
                refresh_token: String::new(),
            },
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        self.post(
            "/api/v1/auth/refresh",
            &RefreshRequest {
                refresh_token: refresh_token.into(),
            },
        )
        .await
    }

    /// Ends the session of the access token this client carries.
    pub async fn logout(&self) -> Result<()> {
        self.no_content(Method::POST, "/api/v1/auth/logout").await
    }

    /// Changes the password of the logged-in user; other sessions and every API token end.
    pub async fn change_password(&self, current: &str, new_password: &str) -> Result<()> {
        let body = ChangePasswordRequest {
            current_password: current.into(),
            new_password: new_password.into(),
        };
        self.send_raw(Method::POST, "/api/v1/me/password", Some(&body), &[])
            .await
            .map(|_| ())
    }

    pub async fn me(&self) -> Result<Me> {
        self.get("/api/v1/me", &[]).await
    }

    // --- API tokens ----------------------------------------------------------------------------------

    pub async fn create_token(&self, req: &CreateApiTokenRequest) -> Result<CreatedApiToken> {
        self.post("/api/v1/tokens", req).await
    }

    pub async fn list_tokens(&self) -> Result<ApiTokenList> {
        self.get("/api/v1/tokens", &[]).await
    }

    pub async fn revoke_token(&self, id: Uuid) -> Result<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/tokens/{id}"))
            .await
    }

    // --- users, invitations, sessions, audit --------------------------------------------------------

    pub async fn update_me(&self, req: &UpdateProfileRequest) -> Result<User> {
        self.patch("/api/v1/me", req).await
    }

    pub async fn my_sessions(&self) -> Result<SessionList> {
        self.get("/api/v1/me/sessions", &[]).await
    }

    pub async fn end_my_session(&self, id: Uuid) -> Result<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/me/sessions/{id}"))
            .await
    }

    pub async fn end_my_other_sessions(&self) -> Result<Ended> {
        self.post_empty("/api/v1/me/sessions/end-others").await
    }

    pub async fn list_users(&self) -> Result<UserList> {
        self.get("/api/v1/users", &[]).await
    }

    pub async fn create_user(&self, req: &CreateUserRequest) -> Result<User> {
        self.post("/api/v1/users", req).await
    }

    pub async fn get_user(&self, id: Uuid) -> Result<User> {
        self.get(&format!("/api/v1/users/{id}"), &[]).await
    }

    pub async fn update_user(&self, id: Uuid, req: &UpdateUserRequest) -> Result<User> {
        self.patch(&format!("/api/v1/users/{id}"), req).await
    }

    pub async fn delete_user(&self, id: Uuid) -> Result<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/users/{id}"))
            .await
    }

    /// Ends every session of a user, and with `api_tokens` their API tokens too.
    pub async fn end_user_sessions(&self, id: Uuid, api_tokens: bool) -> Result<Ended> {
        let query = [("api_tokens", api_tokens.to_string())];
        self.send::<(), Ended>(
            Method::POST,
            &format!("/api/v1/users/{id}/end-sessions"),
            None,
            &query,
        )
        .await
    }

    pub async fn list_invitations(&self) -> Result<InvitationList> {
        self.get("/api/v1/invitations", &[]).await
    }

    pub async fn create_invitation(
        &self,
        req: &CreateInvitationRequest,
    ) -> Result<CreatedInvitation> {
        self.post("/api/v1/invitations", req).await
    }

    pub async fn revoke_invitation(&self, id: Uuid) -> Result<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/invitations/{id}"))
            .await
    }

    pub async fn accept_invitation(&self, req: &AcceptInvitationRequest) -> Result<User> {
        self.post("/api/v1/auth/accept-invitation", req).await
    }

    pub async fn list_audit(&self, q: &AuditQuery) -> Result<AuditPage> {
        self.get("/api/v1/audit", &query_pairs(q)).await
    }

    // --- databases -----------------------------------------------------------------------------------

    pub async fn list_databases(&self, q: &DatabaseListQuery) -> Result<DatabasePage> {
        self.get("/api/v1/databases", &query_pairs(q)).await
    }

    /// Every database matching `q`, following the cursor page by page (for pickers and overviews).
    pub async fn all_databases(&self, q: &DatabaseListQuery) -> Result<Vec<Database>> {
        let mut q = DatabaseListQuery {
            limit: Some(200),
            cursor: None,
            ..q.clone()
        };
        let mut out = Vec::new();
        loop {
            let page = self.list_databases(&q).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    pub async fn create_database(&self, req: &CreateDatabaseRequest) -> Result<Database> {
        self.post("/api/v1/databases", req).await
    }

    pub async fn get_database(&self, id: Uuid) -> Result<Database> {
        self.get(&format!("/api/v1/databases/{id}"), &[]).await
    }

    pub async fn update_database(&self, id: Uuid, req: &UpdateDatabaseRequest) -> Result<Database> {
        self.patch(&format!("/api/v1/databases/{id}"), req).await
    }

    pub async fn delete_database(&self, id: Uuid) -> Result<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/databases/{id}"))
            .await
    }

    /// Connects with the saved connection string and records the outcome in the database's health.
    pub async fn test_database(&self, id: Uuid) -> Result<ConnectionTestResult> {
        self.post_empty(&format!("/api/v1/databases/{id}/test"))
            .await
    }

    /// Tests a connection string without saving anything.
    pub async fn test_connection(&self, connection_string: &str) -> Result<ConnectionTestResult> {
        let req = TestConnectionRequest {
            connection_string: connection_string.into(),
        };
        self.post("/api/v1/databases/test-connection", &req).await
    }

    // --- destinations --------------------------------------------------------------------------------

    pub async fn list_destinations(&self) -> Result<DestinationList> {
        self.get("/api/v1/destinations", &[]).await
    }

    pub async fn create_destination(&self, req: &CreateDestinationRequest) -> Result<Destination> {
        self.post("/api/v1/destinations", req).await
    }

    pub async fn get_destination(&self, id: Uuid) -> Result<Destination> {
        self.get(&format!("/api/v1/destinations/{id}"), &[]).await
    }

    pub async fn update_destination(
        &self,
        id: Uuid,
        req: &UpdateDestinationRequest,
    ) -> Result<Destination> {
        self.patch(&format!("/api/v1/destinations/{id}"), req).await
    }

    pub async fn delete_destination(&self, id: Uuid) -> Result<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/destinations/{id}"))
            .await
    }

    pub async fn test_destination(&self, id: Uuid) -> Result<DestinationTestResult> {
        self.post_empty(&format!("/api/v1/destinations/{id}/test"))
            .await
    }

    pub async fn test_destination_config(
        &self,
        config: &DestinationConfig,
    ) -> Result<DestinationTestResult> {
        self.post(
            "/api/v1/destinations/test-config",
            &TestDestinationRequest {
                config: config.clone(),
            },
        )
        .await
    }

    // --- tasks ---------------------------------------------------------------------------------------

    pub async fn list_tasks(&self) -> Result<TaskList> {
        self.get("/api/v1/tasks", &[]).await
    }

    pub async fn create_task(&self, spec: &TaskSpec) -> Result<Task> {
        self.post("/api/v1/tasks", spec).await
    }

    pub async fn get_task(&self, id: Uuid) -> Result<Task> {
        self.get(&format!("/api/v1/tasks/{id}"), &[]).await
    }

    pub async fn update_task(&self, id: Uuid, req: &UpdateTaskRequest) -> Result<Task> {
        self.patch(&format!("/api/v1/tasks/{id}"), req).await
    }

    pub async fn delete_task(&self, id: Uuid) -> Result<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/tasks/{id}"))
            .await
    }

    pub async fn duplicate_task(&self, id: Uuid) -> Result<Task> {
        self.post_empty(&format!("/api/v1/tasks/{id}/duplicate"))
            .await
    }

    pub async fn task_next_runs(&self, id: Uuid) -> Result<NextRuns> {
        self.get(&format!("/api/v1/tasks/{id}/next-runs"), &[])
            .await
    }

    // --- executions ----------------------------------------------------------------------------------

    pub async fn run_task(&self, task: Uuid) -> Result<Execution> {
        self.post_empty(&format!("/api/v1/tasks/{task}/run")).await
    }

    /// Outcomes per day and runs over time (the charts).
    pub async fn execution_stats(&self, q: &ExecutionStatsQuery) -> Result<ExecutionStats> {
        self.get("/api/v1/executions/stats", &query_pairs(q)).await
    }

    pub async fn list_executions(&self, q: &ExecutionListQuery) -> Result<ExecutionPage> {
        self.get("/api/v1/executions", &query_pairs(q)).await
    }

    /// Starts verifying every stored copy of a backup (202; follow `verify_status`).
    pub async fn verify_execution(&self, id: Uuid) -> Result<Execution> {
        self.post_empty(&format!("/api/v1/executions/{id}/verify"))
            .await
    }

    /// Starts a test-restore of a backup (202; follow `test_restore_status`).
    pub async fn test_restore_execution(
        &self,
        id: Uuid,
        database: Option<Uuid>,
    ) -> Result<Execution> {
        let query: Vec<(&str, String)> = database
            .map(|d| ("database_id", d.to_string()))
            .into_iter()
            .collect();
        self.send::<(), _>(
            Method::POST,
            &format!("/api/v1/executions/{id}/test-restore"),
            None,
            &query,
        )
        .await
    }

    /// The table of contents of a custom or directory backup.
    pub async fn execution_contents(&self, id: Uuid) -> Result<ArchiveContents> {
        self.get(&format!("/api/v1/executions/{id}/contents"), &[])
            .await
    }

    pub async fn list_events(&self, q: &EventListQuery) -> Result<EventPage> {
        self.get("/api/v1/events", &query_pairs(q)).await
    }

    pub async fn list_webhooks(&self) -> Result<WebhookList> {
        self.get("/api/v1/webhooks", &[]).await
    }

    pub async fn create_webhook(&self, req: &CreateWebhookRequest) -> Result<Webhook> {
        self.post("/api/v1/webhooks", req).await
    }

    pub async fn get_webhook(&self, id: Uuid) -> Result<Webhook> {
        self.get(&format!("/api/v1/webhooks/{id}"), &[]).await
    }

    pub async fn update_webhook(&self, id: Uuid, req: &UpdateWebhookRequest) -> Result<Webhook> {
        self.patch(&format!("/api/v1/webhooks/{id}"), req).await
    }

    pub async fn delete_webhook(&self, id: Uuid) -> Result<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/webhooks/{id}"))
            .await
    }

    pub async fn duplicate_webhook(&self, id: Uuid) -> Result<Webhook> {
        self.post_empty(&format!("/api/v1/webhooks/{id}/duplicate"))
            .await
    }

    /// Sends a sample event now (one attempt) and returns the delivery with its attempt.
    pub async fn test_webhook(&self, id: Uuid) -> Result<WebhookDelivery> {
        self.post_empty(&format!("/api/v1/webhooks/{id}/test"))
            .await
    }

    pub async fn preview_webhook(&self, req: &WebhookPreviewRequest) -> Result<WebhookPreview> {
        self.post("/api/v1/webhooks/preview", req).await
    }

    pub async fn webhook_deliveries(
        &self,
        id: Uuid,
        q: &WebhookDeliveryQuery,
    ) -> Result<WebhookDeliveryPage> {
        self.get(
            &format!("/api/v1/webhooks/{id}/deliveries"),
            &query_pairs(q),
        )
        .await
    }

    /// Sends a delivery's event again as a new, queued delivery.
    pub async fn redeliver_webhook_delivery(
        &self,
        webhook: Uuid,
        delivery: Uuid,
    ) -> Result<WebhookDelivery> {
        self.post_empty(&format!(
            "/api/v1/webhooks/{webhook}/deliveries/{delivery}/redeliver"
        ))
        .await
    }

    pub async fn health_summary(&self) -> Result<HealthSummary> {
        self.get("/api/v1/health/summary", &[]).await
    }

    /// Starts a restore of a successful backup (202; follow it with `get_restoration`).
    pub async fn create_restoration(&self, req: &CreateRestorationRequest) -> Result<Restoration> {
        self.send(Method::POST, "/api/v1/restorations", Some(req), &[])
            .await
    }

    pub async fn get_restoration(&self, id: Uuid) -> Result<Restoration> {
        self.get(&format!("/api/v1/restorations/{id}"), &[]).await
    }

    pub async fn cancel_restoration(&self, id: Uuid) -> Result<Restoration> {
        self.post_empty(&format!("/api/v1/restorations/{id}/cancel"))
            .await
    }

    pub async fn list_restorations(&self, q: &RestorationListQuery) -> Result<RestorationPage> {
        self.get("/api/v1/restorations", &query_pairs(q)).await
    }

    pub async fn get_execution(&self, id: Uuid) -> Result<Execution> {
        self.get(&format!("/api/v1/executions/{id}"), &[]).await
    }

    /// The backups of a task that retention would delete now: under the saved policy, or with the
    /// parameters of `q` replacing its values.
    pub async fn task_retention_preview(
        &self,
        id: Uuid,
        q: &RetentionPreviewQuery,
    ) -> Result<Vec<Execution>> {
        self.get(
            &format!("/api/v1/tasks/{id}/retention-preview"),
            &query_pairs(q),
        )
        .await
    }

    /// Records again every backup whose manifest lies on destination `destination_id`.
    pub async fn rebuild_catalog(&self, destination_id: Uuid) -> Result<CatalogRebuildReport> {
        self.post(
            "/api/v1/catalog/rebuild",
            &CatalogRebuildRequest { destination_id },
        )
        .await
    }

    /// Backs pgward's own catalog up now to the first destination added (202; follow the execution).
    pub async fn back_up_catalog(&self) -> Result<Execution> {
        self.post_empty("/api/v1/catalog/backup").await
    }

    /// The manifest stored beside the backup's copy on `destination` (the first copy when `None`).
    pub async fn execution_manifest(
        &self,
        id: Uuid,
        destination: Option<Uuid>,
    ) -> Result<serde_json::Value> {
        let q: Vec<(String, String)> = destination
            .map(|d| ("destination_id".to_string(), d.to_string()))
            .into_iter()
            .collect();
        self.get(&format!("/api/v1/executions/{id}/manifest"), &q)
            .await
    }

    pub async fn cancel_execution(&self, id: Uuid) -> Result<Execution> {
        self.post_empty(&format!("/api/v1/executions/{id}/cancel"))
            .await
    }

    pub async fn delete_execution(&self, id: Uuid) -> Result<Execution> {
        self.send::<(), _>(
            Method::DELETE,
            &format!("/api/v1/executions/{id}"),
            None,
            &[],
        )
        .await
    }

    /// Takes a trashed backup out of the trash.
    pub async fn untrash_execution(&self, id: Uuid) -> Result<Execution> {
        self.post_empty(&format!("/api/v1/executions/{id}/untrash"))
            .await
    }

    /// A short-lived URL that downloads a backup without a token (presigned by the object store, or a
    /// signed pgward link for local copies): hand it to a browser or `curl -O`.
    pub async fn download_url(
        &self,
        id: Uuid,
        destination: Option<Uuid>,
        expires_in_secs: Option<u64>,
    ) -> Result<DownloadUrl> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(d) = destination {
            query.push(("destination_id", d.to_string()));
        }
        if let Some(s) = expires_in_secs {
            query.push(("expires_in_secs", s.to_string()));
        }
        self.send::<(), _>(
            Method::GET,
            &format!("/api/v1/executions/{id}/download-url"),
            None,
            &query,
        )
        .await
    }

    /// The stored bytes of a backup (whole, in memory: for tests and small backups; stream otherwise).
    pub async fn download_execution(&self, id: Uuid, destination: Option<Uuid>) -> Result<Vec<u8>> {
        let query: Vec<(&str, String)> = destination
            .map(|d| ("destination_id", d.to_string()))
            .into_iter()
            .collect();
        let (_, bytes) = self
            .send_raw::<()>(
                Method::GET,
                &format!("/api/v1/executions/{id}/download"),
                None,
                &query,
            )
            .await?;
        Ok(bytes)
    }
}

/// A query struct as URL pairs: the wire names are its serde names, unset fields are left out.
fn query_pairs<Q: Serialize>(q: &Q) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(q) else {
        return Vec::new();
    };
    fields
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect()
}
