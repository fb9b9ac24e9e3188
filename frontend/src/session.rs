//! The browser session: where the API lives, the tokens in `localStorage`, and the one wrapper every
//! authenticated call goes through (refresh once on a 401, else log out).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;

use futures::future::{FutureExt, LocalBoxFuture, Shared};

use leptos::prelude::*;
use pgward_api_client::{Client, ClientError};
use pgward_api_types::TokenPair;

const ACCESS_KEY: &str = "pgward.access_token";
const REFRESH_KEY: &str = "pgward.refresh_token";

/// The page origin, e.g. `http://127.0.0.1:8080`: the SPA is always served by the API server itself.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// A client without credentials, for the public routes (status, setup, login).
pub fn public_client() -> Client {
    Client::new(origin())
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn load(key: &str) -> Option<String> {
    storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .filter(|v| !v.is_empty())
}

fn save(key: &str, value: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match value {
            Some(v) => s.set_item(key, v),
            None => s.remove_item(key),
        };
    }
}

/// Shared through context; `Copy` so closures can take it freely.
#[derive(Clone, Copy)]
pub struct Session {
    access: RwSignal<Option<String>>,
    refresh: RwSignal<Option<String>>,
}

impl Session {
    pub fn from_storage() -> Self {
        Self {
            access: RwSignal::new(load(ACCESS_KEY)),
            refresh: RwSignal::new(load(REFRESH_KEY)),
        }
    }

    /// Reactive: the layout uses it to send a logged-out user to `/login`.
    pub fn logged_in(&self) -> bool {
        self.access.with(Option::is_some)
    }

    pub fn logged_in_untracked(&self) -> bool {
        self.access.with_untracked(Option::is_some)
    }

    pub fn store(&self, pair: &TokenPair) {
        save(ACCESS_KEY, Some(&pair.access_token));
        save(REFRESH_KEY, Some(&pair.refresh_token));
        self.refresh.set(Some(pair.refresh_token.clone()));
        self.access.set(Some(pair.access_token.clone()));
    }

    pub fn clear(&self) {
        save(ACCESS_KEY, None);
        save(REFRESH_KEY, None);
        self.refresh.set(None);
        self.access.set(None);
    }

    /// A client carrying the current access token.
    pub fn client(&self) -> Client {
        let client = public_client();
        match self.access.get_untracked() {
            Some(token) => client.with_token(token),
            None => client,
        }
    }

    /// Runs `call` with the current access token. On a 401 it refreshes the tokens once and retries; if
    /// that fails too, the session is cleared (the layout then redirects to `/login`). Errors come back
    /// as the message to show.
    pub async fn call<T, F, Fut>(self, call: F) -> Result<T, String>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = pgward_api_client::Result<T>>,
    {
        self.call_detailed(call).await.map_err(|f| f.message)
    }

    /// Like [`Session::call`], but keeps the API's per-field validation messages, for forms.
    pub async fn call_detailed<T, F, Fut>(self, call: F) -> Result<T, Failure>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = pgward_api_client::Result<T>>,
    {
        let used = self.access.get_untracked();
        match call(self.client()).await {
            Err(e) if is_unauthorized(&e) => {}
            other => return other.map_err(Failure::from),
        }
        // Another call may already have refreshed while this one was in flight: just retry then.
        let current = self.access.get_untracked();
        if (current.is_none() || current == used) && !self.refresh_tokens().await {
            self.clear();
            return Err(Failure::message(
                "Your session has expired; please log in again.",
            ));
        }
        match call(self.client()).await {
            Err(e) if is_unauthorized(&e) => {
                self.clear();
                Err(Failure::from(e))
            }
            other => other.map_err(Failure::from),
        }
    }
}

/// A failed call as a form shows it: the message, and the API's per-field messages (keyed by the JSON
/// field path, e.g. `retention.keep_last`) when the server rejected the input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Failure {
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

impl Failure {
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        let fields = match &e {
            ClientError::Api { error, .. } => error.fields.clone().unwrap_or_default(),
            _ => BTreeMap::new(),
        };
        Self {
            message: e.to_string(),
            fields,
        }
    }
}

impl Session {
    /// Exchanges the refresh token for a new pair. Refresh tokens are single-use, so concurrent callers
    /// (e.g. the page's list and the top bar's `me`, both answered 401) share one request.
    async fn refresh_tokens(self) -> bool {
        let pending = IN_FLIGHT.with(|slot| {
            slot.borrow_mut()
                .get_or_insert_with(|| {
                    async move {
                        let ok = match self.refresh.get_untracked() {
                            Some(token) => match public_client().refresh(&token).await {
                                Ok(pair) => {
                                    self.store(&pair);
                                    true
                                }
                                Err(_) => false,
                            },
                            None => false,
                        };
                        IN_FLIGHT.with(|slot| slot.borrow_mut().take());
                        ok
                    }
                    .boxed_local()
                    .shared()
                })
                .clone()
        });
        pending.await
    }
}

type PendingRefresh = Shared<LocalBoxFuture<'static, bool>>;

thread_local! {
    /// The refresh currently under way, if any (wasm is single-threaded).
    static IN_FLIGHT: RefCell<Option<PendingRefresh>> = const { RefCell::new(None) };
}

fn is_unauthorized(e: &ClientError) -> bool {
    e.status() == Some(401)
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
