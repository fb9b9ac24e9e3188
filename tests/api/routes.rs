use std::collections::BTreeSet;

use crate::support::{repo_root, spawn_app};

/// Operations reachable without a token. Anything else in the route table must answer 401.
const PUBLIC: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/v1/auth/status"),
    ("post", "/api/v1/auth/setup"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/accept-invitation"),
    // The signed link is the credential (like a presigned object-store URL).
    ("get", "/api/v1/downloads/{ticket}"),
];

fn operations(spec: &serde_json::Value) -> Vec<(String, String, bool)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            // `security: []` marks an operation that needs no credentials.
            let public = op["security"].as_array().is_some_and(|s| s.is_empty());
            ops.push((method.clone(), path.clone(), public));
        }
    }
    ops
}

#[tokio::test]
async fn every_non_public_route_refuses_requests_without_a_valid_token() {
    let app = spawn_app().await;
    app.admin_tokens().await;
    // The route table: the spec collected from the router's registered handlers.
    let spec = serde_json::to_value(pgward_server::openapi::spec()).unwrap();
    let ops = operations(&spec);
    assert!(ops.len() >= 15, "route table looks incomplete: {ops:?}");

    let public: BTreeSet<(String, String)> = ops
        .iter()
        .filter(|o| o.2)
        .map(|o| (o.0.clone(), o.1.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = PUBLIC
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(public, expected, "the set of public operations changed");

    let id = uuid::Uuid::new_v4().to_string();
    for (method, path, _) in ops.iter().filter(|o| !o.2) {
        let url = app.url(&path.replace("{id}", &id));
        for auth in [
            None,
            Some("Bearer not-a-token"),
            Some("Bearer pgw_forged"),
            Some("Basic YWRtaW46YWRtaW4="),
        ] {
            let mut req = app
                .http
                .request(method.to_uppercase().parse().unwrap(), &url)
                .json(&serde_json::json!({}));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 401, "{method} {path} with {auth:?}");
            let body: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(body["code"], "unauthorized", "{method} {path}");
        }
    }
}

#[tokio::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let app = spawn_app().await;
    let served: serde_json::Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let committed_text = std::fs::read_to_string(repo_root().join("openapi/openapi.json"))
        .expect("openapi/openapi.json");
    let committed: serde_json::Value = serde_json::from_str(&committed_text).unwrap();
    assert!(
        served == committed && committed_text == pgward_server::openapi::spec_json(),
        "openapi/openapi.json is out of date: run `cargo run -p pgward-server -- openapi --output openapi/openapi.json`"
    );
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
}

