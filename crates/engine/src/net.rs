//! The outbound policy: every address pgward dials on a user's behalf (a database, an object store's
//! endpoint, a webhook and its redirects) is checked here, on the address a name resolved to at connect
//! time, so a name that resolves elsewhere later (DNS rebinding) gains nothing. Link-local and cloud
//! metadata addresses are never dialled; loopback and private ranges only when the operator allowed
//! them for that kind of peer; the catalog's own endpoints never.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// What pgward dials: decides which setting applies and what the message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind {
    Database,
    Destination,
    Webhook,
}

impl PeerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Database => "databases",
            Self::Destination => "destinations",
            Self::Webhook => "webhooks",
        }
    }
}

/// Address classes the policy knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    Private,
    Loopback,
    /// Link-local, cloud metadata, unspecified, multicast, broadcast: never dialled.
    Forbidden(&'static str),
}

/// The IPv4 address an IPv6 one stands for: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
/// (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::) addresses reach an IPv4 host.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        Some(v4)
    } else if (s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified())
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        Some(v4(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(v4(s[1], s[2]))
    } else {
        None
    }
}

/// The address as the policy judges it (IPv6 forms of IPv4 addresses as their IPv4 form).
fn normalized(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Classifies an address (IPv6 forms of IPv4 addresses as their IPv4 form).
pub fn classify(ip: IpAddr) -> AddressClass {
    let ip = normalized(ip);
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let o = ip.octets();
    if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() || o[0] == 0 {
        AddressClass::Forbidden("unspecified, broadcast or multicast")
    } else if ip.is_link_local() || ip == Ipv4Addr::new(100, 100, 100, 200) {
        // 169.254.0.0/16 holds every major cloud's metadata service (169.254.169.254); 100.100.100.200
        // is Alibaba Cloud's.
        AddressClass::Forbidden("link-local or cloud metadata")
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_private() || (o[0] == 100 && (64..128).contains(&o[1])) {
        // RFC 1918 and the shared (carrier-grade NAT) range 100.64.0.0/10.
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let s = ip.segments();
    if ip.is_unspecified() || ip.is_multicast() {
        AddressClass::Forbidden("unspecified or multicast")
    } else if (s[0] & 0xffc0) == 0xfe80 || ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
    {
        // fe80::/10, and AWS's IPv6 metadata endpoint.
        AddressClass::Forbidden("link-local or cloud metadata")
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if (s[0] & 0xfe00) == 0xfc00 {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

/// The rules for one kind of peer.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    pub kind: Option<PeerKind>,
    pub allow_loopback: bool,
    pub allow_private: bool,
    /// The catalog's own endpoints (address and port): never dialled on a user's behalf.
    pub denied: Vec<SocketAddr>,
}

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Refused {
    pub host: String,
    pub addr: Option<IpAddr>,
    pub reason: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            Some(a) if a.to_string() != self.host => {
                write!(f, "{} resolves to {a}: {}", self.host, self.reason)
            }
            _ => write!(f, "{}: {}", self.host, self.reason),
        }
    }
}

impl OutboundPolicy {
    /// A policy that allows loopback and private addresses (for tools run by the operator).
    pub fn permissive() -> Self {
        Self {
            kind: None,
            allow_loopback: true,
            allow_private: true,
            denied: Vec::new(),
        }
    }

    fn kind_name(&self) -> &'static str {
        self.kind.map_or("this peer", PeerKind::as_str)
    }

    /// Checks one address (and the port it will be dialled on, when known).
    pub fn check(&self, host: &str, ip: IpAddr, port: Option<u16>) -> Result<(), Refused> {
        let refuse = |reason: String| {
            Err(Refused {
                host: host.to_string(),
                addr: Some(ip),
                reason,
            })
        };
        if let Some(port) = port
            && self.is_catalog(ip, port)
        {
            return refuse("that is pgward's own catalog".into());
        }
        let setting = self.kind_name();
        match classify(ip) {
            AddressClass::Public => Ok(()),
            AddressClass::Forbidden(what) => {
                refuse(format!("a {what} address, which pgward never dials"))
            }
            AddressClass::Loopback if self.allow_loopback => Ok(()),
            AddressClass::Loopback => refuse(format!(
                "a loopback address, which pgward dials for {setting} only when \
                 outbound.allow_loopback lists \"{setting}\""
            )),
            AddressClass::Private if self.allow_private => Ok(()),
            AddressClass::Private => refuse(format!(
                "a private address, which pgward dials for {setting} only when \
                 outbound.allow_private lists \"{setting}\""
            )),
        }
    }

    fn is_catalog(&self, ip: IpAddr, port: u16) -> bool {
        let ip = normalized(ip);
        self.denied.iter().any(|d| {
            let catalog = normalized(d.ip());
            d.port() == port
                && (catalog == ip
                    || (d.ip().is_loopback() && classify(ip) == AddressClass::Loopback)
                    || d.ip().is_unspecified())
        })
    }

    /// Resolves `host` and returns the addresses this policy allows, in resolver order; an error when
    /// none is allowed (the first refusal says why).
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, Refused> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<IpAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| Refused {
                    host: host.to_string(),
                    addr: None,
                    reason: format!("cannot resolve the name: {e}"),
                })?
                .map(|a| a.ip())
                .collect(),
        };
        let mut first_refusal = None;
        let mut allowed = Vec::new();
        for ip in addrs {
            match self.check(host, ip, Some(port)) {
                Ok(()) => allowed.push(ip),
                Err(r) => {
                    first_refusal.get_or_insert(r);
                }
            }
        }
        if allowed.is_empty() {
            return Err(first_refusal.unwrap_or(Refused {
                host: host.to_string(),
                addr: None,
                reason: "the name has no address".into(),
            }));
        }
        Ok(allowed)
    }
}

