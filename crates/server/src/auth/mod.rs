//! Authentication: passwords (argon2id), short-lived JWT access tokens bound to a session, opaque refresh
//! tokens, API tokens for automation, and the `Authenticated` extractor every protected handler takes.

pub mod extractor;
pub mod password;
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

    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 5;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()
            .map(|d| d.claims)
    }
}
