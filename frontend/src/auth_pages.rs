//! The pages a visitor sees before logging in: `/` (decides where to go), `/setup` and `/login`.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{query_signal, use_navigate};
use pgward_api_types::{AuthStatus, SetupRequest};

use crate::parts::{Field, SubmitButton};
use crate::session::{public_client, use_session};
use crate::ui::{alert_error, error_banner};

/// Minimum password length the server enforces (setup, invitations, a password change).
pub const MIN_PASSWORD: usize = 12;

/// `value` trimmed, or `None` when that leaves nothing (an optional text field left empty).
pub fn optional(value: RwSignal<String>) -> Option<String> {
    let v = value.get_untracked().trim().to_string();
    (!v.is_empty()).then_some(v)
}

/// The start of a submit that sets a password (setup, an invitation): stops the browser's own submit,
/// ignores a form that is already sending, and refuses a short password with a message in `error`.
/// When the request may go, marks the form busy, clears the error and returns the password.
pub fn start_password_submit(
    ev: &SubmitEvent,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    password: RwSignal<String>,
) -> Option<String> {
    ev.prevent_default();
    if busy.get_untracked() {
        return None;
    }
    let pw = password.get_untracked();
    if pw.chars().count() < MIN_PASSWORD {
        error.set(Some(format!(
            "The password needs at least {MIN_PASSWORD} characters."
        )));
        return None;
    }
    busy.set(true);
    error.set(None);
    Some(pw)
}

fn auth_status() -> LocalResource<Result<AuthStatus, String>> {
    LocalResource::new(|| async {
        public_client()
            .auth_status()
            .await
            .map_err(|e| e.to_string())
    })
}

/// Goes to `path` once the server's auth status says `when`.
fn go_when(
    status: LocalResource<Result<AuthStatus, String>>,
    when: impl Fn(&AuthStatus) -> bool + 'static,
    path: &'static str,
) {
    let navigate = use_navigate();
    Effect::new(move || {
        if status.with(|s| matches!(s, Some(Ok(s)) if when(s))) {
            navigate(path, Default::default());
        }
    });
}

/// The email input of the setup and login forms.
fn email_field(value: RwSignal<String>, testid: &'static str) -> impl IntoView {
    view! {
        <Field label="Email">
            <input type="email" required autocomplete="username" data-testid=testid bind:value=value />
        </Field>
    }
}

/// The optional display name of a new account (setup, accepting an invitation).
pub fn name_field(
    value: RwSignal<String>,
    note: &'static str,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <Field label="Name " note=note>
            <input type="text" maxlength="100" autocomplete="name" data-testid=testid bind:value=value />
        </Field>
    }
}

/// The password of a new account, with its minimum length said under it.
pub fn new_password_field(value: RwSignal<String>, testid: &'static str) -> impl IntoView {
    view! {
        <Field label="Password">
            <input
                type="password"
                required
                minlength=MIN_PASSWORD
                autocomplete="new-password"
                data-testid=testid
                bind:value=value
            />
            <small class="muted">{format!("At least {MIN_PASSWORD} characters.")}</small>
        </Field>
    }
}

/// `/`: to the app when logged in, else to setup or login depending on the server's state.
#[component]
pub fn Home() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    if session.logged_in_untracked() {
        navigate("/dashboard", Default::default());
        return ().into_any();
    }
    let status = auth_status();
    // A page load first restores the session from the refresh cookie, if there is one.
    Effect::new(move || {
        if session.restoring() {
            return;
        }
        if session.logged_in() {
            navigate("/dashboard", Default::default());
            return;
        }
        match status.get() {
            Some(Ok(s)) if s.setup_required => navigate("/setup", Default::default()),
            Some(Ok(_)) => navigate("/login", Default::default()),
            _ => {}
        }
    });
    view! {
        <div class="centered">
            <div class="card narrow">
                <Brand />
                {move || match status.get() {
                    Some(Err(e)) => {
                        view! {
                            {alert_error(e)}
                            <A href=crate::session::at("/login") attr:class="btn">
                                "Go to login"
                            </A>
                        }
                            .into_any()
                    }
                    _ => view! { <p class="muted">"Loading…"</p> }.into_any(),
                }}
            </div>
        </div>
    }
    .into_any()
}

