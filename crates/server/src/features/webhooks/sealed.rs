//! A webhook's secrets (its URL, header values, signing secret) are encrypted at rest, bound to the
//! webhook's id; this opens and seals them.

use std::collections::BTreeMap;

use pgward_entity::webhooks;
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::error::AppError;
use crate::state::AppState;

pub(super) fn aad(id: Uuid, what: &str) -> String {
    format!("webhooks:{id}:{what}")
}

/// A webhook's secrets, opened (they live only in memory while a request is built).
pub struct Opened {
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub secret: Option<String>,
}

pub fn open(state: &AppState, m: &webhooks::Model) -> Result<Opened, AppError> {
    let url = state
        .secrets
        .open(&m.url_encrypted, &aad(m.id, "url"))?
        .expose_secret()
        .to_string();
    let headers = match &m.headers_encrypted {
        Some(sealed) => serde_json::from_str(
            state
                .secrets
                .open(sealed, &aad(m.id, "headers"))?
                .expose_secret(),
        )
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("webhook headers")))?,
        None => BTreeMap::new(),
    };
    let secret = match &m.secret_encrypted {
        Some(sealed) => Some(
            state
                .secrets
                .open(sealed, &aad(m.id, "secret"))?
                .expose_secret()
                .to_string(),
        ),
        None => None,
    };
    Ok(Opened {
        url,
        headers,
        secret,
    })
}

pub(super) fn header_names(h: &BTreeMap<String, String>) -> serde_json::Value {
    serde_json::json!(h.keys().collect::<Vec<_>>())
}

pub(super) fn seal_headers(
    state: &AppState,
    id: Uuid,
    h: &BTreeMap<String, String>,
) -> Result<Option<Vec<u8>>, AppError> {
    if h.is_empty() {
        return Ok(None);
    }
    let json = serde_json::to_string(h).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some(state.secrets.seal(&json, &aad(id, "headers"))?))
}
