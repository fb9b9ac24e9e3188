//! A webhook receiver in the test: a local HTTP server that records every request and answers with
//! scripted statuses; the webhook that points at it; the check a receiver makes of a signature.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use pgward_api_client::Client;
use pgward_api_types::{
    CreateWebhookRequest, EventKind, UpdateWebhookRequest, Webhook, WebhookKind,
    WebhookPreviewRequest, WebhookTargets,
};
use sha2::Sha256;
use uuid::Uuid;

use super::poll::eventually_every;

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

/// A local HTTP receiver that records every request and answers with scripted statuses (then 200).
pub struct Receiver {
    port: u16,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn start(script: Vec<u16>) -> Self {
        let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answers = Arc::new(Mutex::new(VecDeque::from(script)));
        let (s, a) = (seen.clone(), answers.clone());
        let server = HttpServer::new(move || {
            let (s, a) = (s.clone(), a.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (s, a) = (s.clone(), a.clone());
                async move {
                    s.lock().unwrap().push(Received {
                        method: req.method().to_string(),
                        target: req.uri().to_string(),
                        headers: req
                            .headers()
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.as_str().to_string(),
                                    v.to_str().unwrap_or_default().to_string(),
                                )
                            })
                            .collect(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    let status = a.lock().unwrap().pop_front().unwrap_or(200);
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                        .insert_header(("X-Receiver", "test"))
                        .body(format!("answer {status}"))
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self { port, seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// Every request so far, once there are at least `n`; up to 90 seconds.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        eventually_every(
            Duration::from_secs(90),
            Duration::from_millis(50),
            async || {
                let seen = self.requests();
                if seen.len() >= n { Ok(seen) } else { Err(seen) }
            },
            |seen| format!("expected {n} requests, got {seen:#?}"),
        )
        .await
    }
}

/// An active custom webhook `name` to `url` for every successful run, everything else at its default.
pub fn custom(name: &str, url: String) -> CreateWebhookRequest {
    CreateWebhookRequest {
        name: name.into(),
        kind: WebhookKind::Custom,
        active: true,
        events: vec![EventKind::ExecutionSuccess],
        targets: WebhookTargets::default(),
        method: None,
        url,
        headers: BTreeMap::new(),
        body_template: None,
        secret: None,
        timeout_secs: None,
        max_attempts: None,
    }
}

/// Webhook targets: only the runs of these tasks.
pub fn for_tasks(task_ids: Vec<Uuid>) -> WebhookTargets {
    WebhookTargets {
        all: false,
        task_ids,
        ..Default::default()
    }
}

/// Webhook targets: only the runs that write to these destinations.
pub fn for_destinations(destination_ids: Vec<Uuid>) -> WebhookTargets {
    WebhookTargets {
        all: false,
        destination_ids,
        ..Default::default()
    }
}

/// Points webhook `hook` at `url` (a receiver that moved), nothing else changed in the request.
pub async fn repoint(admin: &Client, hook: Uuid, url: String) -> Webhook {
    let change = UpdateWebhookRequest {
        url: Some(url),
        ..Default::default()
    };
    admin.update_webhook(hook, &change).await.unwrap()
}

/// A request to preview `body_template` for a webhook of `kind` (no method or URL of its own), rendered
/// for a sample `event` of that kind (`None`: the default sample).
pub fn preview_request(
    kind: WebhookKind,
    body_template: &str,
    event: Option<EventKind>,
) -> WebhookPreviewRequest {
    WebhookPreviewRequest {
        kind,
        method: None,
        url: None,
        body_template: Some(body_template.into()),
        event,
    }
}

/// What the README tells a receiver to do: HMAC-SHA256 over `<X-Pgward-Timestamp>.<raw body>` with the
/// shared secret, compared in constant time, and a timestamp within 5 minutes of now.
pub fn verify_signature(r: &Received, secret: &str) {
    let ts = &r.headers["x-pgward-timestamp"];
    let sent: i64 = ts.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent).abs() < 300, "{ts}");
    let sig = r.headers["x-pgward-signature-256"]
        .strip_prefix("sha256=")
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.{}", r.body).as_bytes());
    mac.verify_slice(&hex::decode(sig).unwrap())
        .expect("the signature verifies with the secret");
}
