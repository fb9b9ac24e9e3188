//! Authentication: passwords (argon2id), short-lived JWT access tokens bound to a session, opaque refresh
//! tokens, API tokens for automation, and the `Authenticated` extractor every protected handler takes.

pub mod extractor;
pub mod password;
pub mod policy;
pub mod rate_limit;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use extractor::Authenticated;

/// Prefix of API tokens; lets the extractor tell them from JWTs without trying both.
pub const API_TOKEN_PREFIX: &str = "pgw_";
/// Prefix of refresh tokens, so a leaked one is recognisable in a secret scanner.
pub const REFRESH_TOKEN_PREFIX: &str = "pgwr_";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    /// The session this token belongs to; revoking the session ends the token.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// A download link for a copy pgward serves itself (local directories): the link is the credential,
/// like an object store's presigned URL, so a browser can stream it to disk without a bearer header.
#[derive(Debug, Serialize, Deserialize)]
struct DownloadTicket {
    aud: String,
    /// Execution id.
    exe: Uuid,
    /// Destination id.
    dst: Uuid,
    exp: i64,
}

/// Audience of download tickets: an access token is never a ticket and a ticket never an access token
/// (their claims differ, and tickets must carry this audience).
const DOWNLOAD_AUDIENCE: &str = "pgward-download";

/// Signs and verifies access tokens.
#[derive(Clone)]
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
}

impl Auth {
    pub fn new(signing_key: &[u8; 32], access_ttl_secs: i64, refresh_ttl_secs: i64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(signing_key),
            decoding: DecodingKey::from_secret(signing_key),
            access_ttl_secs,
            refresh_ttl_secs,
        }
    }

    pub fn issue(&self, user: Uuid, session: Uuid) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user,
            sid: session,
            iat: now,
            exp: now + self.access_ttl_secs,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// A ticket for downloading the copy of execution `exe` on destination `dst` until `exp` (Unix time).
    pub fn issue_download(&self, exe: Uuid, dst: Uuid, exp: i64) -> anyhow::Result<String> {
        let t = DownloadTicket {
            aud: DOWNLOAD_AUDIENCE.into(),
            exe,
            dst,
            exp,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &t,
            &self.encoding,
        )?)
    }

    /// The (execution, destination) a valid, unexpired ticket grants.
    pub fn verify_download(&self, ticket: &str) -> Option<(Uuid, Uuid)> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_audience(&[DOWNLOAD_AUDIENCE]);
        jsonwebtoken::decode::<DownloadTicket>(ticket, &self.decoding, &v)
            .ok()
            .map(|d| (d.claims.exe, d.claims.dst))
    }

    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 5;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()
            .map(|d| d.claims)
    }
}

/// The client's address: the connecting peer, or — when the peer is one of `trusted` reverse
/// proxies — the nearest address in `X-Forwarded-For` that is not a trusted proxy (entries further left
/// could be written by the client itself).
pub fn client_ip(
    req: &actix_web::HttpRequest,
    trusted: &[ipnet::IpNet],
) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<std::net::IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_tickets_grant_one_copy_until_they_expire_and_are_never_access_tokens() {
        let auth = Auth::new(&[7; 32], 900, 3600);
        let (exe, dst) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Utc::now().timestamp();
        let ticket = auth.issue_download(exe, dst, now + 60).unwrap();
        assert_eq!(auth.verify_download(&ticket), Some((exe, dst)));
        assert!(
            auth.verify(&ticket).is_none(),
            "a ticket is not an access token"
        );

        let expired = auth.issue_download(exe, dst, now - 1).unwrap();
        assert_eq!(auth.verify_download(&expired), None);

        let other_key = Auth::new(&[8; 32], 900, 3600);
        assert_eq!(other_key.verify_download(&ticket), None);

        let access = auth.issue(Uuid::new_v4(), Uuid::new_v4()).unwrap();
        assert_eq!(
            auth.verify_download(&access),
            None,
            "an access token is not a ticket"
        );
    }
}
