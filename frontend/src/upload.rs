//! `/upload`: stores a dump made elsewhere on a destination (`POST /api/v1/uploads`), as a backup that
//! can be verified, downloaded and restored like any other. The file goes through `XMLHttpRequest`,
//! not the API client: fetch (and so reqwest) reports no upload progress, and a dump can be large.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use pgward_api_client::{Client, ClientError};
use pgward_api_types::{ApiError, ErrorCode, Execution, Role};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::parts::{
    Field, PageHeader, Progress, RequireRole, SubmitButton, TextField, destinations, items, save,
};
use crate::session::use_session;
use crate::ui::{FieldErrors, format_bytes};

/// Bytes sent so far and the total (when the browser knows it).
type OnProgress = Rc<dyn Fn(u64, Option<u64>)>;

/// Sends one request with `client`'s base and bearer token through `XMLHttpRequest`, reporting the
/// upload's progress, and decodes the answer as the API client does (so the session's refresh on a
/// 401 and the forms' field messages work the same). `parse` is `serde_json::from_str::<T>`.
pub async fn xhr_json<T>(
    client: &Client,
    method: &str,
    path_and_query: &str,
    body: Option<&web_sys::Blob>,
    on_progress: Option<OnProgress>,
    parse: fn(&str) -> serde_json::Result<T>,
) -> pgward_api_client::Result<T> {
    let transport = |e: wasm_bindgen::JsValue| ClientError::Transport(format!("{e:?}"));
    let xhr = web_sys::XmlHttpRequest::new().map_err(transport)?;
    xhr.open_with_async(method, &format!("{}{path_and_query}", client.base()), true)
        .map_err(transport)?;
    if let Some(token) = client.token() {
        xhr.set_request_header("Authorization", &format!("Bearer {token}"))
            .map_err(transport)?;
    }
    if body.is_some() {
        xhr.set_request_header("Content-Type", "application/octet-stream")
            .map_err(transport)?;
    }

    // Whichever of load, error and abort comes first ends the wait: true when an answer arrived.
    let (tx, rx) = oneshot::channel::<bool>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let finish = |answered: bool| {
        let tx = tx.clone();
        Closure::<dyn FnMut()>::new(move || {
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(answered);
            }
        })
    };
    let (on_load, on_error, on_abort) = (finish(true), finish(false), finish(false));
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    let progress = on_progress.map(|report| {
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            let total = ev.length_computable().then(|| ev.total() as u64);
            report(ev.loaded() as u64, total);
        })
    });
    if let (Some(p), Ok(upload)) = (&progress, xhr.upload()) {
        upload.set_onprogress(Some(p.as_ref().unchecked_ref()));
    }

    xhr.send_with_opt_blob(body).map_err(transport)?;
    let answered = rx.await.unwrap_or(false);
    // The handlers must live until the request ended; they go with this function.
    drop((on_load, on_error, on_abort, progress));
    if !answered {
        return Err(ClientError::Transport(
            "the connection failed before pgward answered".into(),
        ));
    }
    let status = xhr.status().map_err(transport)?;
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    decode(status, &text, parse)
}

fn decode<T>(
    status: u16,
    text: &str,
    parse: fn(&str) -> serde_json::Result<T>,
) -> pgward_api_client::Result<T> {
    if (200..300).contains(&status) {
        return parse(text).map_err(|e| ClientError::Decode {
            status,
            message: e.to_string(),
        });
    }
    match serde_json::from_str::<ApiError>(text) {
        Ok(error) => Err(ClientError::Api { status, error }),
        // A proxy in front of pgward may refuse a large body with its own page.
        Err(_) if status == 413 => Err(ClientError::Api {
            status,
            error: ApiError {
                code: ErrorCode::PayloadTooLarge,
                message: "The file is larger than the server accepts.".into(),
                fields: None,
            },
        }),
        Err(_) => Err(ClientError::Decode {
            status,
            message: text.chars().take(500).collect(),
        }),
    }
}

/// What is being uploaded: the file, where to and under which name.
#[derive(Clone)]
struct Upload {
    file: web_sys::File,
    destination: Uuid,
    filename: String,
}

async fn upload_dump(
    client: Client,
    upload: Upload,
    on_progress: OnProgress,
) -> pgward_api_client::Result<Execution> {
    let path = format!(
        "/api/v1/uploads?destination_id={}&filename={}",
        upload.destination,
        String::from(js_sys::encode_uri_component(&upload.filename)),
    );
    let body: &web_sys::Blob = &upload.file;
    xhr_json(&client, "POST", &path, Some(body), Some(on_progress), |s| {
        serde_json::from_str::<Execution>(s)
    })
    .await
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[component]
pub fn UploadPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Upload a dump"
            intro="Store a dump made elsewhere on a destination, to verify, download and restore it like any backup."
        />
        <RequireRole role=Role::Operator>
            <UploadForm />
        </RequireRole>
    }
}