/// object_store's resolver hook: names of object store endpoints resolve only to allowed addresses.
/// (Endpoints given as an IP literal never reach a resolver; `check_url` covers them.)
#[derive(Debug)]
pub struct StoreResolver(pub Arc<OutboundPolicy>);

impl object_store::client::DnsResolver for StoreResolver {
    fn resolve(&self, host: &str) -> object_store::client::DnsFuture {
        let policy = self.0.clone();
        let host = host.to_string();
        Box::pin(async move {
            // The port is the transport's; the catalog check is done by `check_url` on the endpoint.
            policy
                .resolve(&host, 0)
                .await
                .map_err(|e| Box::new(e) as object_store::client::DnsError)
        })
    }
}

impl OutboundPolicy {
    /// Checks an URL whose host is an IP literal (a name is checked when it is resolved).
    pub fn check_url(&self, url: &url::Url) -> Result<(), Refused> {
        let port = url.port_or_known_default();
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check(&ip.to_string(), IpAddr::V4(ip), port),
            Some(url::Host::Ipv6(ip)) => self.check(&ip.to_string(), IpAddr::V6(ip), port),
            // A name is checked on what it resolves to, when it is dialled.
            Some(url::Host::Domain(_)) | None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classifies_the_ranges_that_matter() {
        assert_eq!(classify(ip("8.8.8.8")), AddressClass::Public);
        assert_eq!(classify(ip("10.1.2.3")), AddressClass::Private);
        assert_eq!(classify(ip("100.64.0.1")), AddressClass::Private);
        assert_eq!(classify(ip("127.0.0.2")), AddressClass::Loopback);
        assert_eq!(classify(ip("::1")), AddressClass::Loopback);
        assert_eq!(classify(ip("::ffff:127.0.0.1")), AddressClass::Loopback);
        assert!(matches!(
            classify(ip("169.254.169.254")),
            AddressClass::Forbidden(_)
        ));
        assert!(matches!(
            classify(ip("::ffff:169.254.169.254")),
            AddressClass::Forbidden(_)
        ));
        for nat in ["64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1"] {
            assert!(
                matches!(classify(ip(nat)), AddressClass::Forbidden(_)),
                "{nat}"
            );
        }
        assert_eq!(classify(ip("::127.0.0.1")), AddressClass::Loopback);
        assert_eq!(classify(ip("64:ff9b::a00:1")), AddressClass::Private);
        assert!(matches!(
            classify(ip("fd00:ec2::254")),
            AddressClass::Forbidden(_)
        ));
        assert!(matches!(
            classify(ip("fe80::1")),
            AddressClass::Forbidden(_)
        ));
        assert!(matches!(
            classify(ip("0.0.0.0")),
            AddressClass::Forbidden(_)
        ));
        assert_eq!(classify(ip("fd12::1")), AddressClass::Private);
    }

    #[test]
    fn the_catalog_is_refused_even_where_loopback_is_allowed() {
        let p = OutboundPolicy {
            denied: vec!["127.0.0.1:5432".parse().unwrap()],
            ..OutboundPolicy::permissive()
        };
        assert!(p.check("x", ip("127.0.0.5"), Some(5432)).is_err());
        assert!(p.check("x", ip("127.0.0.1"), Some(5433)).is_ok());
        assert!(p.check("x", ip("169.254.169.254"), Some(80)).is_err());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_by_default() {
        let p = OutboundPolicy::default();
        let err = p.resolve("localhost", 80).await.unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
    }
}
