//! From a destination configuration (with secrets) to the engine's `Target`, and its validation.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use pgward_api_types::DestinationConfig;
use pgward_engine::backup::{Target, TargetKind};
use pgward_engine::net::{OutboundPolicy, Refused, StoreResolver};

use crate::features::validate::Fields;

fn required(f: &mut Fields, name: &str, v: &str, max: usize) {
    let v = v.trim();
    f.check(
        name,
        if v.is_empty() {
            Err("must not be empty".into())
        } else if v.len() > max {
            Err(format!("must be at most {max} characters"))
        } else if v.chars().any(char::is_control) {
            Err("must not contain control characters".into())
        } else {
            Ok(())
        },
    );
}

fn prefix_ok(f: &mut Fields, prefix: Option<&str>) {
    if let Some(p) = prefix {
        f.check(
            "config.prefix",
            if p.len() > 512 || p.chars().any(char::is_control) || p.split('/').any(|s| s == "..") {
                Err("must be a relative key prefix of at most 512 characters without '..'".into())
            } else {
                Ok(())
            },
        );
    }
}

/// Field errors of a complete configuration (secrets included).
pub fn validate(config: &DestinationConfig, local_roots: &[PathBuf], f: &mut Fields) {
    match config {
        DestinationConfig::Local { path } => {
            let p = Path::new(path);
            let clean = p.components().all(|c| {
                !matches!(
                    c,
                    std::path::Component::ParentDir | std::path::Component::CurDir
                )
            });
            f.check(
                "config.path",
                if !p.is_absolute() || !clean || path.contains('\0') || path.len() > 1024 {
                    Err("must be an absolute directory path without '.' or '..'".into())
                } else if !local_roots.iter().any(|r| p.starts_with(r)) {
                    let roots: Vec<String> = local_roots
                        .iter()
                        .map(|r| r.display().to_string())
                        .collect();
                    Err(format!(
                        "must be below one of the allowed directories (storage.local_roots): {}",
                        roots.join(", ")
                    ))
                } else {
                    Ok(())
                },
            );
        }
        DestinationConfig::S3 {
            endpoint,
            region,
            bucket,
            prefix,
            access_key_id,
            secret_access_key,
            allow_http,
            ..
        } => {
            required(f, "config.region", region, 64);
            required(f, "config.bucket", bucket, 63);
            required(f, "config.access_key_id", access_key_id, 256);
            required(
                f,
                "config.secret_access_key",
                secret_access_key.as_deref().unwrap_or_default(),
                1024,
            );
            prefix_ok(f, prefix.as_deref());
            if let Some(e) = endpoint {
                f.check(
                    "config.endpoint",
                    match url::Url::parse(e) {
                        Ok(u) if u.scheme() == "https" => Ok(()),
                        Ok(u) if u.scheme() == "http" && *allow_http => Ok(()),
                        Ok(u) if u.scheme() == "http" => {
                            Err("plain HTTP needs allow_http: true".into())
                        }
                        _ => Err("must be an http(s) URL".into()),
                    },
                );
            }
        }
        DestinationConfig::Gcs {
            bucket,
            prefix,
            service_account_json,
        } => {
            required(f, "config.bucket", bucket, 222);
            prefix_ok(f, prefix.as_deref());
            let json = service_account_json.as_deref().unwrap_or_default();
            f.check(
                "config.service_account_json",
                if serde_json::from_str::<serde_json::Value>(json).is_ok_and(|v| v.is_object()) {
                    Ok(())
                } else {
                    Err("must be a service-account key (JSON object)".into())
                },
            );
        }
        DestinationConfig::Azure {
            account,
            container,
            prefix,
            access_key,
            use_emulator,
        } => {
            required(f, "config.account", account, 64);
            required(f, "config.container", container, 63);
            prefix_ok(f, prefix.as_deref());
            if !use_emulator {
                required(
                    f,
                    "config.access_key",
                    access_key.as_deref().unwrap_or_default(),
                    1024,
                );
            }
        }
    }
}

/// A configuration made concrete: the directory, or the object-store client of its kind.
enum Built {
    Local(PathBuf),
    S3(Arc<object_store::aws::AmazonS3>),
    Gcs(Arc<object_store::gcp::GoogleCloudStorage>),
    Azure(Arc<object_store::azure::MicrosoftAzure>),
}

/// Why a configuration could not be made concrete.
#[derive(Debug)]
pub enum BuildError {
    Invalid(String),
    /// The endpoint is an address the outbound policy refuses.
    NotAllowed(Refused),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(m) => f.write_str(m),
            Self::NotAllowed(r) => write!(f, "address not allowed: {r}"),
        }
    }
}

impl From<BuildError> for crate::error::AppError {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Invalid(m) => Self::Internal(anyhow::anyhow!(m)),
            BuildError::NotAllowed(r) => Self::AddressNotAllowed(r.to_string()),
        }
    }
}

