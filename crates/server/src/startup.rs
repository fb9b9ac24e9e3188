//! The composition root: config in, a running server out. Tests call `Application::build` with port 0.

use std::net::TcpListener;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpResponse, HttpServer, web};
use anyhow::Context;
use pgward_engine::pg::{self, PgInstalls};
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::Auth;
use crate::auth::extractor::{Resolved, bearer, resolve};
use crate::auth::rate_limit::LoginLimiter;
use crate::background::supervise::Liveness;
use crate::catalog::watch::CatalogWatch;
use crate::catalog::{self, EmbeddedCatalog};
use crate::config::Config;
use crate::crypto::MasterKey;
use crate::error::{self, AppError};
use crate::openapi::ApiDoc;
use crate::state::AppState;

pub struct Application {
    server: Server,
    port: u16,
    catalog: Catalog,
    /// Says when the process must end (an embedded catalog that cannot be restarted).
    fatal: tokio::sync::mpsc::Receiver<anyhow::Error>,
    /// The background loops, stopped before the catalog closes.
    live: Arc<Liveness>,
}

/// Clones of the catalog's pools and server handle, for the state (the `Catalog` itself is closed once).
#[derive(Clone)]
pub struct CatalogHandles {
    pub db: DatabaseConnection,
    pub background: DatabaseConnection,
    pub embedded: Option<Arc<EmbeddedCatalog>>,
}

impl Catalog {
    fn clone_handles(&self) -> CatalogHandles {
        CatalogHandles {
            db: self.db.clone(),
            background: self.background.clone(),
            embedded: self.embedded.clone(),
        }
    }
}

/// The catalog and, for the embedded default, the server process pgward is responsible for.
pub struct Catalog {
    /// For API requests: a short acquire timeout, so an outage answers 503 at once.
    pub db: DatabaseConnection,
    /// For the queues and the periodic pass, which may wait for a busy pool.
    pub background: DatabaseConnection,
    pub embedded: Option<Arc<EmbeddedCatalog>>,
}

impl Catalog {
    /// Connects to the configured catalog, starting the embedded server first when no URL is set.
    pub async fn open(config: &Config, installs: &PgInstalls) -> anyhow::Result<Self> {
        let max = config.catalog.max_connections;
        if let Some(opts) = catalog::external_options(config)? {
            let db = catalog::connect(opts.clone(), max, catalog::REQUEST_ACQUIRE_TIMEOUT).await?;
            let background =
                catalog::connect(opts, max, catalog::BACKGROUND_ACQUIRE_TIMEOUT).await?;
            return Ok(Self {
                db,
                background,
                embedded: None,
            });
        }
        let data_dir = config.data_dir.clone();
        let installs = installs.clone();
        let embedded =
            tokio::task::spawn_blocking(move || EmbeddedCatalog::start(&data_dir, &installs))
                .await??;
        let pools = async {
            embedded.ensure_database().await?;
            let db =
                catalog::connect(embedded.options(), max, catalog::REQUEST_ACQUIRE_TIMEOUT).await?;
            let background =
                catalog::connect(embedded.options(), max, catalog::BACKGROUND_ACQUIRE_TIMEOUT)
                    .await?;
            anyhow::Ok((db, background))
        }
        .await;
        match pools {
            Ok((db, background)) => Ok(Self {
                db,
                background,
                embedded: Some(Arc::new(embedded)),
            }),
            Err(e) => {
                embedded.stop();
                Err(e)
            }
        }
    }

    pub async fn close(self) {
        let _ = self.db.close().await;
        let _ = self.background.close().await;
        if let Some(e) = self.embedded {
            let _ = tokio::task::spawn_blocking(move || e.stop()).await;
        }
    }
}

/// The secrets key: configured, or read from / generated into `<data_dir>/secret.key`.
pub fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(k) = &config.secrets.key {
        return MasterKey::from_base64(k);
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let path = config.data_dir.join("secret.key");
    let (key, created) = MasterKey::load_or_create(&path)?;
    if created {
        tracing::warn!(
            path = %path.display(),
            "generated a new secrets key (mode 0600); back it up: without it stored connection strings cannot be decrypted"
        );
    }
    if !config.is_embedded_catalog() {
        tracing::warn!(
            "using a key file with an external catalog: every pgward process sharing this catalog needs the same key (set secrets.key)"
        );
    }
    Ok(key)
}

