//! The web app's files, served from memory: embedded in the binary at build time (build.rs), or read
//! once from `server.spa_dir` when nothing was embedded. The script, module, wasm and stylesheet are
//! served under content-hashed names with a year-long immutable cache; `index.html` (served for every
//! app path, so deep links work) is never cached and names the current hashes, the base path and the
//! `<meta name="pgward-base">` the app routes under.

use std::collections::HashMap;
use std::path::Path;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

include!(concat!(env!("OUT_DIR"), "/spa_assets.rs"));

/// The files that get a hashed name, with their content type, in the order their hashes are needed
/// (boot.js names the module and the wasm, so it is rewritten before its own hash is taken).
const HASHED: [(&str, &str); 4] = [
    ("spa.js", "text/javascript; charset=utf-8"),
    ("spa_bg.wasm", "application/wasm"),
    ("style.css", "text/css; charset=utf-8"),
    ("boot.js", "text/javascript; charset=utf-8"),
];

struct Asset {
    content_type: &'static str,
    body: Bytes,
}

/// The app as served: hashed assets by name and the rendered index page.
pub struct Spa {
    assets: HashMap<String, Asset>,
    index: Option<Bytes>,
}

/// Where the served files came from, for the startup log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Embedded,
    Directory,
    Missing,
}

impl Spa {
    /// The embedded app if this binary carries one, else the files in `dir`; `base` is the path pgward
    /// is served under (`/pgward` or empty).
    pub fn load(dir: &Path, base: &str) -> (Self, Source) {
        // Served straight from the binary's memory, not copied.
        let embedded: HashMap<&str, Bytes> = EMBEDDED
            .iter()
            .map(|(n, b)| (*n, Bytes::from_static(b)))
            .collect();
        if !embedded.is_empty() {
            return (Self::build(embedded, base), Source::Embedded);
        }
        let mut files = HashMap::new();
        for name in ["index.html"]
            .into_iter()
            .chain(HASHED.iter().map(|(n, _)| *n))
        {
            match std::fs::read(dir.join(name)) {
                Ok(b) => {
                    files.insert(name, Bytes::from(b));
                }
                Err(_) => {
                    return (
                        Self {
                            assets: HashMap::new(),
                            index: None,
                        },
                        Source::Missing,
                    );
                }
            }
        }
        (Self::build(files, base), Source::Directory)
    }

    fn build(mut files: HashMap<&str, Bytes>, base: &str) -> Self {
        let mut names: Vec<(String, String)> = Vec::new();
        let mut assets = HashMap::new();
        for (name, content_type) in HASHED {
            let Some(mut body) = files.remove(name) else {
                continue;
            };
            if name == "boot.js" {
                let mut text = String::from_utf8_lossy(&body).into_owned();
                for (plain, hashed) in &names {
                    text = text.replace(&format!("./{plain}"), &format!("./{hashed}"));
                }
                body = Bytes::from(text);
            }
            let hash = hex::encode(&Sha256::digest(&body)[..6]);
            let hashed = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            names.push((name.to_string(), hashed.clone()));
            assets.insert(hashed, Asset { content_type, body });
        }
        let index = files.remove("index.html").map(|raw| {
            let mut html = String::from_utf8_lossy(&raw).into_owned();
            for (plain, hashed) in &names {
                html = html.replace(&format!("\"/{plain}\""), &format!("\"{base}/{hashed}\""));
            }
            // The base path is checked by the configuration (unreserved characters only), so it
            // needs no escaping in an attribute.
            Bytes::from(html.replacen(
                "<meta charset=\"utf-8\">",
                &format!(
                    "<meta charset=\"utf-8\">\n  <meta name=\"pgward-base\" content=\"{base}\">"
                ),
                1,
            ))
        });
        Self { assets, index }
    }

    /// The response for a GET of `path` (base path already removed) that no API route took: a hashed
    /// asset, or the index page for an app route.
    pub fn respond(&self, req: &HttpRequest) -> HttpResponse {
        let name = req.path().trim_start_matches('/');
        if let Some(a) = self.assets.get(name) {
            return HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, a.content_type))
                .insert_header((CACHE_CONTROL, "public, max-age=31536000, immutable"))
                .body(a.body.clone());
        }
        match &self.index {
            Some(index) => HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
                .insert_header((CACHE_CONTROL, "no-store"))
                .body(index.clone()),
            None => HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body(
                    "The web UI is not built: run scripts/build-spa.sh (the API is at /api/v1, docs at /api/docs/).",
                ),
        }
    }
}
