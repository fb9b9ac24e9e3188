//! `/tokens`: API tokens for scripts and CI: list, create (the secret is shown once) and revoke.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use pgward_api_types::{ApiToken, CreateApiTokenRequest};

use crate::parts::{
    ACTIONS, Field, ListCard, PageHeader, RowActions, RowButton, SubmitButton, api_list, save,
    table_of,
};
use crate::session::use_session;
use crate::ui::{error_banner, format_time};

const COLUMNS: &[&str] = &["Name", "Token", "Created", "Expires", "Last used", ACTIONS];

#[component]
pub fn TokensPage() -> impl IntoView {
    let actions = RowActions::new(use_session());
    let session = actions.session;
    let list = api_list(session, Some(actions.reload), |c| async move {
        c.list_tokens().await.map(|l| l.items)
    });
    let rows = table_of(list, COLUMNS, "token-table", move |t| token_row(actions, t));

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
            role: None,
        };
        form_error.set(None);
        created.set(None);
        save(
            session,
            creating,
            req,
            |c, req| async move { c.create_token(&req).await },
            move |result| match result {
                Ok(t) => {
                    created.set(Some(t.token));
                    name.set(String::new());
                    days.set(String::new());
                    actions.reload.bump();
                }
                Err(f) => form_error.set(Some(f.message)),
            },
        );
    };

    view! {
        <PageHeader
            title="API tokens"
            intro="Tokens let scripts and CI call the pgward API as you."
        />
        {actions.error_banner()}
        <ListCard list rows loading="Loading tokens…" empty=|| "No API tokens yet." />
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
                <Field label="Name">
                    <input
                        type="text"
                        required
                        maxlength="100"
                        placeholder="e.g. ci-pipeline"
                        data-testid="token-name"
                        bind:value=name
                    />
                </Field>
                <Field label="Expires after (days) " note="(empty: never)">
                    <input
                        type="number"
                        min="1"
                        max="3650"
                        data-testid="token-days"
                        bind:value=days
                    />
                </Field>
                <div class="span-2">{error_banner(move || form_error.get())}</div>
                <div class="form-actions span-2">
                    <div class="spacer"></div>
                    <SubmitButton busy=creating testid="token-submit" idle="Create token" />
                </div>
            </form>
        </section>
    }
}

fn token_row(actions: RowActions, token: ApiToken) -> impl IntoView {
    let id = token.id;
    let row = actions.row();
    let confirm = format!(
        "Revoke the token \u{201c}{}\u{201d}? Clients using it stop working.",
        token.name
    );
    let revoke = row.reloading(move |c| async move { c.revoke_token(id).await });
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
                <RowButton testid="token-revoke" danger=true confirm disabled=row.busy on_click=revoke>
                    "Revoke"
                </RowButton>
            </td>
        </tr>
    }
}
