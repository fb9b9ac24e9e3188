//! `/tokens`: API tokens for scripts and CI: list, create (the secret is shown once) and revoke.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use pgward_api_types::{ApiToken, CreateApiTokenRequest};

use crate::session::{Session, use_session};
use crate::ui::{confirm, error_banner, format_time};

#[component]
pub fn TokensPage() -> impl IntoView {
    let session = use_session();
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        reload.track();
        session.call(|c| async move { c.list_tokens().await.map(|l| l.items) })
    });
    let refresh = move || reload.update(|n| *n = n.wrapping_add(1));
    let action_error = RwSignal::new(None::<String>);

    let name = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let creating = RwSignal::new(false);
    let form_error = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<String>);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let days_text = days.get_untracked().trim().to_string();
        let expires_in_days = if days_text.is_empty() {
            None
        } else {
            match days_text.parse::<u32>() {
                Ok(d) if d > 0 => Some(d),
                _ => {
                    form_error.set(Some("Expiry must be a whole number of days.".into()));
                    return;
                }
            }
        };
        let req = CreateApiTokenRequest {
            name: name.get_untracked().trim().to_string(),
            expires_in_days,
        };
        creating.set(true);
        form_error.set(None);
        created.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| {
                    let req = req.clone();
                    async move { c.create_token(&req).await }
                })
                .await;
            creating.set(false);
            match result {
                Ok(t) => {
                    created.set(Some(t.token));
                    name.set(String::new());
                    days.set(String::new());
                    refresh();
                }
                Err(e) => form_error.set(Some(e)),
            }
        });
    };

    view! {
        <div class="page-header">
            <div>
                <h1>"API tokens"</h1>
                <p class="muted">"Tokens let scripts and CI call the pgward API as you."</p>
            </div>
        </div>
        {error_banner(move || action_error.get())}
        <section class="card">
            {move || match list.get() {
                None => view! { <p class="muted pad">"Loading tokens…"</p> }.into_any(),
                Some(Err(e)) => {
                    view! {
                        <div class="alert alert-error" role="alert" data-testid="error">
                            {e}
                        </div>
                    }
                        .into_any()
                }
                Some(Ok(items)) if items.is_empty() => {
                    view! { <p class="empty">"No API tokens yet."</p> }.into_any()
                }
                Some(Ok(items)) => {
                    view! {
                        <table class="table" data-testid="token-table">
                            <thead>
                                <tr>
                                    <th>"Name"</th>
                                    <th>"Token"</th>
                                    <th>"Created"</th>
                                    <th>"Expires"</th>
                                    <th>"Last used"</th>
                                    <th class="actions">"Actions"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {items
                                    .into_iter()
                                    .map(|t| token_row(session, t, refresh, action_error))
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any()
                }
            }}
        </section>
        <section class="card">
            <h2>"Create a token"</h2>
            {move || {
                created
                    .get()
                    .map(|token| {
                        view! {
                            <div class="alert alert-ok" data-testid="token-created">
                                <div>"Copy this token now: it will not be shown again."</div>
                                <code class="secret" data-testid="token-secret">
                                    {token}
                                </code>
                            </div>
                        }
                    })
            }}
            <form class="form-grid" on:submit=on_submit>
                <label class="field">
                    <span>"Name"</span>
                    <input
                        type="text"
                        required
                        maxlength="100"
                        placeholder="e.g. ci-pipeline"
                        data-testid="token-name"
                        bind:value=name
                    />
                </label>
                <label class="field">
                    <span>"Expires after (days) " <small class="muted">"(empty: never)"</small></span>
                    <input
                        type="number"
                        min="1"
                        max="3650"
                        data-testid="token-days"
                        bind:value=days
                    />
                </label>
                <div class="span-2">{error_banner(move || form_error.get())}</div>
                <div class="form-actions span-2">
                    <div class="spacer"></div>
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="token-submit"
                        disabled=move || creating.get()
                    >
                        "Create token"
                    </button>
                </div>
            </form>
        </section>
    }
}

fn token_row(
    session: Session,
    token: ApiToken,
    refresh: impl Fn() + Copy + Send + Sync + 'static,
    action_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = token.id;
    let name = token.name.clone();
    let busy = RwSignal::new(false);
    let revoke = move |_| {
        if !confirm(&format!(
            "Revoke the token \u{201c}{name}\u{201d}? Clients using it stop working."
        )) {
            return;
        }
        busy.set(true);
        action_error.set(None);
        spawn_local(async move {
            let result = session
                .call(|c| async move { c.revoke_token(id).await })
                .await;
            busy.set(false);
            match result {
                Ok(()) => refresh(),
                Err(e) => action_error.set(Some(e)),
            }
        });
    };
    view! {
        <tr data-testid="token-row">
            <td class="strong">{token.name.clone()}</td>
            <td class="mono">{format!("{}…", token.prefix)}</td>
            <td>{format_time(Some(&token.created_at))}</td>
            <td>
                {token
                    .expires_at
                    .as_ref()
                    .map(|t| format_time(Some(t)))
                    .unwrap_or_else(|| "never".into())}
            </td>
            <td>{format_time(token.last_used_at.as_ref())}</td>
            <td class="actions">
                <button
                    type="button"
                    class="btn btn-small btn-danger"
                    data-testid="token-revoke"
                    on:click=revoke
                    disabled=move || busy.get()
                >
                    "Revoke"
                </button>
            </td>
        </tr>
    }
}