/// The endpoints a configuration names by address (names are checked when they resolve, by the
/// resolver every store client gets): an S3 endpoint, a GCS key's base and token URLs, the Azure
/// emulator on this machine.
pub fn check_endpoints(config: &DestinationConfig, policy: &OutboundPolicy) -> Result<(), Refused> {
    let check = |raw: &str| match url::Url::parse(raw) {
        Ok(u) => policy.check_url(&u),
        // An endpoint that is no URL fails in the store's own builder with its own message.
        Err(_) => Ok(()),
    };
    match config {
        DestinationConfig::Local { .. } => Ok(()),
        DestinationConfig::S3 { endpoint, .. } => endpoint.as_deref().map_or(Ok(()), check),
        DestinationConfig::Gcs {
            service_account_json,
            ..
        } => {
            let json: serde_json::Value = service_account_json
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default();
            for key in ["gcs_base_url", "token_uri"] {
                if let Some(u) = json.get(key).and_then(|v| v.as_str()) {
                    check(u)?;
                }
            }
            Ok(())
        }
        DestinationConfig::Azure { use_emulator, .. } if *use_emulator => {
            check("http://127.0.0.1:10000")
        }
        DestinationConfig::Azure { .. } => Ok(()),
    }
}

/// What a store client needs from this process: the outbound policy for destinations and the
/// permissions of local files.
pub struct StoreEnv {
    pub policy: Arc<OutboundPolicy>,
    pub modes: pgward_engine::backup::LocalModes,
}

/// Each builder's default client options (`allow_http` is the GCS builder's own default), plus the
/// policy's resolver.
fn client_options(policy: &Arc<OutboundPolicy>, allow_http: bool) -> object_store::ClientOptions {
    object_store::ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(std::time::Duration::from_secs(10))
        // A whole request, body included: a part of a large backup (up to 5 GiB) must have time to
        // upload. A store that hangs is ended by the run's stall timeout, which names it.
        .with_timeout(std::time::Duration::from_secs(600))
        .with_dns_resolver(Arc::new(StoreResolver(policy.clone())))
}

/// Retries of one request: a store that is gone fails the request within a minute (object_store's
/// default gives up after three), so a run says so and cleanup is handed to the periodic pass sooner.
fn retry() -> object_store::RetryConfig {
    object_store::RetryConfig {
        max_retries: 5,
        retry_timeout: std::time::Duration::from_secs(60),
        ..Default::default()
    }
}

fn build(
    config: &DestinationConfig,
    policy: &Arc<OutboundPolicy>,
) -> Result<(Built, String), BuildError> {
    check_endpoints(config, policy).map_err(BuildError::NotAllowed)?;
    let err = |e: object_store::Error| BuildError::Invalid(format!("invalid configuration: {e}"));
    Ok(match config {
        DestinationConfig::Local { path } => (Built::Local(PathBuf::from(path)), String::new()),
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
            let mut b = AmazonS3Builder::new()
                .with_client_options(client_options(policy, *allow_http))
                .with_retry(retry())
                .with_region(region)
                .with_bucket_name(bucket)
                .with_access_key_id(access_key_id)
                .with_secret_access_key(secret_access_key.clone().unwrap_or_default())
                .with_allow_http(*allow_http)
                .with_virtual_hosted_style_request(!path_style);
            if let Some(e) = endpoint {
                b = b.with_endpoint(e);
            }
            (
                Built::S3(Arc::new(b.build().map_err(err)?)),
                prefix.clone().unwrap_or_default(),
            )
        }
        DestinationConfig::Gcs {
            bucket,
            prefix,
            service_account_json,
        } => {
            let store = GoogleCloudStorageBuilder::new()
                .with_client_options(client_options(policy, true))
                .with_retry(retry())
                .with_bucket_name(bucket)
                .with_service_account_key(service_account_json.clone().unwrap_or_default())
                .build()
                .map_err(err)?;
            (
                Built::Gcs(Arc::new(store)),
                prefix.clone().unwrap_or_default(),
            )
        }
        DestinationConfig::Azure {
            account,
            container,
            prefix,
            access_key,
            use_emulator,
        } => {
            let mut b = MicrosoftAzureBuilder::new()
                .with_client_options(client_options(policy, false))
                .with_retry(retry())
                .with_account(account)
                .with_container_name(container)
                .with_use_emulator(*use_emulator);
            if let Some(k) = access_key {
                b = b.with_access_key(k);
            }
            (
                Built::Azure(Arc::new(b.build().map_err(err)?)),
                prefix.clone().unwrap_or_default(),
            )
        }
    })
}

/// The engine target for a complete configuration.
pub fn target(id: &str, config: &DestinationConfig, env: &StoreEnv) -> Result<Target, BuildError> {
    let (built, prefix) = build(config, &env.policy)?;
    let kind = match built {
        Built::Local(root) => TargetKind::Local {
            root,
            modes: env.modes,
        },
        Built::S3(s) => TargetKind::Object {
            store: s.clone(),
            multipart: Some(s),
        },
        Built::Gcs(s) => TargetKind::Object {
            store: s.clone(),
            multipart: Some(s),
        },
        Built::Azure(s) => TargetKind::Object {
            store: s.clone(),
            multipart: Some(s),
        },
    };
    Ok(Target::new(id, kind, prefix))
}

/// A URL signer for object-store destinations (presigned downloads); `None` for local directories.
pub fn signer(
    config: &DestinationConfig,
    policy: &Arc<OutboundPolicy>,
) -> Result<Option<Arc<dyn object_store::signer::Signer>>, BuildError> {
    Ok(match build(config, policy)?.0 {
        Built::Local(_) => None,
        Built::S3(s) => Some(s),
        Built::Gcs(s) => Some(s),
        Built::Azure(s) => Some(s),
    })
}
