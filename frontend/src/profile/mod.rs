//! `/profile`: what every user manages of their own: their name, their password, their login sessions
//! and their API tokens.

mod sessions;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use pgward_api_types::UpdateProfileRequest;

use crate::auth_pages::MIN_PASSWORD;
use crate::parts::{Field, PageHeader, Reload, SubmitButton, TextField, save};
use crate::session::use_session;
use crate::tokens::TokensSection;
use crate::ui::{FieldErrors, browser_timezone, format_time, now, set_time_zone, stored_time_zone};

#[component]
pub fn ProfilePage() -> impl IntoView {
    // A password change ends the other sessions and every API token: both lists fetch again.
    let sessions = Reload::new();
    let tokens = Reload::new();
    let password_changed = move || {
        sessions.bump();
        tokens.bump();
    };
    view! {
        <PageHeader title="Your profile" intro="Your name, your password, where you are logged in and your API tokens." />
        <div class="two-cards">
            <NameCard />
            <PasswordCard on_changed=password_changed />
        </div>
        <TimeZoneCard />
        <sessions::SessionsCard reload=sessions />
        <TokensSection reload=tokens />
    }
}

/// The name (and, read-only, the email and role).
#[component]
fn NameCard() -> impl IntoView {
    let session = use_session();
    let name = RwSignal::new(String::new());
    let errors = FieldErrors::new();
    let saving = RwSignal::new(false);
    let saved = RwSignal::new(false);
    // The form starts from the stored name, once it is known.
    let stored = Memo::new(move |_| session.me().map(|m| m.user.name.unwrap_or_default()));
    Effect::new(move || {
        if let Some(n) = stored.get() {
            name.set(n);
        }
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        saved.set(false);
        let req = UpdateProfileRequest {
            name: Some(name.get_untracked().trim().to_string()),
        };
        save(
            session,
            saving,
            req,
            |c, req| async move { c.update_me(&req).await },
            move |result| match result {
                Ok(_) => {
                    saved.set(true);
                    // The top bar shows the new name.
                    session.reload_me();
                }
                Err(f) => errors.show(f),
            },
        );
    };
    let detail = move || {
        session.me().map(|m| {
            format!(
                "{} \u{b7} {} \u{b7} since {}",
                m.user.email,
                m.effective_role.as_str(),
                format_time(Some(&m.user.created_at))
            )
        })
    };

    view! {
        <section class="card" data-testid="profile-name-card">
            <h2>"Name"</h2>
            <p class="muted small" data-testid="profile-account">{detail}</p>
            {errors.banner()}
            <form on:submit=on_submit>
                <TextField
                    label="Name"
                    value=name
                    testid="profile-name"
                    placeholder="How pgward greets you (empty: your email)"
                    error=errors.at("name")
                />
                <div class="form-actions">
                    {move || {
                        saved
                            .get()
                            .then(|| {
                                view! {
                                    <span class="ok-text" data-testid="profile-name-saved">
                                        "Saved."
                                    </span>
                                }
                            })
                    }}
                    <div class="spacer"></div>
                    <SubmitButton busy=saving testid="profile-name-submit" idle="Save name" />
                </div>
            </form>
        </section>
    }
}

/// The zone pgward shows times in, kept in this browser only (a laptop travels; the server has no say).
/// Tasks' schedules and runs keep their own zone.
#[component]
fn TimeZoneCard() -> impl IntoView {
    // Empty: follow the browser.
    let zone = RwSignal::new(stored_time_zone().unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let example = RwSignal::new(format_time(Some(&now())));
    let browser = browser_timezone();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let z = zone.get_untracked();
        match set_time_zone((!z.is_empty()).then_some(z.as_str())) {
            Ok(()) => {
                error.set(None);
                saved.set(true);
                example.set(format_time(Some(&now())));
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let zones = crate::ui::time_zones()
        .into_iter()
        .filter(|name| name != "UTC")
        .map(|name| {
            let (selected, value) = (name.clone(), name.clone());
            view! { <option value=value prop:selected=move || zone.with(|z| *z == selected)>{name}</option> }
        })
        .collect_view();
    view! {
        <section class="card" data-testid="profile-tz-card">
            <h2>"Time zone"</h2>
            <p class="muted small">
                "Times across pgward are shown in this zone, in this browser. Tasks' schedules and runs keep their own zone."
            </p>
            {move || error.get().map(crate::ui::alert_error)}
            <form on:submit=on_submit>
                <Field label="Show times in">
                    <select data-testid="profile-tz" bind:value=zone>
                        <option value="" prop:selected=move || zone.with(String::is_empty)>
                            {format!("This browser's zone ({browser})")}
                        </option>
                        <option value="UTC" prop:selected=move || zone.with(|z| z == "UTC")>"UTC"</option>
                        {zones}
                    </select>
                </Field>
                <div class="form-actions">
                    <span class="muted small" data-testid="profile-tz-example">
                        "Now: " {move || example.get()}
                    </span>
                    {move || {
                        saved
                            .get()
                            .then(|| {
                                view! {
                                    <span class="ok-text" data-testid="profile-tz-saved">
                                        "Saved."
                                    </span>
                                }
                            })
                    }}
                    <div class="spacer"></div>
                    <button type="submit" class="btn btn-primary" data-testid="profile-tz-submit">
                        "Save time zone"
                    </button>
                </div>
            </form>
        </section>
    }
}

/// Changing the password: the current one, and the new one twice.
#[component]
fn PasswordCard(on_changed: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let session = use_session();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let saving = RwSignal::new(false);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        done.set(false);
        let (cur, pw) = (current.get_untracked(), new.get_untracked());
        if pw.chars().count() < MIN_PASSWORD {
            error.set(Some(format!(
                "The new password needs at least {MIN_PASSWORD} characters."
            )));
            return;
        }
        if pw != repeat.get_untracked() {
            error.set(Some("The two new passwords differ.".into()));
            return;
        }
        error.set(None);
        save(
            session,
            saving,
            (cur, pw),
            |c, (cur, pw)| async move { c.change_password(&cur, &pw).await },
            move |result| match result {
                Ok(()) => {
                    for s in [current, new, repeat] {
                        s.set(String::new());
                    }
                    done.set(true);
                    on_changed();
                }
                Err(f) => error.set(Some(f.message)),
            },
        );
    };

    view! {
        <section class="card" data-testid="profile-password-card">
            <h2>"Password"</h2>
            {move || error.get().map(crate::ui::alert_error)}
            {move || {
                done.get()
                    .then(|| {
                        view! {
                            <div class="alert alert-ok" role="status" data-testid="profile-password-changed">
                                "Password changed. Your other sessions and all your API tokens were ended."
                            </div>
                        }
                    })
            }}
            <form on:submit=on_submit>
                <Field label="Current password">
                    <input
                        type="password"
                        required
                        autocomplete="current-password"
                        data-testid="profile-current-password"
                        bind:value=current
                    />
                </Field>
                <Field label="New password " note=format!("(at least {MIN_PASSWORD} characters)")>
                    <input
                        type="password"
                        required
                        minlength=MIN_PASSWORD
                        autocomplete="new-password"
                        data-testid="profile-new-password"
                        bind:value=new
                    />
                </Field>
                <Field label="New password, again">
                    <input
                        type="password"
                        required
                        autocomplete="new-password"
                        data-testid="profile-repeat-password"
                        bind:value=repeat
                    />
                </Field>
                <div class="form-actions">
                    <div class="spacer"></div>
                    <SubmitButton
                        busy=saving
                        testid="profile-password-submit"
                        idle="Change password"
                        working="Changing…"
                    />
                </div>
            </form>
        </section>
    }
}