pub fn discover_pg(config: &Config) -> PgInstalls {
    let installs = pg::discover(&config.postgres.bin_dirs);
    let majors = installs.client_majors();
    if majors.is_empty() {
        tracing::warn!(
            "no PostgreSQL client binaries found (pg_dump, pg_restore, psql); set postgres.bin_dirs"
        );
    } else {
        tracing::info!(?majors, "PostgreSQL clients found");
    }
    installs
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // The port first: a port already taken must not leave an embedded catalog running behind.
        let listener = TcpListener::bind(config.server.bind)
            .with_context(|| format!("binding {}", config.server.bind))?;
        let installs = discover_pg(&config);
        let key = master_key(&config)?;
        let catalog = Catalog::open(&config, &installs).await?;
        match Self::build_on(config, installs, key, catalog.clone_handles(), listener).await {
            Ok((server, port, fatal, live)) => Ok(Self {
                server,
                port,
                catalog,
                fatal,
                live,
            }),
            Err(e) => {
                // Whatever failed after the catalog came up, the embedded server stops with us.
                catalog.close().await;
                Err(e)
            }
        }
    }

    async fn build_on(
        config: Config,
        installs: PgInstalls,
        key: MasterKey,
        catalog: CatalogHandles,
        listener: TcpListener,
    ) -> anyhow::Result<(
        Server,
        u16,
        tokio::sync::mpsc::Receiver<anyhow::Error>,
        Arc<Liveness>,
    )> {
        let port = listener.local_addr()?.port();
        let setup_code = setup_code(&config);
        let state = AppState::assemble(config, installs, &key, &catalog, setup_code, false).await?;
        let fatal = crate::background::watch_catalog(&state, catalog.embedded.clone());

        // Migrations run while the server already answers, so /readyz can say 503 until they are done.
        let migrating = state.clone();
        tokio::spawn(async move {
            match catalog::migrate(&migrating.db).await {
                Ok(()) => {
                    match crate::features::webhooks::service::refresh_masks(&migrating).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(webhooks = n, "webhook URLs masked by the current rules")
                        }
                        Err(e) => tracing::warn!(error = %e, "re-masking webhook URLs failed"),
                    }
                    migrating.ready.store(true, Ordering::Release);
                    tracing::info!("catalog migrations done; ready");
                    announce_setup_code(&migrating).await;
                    match crate::features::databases::service::refused_by_policy(&migrating).await {
                        Ok(refused) => {
                            for (name, why) in refused {
                                tracing::warn!(database = %name, reason = %why, "a registered database is refused by the current rules: its backups will fail until it is edited or outbound.*/postgres.* allow it");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "checking registered databases against the outbound policy failed")
                        }
                    }
                    if migrating.config.worker.in_process {
                        crate::background::start(&migrating, "serve");
                    }
                }
                Err(e) => tracing::error!(
                    error = format!("{e:#}"),
                    "catalog migrations failed; staying not ready"
                ),
            }
        });

        let live = state.live.clone();
        let server = server(listener, state)?;
        tracing::info!(port, "pgward listening");
        Ok((server, port, fatal, live))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM (or the server handle stops), then stops the embedded catalog. An
    /// embedded catalog that cannot be started again ends the process with an error, so that a service
    /// manager restarts pgward as a whole.
    pub async fn run_until_stopped(mut self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let mut server = self.server;
        let result = tokio::select! {
            r = &mut server => r.context("HTTP server failed"),
            Some(e) = self.fatal.recv() => {
                tracing::error!(error = format!("{e:#}"), "stopping pgward: the embedded catalog cannot run");
                handle.stop(true).await;
                let _ = server.await;
                Err(e)
            }
        };
        self.live.stop();
        self.catalog.close().await;
        result
    }

    /// The server handle, for tests that want to stop it.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

impl AppState {
    /// The state of a process: its pools, queues, keys, clients and policies. `ready` is false for
    /// `serve` until its migrations are done, true for a process that migrated first.
    async fn assemble(
        config: Config,
        installs: PgInstalls,
        key: &MasterKey,
        catalog: &CatalogHandles,
        setup_code: Option<Arc<secrecy::SecretString>>,
        ready: bool,
    ) -> anyhow::Result<Self> {
        let queues = crate::background::queues::Queues::setup(
            catalog.background.get_postgres_connection_pool(),
        )
        .await?;
        Ok(AppState {
            db: catalog.db.clone(),
            background_db: catalog.background.clone(),
            auth: Auth::new(
                &key.derive("pgward/jwt/v1"),
                config.auth.access_token_ttl_secs,
                config.auth.refresh_token_ttl_secs,
            ),
            secrets: key.cipher(),
            pg: Arc::new(installs),
            login_limiter: Arc::new(LoginLimiter::per_minute(config.auth.login_per_minute)),
            outbound: crate::outbound::Outbound::new(&config).await,
            setup_code,
            client_user: client_user(&config),
            ready: Arc::new(AtomicBool::new(ready)),
            live: Arc::new(Liveness::default()),
            catalog_watch: Arc::new(CatalogWatch::default()),
            embedded_catalog: catalog.embedded.is_some(),
            catalog_url: match &catalog.embedded {
                Some(e) => Some(Arc::new(e.url().into())),
                None => config.catalog.url.clone().map(Arc::new),
            },
            queues,
            config: Arc::new(config),
        })
    }
}

