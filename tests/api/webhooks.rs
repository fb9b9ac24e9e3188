//! Webhooks against a real HTTP receiver in the test: the Healthchecks preset's pings, templates,
//! signatures, retries with backoff, network errors in the delivery log, and the seed tutorial's steps.

use std::collections::BTreeMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use pgward_api_client::{Client, ClientError};
use pgward_api_types::*;
use sha2::Sha256;
use uuid::Uuid;

use crate::support::app::start_another;
use crate::support::fixtures::{
    create_task, empty_db, field_errors, local_destination, run_now, run_ok, task,
};
use crate::support::metrics::{self, parse_metrics};
use crate::support::poll::eventually;
use crate::support::receiver::{
    Receiver, custom, for_destinations, for_tasks, preview_request, repoint, verify_signature,
};
use crate::support::{TestApp, fleet, spawn_app, spawn_app_with};

/// The app of the tests that watch deliveries being retried: scheduler passes and the first retry a
/// second apart. And its admin.
async fn quick_retries() -> (TestApp, Client) {
    let app = spawn_app_with(|c| {
        c.worker.scheduler_interval_secs = 1;
        c.webhooks.retry_base_secs = 1;
    })
    .await;
    let admin = app.admin().await;
    (app, admin)
}

/// Webhook `hook`'s delivery log, the newest first.
async fn deliveries(admin: &Client, hook: Uuid) -> WebhookDeliveryPage {
    admin
        .webhook_deliveries(hook, &WebhookDeliveryQuery::default())
        .await
        .unwrap()
}

/// Gives webhook `hook` the signing secret `secret` (empty: none), nothing else changed.
async fn set_secret(admin: &Client, hook: Uuid, secret: String) -> Webhook {
    let change = UpdateWebhookRequest {
        secret: Some(secret),
        ..Default::default()
    };
    admin.update_webhook(hook, &change).await.unwrap()
}

/// The newest delivery of a real event (not a test) that reached `status`.
async fn wait_delivery(admin: &Client, webhook: Uuid, status: DeliveryStatus) -> WebhookDelivery {
    eventually(
        Duration::from_secs(90),
        async || {
            let page = deliveries(admin, webhook).await;
            let found = page
                .items
                .iter()
                .find(|d| !d.test && d.status == status)
                .cloned();
            found.ok_or(page)
        },
        |page| format!("no {status:?} delivery: {page:#?}"),
    )
    .await
}

/// A database with a task that backs it up to local disk.
async fn backed_up(admin: &Client, major: u32, name: &str) -> (Uuid, Uuid, std::path::PathBuf) {
    let (_, database) = empty_db(admin, fleet().get(major), "w").await;
    let (dest, dir) = local_destination(admin, &format!("{name} disk")).await;
    let t = create_task(admin, name, database, dest).await;
    (database, t.id, dir)
}

