//! Splitting a destination configuration into what may be shown and what must stay encrypted.

use pgward_api_types::DestinationConfig;
use serde::{Deserialize, Serialize};

/// The secret fields of every kind, stored encrypted as one JSON object.
#[derive(Default, Serialize, Deserialize)]
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

/// Removes the secrets from `config`, returning the public part and the secrets.
pub fn split(config: DestinationConfig) -> (DestinationConfig, Secrets) {
    let mut s = Secrets::default();
    let public = match config {
        DestinationConfig::S3 {
            endpoint,
            region,
            bucket,
            prefix,
            access_key_id,
            secret_access_key,
            path_style,
            allow_http,
        } => {
            s.secret_access_key = secret_access_key.filter(|v| !v.is_empty());
            DestinationConfig::S3 {
                endpoint,
                region,
                bucket,
                prefix,
                access_key_id,
                secret_access_key: None,
                path_style,
                allow_http,
            }
        }
        DestinationConfig::Gcs {
            bucket,
            prefix,
            service_account_json,
        } => {
            s.service_account_json = service_account_json.filter(|v| !v.is_empty());
            DestinationConfig::Gcs {
                bucket,
                prefix,
                service_account_json: None,
            }
        }
        DestinationConfig::Azure {
            account,
            container,
            prefix,
            access_key,
            use_emulator,
        } => {
            s.access_key = access_key.filter(|v| !v.is_empty());
            DestinationConfig::Azure {
                account,
                container,
                prefix,
                access_key: None,
                use_emulator,
            }
        }
        local @ DestinationConfig::Local { .. } => local,
    };
    (public, s)
}

/// Puts the secrets back into a public configuration.
pub fn join(public: DestinationConfig, s: &Secrets) -> DestinationConfig {
    match public {
        DestinationConfig::S3 {
            endpoint,
            region,
            bucket,
            prefix,
            access_key_id,
            path_style,
            allow_http,
            ..
        } => DestinationConfig::S3 {
            endpoint,
            region,
            bucket,
            prefix,
            access_key_id,
            secret_access_key: s.secret_access_key.clone(),
            path_style,
            allow_http,
        },
        DestinationConfig::Gcs { bucket, prefix, .. } => DestinationConfig::Gcs {
            bucket,
            prefix,
            service_account_json: s.service_account_json.clone(),
        },
        DestinationConfig::Azure {
            account,
            container,
            prefix,
            use_emulator,
            ..
        } => DestinationConfig::Azure {
            account,
            container,
            prefix,
            access_key: s.access_key.clone(),
            use_emulator,
        },
        local @ DestinationConfig::Local { .. } => local,
    }
}
