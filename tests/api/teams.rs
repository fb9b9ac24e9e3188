//! Teams: roles enforced from the route table, users and invitations, the last admin, sessions and
//! refresh-token reuse, API tokens' roles, and the audit log.

use std::collections::BTreeMap;

use pgward_api_client::Client;
use pgward_api_types::*;
use uuid::Uuid;

use crate::support::fixtures::{create_task, empty_db, local_destination};
use crate::support::refused;
use crate::support::{TestApp, fleet, pagila, spawn_app};

const PASSWORD: &str = "a long enough password";

/// A user of `role` created by `admin`, logged in.
async fn member(app: &TestApp, admin: &Client, role: Role) -> (User, Client) {
    let email = format!("{}-{}@example.com", role.as_str(), Uuid::new_v4().simple());
    let user = admin
        .create_user(&CreateUserRequest {
            email: email.clone(),
            password: PASSWORD.into(),
            name: Some(format!("{role:?}")),
            role,
        })
        .await
        .unwrap();
    let pair = app.client.login(&email, PASSWORD).await.unwrap();
    (user, app.client.with_token(pair.access_token))
}

/// A token of `role` made by `owner`.
async fn token(app: &TestApp, owner: &Client, role: Role) -> Client {
    let created = owner
        .create_token(&CreateApiTokenRequest {
            name: format!("{} token", role.as_str()),
            expires_in_days: Some(1),
            role: Some(role),
        })
        .await
        .unwrap();
    assert_eq!(created.api_token.role, role);
    app.client.with_token(created.token)
}

/// Every operation of the route table: (method, path template, least role or "public").
fn route_table() -> Vec<(String, String, String)> {
    let spec = serde_json::to_value(pgward_server::openapi::spec()).unwrap();
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let role = op["x-pgward-role"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no x-pgward-role"))
                .to_string();
            ops.push((method.to_uppercase(), path.clone(), role));
        }
    }
    // Calls that end the caller's own session go last.
    ops.sort_by_key(|(_, p, _)| p.ends_with("/auth/logout"));
    ops
}

fn allows(least: &str, role: Role) -> bool {
    least == "public" || Role::parse(least).is_some_and(|l| role >= l)
}

