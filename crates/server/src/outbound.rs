//! The outbound policies of this process, one per kind of peer, built once from `outbound.*` and the
//! catalog's own endpoints (which no user's database, store or webhook may point at).

use std::net::SocketAddr;
use std::sync::Arc;

use pgward_engine::net::{OutboundPolicy, PeerKind};
use secrecy::ExposeSecret;

use crate::config::{Config, PeerKindSetting};

#[derive(Debug, Clone)]
pub struct Outbound {
    /// An external catalog: its endpoints and database name.
    catalog: Option<(Vec<SocketAddr>, String)>,
    databases: Arc<OutboundPolicy>,
    destinations: Arc<OutboundPolicy>,
    webhooks: Arc<OutboundPolicy>,
    webhook_client: reqwest::Client,
}

impl Outbound {
    /// Resolves an external catalog's host once, at start-up. (The embedded catalog listens on a
    /// private unix socket only, which connection strings cannot name unless
    /// postgres.allow_unix_sockets; even then its directory is refused.)
    pub async fn new(config: &Config) -> Self {
        let mut catalog = None;
        if let Some(url) = &config.catalog.url
            && let Ok(u) = url::Url::parse(url.expose_secret())
            && let Some(host) = u.host_str()
        {
            let port = u.port().unwrap_or(5432);
            let host = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let user = u.username().to_string();
            let db = match u.path().trim_start_matches('/') {
                "" => user,
                d => d.to_string(),
            };
            if let Ok(addrs) = tokio::net::lookup_host((host.as_str(), port)).await {
                catalog = Some((addrs.collect::<Vec<_>>(), db));
            }
        }
        let denied: Vec<SocketAddr> = catalog.as_ref().map(|c| c.0.clone()).unwrap_or_default();
        let make = |kind: PeerKind, setting: PeerKindSetting| {
            let server_allowed = kind == PeerKind::Database && config.outbound.allow_catalog_server;
            Arc::new(OutboundPolicy {
                kind: Some(kind),
                allow_loopback: config.outbound.allow_loopback.contains(&setting),
                allow_private: config.outbound.allow_private.contains(&setting),
                denied: if server_allowed {
                    Vec::new()
                } else {
                    denied.clone()
                },
            })
        };
        let webhooks = make(PeerKind::Webhook, PeerKindSetting::Webhooks);
        Self {
            catalog,
            databases: make(PeerKind::Database, PeerKindSetting::Databases),
            destinations: make(PeerKind::Destination, PeerKindSetting::Destinations),
            webhook_client: webhook_client(webhooks.clone()),
            webhooks,
        }
    }

    /// The HTTP client of webhook deliveries: names resolve only to addresses the webhooks' policy
    /// allows (checked when each connection is made), redirects stay on the same host.
    pub fn webhook_client(&self) -> &reqwest::Client {
        &self.webhook_client
    }

    /// Checks a webhook URL before a request: its host's addresses and its port (a name is checked
    /// again by the client's resolver when it connects).
    pub async fn check_webhook_url(&self, url: &str) -> Result<(), pgward_engine::net::Refused> {
        let refused = |reason: &str| pgward_engine::net::Refused {
            host: String::new(),
            addr: None,
            reason: reason.into(),
        };
        let u = url::Url::parse(url).map_err(|_| refused("the URL does not parse"))?;
        self.webhooks.check_url(&u)?;
        let host = u.host_str().ok_or_else(|| refused("the URL has no host"))?;
        let port = u.port_or_known_default().unwrap_or(443);
        self.webhooks.resolve(host, port).await.map(|_| ())
    }

    /// Whether a connection to `ip:port` / `database` is pgward's own catalog database (refused even
    /// where the catalog's server is allowed).
    pub fn is_catalog_database(&self, ip: std::net::IpAddr, port: u16, database: &str) -> bool {
        let Some((addrs, name)) = &self.catalog else {
            return false;
        };
        name == database
            && addrs.iter().any(|a| {
                a.port() == port && (a.ip() == ip || (a.ip().is_loopback() && ip.is_loopback()))
            })
    }

    /// The policy for one kind of peer.
    pub fn policy(&self, kind: PeerKind) -> Arc<OutboundPolicy> {
        match kind {
            PeerKind::Database => self.databases.clone(),
            PeerKind::Destination => self.destinations.clone(),
            PeerKind::Webhook => self.webhooks.clone(),
        }
    }
}

/// reqwest's resolver hook for webhooks.
struct PolicyResolver(Arc<OutboundPolicy>);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port in.
            let ips = policy
                .resolve(&host, 0)
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

fn webhook_client(policy: Arc<OutboundPolicy>) -> reqwest::Client {
    let for_redirects = policy.clone();
    // Redirects are followed on the same host only: elsewhere the webhook's headers (credentials) and
    // signature would go to a server nobody chose; the 3xx is then logged as a failure. An address
    // in a redirect is checked like the first one.
    let same_host = reqwest::redirect::Policy::custom(move |attempt| {
        let first = attempt
            .previous()
            .first()
            .and_then(|u| u.host_str().map(str::to_owned));
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if let Err(e) = for_redirects.check_url(attempt.url()) {
            attempt.error(e)
        } else if attempt.url().host_str().map(str::to_owned) == first {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    // No proxy from the environment: the policy must judge the receiver, not a proxy in front of it.
    reqwest::Client::builder()
        .redirect(same_host)
        .no_proxy()
        .dns_resolver(Arc::new(PolicyResolver(policy)))
        .build()
        .expect("an HTTP client with default TLS settings")
}
