use pgward_api_types::{AuthMethod, ErrorCode};

use crate::support::fixtures::new_token;
use crate::support::refused;
use crate::support::spawn_app;

#[tokio::test]
async fn an_api_token_works_until_it_is_revoked() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created = admin
        .create_token(&new_token("ci pipeline", Some(30)))
        .await
        .unwrap();
    assert!(created.token.starts_with("pgw_"));

    let listed = admin.list_tokens().await.unwrap().items;
    assert_eq!(listed.len(), 1);
    assert!(
        created.token.starts_with(&listed[0].prefix)
            && listed[0].prefix.len() < created.token.len()
    );
    let listed_json = serde_json::to_string(&listed).unwrap();
    assert!(!listed_json.contains(&created.token));

    let bot = app.client.with_token(&created.token);
    assert_eq!(bot.me().await.unwrap().auth_method, AuthMethod::ApiToken);
    assert!(
        admin.list_tokens().await.unwrap().items[0]
            .last_used_at
            .is_some()
    );

    admin.revoke_token(created.api_token.id).await.unwrap();
    assert_eq!(
        bot.me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthorized)
    );
    assert!(admin.list_tokens().await.unwrap().items.is_empty());
    assert_eq!(refused(admin.revoke_token(created.api_token.id)).await, 404);
}

#[tokio::test]
async fn a_token_without_a_name_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let err = admin
        .create_token(&new_token("  ", None))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(422), Some(ErrorCode::ValidationFailed))
    );
    assert!(admin.list_tokens().await.unwrap().items.is_empty());
}
