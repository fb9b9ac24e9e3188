//! The web app's files, served from memory: embedded in the binary at build time (build.rs), or read
//! once from `server.spa_dir` when nothing was embedded. Scripts, modules, stylesheet and every page
//! module are served under content-hashed names with a year-long immutable cache, gzipped for a
//! browser that accepts it; `index.html` (served for every app path, so deep links work) is never
//! cached and names the current hashes, the base path and the `<meta name="pgward-base">` the app
//! routes under.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use actix_web::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY,
};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

// `REQUIRED` (the files a built web app always has) and `EMBEDDED` (the build this binary carries).
include!(concat!(env!("OUT_DIR"), "/spa_assets.rs"));

/// Part of the scripts' shared hash: the scripts are served rewritten (`rewrite_relative`), so a change
/// of the rewriting must rename them even when the build they come from is the same; otherwise a
/// browser would keep the old text under an immutable name. Bump it with any change to the rewriting.
const REWRITE_VERSION: &[u8] = b"rewrite-relative-v1";

struct Asset {
    content_type: &'static str,
    body: Bytes,
    /// Made on the first request that accepts gzip, then kept: compressing every module at startup
    /// would cost each process (and each test server) a second of CPU it may never need.
    gzipped: OnceLock<Option<Bytes>>,
}

impl Asset {
    fn gzipped(&self) -> Option<&Bytes> {
        self.gzipped
            .get_or_init(|| {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(self.body.len() / 2),
                    flate2::Compression::best(),
                );
                enc.write_all(&self.body).ok()?;
                let out = enc.finish().ok()?;
                // Only when it pays: an already dense file is sent as it is.
                (out.len() < self.body.len()).then(|| Bytes::from(out))
            })
            .as_ref()
    }
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

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn hashed_name(name: &str, hash: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

fn short_hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed, so that two lists of files can never hash alike by moving a boundary.
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(&h.finalize()[..6])
}

impl Spa {
    /// The embedded app if this binary carries one, else the files in `dir`; `base` is the path pgward
    /// is served under (`/pgward` or empty).
    pub fn load(dir: &Path, base: &str) -> (Self, Source) {
        // Served straight from the binary's memory, not copied.
        let embedded: BTreeMap<String, Bytes> = EMBEDDED
            .iter()
            .map(|(n, b)| (n.to_string(), Bytes::from_static(b)))
            .collect();
        if !embedded.is_empty() {
            return (Self::build(embedded, base), Source::Embedded);
        }
        let missing = || {
            (
                Self {
                    assets: HashMap::new(),
                    index: None,
                },
                Source::Missing,
            )
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return missing();
        };
        let mut files = BTreeMap::new();
        for entry in entries.flatten() {
            // `Path::is_file` follows symlinks (a directory of links to a build is fine).
            let (Ok(name), true) = (entry.file_name().into_string(), entry.path().is_file()) else {
                continue;
            };
            if let Ok(b) = std::fs::read(entry.path()) {
                files.insert(name, Bytes::from(b));
            }
        }
        if !REQUIRED.iter().all(|f| files.contains_key(*f)) {
            return missing();
        }
        (Self::build(files, base), Source::Directory)
    }

