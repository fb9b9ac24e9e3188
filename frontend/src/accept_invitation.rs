//! `/accept-invitation?code=…`: the page an invitation's link opens. The invited person chooses a
//! password (and may change the suggested name), then signs in on the login page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{query_signal, use_navigate};
use pgward_api_types::AcceptInvitationRequest;

use crate::auth_pages::{Brand, name_field, new_password_field, optional, start_password_submit};
use crate::parts::{Field, SubmitButton};
use crate::session::public_client;
use crate::ui::error_banner;

#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let navigate = use_navigate();
    let (code_q, _) = query_signal::<String>("code");
    let code = RwSignal::new(code_q.get_untracked().unwrap_or_default());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let on_submit = move |ev: SubmitEvent| {
        let Some(pw) = start_password_submit(&ev, busy, error, password) else {
            return;
        };
        let req = AcceptInvitationRequest {
            code: code.get_untracked().trim().to_string(),
            password: pw,
            name: optional(name),
        };
        let navigate = navigate.clone();
        spawn_local(async move {
            match public_client().accept_invitation(&req).await {
                Ok(user) => {
                    let email = String::from(js_sys::encode_uri_component(&user.email));
                    navigate(&format!("/login?invited={email}"), Default::default());
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
            <form class="card narrow" on:submit=on_submit data-testid="accept-form">
                <Brand />
                <h1>"Join pgward"</h1>
                <p class="muted">"You were invited. Choose your password to create your account."</p>
                {error_banner(move || error.get())}
                <Field label="Invitation code">
                    <input
                        type="text"
                        required
                        autocomplete="off"
                        spellcheck="false"
                        data-testid="accept-code"
                        bind:value=code
                    />
                </Field>
                {name_field(name, "(optional: empty keeps the one suggested)", "accept-name")}
                {new_password_field(password, "accept-password")}
                <SubmitButton
                    busy
                    testid="accept-submit"
                    idle="Create my account"
                    working="Creating account…"
                    block=true
                />
                <p class="muted small center">
                    "Already have an account? " <A href=crate::session::at("/login")>"Sign in"</A>
                </p>
            </form>
        </div>
    }
}
