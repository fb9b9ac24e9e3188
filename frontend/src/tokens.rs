//! API tokens for scripts and CI: list, create (the secret is shown once, the role at most the user's
//! own) and revoke. A section of the profile page; `/tokens` shows it on its own.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use pgward_api_types::{ApiToken, CreateApiTokenRequest, Role};

use crate::parts::{
    ACTIONS, Field, ListCard, PageHeader, Reload, RoleSelect, RowActions, RowButton, SubmitButton,
    api_list, save, table_of,
};
use crate::session::use_session;
use crate::ui::{error_banner, format_time};

const COLUMNS: &[&str] = &[
    "Name",
    "Token",
    "Role",
    "Created",
    "Expires",
    "Last used",
    ACTIONS,
];

/// `/tokens`: the profile's token section on a page of its own.
#[component]
pub fn TokensPage() -> impl IntoView {
    view! {
        <PageHeader
            title="API tokens"
            intro="Tokens let scripts and CI call the pgward API as you."
        />
        <TokensSection />
    }
}

/// The user's API tokens and the form creating one. `reload` (if given) makes the list fetch again,
/// e.g. after a password change ended every token.
#[component]
pub fn TokensSection(#[prop(optional)] reload: Option<Reload>) -> impl IntoView {
    let session = use_session();
    let actions = RowActions::with_reload(session, reload.unwrap_or_default());
    let list = api_list(session, Some(actions.reload), |c| async move {
        c.list_tokens().await.map(|l| l.items)
    });
    let rows = table_of(list, COLUMNS, "token-table", move |t| token_row(actions, t));

    let name = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let role = RwSignal::new(String::new());
    let creating = RwSignal::new(false);
    let form_error = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<String>);

    // A token may do at most what its creator may; it starts as the creator's role.
    let mine = Memo::new(move |_| session.role());
    let roles = Signal::derive(move || {
        let mine = mine.get().unwrap_or(Role::Viewer);
        Role::ALL.into_iter().filter(|r| *r <= mine).collect()
    });
    Effect::new(move || {
        if let Some(r) = mine.get() {
            role.set(r.as_str().to_string());
        }
    });

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
            role: role.with_untracked(|r| Role::parse(r)),
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
        {actions.error_banner()}
        <ListCard list rows loading="Loading tokens…" empty=|| "No API tokens yet." testid="tokens">
            <h2>"API tokens"</h2>
        </ListCard>
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
                <Field label="Expires after (days) " note="(empty: the server's default)">
                    <input
                        type="number"
                        min="1"
                        max="3650"
                        data-testid="token-days"
                        bind:value=days
                    />
                </Field>
                <Field label="Role " note="(at most your own)">
                    <RoleSelect value=role testid="token-role" roles />
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
        <tr data-testid="token-row" data-name=token.name.clone()>
            <td class="strong">{token.name.clone()}</td>
            <td class="mono">{format!("{}…", token.prefix)}</td>
            <td>
                <span class="badge" data-testid="token-role-badge">
                    {token.role.as_str()}
                </span>
            </td>
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