    fn build(mut files: BTreeMap<String, Bytes>, base: &str) -> Self {
        let raw_index = files.remove("index.html");
        // A leaf (wasm, stylesheet) is named by its own content. The scripts import one another in a
        // circle (spa.js loads __wasm_split.js, which imports spa.js back) and each names the others'
        // hashed files, so they share one hash of everything served: any change renames all of them.
        let all: Vec<&[u8]> = std::iter::once(REWRITE_VERSION)
            .chain(files.iter().flat_map(|(n, b)| [n.as_bytes(), b.as_ref()]))
            .collect();
        let family = short_hash(&all);
        let names: Vec<(String, String)> = files
            .iter()
            .map(|(name, body)| {
                let hash = if name.ends_with(".js") {
                    family.clone()
                } else {
                    short_hash(&[body])
                };
                (name.clone(), hashed_name(name, &hash))
            })
            .collect();
        let renamed: HashMap<&str, &str> = names
            .iter()
            .map(|(plain, hashed)| (plain.as_str(), hashed.as_str()))
            .collect();
        let mut assets = HashMap::new();
        for ((name, mut body), (_, hashed)) in files.into_iter().zip(&names) {
            if name.ends_with(".js") {
                let text = String::from_utf8_lossy(&body);
                body = Bytes::from(rewrite_relative(&text, &renamed));
            }
            assets.insert(
                hashed.clone(),
                Asset {
                    content_type: content_type(&name),
                    body,
                    gzipped: OnceLock::new(),
                },
            );
        }
        let index = raw_index.map(|raw| {
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
            let mut resp = HttpResponse::Ok();
            resp.insert_header((CONTENT_TYPE, a.content_type))
                .insert_header((CACHE_CONTROL, "public, max-age=31536000, immutable"))
                .insert_header((VARY, "Accept-Encoding"));
            if let Some(gz) = accepts_gzip(req).then(|| a.gzipped()).flatten() {
                return resp
                    .insert_header((CONTENT_ENCODING, "gzip"))
                    .body(gz.clone());
            }
            return resp.body(a.body.clone());
        }
        // A script, module or stylesheet that is not here (a tab still running an older build asks
        // for its files) is a 404, not the app's page: app routes never end so.
        if [".js", ".wasm", ".css"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            return HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body("No such file in this build of the web UI; reload the page.");
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

/// Whether the request accepts gzip: `gzip` named with a weight above 0, or else `*` with one. A
/// `gzip;q=0` refuses it whatever `*` says (RFC 9110, 12.5.3).
fn accepts_gzip(req: &HttpRequest) -> bool {
    let mut gzip = None;
    let mut any = None;
    for item in req
        .headers()
        .get_all(ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("");
        let accepted = !parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if coding.eq_ignore_ascii_case("gzip") {
            gzip = Some(accepted);
        } else if coding == "*" {
            any = Some(accepted);
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// `text` with each relative import (`from './spa.js'`) and fetch (`new URL("./chunk_3.wasm", …)`) of a
/// served file pointed at its hashed name, so it resolves under any base path. Only those: the same
/// string as a key of the wasm's import object (`"./__wasm_split.js": import1`) is the module name the
/// wasm was linked against and must stay. One pass (the split loader names some 300 modules).
fn rewrite_relative(text: &str, renamed: &HashMap<&str, &str>) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut rest = text;
    while let Some(at) = rest.find("./") {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let quote = before.chars().last().filter(|c| *c == '"' || *c == '\'');
        let lead = before.get(..before.len().saturating_sub(1)).unwrap_or("");
        let target = quote.and_then(|q| {
            let name = after[2..].split(q).next()?;
            let hashed = renamed.get(name)?;
            (lead.ends_with("from ") || lead.ends_with("URL(")).then_some((name, *hashed))
        });
        match target {
            Some((name, hashed)) => {
                out.push_str("./");
                out.push_str(hashed);
                rest = &after[2 + name.len()..];
            }
            None => {
                out.push_str("./");
                rest = &after[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_and_fetches_get_hashed_names_and_import_object_keys_stay() {
        let renamed = HashMap::from([
            ("spa.js", "spa.0123456789ab.js"),
            ("__wasm_split.js", "__wasm_split.0123456789ab.js"),
            ("chunk_1.wasm", "chunk_1.aaaaaaaaaaaa.wasm"),
        ]);
        let js = r#"import * as import1 from "./__wasm_split.js"
import init from './spa.js';
imports["./__wasm_split.js"] = import1;
fetch(new URL("./chunk_1.wasm", import.meta.url)); fetch(new URL("./chunk_10.wasm"));
const other = "./spa.js";"#;
        assert_eq!(
            rewrite_relative(js, &renamed),
            r#"import * as import1 from "./__wasm_split.0123456789ab.js"
import init from './spa.0123456789ab.js';
imports["./__wasm_split.js"] = import1;
fetch(new URL("./chunk_1.aaaaaaaaaaaa.wasm", import.meta.url)); fetch(new URL("./chunk_10.wasm"));
const other = "./spa.js";"#
        );
    }

    #[test]
    fn gzip_is_offered_unless_refused() {
        let req = |v: &str| {
            actix_web::test::TestRequest::default()
                .insert_header((ACCEPT_ENCODING, v))
                .to_http_request()
        };
        assert!(accepts_gzip(&req("gzip, deflate, br")));
        assert!(accepts_gzip(&req("br;q=1.0, GZIP;q=0.5")));
        assert!(!accepts_gzip(&req("gzip;q=0, br")));
        assert!(!accepts_gzip(&req("identity")));
        assert!(accepts_gzip(&req("*")));
        assert!(!accepts_gzip(&req("gzip;q=0, *")));
    }
}
