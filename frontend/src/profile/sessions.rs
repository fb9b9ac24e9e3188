//! The user's login sessions: when and where from each was opened and last used, which one is this
//! browser's, and ending one or all the others.

use leptos::prelude::*;
use pgward_api_types::Session as LoginSession;

use crate::parts::{ACTIONS, ListCard, Reload, RowActions, RowButton, api_list, table_of};
use crate::session::use_session;
use crate::ui::{confirm, format_time};

const COLUMNS: &[&str] = &[
    "Opened",
    "Last used",
    "Address",
    "Browser",
    "Expires",
    ACTIONS,
];

#[component]
pub fn SessionsCard(reload: Reload) -> impl IntoView {
    let session = use_session();
    let actions = RowActions::with_reload(session, reload);
    let list = api_list(session, Some(reload), |c| async move {
        c.my_sessions().await.map(|l| l.items)
    });
    let rows = table_of(list, COLUMNS, "session-table", move |s| {
        session_row(actions, s)
    });
    let others = actions.row();
    let end_others = move |_| {
        if !confirm("End every other session? Those browsers must log in again.") {
            return;
        }
        others.run_and_report(
            |c| async move { c.end_my_other_sessions().await },
            |ended| {
                format!(
                    "Ended {} other session{}.",
                    ended.sessions,
                    if ended.sessions == 1 { "" } else { "s" }
                )
                .into()
            },
        );
    };
    view! {
        {actions.error_banner()}
        {actions.note_banner("session-note")}
        <ListCard list rows loading="Loading sessions…" empty=|| "No sessions." testid="sessions">
            <div class="card-header">
                <h2>"Where you are logged in"</h2>
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid="sessions-end-others"
                    disabled=others.busy
                    on:click=end_others
                >
                    "End all other sessions"
                </button>
            </div>
        </ListCard>
    }
}

fn session_row(actions: RowActions, s: LoginSession) -> impl IntoView {
    let id = s.id;
    let row = actions.row();
    let current = s.current;
    let session = actions.session;
    let confirm = if current {
        "End this session? You are logged out here.".to_string()
    } else {
        "End this session? That browser must log in again.".to_string()
    };
    let end = move || {
        row.run(
            move |c| async move { c.end_my_session(id).await },
            move |()| {
                if current {
                    // The layout sends a logged-out user to the login page.
                    session.clear();
                } else {
                    actions.reload.bump();
                }
            },
        );
    };
    let agent = s.user_agent.clone().unwrap_or_else(|| "—".into());
    view! {
        <tr data-testid="session-row" data-id=id.to_string() data-current=current.to_string()>
            <td class="nowrap">
                {format_time(Some(&s.created_at))}
                {current
                    .then(|| {
                        view! {
                            " "
                            <span class="badge badge-info" data-testid="session-current">
                                "this session"
                            </span>
                        }
                    })}
            </td>
            <td class="nowrap">{format_time(Some(&s.last_used_at))}</td>
            <td class="mono">{s.client_addr.clone().unwrap_or_else(|| "—".into())}</td>
            <td class="small ellipsis" title=agent.clone()>
                {agent.clone()}
            </td>
            <td class="nowrap">{format_time(Some(&s.expires_at))}</td>
            <td class="actions">
                <RowButton testid="session-end" danger=true confirm disabled=row.busy on_click=end>
                    {if current { "Log out here" } else { "End" }}
                </RowButton>
            </td>
        </tr>
    }
}