#[tokio::test]
async fn every_role_and_every_token_role_gets_its_answer_from_every_route() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let me = admin.me().await.unwrap().user;
    let (_, operator) = member(&app, &admin, Role::Operator).await;
    let (_, viewer) = member(&app, &admin, Role::Viewer).await;
    // What the GETs can find: one of each kind the paths name.
    let (_, database) = empty_db(&admin, fleet().get(17), "roles").await;
    let (destination, _) = local_destination(&admin, "disk").await;
    let task = create_task(&admin, "nightly", database, destination)
        .await
        .id;
    let ids: BTreeMap<&str, Uuid> = BTreeMap::from([
        ("databases", database),
        ("destinations", destination),
        ("tasks", task),
        ("users", me.id),
    ]);

    let callers: Vec<(String, Role, Client)> = vec![
        ("admin".into(), Role::Admin, admin.clone()),
        ("operator".into(), Role::Operator, operator.clone()),
        ("viewer".into(), Role::Viewer, viewer.clone()),
        (
            "admin's admin token".into(),
            Role::Admin,
            token(&app, &admin, Role::Admin).await,
        ),
        (
            "operator's operator token".into(),
            Role::Operator,
            token(&app, &operator, Role::Operator).await,
        ),
        (
            "viewer's viewer token".into(),
            Role::Viewer,
            token(&app, &viewer, Role::Viewer).await,
        ),
        (
            "admin's viewer token".into(),
            Role::Viewer,
            token(&app, &admin, Role::Viewer).await,
        ),
    ];
    let table = route_table();
    assert!(table.len() >= 70, "route table looks incomplete");
    for (who, role, client) in &callers {
        for (method, path, least) in &table {
            // Reads find the fixtures; anything else gets unknown ids, so that an allowed call shows
            // its answer (404, 422) without deleting, running or ending anything.
            let resource = path
                .trim_start_matches("/api/v1/")
                .split('/')
                .next()
                .unwrap();
            let found = ids.get(resource).copied().filter(|_| method == "GET");
            let concrete = path
                .replace("{id}", &found.unwrap_or_else(Uuid::new_v4).to_string())
                .replace("{delivery_id}", &Uuid::new_v4().to_string())
                .replace("{ticket}", "not-a-ticket");
            let mut req = app
                .http
                .request(method.parse().unwrap(), app.url(&concrete))
                .bearer_auth(client.token().unwrap());
            if method != "GET" && method != "DELETE" {
                // Not an object: an allowed call fails validation and changes nothing.
                req = req.json(&"not an object");
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            if allows(least, *role) {
                assert!(
                    status != 401 && status != 403,
                    "{who} ({}) {method} {path}: got {status}, but {least} may",
                    role.as_str()
                );
                let whole =
                    !path.contains('{') || (found.is_some() && !path.contains("{delivery_id}"));
                if method == "GET" && whole && !path.contains("download") {
                    assert!(
                        resp.status().is_success(),
                        "{who} {method} {path}: {status} {}",
                        resp.text().await.unwrap_or_default()
                    );
                }
            } else {
                assert_eq!(
                    status,
                    403,
                    "{who} ({}) {method} {path} needs {least}",
                    role.as_str()
                );
                let body: serde_json::Value = resp.json().await.unwrap();
                assert_eq!(body["code"], "forbidden", "{who} {method} {path}");
            }
        }
    }
    // Nothing a refused call touched changed (the admin logged out last: in again).
    let again = app
        .client
        .login(
            crate::support::app::ADMIN_EMAIL,
            crate::support::app::ADMIN_PASSWORD,
        )
        .await
        .unwrap();
    let admin = app.client.with_token(again.access_token);
    assert_eq!(admin.list_tasks().await.unwrap().items.len(), 1);
    assert_eq!(admin.list_users().await.unwrap().items.len(), 3);
}

