use pgward_api_types::{AuthMethod, ErrorCode, SetupRequest};

use crate::support::app::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::refused;
use crate::support::{spawn_app, spawn_app_with};

#[tokio::test]
async fn twenty_concurrent_setups_create_exactly_one_admin() {
    let app = spawn_app().await;
    let calls = (0..20).map(|i| {
        let client = app.client.clone();
        async move {
            client
                .setup(&SetupRequest {
                    email: format!("admin{i}@example.com"),
                    password: "a long enough password".into(),
                    name: None,
                    setup_code: None,
                })
                .await
        }
    });
    let results = futures::future::join_all(calls).await;

    let created = results.iter().filter(|r| r.is_ok()).count();
    let refused = results.iter().filter(|r| matches!(r, Err(e) if e.status() == Some(409) && e.code() == Some(ErrorCode::AlreadySetUp))).count();
    assert_eq!((created, refused), (1, 19), "{results:?}");
    assert!(!app.client.auth_status().await.unwrap().setup_required);
}

#[tokio::test]
async fn setup_with_a_weak_password_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let err = app
        .client
        .setup(&SetupRequest {
            email: "not-an-email".into(),
            password: "short".into(),
            name: None,
            setup_code: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    let pgward_api_client::ClientError::Api { error, .. } = err else {
        panic!("expected an API error")
    };
    let fields = error.fields.expect("field errors");
    assert!(
        fields.contains_key("password") && fields.contains_key("email"),
        "{fields:?}"
    );
    assert!(app.client.auth_status().await.unwrap().setup_required);
}

#[tokio::test]
async fn login_refresh_and_logout_follow_the_session() {
    let app = spawn_app().await;
    let first = app.admin_tokens().await;
    let client = app.client.with_token(&first.access_token);
    let me = client.me().await.unwrap();
    assert_eq!(
        (me.user.email.as_str(), me.auth_method),
        (ADMIN_EMAIL, AuthMethod::Session)
    );

    // Refresh rotates: the new pair works. (Presenting the old refresh token again is refused and ends
    // the session: teams::a_reused_refresh_token_ends_the_whole_session.)
    let second = app.client.refresh(&first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    let client = app.client.with_token(&second.access_token);
    client.me().await.unwrap();

    // Logout ends the session at once: access and refresh tokens are refused.
    client.logout().await.unwrap();
    assert_eq!(
        client.me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthorized)
    );
    assert_eq!(
        refused(app.client.with_token(&first.access_token).me()).await,
        401
    );
    assert_eq!(
        refused(app.client.refresh(&second.refresh_token)).await,
        401
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.admin_tokens().await;
    let wrong = app
        .client
        .login(ADMIN_EMAIL, "not the password")
        .await
        .unwrap_err();
    let unknown = app
        .client
        .login("nobody@example.com", ADMIN_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Some(ErrorCode::InvalidCredentials));
    assert_eq!(unknown.code(), Some(ErrorCode::InvalidCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string());
}

#[tokio::test]
async fn login_is_rate_limited_per_client() {
    let app = spawn_app_with(|c| c.auth.login_per_minute = 3).await;
    app.client
        .setup(&SetupRequest {
            email: ADMIN_EMAIL.into(),
            password: ADMIN_PASSWORD.into(),
            name: None,
            setup_code: None,
        })
        .await
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            refused(app.client.login(ADMIN_EMAIL, "wrong password!")).await,
            401
        );
    }
    let limited = app
        .client
        .login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(
        (limited.status(), limited.code()),
        (Some(429), Some(ErrorCode::RateLimited))
    );
}
