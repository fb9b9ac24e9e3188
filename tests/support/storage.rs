//! Real object-storage endpoints for the tests: moto's S3 server over HTTP.

use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use pgward_api_client::Client;
use pgward_api_types::DestinationConfig;
use uuid::Uuid;

pub struct S3 {
    pub endpoint: String,
}

pub const S3_KEY: &str = "test-access-key";
pub const S3_SECRET: &str = "test-secret-key-Qx7";
pub const S3_REGION: &str = "us-east-1";

/// The configuration of an S3 destination with the test store's credentials: `bucket` (under `prefix`) at
/// `endpoint` (the test store's, or one in front of it).
pub fn s3_destination(endpoint: String, bucket: &str, prefix: Option<&str>) -> DestinationConfig {
    DestinationConfig::S3 {
        endpoint: Some(endpoint),
        region: S3_REGION.into(),
        bucket: bucket.into(),
        prefix: prefix.map(str::to_string),
        access_key_id: S3_KEY.into(),
        secret_access_key: Some(S3_SECRET.into()),
        path_style: true,
        allow_http: true,
    }
}

/// Saves an S3 destination `name` with the test store's credentials: `bucket` (under `prefix`) at
/// `endpoint` ([`s3_destination`]); its id.
pub async fn add_s3(
    admin: &Client,
    name: &str,
    endpoint: String,
    bucket: &str,
    prefix: Option<&str>,
) -> Uuid {
    let config = s3_destination(endpoint, bucket, prefix);
    super::fixtures::add_destination(admin, name, config).await
}

/// Sends `req`, a request that creates a bucket on a test store, and fails the test unless the store
/// answered with success (the S3 and the GCS emulator alike).
pub async fn create_bucket(req: reqwest::RequestBuilder) {
    let resp = req.send().await.expect("create bucket");
    assert!(
        resp.status().is_success(),
        "create bucket: {}",
        resp.status()
    );
}

pub fn s3() -> &'static S3 {
    static S3: OnceLock<S3> = OnceLock::new();
    S3.get_or_init(|| {
        let port = super::process::free_port();
        let bin = super::cache_dir().join("venv/bin/moto_server");
        assert!(bin.is_file(), "moto not installed: run scripts/deps.sh");
        let mut cmd = Command::new(bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        super::keeper::spawn(cmd);
        let endpoint = format!("http://127.0.0.1:{port}");
        super::keeper::wait_for_port(port, "moto");
        S3 { endpoint }
    })
}

impl S3 {
    /// Creates a fresh bucket (moto accepts unsigned requests) and returns its name.
    pub async fn bucket(&self) -> String {
        let name = format!("b-{}", uuid::Uuid::new_v4().simple());
        create_bucket(reqwest::Client::new().put(format!("{}/{name}", self.endpoint))).await;
        name
    }

    pub fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(&self.endpoint)
                .with_bucket_name(bucket)
                .with_region(S3_REGION)
                .with_access_key_id(S3_KEY)
                .with_secret_access_key(S3_SECRET)
                .with_allow_http(true)
                .with_virtual_hosted_style_request(false)
                .build()
                .expect("s3 store"),
        )
    }

    /// Multipart uploads still pending in `bucket` (an aborted backup must leave none).
    pub async fn pending_uploads(&self, bucket: &str) -> usize {
        let body = reqwest::Client::new()
            .get(format!("{}/{bucket}?uploads", self.endpoint))
            .send()
            .await
            .expect("list uploads")
            .text()
            .await
            .expect("body");
        body.matches("<Upload>").count()
    }
}
