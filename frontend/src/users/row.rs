//! One user as a table row: the role (changed at once by its select), whether they may log in, and
//! ending their sessions or deleting them. Refusals (e.g. `last_admin`) go to the page's banner.

use leptos::prelude::*;
use pgward_api_types::{Role, UpdateUserRequest, User};
use uuid::Uuid;

use crate::parts::{DeleteButton, RowActions, RowButton};
use crate::ui::{confirm, format_time};

fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

pub(super) fn user_row(actions: RowActions, u: User, me: Memo<Option<Uuid>>) -> impl IntoView {
    let id = u.id;
    let row = actions.row();
    let email = u.email.clone();
    let is_me = move || me.get() == Some(id);

    // Changing the role: a refused change (e.g. `last_admin`) puts the select back on the role kept.
    let role_now = u.role;
    let shown = RwSignal::new(role_now);
    let role_email = email.clone();
    let change_role = move |ev: leptos::ev::Event| {
        let Some(role) = Role::parse(&event_target_value(&ev)) else {
            return;
        };
        shown.set(role);
        if role == role_now {
            return;
        }
        let email = role_email.clone();
        let req = UpdateUserRequest {
            role: Some(role),
            ..Default::default()
        };
        row.request(
            move |c| {
                let req = req.clone();
                async move { c.update_user(id, &req).await }
            },
            move |result| {
                match result {
                    Ok(_) => actions.say(format!("{email} is now {}.", role.as_str())),
                    Err(e) => {
                        actions.error.set(Some(e));
                        shown.try_set(role_now);
                    }
                }
                actions.reload.bump();
            },
        );
    };

    let disabled = u.disabled;
    let toggle_email = email.clone();
    let ask_toggle =
        format!("Disable {email}? They are logged out at once and their API tokens stop working.");
    let toggle = move || {
        // Enabling needs no second thought.
        if !disabled && !confirm(&ask_toggle) {
            return;
        }
        let email = toggle_email.clone();
        let req = UpdateUserRequest {
            disabled: Some(!disabled),
            ..Default::default()
        };
        row.run_and_report(
            move |c| {
                let req = req.clone();
                async move { c.update_user(id, &req).await }
            },
            move |_| {
                if disabled {
                    format!("{email} may log in again.").into()
                } else {
                    format!("{email} is disabled; their sessions and API tokens were ended.").into()
                }
            },
        );
    };

    let with_tokens = RwSignal::new(false);
    let end_email = email.clone();
    let end_sessions = move || {
        let email = end_email.clone();
        let tokens = with_tokens.get_untracked();
        row.run_and_report(
            move |c| async move { c.end_user_sessions(id, tokens).await },
            move |ended| {
                let mut text = format!("Ended {} of {email}", plural(ended.sessions, "session"));
                if tokens {
                    text.push_str(&format!(" and {}", plural(ended.api_tokens, "API token")));
                }
                text.push('.');
                text.into()
            },
        );
    };
    let ask_end = format!("End every session of {email}? They must log in again.");

    let delete_email = email.clone();
    let delete = move || {
        let email = delete_email.clone();
        row.run_and_report(
            move |c| async move { c.delete_user(id).await },
            move |()| format!("Deleted {email}.").into(),
        );
    };
    let ask_delete = format!(
        "Delete the user {email}? Their sessions and API tokens end; what they did stays in the audit log."
    );

    let (status_class, status_text) = if disabled {
        ("badge badge-bad", "disabled")
    } else {
        ("badge badge-ok", "active")
    };
    view! {
        <tr data-testid=format!("user-row-{email}") data-role=role_now.as_str() data-disabled=disabled.to_string()>
            <td>
                <span class="strong" data-testid="user-email">
                    {email.clone()}
                </span>
                {move || is_me().then(|| view! { " " <span class="badge badge-info">"you"</span> })}
            </td>
            <td>{u.name.clone().unwrap_or_else(|| "—".into())}</td>
            <td>
                <select
                    aria-label=format!("Role of {email}")
                    data-testid=format!("user-role-{email}")
                    disabled=move || row.busy.get()
                    on:change=change_role
                >
                    {Role::ALL
                        .into_iter()
                        .map(|r| {
                            view! {
                                <option value=r.as_str() prop:selected=move || shown.get() == r>
                                    {r.as_str()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </td>
            <td>
                <span class=status_class data-testid="user-status">
                    {status_text}
                </span>
            </td>
            <td class="nowrap">{format_time(Some(&u.created_at))}</td>
            <td class="actions">
                <label class="checkbox inline-check" title="Also revoke their API tokens">
                    <input
                        type="checkbox"
                        data-testid=format!("user-end-tokens-{email}")
                        bind:checked=with_tokens
                    />
                    <span class="small">"also API tokens"</span>
                </label>
                <RowButton
                    testid=format!("user-end-sessions-{email}")
                    confirm=ask_end
                    disabled=row.busy
                    on_click=end_sessions
                >
                    "End sessions"
                </RowButton>
                <RowButton
                    testid=format!("user-disable-{email}")
                    disabled=row.busy
                    on_click=toggle
                >
                    {if disabled { "Enable" } else { "Disable" }}
                </RowButton>
                <DeleteButton testid=format!("user-delete-{email}") confirm=ask_delete disabled=row.busy on_click=delete />
            </td>
        </tr>
    }
}
