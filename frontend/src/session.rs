//! The browser session: where the API lives, the access token (in memory only: no script can find it
//! in storage), and the one wrapper every authenticated call goes through (refresh once on a 401, else
//! log out). The refresh token never reaches JavaScript: the server keeps it in an HttpOnly,
//! SameSite=Strict cookie, and a page load restores the session from it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;

use futures::future::{FutureExt, LocalBoxFuture, Shared};

use leptos::prelude::*;
use leptos::task::spawn_local;
use pgward_api_client::{Client, ClientError};
use pgward_api_types::{ErrorCode, Me, Role, TokenPair};

/// Where earlier versions kept the tokens; removed on start so nothing lingers in storage.
const LEGACY_KEYS: [&str; 2] = ["pgward.access_token", "pgward.refresh_token"];

/// The path pgward is served under behind a reverse proxy (`/pgward`), or empty: the server writes it
/// into index.html as `<meta name="pgward-base">` (`server.base_path`).
pub fn base_path() -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("meta[name='pgward-base']").ok().flatten())
        .and_then(|m| m.get_attribute("content"))
        .map(|b| b.trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// `path` (`/databases`) as the browser reaches it, under the base path: what an `<A href>` needs
/// (leptos_router resolves only relative links against its base).
pub fn at(path: &str) -> String {
    thread_local! {
        static BASE: String = base_path();
    }
    BASE.with(|b| format!("{b}{path}"))
}

/// Where the API is, e.g. `http://127.0.0.1:8080` or `https://example.com/pgward`: the SPA is always
/// served by the API server itself, under its base path.
pub fn origin() -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}{}", base_path())
}

/// A client without credentials, for the public routes (status, setup, login).
pub fn public_client() -> Client {
    Client::new(origin())
}

/// Shared through context; `Copy` so closures can take it freely.
#[derive(Clone, Copy)]
pub struct Session {
    access: RwSignal<Option<String>>,
    /// The session is being restored from the refresh cookie (page load).
    restoring: RwSignal<bool>,
    /// Who is logged in and what they may do: fetched once per login (`None` until it answers).
    me: RwSignal<Option<Result<Me, String>>>,
    /// Counts the fetches of `me`, so that a late answer of an earlier login is dropped.
    me_fetches: StoredValue<u64>,
}

impl Session {
    /// A session restored, if the browser has a refresh cookie, in the background.
    pub fn start() -> Self {
        if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            for k in LEGACY_KEYS {
                let _ = s.remove_item(k);
            }
        }
        let session = Self {
            access: RwSignal::new(None),
            restoring: RwSignal::new(true),
            me: RwSignal::new(None),
            me_fetches: StoredValue::new(0),
        };
        spawn_local(async move {
            session.refresh_tokens().await;
            session.restoring.set(false);
        });
        // `me` follows logging in and out, not every token refresh.
        let logged_in = Memo::new(move |_| session.logged_in());
        Effect::new(move || {
            if logged_in.get() {
                session.reload_me();
            } else {
                session.me_fetches.update_value(|n| *n += 1);
                session.me.set(None);
            }
        });
        session
    }

    /// Fetches `me` again (after logging in, or after the profile changed).
    pub fn reload_me(self) {
        self.me_fetches.update_value(|n| *n += 1);
        let fetch = self.me_fetches.get_value();
        spawn_local(async move {
            let answer = self.call(|c| async move { c.me().await }).await;
            if self.me_fetches.try_get_value() == Some(fetch) {
                self.me.set(Some(answer));
            }
        });
    }

    /// Reactive: the logged-in user and their effective role; `None` while it loads or logged out.
    pub fn me(&self) -> Option<Me> {
        self.me.get().and_then(Result::ok)
    }

    /// Reactive: why `me` could not be fetched, if it could not.
    pub fn me_error(&self) -> Option<String> {
        self.me
            .with(|m| m.as_ref().and_then(|r| r.as_ref().err().cloned()))
    }

    /// Reactive: what the logged-in user may do; `None` while unknown.
    pub fn role(&self) -> Option<Role> {
        self.me.with(|m| match m {
            Some(Ok(me)) => Some(me.effective_role),
            _ => None,
        })
    }

    /// Reactive: the user has at least `role`. False while the role is unknown, so a control the user may
    /// not use is never offered, not even for a moment.
    pub fn can(&self, role: Role) -> bool {
        self.role().is_some_and(|r| r >= role)
    }

    /// Reactive: the layout uses it to send a logged-out user to `/login`.
    pub fn logged_in(&self) -> bool {
        self.access.with(Option::is_some)
    }

    pub fn logged_in_untracked(&self) -> bool {
        self.access.with_untracked(Option::is_some)
    }

    /// Reactive: true until the page-load restore has an answer.
    pub fn restoring(&self) -> bool {
        self.restoring.get()
    }

    /// Keeps the access token (the refresh token is the browser's cookie).
    pub fn store(&self, pair: &TokenPair) {
        self.access.set(Some(pair.access_token.clone()));
    }

    pub fn clear(&self) {
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

    /// [`Session::call`] with a request value (a list's query, a body) of which each try gets a copy.
    pub async fn call_with<Q, T, F, Fut>(self, value: Q, call: F) -> Result<T, String>
    where
        Q: Clone,
        F: Fn(Client, Q) -> Fut,
        Fut: Future<Output = pgward_api_client::Result<T>>,
    {
        self.call(move |c| call(c, value.clone())).await
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
    /// Exchanges the refresh cookie for a new pair. Refresh tokens are single-use, so concurrent callers
    /// (e.g. the page's list and the top bar's `me`, both answered 401) share one request.
    async fn refresh_tokens(self) -> bool {
        let pending = IN_FLIGHT.with(|slot| {
            slot.borrow_mut()
                .get_or_insert_with(|| {
                    async move {
                        let ok = match public_client().refresh_with_cookie().await {
                            Ok(pair) => {
                                self.store(&pair);
                                true
                            }
                            Err(_) => false,
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

/// The access token was refused. Not a wrong password (a password change checks the current one): that
/// is the user's mistake to show, not a reason to refresh or log out.
fn is_unauthorized(e: &ClientError) -> bool {
    e.status() == Some(401) && e.code() != Some(ErrorCode::InvalidCredentials)
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