#[tokio::test]
async fn healthchecks_preset_pings_start_then_success_and_start_then_fail_with_the_stderr_tail() {
    let (_app, admin) = quick_retries().await;
    // The first /start is refused: the outcome must still reach Healthchecks after /start, never before.
    let hc = Receiver::start(vec![500]);
    let (database, good, _d) = backed_up(&admin, 16, "hc good").await;
    // A run that fails in pg_dump itself: a table pattern that matches nothing.
    let (dest, _dir) = local_destination(&admin, "hc bad disk").await;
    let mut spec = task("hc bad", database, vec![dest]);
    spec.pg_dump_options.tables = vec!["no_such_table".into()];
    let bad = admin.create_task(&spec).await.unwrap().id;
    let check = Uuid::new_v4();
    let hook = admin
        .create_webhook(&CreateWebhookRequest {
            kind: WebhookKind::Healthchecks,
            events: vec![],
            targets: for_tasks(vec![good, bad]),
            ..custom("healthchecks", hc.url(&format!("/ping/{check}")))
        })
        .await
        .unwrap();
    assert_eq!(
        hook.events,
        vec![
            EventKind::ExecutionStarted,
            EventKind::ExecutionSuccess,
            EventKind::ExecutionFailed
        ]
    );

    let ok = run_ok(&admin, good).await;
    let seen = hc.wait_for(3).await;
    let start = format!("/ping/{check}/start?rid={}", ok.id);
    let targets: Vec<&str> = seen.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        vec![
            start.as_str(),
            start.as_str(),
            format!("/ping/{check}?rid={}", ok.id).as_str()
        ],
        "{seen:#?}"
    );
    assert!(seen.iter().all(|r| r.method == "POST"));
    // The same run id on /start and the outcome: Healthchecks measures the run between them.
    assert!(seen[2].body.contains("hc good"), "{}", seen[2].body);

    let failed = run_now(&admin, bad).await;
    assert_eq!(failed.status, ExecutionStatus::Failed, "{failed:?}");
    let seen = hc.wait_for(5).await;
    assert_eq!(
        seen[3].target,
        format!("/ping/{check}/start?rid={}", failed.id)
    );
    assert_eq!(
        seen[4].target,
        format!("/ping/{check}/fail?rid={}", failed.id)
    );
    let stderr = failed.stderr_tail.clone().unwrap();
    assert!(stderr.contains("no matching tables"), "{stderr}");
    assert_eq!(seen[4].body, stderr);

    // The log holds all four deliveries (recorded once each answer is in), the secret part of the URL
    // masked.
    let log = eventually(
        Duration::from_secs(60),
        async || {
            let log = deliveries(&admin, hook.id).await;
            if log.items.len() == 4
                && log
                    .items
                    .iter()
                    .all(|d| d.status == DeliveryStatus::Success)
            {
                Ok(log)
            } else {
                Err(log)
            }
        },
        |log| format!("{log:#?}"),
    )
    .await;
    let attempts: Vec<usize> = log.items.iter().rev().map(|d| d.attempts.len()).collect();
    assert_eq!(attempts, vec![2, 1, 1, 1], "{log:#?}");
    // Sending a run's /start again after its outcome would reopen the run: refused.
    let first_start = log.items.last().unwrap();
    assert_eq!(first_start.event_kind, EventKind::ExecutionStarted);
    let refused = admin
        .redeliver_webhook_delivery(hook.id, first_start.id)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ClientError::Api { status: 409, .. }),
        "{refused:?}"
    );
    for d in &log.items {
        assert_eq!(d.status, DeliveryStatus::Success, "{d:#?}");
        assert_eq!(d.attempts.last().unwrap().response_status, Some(200));
        assert!(
            !d.attempts[0].request.url.contains(&check.to_string()),
            "{}",
            d.attempts[0].request.url
        );
    }
}