#[tokio::test]
async fn every_operation_documents_its_errors() {
    let spec = serde_json::to_value(pgward_server::openapi::spec()).unwrap();
    for (method, path, public) in operations(&spec) {
        let responses = spec["paths"][&path][&method]["responses"]
            .as_object()
            .unwrap();
        let codes: Vec<&String> = responses.keys().collect();
        assert!(
            codes.iter().any(|c| c.starts_with('2')),
            "{method} {path}: no success response"
        );
        if !public {
            assert!(
                responses.contains_key("401"),
                "{method} {path}: 401 undocumented"
            );
        }
        let body = &spec["paths"][&path][&method]["requestBody"];
        if body.is_object() {
            // JSON bodies have a size limit (413); streamed uploads have none.
            let streamed = body["content"]["application/octet-stream"].is_object();
            let expected: &[&str] = if streamed {
                &["400", "422"]
            } else {
                &["400", "413", "422"]
            };
            for c in expected.iter().copied() {
                assert!(
                    responses.contains_key(c),
                    "{method} {path}: {c} undocumented"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_api_docs_render_without_internet() {
    let app = spawn_app().await;
    let page = app.get("/api/docs/", None).await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the docs page must not load anything from the internet"
    );
    let bundle = app.get("/api/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status().as_u16(), 200);
    let init = app.get_text("/api/docs/swagger-initializer.js", None).await;
    assert!(init.contains("/api/openapi.json"), "{init}");
}

#[tokio::test]
async fn unknown_api_routes_answer_json_404() {
    let app = spawn_app().await;
    let resp = app.get("/api/v1/nope", None).await;
    assert_eq!(resp.status().as_u16(), 404);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn a_routes_path_with_a_method_it_does_not_take_answers_405_with_allow() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let id = uuid::Uuid::new_v4();
    for (method, path, allow) in [
        ("TRACE", "/api/v1/databases".to_string(), "GET, POST"),
        ("PUT", format!("/api/v1/tasks/{id}"), "DELETE, GET, PATCH"),
        // A fixed path beside a parameter: not taken for an id.
        ("PATCH", "/api/v1/databases/test-connection".into(), "POST"),
        ("DELETE", "/api/v1/me/sessions/end-others".into(), "POST"),
        ("POST", "/healthz".into(), "GET"),
    ] {
        let resp = app
            .http
            .request(method.parse().unwrap(), app.url(&path))
            .bearer_auth(admin.token().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 405, "{method} {path}");
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed", "{method} {path}");
    }
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dest, _) = crate::support::fixtures::local_destination(&admin, "kept").await;
    for body in [
        serde_json::json!([null, null]),
        serde_json::json!(["renamed"]),
        serde_json::json!("renamed"),
        serde_json::json!(7),
    ] {
        let resp = app
            .http
            .patch(app.url(&format!("/api/v1/destinations/{dest}")))
            .bearer_auth(admin.token().unwrap())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 422, "{body}");
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["code"], "validation_failed");
        assert!(err["fields"]["body"].is_string(), "{err}");
    }
    assert_eq!(admin.get_destination(dest).await.unwrap().name, "kept");
    // Integers written with a fraction are integers (as JSON Schema counts them).
    let resp = app
        .http
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(admin.token().unwrap())
        .json(&serde_json::json!({"name": "ci", "expires_in_days": 30.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
}

/// What stands in `text` between `start` and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in the text"))
        + start.len();
    let len = text[from..].find(end).expect("an end");
    &text[from..from + len]
}

/// The hashed name `<stem>.<12 hex>.<ext>` that `page` links under `base`.
fn hashed(page: &str, base: &str, stem: &str, ext: &str) -> String {
    let prefix = format!("\"{base}/{stem}.");
    let start = page
        .find(&prefix)
        .unwrap_or_else(|| panic!("no {stem}.*.{ext} under {base:?} in {page}"))
        + prefix.len();
    let hash: String = page[start..].chars().take(12).collect();
    assert!(
        hash.chars().all(|c| c.is_ascii_hexdigit())
            && page[start + 12..].starts_with(&format!(".{ext}\"")),
        "{stem}: {page}"
    );
    format!("{stem}.{hash}.{ext}")
}

#[tokio::test]
async fn the_web_app_is_served_from_the_binary_with_hashed_assets_under_its_base_path() {
    // No SPA directory: what is served was embedded when the binary was built (the test command builds
    // the web app first).
    let app = crate::support::spawn_app_with(|c| {
        c.server.spa_dir = "/nonexistent/spa".into();
        c.server.base_path = Some("/pgward".into());
    })
    .await;
    let index = app.get("/pgward/", None).await;
    assert_eq!(index.status().as_u16(), 200);
    assert_eq!(index.headers()["cache-control"], "no-store");
    let page = index.text().await.unwrap();
    assert!(
        page.contains("<meta name=\"pgward-base\" content=\"/pgward\">"),
        "{page}"
    );
    let (module, wasm, css, boot) = (
        hashed(&page, "/pgward", "spa", "js"),
        hashed(&page, "/pgward", "spa_bg", "wasm"),
        hashed(&page, "/pgward", "style", "css"),
        hashed(&page, "/pgward", "boot", "js"),
    );
    for (name, kind) in [
        (&module, "text/javascript"),
        (&wasm, "application/wasm"),
        (&css, "text/css"),
        (&boot, "text/javascript"),
    ] {
        let r = app.get(&format!("/pgward/{name}"), None).await;
        assert_eq!(r.status().as_u16(), 200, "{name}");
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{name}"
        );
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{name}"
        );
    }
    // The boot script loads the module and the wasm by their hashed names, relative to itself.
    let boot_js = app.get_text(&format!("/pgward/{boot}"), None).await;
    assert!(boot_js.contains(&format!("'./{module}'")), "{boot_js}");
    assert!(boot_js.contains(&format!("'./{wasm}'")), "{boot_js}");
    // Each signed-in page is a module of its own, fetched by the split loader the module imports;
    // the loader and the pages are hashed too, and a page module comes gzipped to a browser.
    let module_js = app.get_text(&format!("/pgward/{module}"), None).await;
    let loader = between(&module_js, "from \"./__wasm_split.", "\"");
    let loader_js = app
        .get_text(&format!("/pgward/__wasm_split.{loader}"), None)
        .await;
    assert!(
        loader_js.contains(&format!("from \"./{module}\"")),
        "the loader imports the same module back"
    );
    let page = between(&loader_js, "new URL(\"./split_tasks_page", "\"");
    let r = reqwest::Client::new()
        .get(format!("{}/pgward/split_tasks_page{page}", app.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "split_tasks_page{page}");
    assert_eq!(r.headers()["content-type"], "application/wasm");
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let mut wasm = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&r.bytes().await.unwrap()[..]),
        &mut wasm,
    )
    .unwrap();
    assert_eq!(&wasm[..4], b"\0asm", "a wasm module");
    // A file of another build (a tab opened before an upgrade) is a 404, not the app's page.
    assert_eq!(
        app.get("/pgward/split_tasks_page.000000000000.wasm", None)
            .await
            .status()
            .as_u16(),
        404
    );
    // A deep link is the app, never cached.
    let deep = app.get("/pgward/executions/123", None).await;
    assert_eq!(deep.headers()["cache-control"], "no-store");
    assert!(deep.text().await.unwrap().contains(&boot));
    // The API answers with the base path (a proxy passing it on) and without it (a proxy stripping it).
    for path in ["/pgward/api/v1/auth/status", "/api/v1/auth/status"] {
        let r = app.get(path, None).await;
        let status = r.status().as_u16();
        if status != 200 {
            panic!("{path}: {status} {}", r.text().await.unwrap());
        }
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body.get("setup_required").is_some(), "{path}: {body}");
    }
    assert_eq!(
        app.get("/pgward/api/v1/nope", None).await.status().as_u16(),
        404
    );
    // The docs page fetches the document where the browser finds it.
    let init = app
        .get_text("/pgward/api/docs/swagger-initializer.js", None)
        .await;
    assert!(init.contains("/pgward/api/openapi.json"), "{init}");
    assert_eq!(
        app.get("/pgward/api/openapi.json", None)
            .await
            .status()
            .as_u16(),
        200
    );
}