#[component]
fn UploadForm() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let dests = destinations(session, None);
    let destination = RwSignal::new(String::new());
    let filename = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<(String, u64)>);
    let uploading = RwSignal::new(false);
    // Bytes sent, total and when the upload started (for the rate).
    let progress = RwSignal::new(None::<(u64, Option<u64>, f64)>);
    let errors = FieldErrors::new();
    let file_input = NodeRef::<leptos::html::Input>::new();

    let picked = move || {
        file_input
            .get_untracked()
            .and_then(|i| i.files())
            .and_then(|l| l.get(0))
    };
    let on_file = move |_| {
        let file = picked();
        // The name says what the dump is (format, compression, encryption): take the file's own
        // unless one was typed for this file already.
        if let Some(f) = &file {
            let previous = chosen.get_untracked().map(|(n, _)| n);
            if filename.with_untracked(|n| n.is_empty() || previous.as_deref() == Some(n)) {
                filename.set(f.name());
            }
        }
        chosen.set(file.map(|f| (f.name(), f.size() as u64)));
        progress.set(None);
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if uploading.get_untracked() {
            return;
        }
        errors.clear();
        let Ok(dest) = destination.get_untracked().parse::<Uuid>() else {
            errors.reject("destination_id", "Choose a destination.".into());
            return;
        };
        let Some(file) = picked() else {
            errors.reject("file", "Choose a dump file.".into());
            return;
        };
        let upload = Upload {
            file,
            destination: dest,
            filename: filename.get_untracked().trim().to_string(),
        };
        let started = now_ms();
        progress.set(Some((0, chosen.get_untracked().map(|(_, s)| s), started)));
        let report: OnProgress = Rc::new(move |done, total| {
            progress.set(Some((done, total, started)));
        });
        let navigate = navigate.clone();
        save(
            session,
            uploading,
            upload,
            move |c, upload| upload_dump(c, upload, report.clone()),
            move |result| match result {
                Ok(exec) => navigate(&format!("/executions/{}", exec.id), Default::default()),
                Err(f) => {
                    progress.set(None);
                    errors.show(f);
                }
            },
        );
    };

    let bar = move || {
        progress.get().map(|(done, total, started)| {
            let secs = (now_ms() - started) / 1000.0;
            let rate = (secs > 0.5).then(|| (done as f64 / secs) as u64);
            view! { <Progress done total rate testid="upload-progress" /> }
        })
    };
    let destination_error = errors.at("destination_id");
    let file_error = errors.at("file");

    view! {
        <section class="card">
            <form class="form-grid" on:submit=on_submit data-testid="upload-form">
                <Field label="Destination" error=destination_error>
                    <select
                        required
                        data-testid="upload-destination"
                        class:invalid=move || destination_error.invalid()
                        bind:value=destination
                    >
                        <option value="">"Choose where to store it"</option>
                        {move || {
                            items(dests)
                                .into_iter()
                                .map(|d| {
                                    let id = d.id.to_string();
                                    let selected = id.clone();
                                    view! {
                                        <option
                                            value=id
                                            prop:selected=move || destination.with(|v| *v == selected)
                                        >
                                            {d.name}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                </Field>
                <Field label="Dump file" error=file_error>
                    <input
                        type="file"
                        required
                        data-testid="upload-file"
                        class:invalid=move || file_error.invalid()
                        node_ref=file_input
                        on:change=on_file
                        disabled=uploading
                    />
                    {move || {
                        chosen
                            .get()
                            .map(|(_, size)| {
                                view! {
                                    <small class="muted" data-testid="upload-file-size">
                                        {format_bytes(size)}
                                    </small>
                                }
                            })
                    }}
                </Field>
                <div class="span-2">
                    <TextField
                        label="File name"
                        value=filename
                        testid="upload-filename"
                        error=errors.at("filename")
                        placeholder="e.g. shop.dump.zst"
                    />
                </div>
                <p class="span-2 muted small">
                    "The name says what the dump is: it ends in .sql (plain), .dump (custom) or .tar (directory archive), then .zst, .gz or .lz4 if compressed, then .age if encrypted."
                </p>
                <div class="span-2 upload-status">
                    {bar}
                    {errors.banner()}
                </div>
                <div class="form-actions span-2">
                    <div class="spacer"></div>
                    <SubmitButton busy=uploading testid="upload-submit" idle="Upload" working="Uploading…" />
                </div>
            </form>
        </section>
    }
}