#[tokio::test]
async fn templates_render_signatures_verify_and_a_failing_receiver_gets_retried_with_backoff() {
    let (_app, admin) = quick_retries().await;
    let receiver = Receiver::start(vec![500, 500]);
    let (_db, t, _d) = backed_up(&admin, 17, "templated").await;
    let secret = "s3cret-for-hmac";
    let hook = admin
        .create_webhook(&CreateWebhookRequest {
            method: Some(HttpMethod::Put),
            headers: BTreeMap::from([("Authorization".into(), "Bearer hidden-token-value".into())]),
            body_template: Some(
                "{\"task\": {{ task.name | tojson }}, \"size\": {{ size | tojson }}, \
                 \"status\": \"{{ status }}\", \"execution\": \"{{ execution_id }}\", \
                 \"tz\": \"{{ timezone }}\", \"finished\": \"{{ finished_at }}\", \
                 \"link\": \"{{ links.execution_api }}\"}"
                    .into(),
            ),
            secret: Some(secret.into()),
            max_attempts: Some(3),
            ..custom("signed", receiver.url("/hook"))
        })
        .await
        .unwrap();
    let shown = serde_json::to_string(&admin.get_webhook(hook.id).await.unwrap()).unwrap();
    assert!(!shown.contains(secret) && !shown.contains("hidden-token-value"));
    assert!(hook.has_secret);
    assert_eq!(hook.header_names, vec!["Authorization".to_string()]);

    let done = run_ok(&admin, t).await;
    let d = wait_delivery(&admin, hook.id, DeliveryStatus::Success).await;
    let seen = receiver.requests();
    assert_eq!(seen.len(), 3, "{seen:#?}");
    for r in &seen {
        assert_eq!(r.method, "PUT");
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["task"], "templated");
        assert_eq!(body["size"], done.size.unwrap());
        assert_eq!(body["status"], "success");
        assert_eq!(body["execution"], done.id.to_string());
        assert_eq!(body["tz"], "Europe/Berlin");
        let finished =
            chrono::DateTime::parse_from_rfc3339(body["finished"].as_str().unwrap()).unwrap();
        assert_eq!(finished, done.finished_at.unwrap());
        // Berlin is UTC+1 or +2, never UTC: the time is in the task's zone.
        assert_ne!(finished.offset().local_minus_utc(), 0);
        assert!(
            body["link"]
                .as_str()
                .unwrap()
                .ends_with(&done.id.to_string())
        );
        assert_eq!(r.headers["authorization"], "Bearer hidden-token-value");
        assert_eq!(r.headers["x-pgward-event"], "execution_success");
        // The receiver verifies the signature with the shared secret, over the timestamp and the
        // body, and checks that the timestamp is fresh (no replays).
        verify_signature(r, secret);
    }

    // Three attempts in the log: 500, 500, 200, spaced by the backoff (1 s, then 2 s).
    let statuses: Vec<_> = d.attempts.iter().map(|a| a.response_status).collect();
    assert_eq!(statuses, vec![Some(500), Some(500), Some(200)], "{d:#?}");
    assert_eq!(
        d.attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let gap =
        |i: usize| (d.attempts[i].started_at - d.attempts[i - 1].started_at).num_milliseconds();
    assert!(gap(1) >= 1000, "{}", gap(1));
    assert!(gap(2) >= 2000, "{}", gap(2));
    assert!(d.attempts[0].error.as_deref().unwrap().contains("500"));
    assert_eq!(d.attempts[0].response_body.as_deref(), Some("answer 500"));
    // The log keeps the headers that explain an answer, not the receiver's others (which may carry
    // its secrets).
    assert!(
        d.attempts[0]
            .response_headers
            .contains_key("content-length")
    );
    assert!(!d.attempts[0].response_headers.contains_key("x-receiver"));
    let logged = &d.attempts[0].request;
    assert_eq!(logged.headers["Authorization"], "****");
    assert!(logged.headers["X-Pgward-Signature-256"].starts_with("sha256="));
    assert_eq!(logged.body, seen[0].body);
    let log_text = serde_json::to_string(&d).unwrap();
    assert!(!log_text.contains("hidden-token-value") && !log_text.contains(secret));
}

