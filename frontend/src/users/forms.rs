//! Adding people: a user with a password the admin sets, or an invitation whose one-time link the
//! invited person opens to choose their own.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use pgward_api_types::{CreateInvitationRequest, CreateUserRequest, CreatedInvitation, Role};

use crate::parts::{Field, RoleSelect, SubmitButton, TextField, save};
use crate::session::{origin, use_session};
use crate::ui::FieldErrors;

/// Every role, for the selects.
fn all_roles() -> Signal<Vec<Role>> {
    Signal::stored(Role::ALL.to_vec())
}

/// The text of an optional input: `None` when empty.
fn optional(s: RwSignal<String>) -> Option<String> {
    let v = s.get_untracked().trim().to_string();
    (!v.is_empty()).then_some(v)
}

fn chosen_role(s: RwSignal<String>) -> Role {
    s.with_untracked(|r| Role::parse(r)).unwrap_or(Role::Viewer)
}

#[component]
pub fn CreateUser(on_saved: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let session = use_session();
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer.as_str().to_string());
    let password = RwSignal::new(String::new());
    let errors = FieldErrors::new();
    let saving = RwSignal::new(false);
    let created = RwSignal::new(None::<String>);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        created.set(None);
        let req = CreateUserRequest {
            email: email.get_untracked().trim().to_string(),
            password: password.get_untracked(),
            name: optional(name),
            role: chosen_role(role),
        };
        save(
            session,
            saving,
            req,
            |c, req| async move { c.create_user(&req).await },
            move |result| match result {
                Ok(user) => {
                    created.set(Some(format!(
                        "Created {} ({}). Tell them their password; they should change it on their profile.",
                        user.email,
                        user.role.as_str()
                    )));
                    for s in [email, name, password] {
                        s.set(String::new());
                    }
                    on_saved();
                }
                Err(f) => errors.show(f),
            },
        );
    };

    view! {
        <section class="card">
            <h2>"Create a user"</h2>
            {errors.banner()}
            {move || {
                created
                    .get()
                    .map(|t| {
                        view! {
                            <div class="alert alert-ok" role="status" data-testid="user-created">
                                {t}
                            </div>
                        }
                    })
            }}
            <form on:submit=on_submit data-testid="user-create-form">
                <TextField label="Email" kind="email" value=email testid="user-create-email" error=errors.at("email") />
                <TextField label="Name (optional)" value=name testid="user-create-name" error=errors.at("name") />
                <Field label="Role" error=errors.at("role")>
                    <RoleSelect value=role testid="user-create-role" roles=all_roles() />
                </Field>
                <TextField
                    label="Password (at least 12 characters)"
                    kind="password"
                    value=password
                    testid="user-create-password"
                    error=errors.at("password")
                />
                <div class="form-actions">
                    <div class="spacer"></div>
                    <SubmitButton busy=saving testid="user-create-submit" idle="Create user" working="Creating…" />
                </div>
            </form>
        </section>
    }
}

#[component]
pub fn InviteUser(on_saved: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let session = use_session();
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer.as_str().to_string());
    let hours = RwSignal::new(String::new());
    let errors = FieldErrors::new();
    let saving = RwSignal::new(false);
    let created = RwSignal::new(None::<CreatedInvitation>);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        created.set(None);
        let expires_in_hours = match optional(hours).map(|h| h.parse::<u32>()) {
            None => None,
            Some(Ok(h)) if (1..=720).contains(&h) => Some(h),
            Some(_) => {
                return errors.reject(
                    "expires_in_hours",
                    "The invitation expires after 1 to 720 hours.".into(),
                );
            }
        };
        let req = CreateInvitationRequest {
            email: email.get_untracked().trim().to_string(),
            name: optional(name),
            role: chosen_role(role),
            expires_in_hours,
        };
        save(
            session,
            saving,
            req,
            |c, req| async move { c.create_invitation(&req).await },
            move |result| match result {
                Ok(inv) => {
                    created.set(Some(inv));
                    for s in [email, name, hours] {
                        s.set(String::new());
                    }
                    on_saved();
                }
                Err(f) => errors.show(f),
            },
        );
    };

    view! {
        <section class="card">
            <h2>"Invite someone"</h2>
            {errors.banner()}
            {move || created.get().map(invitation_link)}
            <form on:submit=on_submit data-testid="invite-form">
                <TextField label="Email" kind="email" value=email testid="invite-email" error=errors.at("email") />
                <TextField label="Name (optional)" value=name testid="invite-name" error=errors.at("name") />
                <Field label="Role" error=errors.at("role")>
                    <RoleSelect value=role testid="invite-role" roles=all_roles() />
                </Field>
                <TextField
                    label="Expires after hours (empty: 72)"
                    kind="number"
                    value=hours
                    testid="invite-hours"
                    placeholder="72"
                    error=errors.at("expires_in_hours")
                />
                <div class="form-actions">
                    <div class="spacer"></div>
                    <SubmitButton busy=saving testid="invite-submit" idle="Create invitation" working="Inviting…" />
                </div>
            </form>
        </section>
    }
}

/// The one-time code and the link made of it, shown once right after the invitation is created.
fn invitation_link(inv: CreatedInvitation) -> impl IntoView {
    let code = String::from(js_sys::encode_uri_component(&inv.code));
    let link = format!("{}/accept-invitation?code={code}", origin());
    view! {
        <div class="alert alert-ok" role="status" data-testid="invitation-created">
            <div>
                {format!(
                    "Send this link to {} now: it is not shown again. It works once, until {}.",
                    inv.invitation.email,
                    crate::ui::format_time(Some(&inv.invitation.expires_at)),
                )}
            </div>
            <code class="secret" data-testid="invitation-link">
                {link}
            </code>
            <div class="small">
                "Code: " <code data-testid="invitation-code">{inv.code}</code>
                " (select and copy; the link already contains it)"
            </div>
        </div>
    }
}
