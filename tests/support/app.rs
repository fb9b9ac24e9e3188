//! An in-process pgward on port 0 with its own catalog database.

use std::time::Duration;

use pgward_api_client::Client;
use pgward_api_types::{SetupRequest, TokenPair};
use pgward_server::crypto::MasterKey;
use pgward_server::startup::Catalog;
use pgward_server::state::AppState;
use pgward_server::{Application, Config};
use secrecy::SecretString;
use sqlx::Connection;
use tokio::sync::OnceCell;

use super::process::wait_ready;
use super::{fleet, logs};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
const TEMPLATE: &str = "pgward_template";

pub struct TestApp {
    pub address: String,
    /// An unauthenticated client.
    pub client: Client,
    pub http: reqwest::Client,
    pub catalog_db: String,
    /// The app's configuration (same catalog and secrets key), for in-test schedulers and workers.
    pub config: Config,
}

impl TestApp {
    /// Creates the first admin, logs in, and returns a client carrying the access token.
    pub async fn admin(&self) -> Client {
        let tokens = self.admin_tokens().await;
        self.client.with_token(tokens.access_token)
    }

    pub async fn admin_tokens(&self) -> TokenPair {
        self.client
            .setup(&SetupRequest {
                email: ADMIN_EMAIL.into(),
                password: ADMIN_PASSWORD.into(),
                name: Some("Admin".into()),
                setup_code: None,
            })
            .await
            .expect("setup");
        self.client
            .login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .expect("login")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A direct connection to this app's catalog database (to arrange or inspect what the API hides).
    pub async fn catalog(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&fleet().catalog().url(&self.catalog_db))
            .await
            .expect("connect to the app's catalog")
    }

    /// A background state on this app's catalog, as another pgward process would have it (to run a
    /// scheduler pass, a sweep or a check in the test); keep the catalog handle for as long as the state
    /// is used.
    pub async fn background(&self) -> (AppState, Catalog) {
        pgward_server::startup::background_state(self.config.clone())
            .await
            .unwrap()
    }

    /// `GET <path>` on this app by raw HTTP, with `token` as the bearer if given (for what the typed
    /// client does not do: another credential, status and headers as they are).
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }

    /// The body of [`TestApp::get`]: what the API or the web UI serves, as raw text (to look for what a
    /// typed client would not show).
    pub async fn get_text(&self, path: &str, token: Option<&str>) -> String {
        self.get(path, token).await.text().await.unwrap()
    }

    /// `/metrics` as the admin's token scrapes it.
    pub async fn metrics(&self, admin: &Client) -> String {
        self.http
            .get(self.url("/metrics"))
            .bearer_auth(admin.token().expect("a logged-in client"))
            .send()
            .await
            .expect("scrape /metrics")
            .text()
            .await
            .expect("read /metrics")
    }
}

/// A migrated catalog database that every test clones (CREATE DATABASE .. TEMPLATE), which is much faster
/// than migrating per test.
async fn template() {
    static DONE: OnceCell<()> = OnceCell::const_new();
    DONE.get_or_init(|| async {
        let server = fleet().catalog();
        let mut c = sqlx::PgConnection::connect(&server.url("postgres"))
            .await
            .expect("connect catalog server");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {TEMPLATE}")))
            .execute(&mut c)
            .await
            .expect("create template");
        c.close().await.expect("close");
        let db = pgward_server::catalog::connect(
            server.url(TEMPLATE).parse().expect("url"),
            2,
            pgward_server::catalog::BACKGROUND_ACQUIRE_TIMEOUT,
        )
        .await
        .expect("connect template");
        pgward_server::catalog::migrate(&db)
            .await
            .expect("migrate template");
        db.close().await.expect("close template");
    })
    .await;
}

async fn new_catalog_db() -> String {
    template().await;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let server = fleet().catalog();
    let mut c = sqlx::PgConnection::connect(&server.url("postgres"))
        .await
        .expect("connect catalog server");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} TEMPLATE {TEMPLATE}"
    )))
    .execute(&mut c)
    .await
    .expect("clone catalog");
    c.close().await.expect("close");
    name
}

pub fn test_config(catalog_db: &str) -> Config {
    let mut cfg = Config {
        data_dir: tempfile::tempdir().expect("tempdir").keep(),
        ..Config::default()
    };
    cfg.server.bind = "127.0.0.1:0".parse().expect("addr");
    cfg.server.workers = 1;
    cfg.server.spa_dir = super::repo_root().join("frontend/dist");
    cfg.catalog.url = Some(SecretString::from(fleet().catalog().url(catalog_db)));
    cfg.catalog.max_connections = 5;
    cfg.secrets.key = Some(SecretString::from(MasterKey::generate().to_base64()));
    cfg.postgres.bin_dirs = vec![super::fleet::pg_root()];
    cfg.postgres.connect_timeout_secs = 5;
    // Local destinations of a test live below its own temporary directory.
    cfg.storage.local_roots = vec![std::env::temp_dir()];
    // Everything a test dials is on this machine, and the fleet's 17 server holds the catalogs too. The
    // outbound policy's own tests set these back to the defaults.
    {
        use pgward_server::config::PeerKindSetting as K;
        cfg.outbound.allow_loopback = vec![K::Databases, K::Destinations, K::Webhooks];
        cfg.outbound.allow_catalog_server = true;
    }
    cfg
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    logs::init();
    let catalog_db = new_catalog_db().await;
    let mut config = test_config(&catalog_db);
    adjust(&mut config);
    let address = start_in_process(config.clone()).await;
    // Ready once migrations ran (they are no-ops on a template clone, but run asynchronously).
    wait_ready(
        &address,
        Duration::from_secs(30),
        Duration::from_millis(20),
        "app did not become ready",
    )
    .await;
    TestApp {
        client: Client::new(&address),
        address,
        http: reqwest::Client::new(),
        catalog_db,
        config,
    }
}

/// Builds a pgward with `config` and runs it in this process, for as long as the test runs; returns its
/// base URL (`http://127.0.0.1:<port>`) at once, ready or not.
pub async fn start_in_process(config: Config) -> String {
    let app = Application::build(config).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

/// Another pgward in this process with `config` (on an existing catalog, say), once it answers ready
/// (up to `within`, looking every 50 ms; `what` is the failure); its base URL.
pub async fn start_another(config: Config, within: Duration, what: &str) -> String {
    let base = start_in_process(config).await;
    wait_ready(&base, within, Duration::from_millis(50), what).await;
    base
}

/// Sets up the first user of a fresh pgward (no name, no setup code) and logs them in.
pub async fn first_user(client: &Client, email: &str, password: &str) -> TokenPair {
    client
        .setup(&SetupRequest {
            email: email.into(),
            password: password.into(),
            name: None,
            setup_code: None,
        })
        .await
        .unwrap();
    client.login(email, password).await.unwrap()
}