#[tokio::test]
async fn a_receiver_that_refuses_connections_gets_its_network_error_logged_and_counted() {
    let (app, admin) = quick_retries().await;
    // A port that is bound (so no other test can take it) but not listening: connections are refused.
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let closed = reserved.local_addr().unwrap().port();
    let (_db, t, _d) = backed_up(&admin, 15, "refused").await;
    let hook = admin
        .create_webhook(&CreateWebhookRequest {
            max_attempts: Some(2),
            ..custom("nobody home", format!("http://127.0.0.1:{closed}/hook"))
        })
        .await
        .unwrap();
    // "Send test now" fails too, answered at once; it is not a lost notification, so not counted.
    let tested = admin.test_webhook(hook.id).await.unwrap();
    assert_eq!(tested.status, DeliveryStatus::Failed, "{tested:#?}");
    let done = run_ok(&admin, t).await;
    let d = wait_delivery(&admin, hook.id, DeliveryStatus::Failed).await;
    assert_eq!(d.attempts.len(), 2, "{d:#?}");
    for a in &d.attempts {
        assert_eq!(a.response_status, None);
        let e = a.error.as_deref().unwrap();
        assert!(
            e.contains("could not connect") && e.to_lowercase().contains("refused"),
            "{e}"
        );
    }
    let w = admin.get_webhook(hook.id).await.unwrap();
    assert_eq!(w.last_delivery_status, Some(DeliveryStatus::Failed));

    let text = app.metrics(&admin).await;
    let families = parse_metrics(&text);
    let sample = |name: &str| metrics::sample(&families, name, ("webhook", "nobody home"));
    assert_eq!(sample("pgward_webhook_delivery_failures"), Some(1.0));
    assert_eq!(sample("pgward_webhook_failed_deliveries_total"), Some(1.0));
    assert_eq!(sample("pgward_webhook_failed_attempts"), Some(2.0));

    // The receiver moved; once the webhook points there, the failed delivery can be sent again.
    let receiver = Receiver::start(vec![]);
    repoint(&admin, hook.id, receiver.url("/moved")).await;
    let again = admin
        .redeliver_webhook_delivery(hook.id, d.id)
        .await
        .unwrap();
    assert_ne!(again.id, d.id);
    let seen = receiver.wait_for(1).await;
    assert_eq!(seen[0].headers["x-pgward-delivery"], again.id.to_string());
    let event: Event = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(event.execution_id, Some(done.id));
    let states = eventually(
        Duration::from_secs(60),
        async || {
            let log = deliveries(&admin, hook.id).await;
            let states: Vec<_> = log.items.iter().map(|x| (x.id, x.status)).collect();
            if states.contains(&(again.id, DeliveryStatus::Success)) {
                Ok(states)
            } else {
                Err(states)
            }
        },
        |states| format!("{states:?}"),
    )
    .await;
    assert!(
        states.contains(&(d.id, DeliveryStatus::Failed)),
        "{states:?}"
    );
    let missing = admin
        .redeliver_webhook_delivery(hook.id, Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(
        matches!(missing, ClientError::Api { status: 404, .. }),
        "{missing:?}"
    );
}

#[tokio::test]
async fn seed_tutorial_get_webhook_on_success_send_test_now_then_a_real_run() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let receiver = Receiver::start(vec![]);
    let (_db, t, _d) = backed_up(&admin, 13, "tutorial").await;
    // Another webhook chooses the destination: a backup written there is about it too.
    let archive = Receiver::start(vec![]);
    let dest = admin.get_task(t).await.unwrap().spec.destination_ids[0];
    admin
        .create_webhook(&CreateWebhookRequest {
            kind: WebhookKind::Json,
            targets: for_destinations(vec![dest]),
            ..custom("archive feed", archive.url("/feed"))
        })
        .await
        .unwrap();
    let hook = admin
        .create_webhook(&CreateWebhookRequest {
            method: Some(HttpMethod::Get),
            targets: for_tasks(vec![t]),
            ..custom("tutorial ping", receiver.url("/ping/abc"))
        })
        .await
        .unwrap();
    let test = admin.test_webhook(hook.id).await.unwrap();
    assert!(test.test);
    assert_eq!(test.status, DeliveryStatus::Success, "{test:#?}");
    assert_eq!(test.attempts[0].response_status, Some(200));
    let seen = receiver.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].target.as_str()),
        ("GET", "/ping/abc")
    );

    let done = run_ok(&admin, t).await;
    let seen = receiver.wait_for(2).await;
    assert_eq!(seen[1].method, "GET");
    assert_eq!(seen[1].headers["x-pgward-event"], "execution_success");
    // execution_started is not among the webhook's events: nothing else is sent. Deliveries are
    // recorded with their event, and the run's events were all recorded before it ended, so the log
    // holds everything this webhook will ever send for the run: the test and the success.
    let d = wait_delivery(&admin, hook.id, DeliveryStatus::Success).await;
    assert!(!d.test);
    assert_eq!(d.event_kind, EventKind::ExecutionSuccess);
    let log = deliveries(&admin, hook.id).await;
    assert_eq!(log.items.len(), 2, "{log:#?}");
    assert_eq!(receiver.requests().len(), 2);
    let fed = archive.wait_for(1).await;
    let event: Event = serde_json::from_str(&fed[0].body).unwrap();
    assert_eq!(
        (event.kind, event.execution_id),
        (EventKind::ExecutionSuccess, Some(done.id))
    );
}

