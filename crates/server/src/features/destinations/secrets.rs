//! Splitting a destination configuration into what may be shown and what must stay encrypted.

use pgward_api_types::DestinationConfig;
use serde::{Deserialize, Serialize};

/// The secret fields of every kind, stored encrypted as one JSON object.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Secrets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(***)")
    }
}

impl Secrets {
    pub fn names_set(&self) -> Vec<String> {
        [
            ("secret_access_key", self.secret_access_key.is_some()),
            ("service_account_json", self.service_account_json.is_some()),
            ("access_key", self.access_key.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(n, _)| n.to_string())
        .collect()
    }

    /// Keeps stored secrets for fields the new configuration leaves out.
    pub fn or(self, old: Secrets) -> Secrets {
        Secrets {
            secret_access_key: self.secret_access_key.or(old.secret_access_key),
            service_account_json: self.service_account_json.or(old.service_account_json),
            access_key: self.access_key.or(old.access_key),
        }
    }
}

/// The one secret field of `config`'s kind and the field of `Secrets` that stores it (a local directory
/// has none). Every other field of a configuration is public.
fn secret_of<'a>(
    config: &'a mut DestinationConfig,
    s: &'a mut Secrets,
) -> Option<(&'a mut Option<String>, &'a mut Option<String>)> {
    match config {
        DestinationConfig::S3 {
            secret_access_key, ..
        } => Some((secret_access_key, &mut s.secret_access_key)),
        DestinationConfig::Gcs {
            service_account_json,
            ..
        } => Some((service_account_json, &mut s.service_account_json)),
        DestinationConfig::Azure { access_key, .. } => Some((access_key, &mut s.access_key)),
        DestinationConfig::Local { .. } => None,
    }
}

/// Removes the secrets from `config`, returning the public part and the secrets.
pub fn split(mut config: DestinationConfig) -> (DestinationConfig, Secrets) {
    let mut s = Secrets::default();
    if let Some((field, secret)) = secret_of(&mut config, &mut s) {
        *secret = field.take().filter(|v| !v.is_empty());
    }
    (config, s)
}

/// Puts the secrets back into a public configuration.
pub fn join(mut public: DestinationConfig, s: &Secrets) -> DestinationConfig {
    let mut s = s.clone();
    if let Some((field, secret)) = secret_of(&mut public, &mut s) {
        *field = secret.take();
    }
    public
}