/// State for a process without HTTP (`pgward worker`, tools, tests): catalog migrated, queue ready.
pub async fn background_state(config: Config) -> anyhow::Result<(AppState, Catalog)> {
    let installs = discover_pg(&config);
    let key = master_key(&config)?;
    let catalog = Catalog::open(&config, &installs).await?;
    catalog::migrate(&catalog.db).await?;
    let handles = catalog.clone_handles();
    let state = AppState::assemble(config, installs, &key, &handles, None, true).await?;
    Ok((state, catalog))
}

/// `pgward worker`: workers and scheduler only, no HTTP. Runs until SIGINT/SIGTERM.
pub async fn run_worker(config: Config) -> anyhow::Result<()> {
    if config.is_embedded_catalog() {
        anyhow::bail!(
            "pgward worker needs catalog.url: workers on other machines share the server's catalog"
        );
    }
    let (state, catalog) = background_state(config).await?;
    let _never = crate::background::watch_catalog(&state, None);
    crate::background::start(&state, "worker");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("worker stopping");
    state.live.stop();
    catalog.close().await;
    Ok(())
}

fn server(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let workers = match state.config.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let limit = state.config.server.body_limit;
    let base = state.config.base_path();
    let (app, source) = crate::spa::Spa::load(&state.config.server.spa_dir, &base);
    match source {
        crate::spa::Source::Embedded => {
            tracing::info!(base_path = %base, "serving the embedded web UI")
        }
        crate::spa::Source::Directory => {
            tracing::info!(dir = %state.config.server.spa_dir.display(), base_path = %base, "serving the web UI from its directory")
        }
        crate::spa::Source::Missing => {
            tracing::warn!(dir = %state.config.server.spa_dir.display(), "the web UI is neither embedded nor built there (scripts/build-spa.sh); serving the API only")
        }
    }
    let spa = web::Data::new(app);
    let base_path = web::Data::new(BasePath(base.clone()));
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        let (app, api) = App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .app_data(data.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(limit)
                    .error_handler(move |e, _| error::json_error(e, limit)),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| error::query_error(e)))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .configure(crate::features::health::configure)
            .configure(crate::features::metrics::configure)
            .service(utoipa_actix_web::scope("/api/v1").configure(crate::features::configure_api))
            .split_for_parts();
        let api = crate::openapi::finish(api);
        // The docs page fetches the document by the address the browser sees (with the base path).
        let docs = utoipa_swagger_ui::Config::new([format!("{base}/api/openapi.json")]);
        app.service(
            SwaggerUi::new("/api/docs/{_:.*}")
                .url("/api/openapi.json", api)
                .config(docs),
        )
        .app_data(spa.clone())
        .app_data(base_path.clone())
        .default_service(web::to(
            |req: actix_web::HttpRequest, spa: web::Data<crate::spa::Spa>| async move {
                // Every other GET of a path that is not the API's is the web app's (deep links).
                let app_path = matches!(
                    *req.method(),
                    actix_web::http::Method::GET | actix_web::http::Method::HEAD
                ) && !req.path().starts_with("/api/")
                    && crate::auth::policy::methods_at(req.path()).is_empty();
                if app_path {
                    Ok(spa.respond(&req))
                } else {
                    Err::<HttpResponse, _>(crate::edge::unmatched(req.path()))
                }
            },
        ))
        .wrap(from_fn(crate::edge::json_bodies))
        .wrap(from_fn(crate::features::audit::middleware::audit))
        .wrap(from_fn(authenticate))
        .wrap(from_fn(readiness))
        .wrap(from_fn(security_headers))
        .wrap(from_fn(strip_base_path))
        .wrap(tracing_actix_web::TracingLogger::default())
    })
    .workers(workers)
    // Longer than actix's 5 s default, so that clients' pooled connections (reqwest keeps them 90 s) are
    // rarely closed under them between two requests.
    .keep_alive(std::time::Duration::from_secs(75))
    .listen(listener)?
    .run();
    Ok(server)
}