#[tokio::test]
async fn webhooks_are_validated_duplicated_previewed_and_keep_their_secrets() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let receiver = Receiver::start(vec![]);
    let bad = [
        (custom("a", "ftp://example.com/x".into()), "url"),
        (
            CreateWebhookRequest {
                body_template: Some("{{ task.name ".into()),
                ..custom("b", receiver.url("/"))
            },
            "body_template",
        ),
        (
            CreateWebhookRequest {
                events: vec![],
                ..custom("c", receiver.url("/"))
            },
            "events",
        ),
        (
            CreateWebhookRequest {
                kind: WebhookKind::Slack,
                method: Some(HttpMethod::Get),
                ..custom("d", receiver.url("/"))
            },
            "method",
        ),
        (
            CreateWebhookRequest {
                headers: BTreeMap::from([("X-Pgward-Event".into(), "forged".into())]),
                ..custom("e", receiver.url("/"))
            },
            "headers",
        ),
        (
            CreateWebhookRequest {
                targets: for_tasks(vec![Uuid::new_v4()]),
                ..custom("f", receiver.url("/"))
            },
            "targets",
        ),
    ];
    for (req, field) in bad {
        let fields = field_errors(admin.create_webhook(&req).await.unwrap_err());
        assert!(fields.contains(&field.to_string()), "{field}: {fields:?}");
    }
    assert!(admin.list_webhooks().await.unwrap().items.is_empty());

    let hook = admin
        .create_webhook(&CreateWebhookRequest {
            secret: Some("dup-secret".into()),
            body_template: Some("{\"who\": {{ task.name | tojson }}}".into()),
            ..custom("original", receiver.url("/hook"))
        })
        .await
        .unwrap();
    let conflict = admin
        .create_webhook(&custom("ORIGINAL", receiver.url("/hook")))
        .await
        .unwrap_err();
    assert!(
        matches!(conflict, ClientError::Api { status: 409, .. }),
        "{conflict:?}"
    );

    // The copy is inactive and starts without the secret (credentials are given again for a copy);
    // given again, it signs.
    let copy = admin.duplicate_webhook(hook.id).await.unwrap();
    assert_eq!(copy.name, "original (copy)");
    assert!(!copy.active && !copy.has_secret);
    let copy = set_secret(&admin, copy.id, "dup-secret".into()).await;
    assert!(copy.has_secret);
    let sent = admin.test_webhook(copy.id).await.unwrap();
    assert_eq!(sent.status, DeliveryStatus::Success);
    let r = &receiver.requests()[0];
    assert_eq!(r.body, "{\"who\": \"sample task\"}");
    verify_signature(r, "dup-secret");
    // A signature made over the body alone (without its timestamp) does not match.
    let mut mac = Hmac::<Sha256>::new_from_slice(b"dup-secret").unwrap();
    mac.update(r.body.as_bytes());
    let sig = r.headers["x-pgward-signature-256"]
        .strip_prefix("sha256=")
        .unwrap();
    assert!(mac.verify_slice(&hex::decode(sig).unwrap()).is_err());

    // Removing the secret stops signing; omitted fields stay.
    let changed = set_secret(&admin, copy.id, String::new()).await;
    assert!(!changed.has_secret);
    assert_eq!(changed.body_template, copy.body_template);
    admin.test_webhook(copy.id).await.unwrap();
    assert!(
        !receiver.requests()[1]
            .headers
            .contains_key("x-pgward-signature-256")
    );

    // Preview: Slack's message from a template, and a template error names its line.
    let slack = preview_request(
        WebhookKind::Slack,
        "{{ title }}: {{ task.name }} ({{ size_human }})",
        Some(EventKind::ExecutionSuccess),
    );
    let preview = admin.preview_webhook(&slack).await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&preview.request.body).unwrap();
    assert_eq!(body["text"], "Backup succeeded: sample task (46.0 MiB)");
    assert_eq!(preview.context["task"]["name"], "sample task");
    let err = admin
        .preview_webhook(&preview_request(WebhookKind::Custom, "ok\n{% if %}", None))
        .await
        .unwrap_err();
    assert_eq!(field_errors(err), vec!["body_template".to_string()]);

    admin.delete_webhook(hook.id).await.unwrap();
    assert!(matches!(
        admin.get_webhook(hook.id).await.unwrap_err(),
        ClientError::Api { status: 404, .. }
    ));
    assert_eq!(admin.list_webhooks().await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn an_attempt_whose_process_died_is_logged_as_interrupted_and_ends_the_delivery() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let receiver = Receiver::start(vec![]);
    let hook = admin
        .create_webhook(&CreateWebhookRequest {
            max_attempts: Some(1),
            ..custom("cut off", receiver.url("/hook"))
        })
        .await
        .unwrap();
    // A delivery whose only attempt was claimed 10 minutes ago by a process that then died (what
    // `deliver` leaves behind when it is killed between claiming and logging).
    let event = Event {
        id: Uuid::now_v7(),
        kind: EventKind::ExecutionSuccess,
        created_at: chrono::Utc::now(),
        task_id: None,
        database_id: None,
        destination_id: None,
        execution_id: None,
        restoration_id: None,
        data: serde_json::json!({}),
    };
    let delivery = Uuid::now_v7();
    let mut catalog = app.catalog().await;
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_kind, event, status, attempts, claimed_at) \
         VALUES ($1, $2, 'execution_success', $3::jsonb, 'sending', 1, now() - interval '10 minutes')",
    )
    .bind(delivery)
    .bind(hook.id)
    .bind(serde_json::to_string(&event).unwrap())
    .execute(&mut catalog)
    .await
    .unwrap();

    // The next scheduler pass finds it.
    let (state, _c) = app.background().await;
    pgward_server::features::webhooks::service::sweep(&state, chrono::Utc::now())
        .await
        .unwrap();
    let d = wait_delivery(&admin, hook.id, DeliveryStatus::Failed).await;
    assert_eq!(d.id, delivery);
    assert_eq!(d.attempts.len(), 1, "{d:#?}");
    let error = d.attempts[0].error.as_deref().unwrap_or_default();
    assert!(error.starts_with("interrupted"), "{error}");
    assert_eq!(d.attempts[0].request.url, hook.url_masked);
    // Its one attempt was spent: nothing is sent after the fact.
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn masks_saved_under_looser_rules_are_replaced_at_start_up() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let hook = admin
        .create_webhook(&custom(
            "discord-ish",
            "https://discord.example.com/api/webhooks/1234567890/Tok3n".into(),
        ))
        .await
        .unwrap();
    assert_eq!(
        hook.url_masked,
        "https://discord.example.com/api/webhooks/****/****"
    );
    // What an older pgward stored: a mask that shows the short token.
    let mut catalog = app.catalog().await;
    sqlx::query("UPDATE webhooks SET url_masked = 'https://discord.example.com/api/webhooks/1234567890/Tok3n'")
        .execute(&mut catalog)
        .await
        .unwrap();

    // The next pgward process to start on this catalog masks it again before it is ready.
    let what = "the second process never became ready";
    start_another(app.config.clone(), Duration::from_secs(60), what).await;
    let w = admin.get_webhook(hook.id).await.unwrap();
    assert_eq!(
        w.url_masked,
        "https://discord.example.com/api/webhooks/****/****"
    );
}