#[tokio::test]
async fn a_token_never_outranks_its_owner() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (user, operator) = member(&app, &admin, Role::Operator).await;
    let refused = operator
        .create_token(&CreateApiTokenRequest {
            name: "too much".into(),
            expires_in_days: None,
            role: Some(Role::Admin),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::ValidationFailed));

    // A token made as operator acts as viewer once its owner is demoted, at once.
    let bot = token(&app, &operator, Role::Operator).await;
    assert_eq!(bot.me().await.unwrap().effective_role, Role::Operator);
    admin
        .update_user(
            user.id,
            &UpdateUserRequest {
                role: Some(Role::Viewer),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(bot.me().await.unwrap().effective_role, Role::Viewer);
    let denied = bot
        .create_destination(&crate::support::fixtures::new_destination(
            "nope",
            DestinationConfig::Local {
                path: "/tmp".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.status(), Some(403));
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_disabled_or_deleted() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let me = admin.me().await.unwrap().user;
    let last = |e: pgward_api_client::ClientError| {
        assert_eq!(
            (e.status(), e.code()),
            (Some(409), Some(ErrorCode::LastAdmin))
        );
    };
    last(
        admin
            .update_user(
                me.id,
                &UpdateUserRequest {
                    role: Some(Role::Operator),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
    );
    last(
        admin
            .update_user(
                me.id,
                &UpdateUserRequest {
                    disabled: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
    );
    last(admin.delete_user(me.id).await.unwrap_err());
    assert_eq!(admin.me().await.unwrap().user.role, Role::Admin);

    // With a second admin, no admin demotes or deletes themselves (another admin can): the second
    // demotes the first, and is then the last.
    let (second, second_client) = member(&app, &admin, Role::Admin).await;
    let demote_me = UpdateUserRequest {
        role: Some(Role::Viewer),
        ..Default::default()
    };
    let own = admin.update_user(me.id, &demote_me).await.unwrap_err();
    assert_eq!(
        (own.status(), own.code()),
        (Some(409), Some(ErrorCode::Conflict))
    );
    let own = admin.delete_user(me.id).await.unwrap_err();
    assert_eq!(
        (own.status(), own.code()),
        (Some(409), Some(ErrorCode::Conflict))
    );
    second_client.update_user(me.id, &demote_me).await.unwrap();
    last(second_client.delete_user(second.id).await.unwrap_err());
    // A disabled admin does not count as one.
    second_client
        .update_user(
            me.id,
            &UpdateUserRequest {
                role: Some(Role::Admin),
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    last(
        second_client
            .update_user(
                second.id,
                &UpdateUserRequest {
                    role: Some(Role::Operator),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
    );
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_tokens_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (user, operator) = member(&app, &admin, Role::Operator).await;
    let pair = app.client.login(&user.email, PASSWORD).await.unwrap();
    let bot = token(&app, &operator, Role::Operator).await;
    assert!(bot.me().await.is_ok() && operator.me().await.is_ok());

    admin
        .update_user(
            user.id,
            &UpdateUserRequest {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for c in [&operator, &bot] {
        assert_eq!(refused(c.me()).await, 401);
    }
    assert_eq!(refused(app.client.refresh(&pair.refresh_token)).await, 401);
    let login = app.client.login(&user.email, PASSWORD).await.unwrap_err();
    assert_eq!(login.status(), Some(403));
    // Enabled again, they log in; the old token stays revoked.
    admin
        .update_user(
            user.id,
            &UpdateUserRequest {
                disabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(app.client.login(&user.email, PASSWORD).await.is_ok());
    assert_eq!(refused(bot.me()).await, 401);

    // Deleting a user ends their token too.
    let (other, other_client) = member(&app, &admin, Role::Viewer).await;
    let other_bot = token(&app, &other_client, Role::Viewer).await;
    admin.delete_user(other.id).await.unwrap();
    assert_eq!(refused(other_bot.me()).await, 401);
}

#[tokio::test]
async fn a_reused_refresh_token_ends_the_whole_session() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (user, _) = member(&app, &admin, Role::Viewer).await;
    let first = app.client.login(&user.email, PASSWORD).await.unwrap();
    let second = app.client.refresh(&first.refresh_token).await.unwrap();
    let third = app.client.refresh(&second.refresh_token).await.unwrap();
    let holder = app.client.with_token(&third.access_token);
    assert!(holder.me().await.is_ok());

    // Someone replays the first (rotated) token: refused, and the session — every token rotated from
    // that login, including the newest — ends.
    assert_eq!(refused(app.client.refresh(&first.refresh_token)).await, 401);
    assert_eq!(refused(holder.me()).await, 401);
    assert_eq!(refused(app.client.refresh(&third.refresh_token)).await, 401);
    // Other sessions of the same user stand.
    let other = app.client.login(&user.email, PASSWORD).await.unwrap();
    assert!(app.client.with_token(other.access_token).me().await.is_ok());
}

#[tokio::test]
async fn people_list_and_end_their_own_sessions_and_admins_end_anyones() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (user, phone) = member(&app, &admin, Role::Viewer).await;
    let laptop_pair = app.client.login(&user.email, PASSWORD).await.unwrap();
    let laptop = app.client.with_token(&laptop_pair.access_token);

    let sessions = laptop.my_sessions().await.unwrap().items;
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    assert!(
        sessions
            .iter()
            .all(|s| s.client_addr.as_deref() == Some("127.0.0.1"))
    );
    let ended = laptop.end_my_other_sessions().await.unwrap();
    assert_eq!(ended.sessions, 1);
    assert_eq!(refused(phone.me()).await, 401);
    assert!(laptop.me().await.is_ok());
    // Someone else's session is not one's own to end.
    let admin_session = admin.my_sessions().await.unwrap().items[0].id;
    assert_eq!(refused(laptop.end_my_session(admin_session)).await, 404);

    let ended = admin.end_user_sessions(user.id, false).await.unwrap();
    assert_eq!(ended.sessions, 1);
    assert_eq!(refused(laptop.me()).await, 401);

    // Profile: one's own name.
    let again = app.client.login(&user.email, PASSWORD).await.unwrap();
    let me = app.client.with_token(again.access_token);
    let renamed = me
        .update_me(&UpdateProfileRequest {
            name: Some("Ada".into()),
        })
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Ada"));
    assert_eq!(renamed.role, Role::Viewer);
}

#[tokio::test]
async fn an_invitation_makes_one_user_with_its_role_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created = admin
        .create_invitation(&CreateInvitationRequest {
            email: "new.operator@example.com".into(),
            name: Some("New".into()),
            role: Role::Operator,
            expires_in_hours: None,
        })
        .await
        .unwrap();
    assert_eq!(admin.list_invitations().await.unwrap().items.len(), 1);
    let accept = AcceptInvitationRequest {
        code: created.code.clone(),
        password: PASSWORD.into(),
        name: None,
    };
    let user = app.client.accept_invitation(&accept).await.unwrap();
    assert_eq!(
        (user.role, user.name.as_deref()),
        (Role::Operator, Some("New"))
    );
    assert_eq!(refused(app.client.accept_invitation(&accept)).await, 404);
    assert!(admin.list_invitations().await.unwrap().items.is_empty());
    let pair = app
        .client
        .login("new.operator@example.com", PASSWORD)
        .await
        .unwrap();
    let me = app.client.with_token(pair.access_token).me().await.unwrap();
    assert_eq!(me.effective_role, Role::Operator);

    // A revoked invitation's code does nothing.
    let revoked = admin
        .create_invitation(&CreateInvitationRequest {
            email: "never@example.com".into(),
            name: None,
            role: Role::Admin,
            expires_in_hours: Some(1),
        })
        .await
        .unwrap();
    admin
        .revoke_invitation(revoked.invitation.id)
        .await
        .unwrap();
    let refused = app
        .client
        .accept_invitation(&AcceptInvitationRequest {
            code: revoked.code,
            password: PASSWORD.into(),
            name: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(404));
}

#[tokio::test]
async fn every_mutation_leaves_one_audit_entry_with_its_actor_and_no_secret() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let admin_id = admin.me().await.unwrap().user.id;
    let (_, operator) = member(&app, &admin, Role::Operator).await;
    let bot_created = operator
        .create_token(&CreateApiTokenRequest {
            name: "ci".into(),
            expires_in_days: Some(1),
            role: None,
        })
        .await
        .unwrap();
    let bot = app.client.with_token(&bot_created.token);
    let server = fleet().get(17);
    let db_name = format!("audited_{}", Uuid::new_v4().simple());
    pagila::create_db(server, &db_name);
    let conn = server.url(&db_name);
    let database = bot
        .create_database(&crate::support::fixtures::new_database(
            "audited",
            conn.clone(),
        ))
        .await
        .unwrap();
    bot.update_database(
        database.id,
        &UpdateDatabaseRequest {
            description: Some("x".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let denied = operator.list_users().await.unwrap_err();
    assert_eq!(denied.status(), Some(403));
    let refused = operator.delete_user(admin_id).await.unwrap_err();
    assert_eq!(refused.status(), Some(403));
    bot.delete_database(database.id).await.unwrap();

    let page = admin.list_audit(&AuditQuery::default()).await.unwrap();
    let ops: Vec<&str> = page
        .items
        .iter()
        .rev()
        .map(|e| e.operation.as_str())
        .collect();
    let expected_tail = [
        "create_database",
        "update_database",
        "delete_user",
        "delete_database",
    ];
    assert!(
        ops.ends_with(&expected_tail),
        "audit operations {ops:?} do not end with {expected_tail:?}"
    );
    let by_op = |op: &str| {
        page.items
            .iter()
            .find(|e| e.operation == op)
            .unwrap()
            .clone()
    };
    let created = by_op("create_database");
    assert_eq!(created.actor.token_id, Some(bot_created.api_token.id));
    assert_eq!(created.actor.token_name.as_deref(), Some("ci"));
    assert_eq!(created.resource, "databases");
    assert_eq!(created.action, "create");
    assert_eq!(created.resource_id, Some(database.id.to_string()));
    assert!(created.fields.contains(&"connection_string".to_string()));
    assert_eq!(created.status, 201);
    // Only what the request set: the fields it sent as null (kept) are not changes.
    let updated = by_op("update_database").fields;
    assert!(
        updated.contains(&"description".to_string()) && !updated.contains(&"name".to_string()),
        "{updated:?}"
    );
    let refused = by_op("delete_user");
    assert_eq!((refused.status, refused.actor.token_id), (403, None));
    assert_eq!(refused.resource_id, Some(admin_id.to_string()));
    // Reads are not mutations (list_users was refused but is a GET).
    assert!(page.items.iter().all(|e| e.operation != "list_users"));
    // Logins are recorded with who logged in.
    assert!(
        page.items.iter().any(|e| e.operation == "login"
            && e.actor.user_id == Some(admin_id)
            && e.status == 200)
    );

    // No secret anywhere: connection strings, passwords, tokens.
    let all = serde_json::to_string(&page).unwrap();
    for secret in [
        conn.as_str(),
        PASSWORD,
        crate::support::app::ADMIN_PASSWORD,
        bot_created.token.as_str(),
    ] {
        assert!(!all.contains(secret), "the audit log holds a secret");
    }
    let mut catalog = app.catalog().await;
    let raw: (String,) =
        sqlx::query_as("SELECT coalesce(string_agg(a::text, ' '), '') FROM audit_log a")
            .fetch_one(&mut catalog)
            .await
            .unwrap();
    for secret in [conn.as_str(), PASSWORD, bot_created.token.as_str()] {
        assert!(!raw.0.contains(secret), "the audit table holds a secret");
    }

    // Filters and cursor pages.
    let mine = admin
        .list_audit(&AuditQuery {
            token_id: Some(bot_created.api_token.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 3);
    let first = admin
        .list_audit(&AuditQuery {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    let second = admin
        .list_audit(&AuditQuery {
            limit: Some(2),
            cursor: first.next_cursor.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(
        second
            .items
            .iter()
            .all(|e| first.items.iter().all(|f| f.id != e.id))
    );
    assert!(second.items[0].at <= first.items[1].at);
}

#[tokio::test]
async fn one_call_of_every_mutation_in_the_route_table_is_one_audit_entry_of_its_caller() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let admin_id = admin.me().await.unwrap().user.id;
    let before = admin
        .list_audit(&AuditQuery {
            limit: Some(200),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut called = Vec::new();
    for (method, path, _) in route_table() {
        if method == "GET" {
            continue;
        }
        let concrete = path
            .replace("{id}", &Uuid::new_v4().to_string())
            .replace("{delivery_id}", &Uuid::new_v4().to_string());
        let mut req = app
            .http
            .request(method.parse().unwrap(), app.url(&concrete))
            .bearer_auth(admin.token().unwrap());
        if method != "DELETE" {
            req = req.json(&serde_json::json!({"password": PASSWORD, "connection_string": "postgresql://u:hunter2secret@h/db"}));
        }
        let status = req.send().await.unwrap().status().as_u16();
        called.push((path, method, status));
    }
    // The loop ended with logout: log in again (one more entry).
    let again = app
        .client
        .login(
            crate::support::app::ADMIN_EMAIL,
            crate::support::app::ADMIN_PASSWORD,
        )
        .await
        .unwrap();
    let admin = app.client.with_token(again.access_token);
    let after = admin
        .list_audit(&AuditQuery {
            limit: Some(200),
            ..Default::default()
        })
        .await
        .unwrap();
    let new: Vec<&AuditEntry> = after
        .items
        .iter()
        .filter(|e| before.items.iter().all(|b| b.id != e.id))
        .collect();
    for (path, method, status) in &called {
        let rows: Vec<_> = new
            .iter()
            .filter(|e| &e.path == path && &e.method == method && e.status == *status)
            .filter(|e| !(e.operation == "login" && e.status == 200))
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "{method} {path} ({status}) left {} audit entries",
            rows.len()
        );
        assert_eq!(rows[0].status, *status, "{method} {path}");
        assert_eq!(rows[0].actor.user_id, Some(admin_id), "{method} {path}");
        assert!(rows[0].fields.is_empty() || rows[0].fields.contains(&"password".to_string()));
    }
    assert_eq!(
        new.len(),
        called.len() + 1,
        "only the calls made (and the login) are recorded"
    );
    let all = serde_json::to_string(&after).unwrap();
    assert!(
        !all.contains(PASSWORD) && !all.contains("hunter2secret"),
        "a secret reached the audit log"
    );
}

#[tokio::test]
async fn a_viewer_reads_the_delivery_log_without_the_request_bodies() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, operator) = member(&app, &admin, Role::Operator).await;
    let (_, viewer) = member(&app, &admin, Role::Viewer).await;
    let receiver = crate::support::receiver::Receiver::start(vec![]);
    let hook = operator
        .create_webhook(&crate::support::receiver::custom(
            "log",
            receiver.url("/hook"),
        ))
        .await
        .unwrap();
    let sent = operator.test_webhook(hook.id).await.unwrap();
    assert!(!sent.attempts[0].request.body.is_empty());

    let seen_by = |c: Client| async move {
        c.webhook_deliveries(hook.id, &WebhookDeliveryQuery::default())
            .await
            .unwrap()
            .items
    };
    let operator_view = seen_by(operator.clone()).await;
    let viewer_view = seen_by(viewer.clone()).await;
    assert_eq!(operator_view.len(), 1);
    assert_eq!(viewer_view.len(), 1);
    assert_eq!(
        operator_view[0].attempts[0].request.body,
        sent.attempts[0].request.body
    );
    assert_eq!(viewer_view[0].attempts[0].request.body, "");
    assert_eq!(
        viewer_view[0].attempts[0].response_status,
        operator_view[0].attempts[0].response_status
    );
}

#[tokio::test]
async fn audit_entries_past_their_retention_are_pruned_and_newer_ones_kept() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    admin
        .create_invitation(&CreateInvitationRequest {
            email: "kept@example.com".into(),
            name: None,
            role: Role::Viewer,
            expires_in_hours: None,
        })
        .await
        .unwrap();
    let before = admin
        .list_audit(&AuditQuery::default())
        .await
        .unwrap()
        .items;
    assert!(before.iter().any(|e| e.operation == "create_invitation"));

    let (state, _catalog) = app.background().await;
    let days = i64::from(app.config.auth.audit_retention_days);
    // Just inside the retention: nothing goes.
    let inside = chrono::Utc::now() + chrono::Duration::days(days - 1);
    let pruned = pgward_server::features::audit::service::prune(&state, inside)
        .await
        .unwrap();
    assert_eq!(pruned, 0);
    assert_eq!(
        admin
            .list_audit(&AuditQuery::default())
            .await
            .unwrap()
            .items
            .len(),
        before.len()
    );
    // Past it: everything written so far goes, and the log keeps working.
    let past = chrono::Utc::now() + chrono::Duration::days(days + 1);
    let pruned = pgward_server::features::audit::service::prune(&state, past)
        .await
        .unwrap();
    assert_eq!(pruned as usize, before.len());
    let after = admin
        .list_audit(&AuditQuery::default())
        .await
        .unwrap()
        .items;
    assert!(
        after.iter().all(|e| before.iter().all(|b| b.id != e.id)),
        "{after:?}"
    );
}