/// As root, psql (which reads what a dump says) runs as an unprivileged user. If that user cannot be
/// had, pgward says so and goes on (the cleared environment and psql's restricted mode still hold).
fn client_user(config: &Config) -> Option<pgward_engine::pg::client::ClientUser> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    match crate::catalog::embedded::ensure_system_user(&config.postgres.client_user) {
        Ok((uid, gid)) => Some(pgward_engine::pg::client::ClientUser {
            uid: uid.as_raw(),
            gid: gid.as_raw(),
        }),
        Err(e) => {
            tracing::error!(
                error = format!("{e:#}"),
                "psql will run as root: no unprivileged user for it (postgres.client_user)"
            );
            None
        }
    }
}

/// Beyond loopback, the first visitor must not become the administrator: setup then needs a one-time
/// code that only whoever reads the log has.
fn setup_code(config: &Config) -> Option<Arc<secrecy::SecretString>> {
    // Loopback alone is not enough: behind a reverse proxy (trusted proxies, or a public URL that is
    // not this machine) the first visitor comes from anywhere.
    let public_is_local = url::Url::parse(&config.public_url()).is_ok_and(|u| match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    });
    if config.server.bind.ip().is_loopback()
        && config.server.trusted_proxies.is_empty()
        && public_is_local
    {
        return None;
    }
    let code = match &config.auth.setup_code {
        Some(c) => c.expose_secret().trim().to_ascii_uppercase(),
        None => crate::features::auth::service::new_setup_code(),
    };
    Some(Arc::new(secrecy::SecretString::from(code)))
}

/// Says the setup code in the log while no user exists (after migrations, when that can be known).
async fn announce_setup_code(state: &AppState) {
    let Some(code) = &state.setup_code else {
        return;
    };
    if let Ok(true) = crate::features::auth::service::setup_required(state).await {
        tracing::warn!(
            bind = %state.config.server.bind,
            "first-user setup code: {} (pgward listens beyond loopback: setup needs this code)",
            code.expose_secret()
        );
    }
}

/// The browser-side defences, on every response (errors included): no script but pgward's own files
/// (no inline script, no eval; wasm compiles), never framed, no MIME sniffing, no referrer leaving with
/// a URL. Inline styles stay allowed: the API docs UI sets style attributes.
/// Behind a reverse proxy that passes the base path on (`/pgward/api/v1/...`), routes see the path
/// without it, as they do behind one that strips it; links pgward writes carry it (`Config::base_path`).
/// `Config::base_path`, worked out once at start-up (it may parse `public_url`).
struct BasePath(String);

async fn strip_base_path(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let base = req.app_data::<web::Data<BasePath>>().cloned();
    if let Some(base) = base
        .as_ref()
        .map(|b| b.0.as_str())
        .filter(|b| !b.is_empty())
        && let Some(rest) = req.path().strip_prefix(base)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        let rest = if rest.is_empty() { "/" } else { rest };
        let path_and_query = match req.query_string() {
            "" => rest.to_string(),
            q => format!("{rest}?{q}"),
        };
        let mut parts = req.head().uri.clone().into_parts();
        parts.path_and_query = path_and_query.parse().ok();
        if let Ok(uri) = actix_web::http::Uri::from_parts(parts) {
            // As actix-web's NormalizePath does: the router matches on match_info's path.
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    next.call(req).await
}

const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
];

async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // The inner layers answer their refusals as responses (not errors), so these reach them too.
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            actix_web::http::header::HeaderName::from_static(name),
            actix_web::http::header::HeaderValue::from_static(value),
        );
    }
    Ok(res)
}

/// API calls before the migrations finished would hit missing tables: answer 503 `not_ready` instead.
async fn readiness(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let ready = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.is_ready());
    if !ready && req.path().starts_with("/api/v1/") {
        let resp = actix_web::ResponseError::error_response(&AppError::NotReady);
        return Ok(req.into_response(resp).map_into_boxed_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// Resolves the bearer token of API requests (and `/metrics`) once, before any handler extractor runs
/// (see `Resolved`).
async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.path().starts_with("/api/v1/") || req.path() == "/metrics" {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        if let (Some(state), Some(token)) = (state, bearer(req.headers())) {
            match resolve(&state, &token).await {
                Ok(found) => {
                    req.extensions_mut().insert(Resolved(found));
                }
                Err(e) => {
                    let resp = actix_web::ResponseError::error_response(&e);
                    return Ok(req.into_response(resp).map_into_boxed_body());
                }
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}
