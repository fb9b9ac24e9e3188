//! The messages an operator reads when something is wrong: each names the thing by its name and says what
//! to do. One table, so a change of words is a deliberate change here.

use pgward_api_types::*;

use crate::support::fixtures::{empty_db, local_destination, task};
use crate::support::process::free_port;
use crate::support::storage::{s3, s3_destination};
use crate::support::{fleet, spawn_app};

/// What the API said: a failed test's message, or an error's message and field messages.
fn said<T: std::fmt::Debug>(r: Result<T, pgward_api_client::ClientError>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("{e:?}"),
    }
}

#[tokio::test]
async fn operator_messages_name_the_thing_and_say_what_to_do() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let server = fleet().get(16);
    let closed = free_port();
    let pgward_port = app.address.rsplit(':').next().unwrap().to_string();
    let (dest, _dir) = local_destination(&admin, "disk").await;
    let (_, db) = empty_db(&admin, server, "msg").await;

    let mut cron = task("bad cron", db, vec![dest]);
    cron.schedule = "61 * * * *".into();
    cron.timezone = "Mars/Olympus".into();
    let outside = s3_destination(s3().endpoint.clone(), "no-such-bucket-here", None);
    let unreachable = s3_destination(format!("http://127.0.0.1:{closed}"), "b", None);

    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "a closed port",
            said(
                admin
                    .test_connection(&format!("postgres://u:pw@127.0.0.1:{closed}/db"))
                    .await,
            ),
            vec![
                format!("cannot reach 127.0.0.1:{closed}"),
                "Check the host and port".into(),
            ],
        ),
        (
            "a wrong password",
            said(
                admin
                    .test_connection(&server.url_as("postgres", "wrong-password", "postgres"))
                    .await,
            ),
            vec![
                "authentication failed for user \\\"postgres\\\"".into(),
                "check the user name and password".into(),
            ],
        ),
        (
            "a missing database",
            said(admin.test_connection(&server.url("no_such_db_here")).await),
            vec![
                "database \\\"no_such_db_here\\\" does not exist".into(),
                "check its name".into(),
            ],
        ),
        (
            "a port that is not PostgreSQL",
            said(
                admin
                    .test_connection(&format!("postgres://u:pw@127.0.0.1:{pgward_port}/db"))
                    .await,
            ),
            vec![
                "answered, but not as a PostgreSQL server".into(),
                "check the host and port".into(),
            ],
        ),
        (
            "a missing bucket",
            said(admin.test_destination_config(&outside).await),
            vec![
                "the bucket \\\"no-such-bucket-here\\\" does not exist".into(),
                "create it".into(),
            ],
        ),
        (
            "a storage endpoint that does not answer",
            said(admin.test_destination_config(&unreachable).await),
            vec![
                format!(
                    "cannot reach the storage endpoint for the bucket \\\"b\\\" (http://127.0.0.1:{closed})"
                ),
                "check the endpoint URL and port".into(),
            ],
        ),
        (
            "a cron field out of range, an unknown zone",
            said(admin.create_task(&cron).await),
            vec![
                "minute: 61 is out of range 0-59".into(),
                "unknown time zone \\\"Mars/Olympus\\\"; use an IANA name like Europe/Berlin"
                    .into(),
            ],
        ),
        (
            "a local destination outside the allowed directories",
            said(
                admin
                    .create_destination(&CreateDestinationRequest {
                        name: "etc".into(),
                        config: DestinationConfig::Local {
                            path: "/etc".into(),
                        },
                        skip_test: false,
                        health_interval_secs: None,
                    })
                    .await,
            ),
            vec!["must be below one of the allowed directories (storage.local_roots)".into()],
        ),
    ];
    for (what, message, parts) in cases {
        for part in parts {
            assert!(
                message.contains(&part),
                "{what}: expected {part:?} in {message}"
            );
        }
        // Never a library's source location or a raw XML answer.
        assert!(
            !message.contains(".rs:") && !message.contains("<?xml"),
            "{what}: {message}"
        );
    }
}
