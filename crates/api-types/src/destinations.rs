use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::HealthInfo;

/// Where backups are stored, with its credentials. Secret fields are write-only: responses show only
/// whether they are set. On update, omitted secrets keep their stored value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DestinationConfig {
    /// A directory on the pgward server (absolute path).
    Local { path: String },
    /// Amazon S3 or any S3-compatible service.
    S3 {
        /// e.g. `https://s3.eu-central-1.amazonaws.com` or `http://minio.internal:9000`; omit for AWS.
        #[serde(default)]
        endpoint: Option<String>,
        region: String,
        bucket: String,
        #[serde(default)]
        prefix: Option<String>,
        access_key_id: String,
        /// Write-only.
        #[serde(default)]
        secret_access_key: Option<String>,
        /// Path-style requests (`endpoint/bucket/key`), as most S3-compatible services want.
        #[serde(default)]
        path_style: bool,
        /// Allow plain HTTP (local endpoints only).
        #[serde(default)]
        allow_http: bool,
    },
    /// Google Cloud Storage.
    Gcs {
        bucket: String,
        #[serde(default)]
        prefix: Option<String>,
        /// Service-account key JSON. Write-only.
        #[serde(default)]
        service_account_json: Option<String>,
    },
    /// Azure Blob Storage.
    Azure {
        account: String,
        container: String,
        #[serde(default)]
        prefix: Option<String>,
        /// Storage account access key. Write-only.
        #[serde(default)]
        access_key: Option<String>,
        /// Use the Azurite emulator endpoints.
        #[serde(default)]
        use_emulator: bool,
    },
}

impl DestinationConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Local { .. } => "local",
            Self::S3 { .. } => "s3",
            Self::Gcs { .. } => "gcs",
            Self::Azure { .. } => "azure",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateDestinationRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    pub config: DestinationConfig,
    /// Save without the write/read/delete probe.
    #[serde(default)]
    pub skip_test: bool,
    /// Seconds between scheduled health checks of this destination (60 to 604800); unset: the
    /// server's default.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 604800))]
    pub health_interval_secs: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateDestinationRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: Option<String>,
    /// A full new configuration; secrets left out keep their stored values when the kind is unchanged.
    #[serde(default)]
    pub config: Option<DestinationConfig>,
    #[serde(default)]
    pub skip_test: bool,
    /// Seconds between scheduled health checks (60 to 604800); `null` goes back to the server's default.
    #[serde(
        default,
        deserialize_with = "crate::tasks::absent_null_or",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>, minimum = 60, maximum = 604800))]
    pub health_interval_secs: Option<Option<u32>>,
}

/// A destination as clients see it: its configuration with every secret removed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Destination {
    pub id: Uuid,
    pub name: String,
    /// Secret fields are always null here; see `secrets_set`.
    pub config: DestinationConfig,
    /// Names of the secret fields that hold a value.
    pub secrets_set: Vec<String>,
    pub health: HealthInfo,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DestinationList {
    pub items: Vec<Destination>,
}

/// Test an unsaved configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestDestinationRequest {
    pub config: DestinationConfig,
}

/// Outcome of writing, reading back and deleting a probe object. `ok: false` is an answer, not an error.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DestinationTestResult {
    pub ok: bool,
    pub latency_ms: u64,
    pub message: Option<String>,
}