#[component]
pub(crate) fn Brand() -> impl IntoView {
    view! {
        <div class="brand brand-large">
            <span class="brand-mark">"pg"</span>
            <span class="brand-name">"pgward"</span>
        </div>
    }
}

/// `/setup`: creates the first administrator, then logs in with the same credentials.
#[component]
pub fn SetupPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    // Setup is a one-time step: once done, this page only leads to the login.
    let status = auth_status();
    go_when(
        status,
        move |s| !s.setup_required && !busy.get_untracked(),
        "/login",
    );

    let on_submit = move |ev: SubmitEvent| {
        let Some(pw) = start_password_submit(&ev, busy, error, password) else {
            return;
        };
        let req = SetupRequest {
            email: email.get_untracked().trim().to_string(),
            password: pw,
            name: optional(name),
            setup_code: optional(code),
        };
        let navigate = navigate.clone();
        spawn_local(async move {
            let client = public_client();
            if let Err(e) = client.setup(&req).await {
                busy.set(false);
                error.set(Some(e.to_string()));
                return;
            }
            match client.login_with_cookie(&req.email, &req.password).await {
                Ok(pair) => {
                    session.store(&pair);
                    navigate("/dashboard", Default::default());
                }
                // The account exists now; let the user log in by hand.
                Err(_) => navigate("/login", Default::default()),
            }
        });
    };

    view! {
        <div class="centered">
            <form class="card narrow" on:submit=on_submit data-testid="setup-form">
                <Brand />
                <h1>"Welcome to pgward"</h1>
                <p class="muted">"Create the first administrator account to get started."</p>
                {error_banner(move || error.get())}
                {move || {
                    let needed = matches!(status.get(), Some(Ok(s)) if s.setup_code_required);
                    needed
                        .then(|| {
                            view! {
                                <Field label="Setup code">
                                    <input
                                        type="text"
                                        required
                                        autocomplete="off"
                                        spellcheck="false"
                                        data-testid="setup-code"
                                        bind:value=code
                                    />
                                    <small class="muted">
                                        "pgward listens beyond this machine: the code is in its log (\"first-user setup code\")."
                                    </small>
                                </Field>
                            }
                        })
                }}
                {email_field(email, "setup-email")}
                {name_field(name, "(optional)", "setup-name")}
                {new_password_field(password, "setup-password")}
                <SubmitButton
                    busy
                    testid="setup-submit"
                    idle="Create administrator"
                    working="Creating account…"
                    block=true
                />
            </form>
        </div>
    }
}

/// `/login`: exchanges email and password for a token pair kept in `localStorage`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    // Back from accepting an invitation: the new account's email.
    let (invited, _) = query_signal::<String>("invited");
    let invited = invited.get_untracked();
    let email = RwSignal::new(invited.clone().unwrap_or_default());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    if session.logged_in_untracked() {
        navigate("/dashboard", Default::default());
    }
    // A session restored from the refresh cookie after this page opened.
    {
        let navigate = navigate.clone();
        Effect::new(move || {
            if session.logged_in() {
                navigate("/dashboard", Default::default());
            }
        });
    }
    go_when(auth_status(), |s| s.setup_required, "/setup");

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (mail, pw) = (
            email.get_untracked().trim().to_string(),
            password.get_untracked(),
        );
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            match public_client().login_with_cookie(&mail, &pw).await {
                Ok(pair) => {
                    session.store(&pair);
                    navigate("/dashboard", Default::default());
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e.to_string()));
                }
            }
        });
    };

    view! {
        <div class="centered">
            <form class="card narrow" on:submit=on_submit data-testid="login-form">
                <Brand />
                <h1>"Sign in"</h1>
                {invited
                    .map(|_| {
                        view! {
                            <div class="alert alert-ok" role="status" data-testid="login-note">
                                "Your account is ready: sign in with the password you chose."
                            </div>
                        }
                    })}
                {error_banner(move || error.get())}
                {email_field(email, "login-email")}
                <Field label="Password">
                    <input
                        type="password"
                        required
                        autocomplete="current-password"
                        data-testid="login-password"
                        bind:value=password
                    />
                </Field>
                <SubmitButton busy testid="login-submit" idle="Sign in" working="Signing in…" block=true />
            </form>
        </div>
    }
}
