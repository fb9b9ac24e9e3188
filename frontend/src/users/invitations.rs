//! Invitations not accepted yet, with revoke (the code stops working).

use leptos::prelude::*;
use pgward_api_types::Invitation;

use crate::parts::{ACTIONS, ListCard, RowActions, RowButton, api_list, table_of};
use crate::ui::format_time;

const COLUMNS: &[&str] = &["Email", "Name", "Role", "Invited", "Expires", ACTIONS];

pub(super) fn pending(actions: RowActions) -> impl IntoView {
    let list = api_list(actions.session, Some(actions.reload), |c| async move {
        c.list_invitations().await.map(|l| l.items)
    });
    let rows = table_of(list, COLUMNS, "invitation-table", move |i| {
        invitation_row(actions, i)
    });
    view! {
        <ListCard
            list
            rows
            loading="Loading invitations…"
            empty_testid="invitation-empty"
            empty=|| "No pending invitations."
            testid="invitations"
        >
            <h2>"Pending invitations"</h2>
        </ListCard>
    }
}

fn invitation_row(actions: RowActions, i: Invitation) -> impl IntoView {
    let id = i.id;
    let row = actions.row();
    let email = i.email.clone();
    let confirm = format!("Revoke the invitation of {email}? Its link stops working.");
    let revoke = move || {
        let email = email.clone();
        row.run_and_report(
            move |c| async move { c.revoke_invitation(id).await },
            move |()| format!("Revoked the invitation of {email}.").into(),
        );
    };
    view! {
        <tr data-testid="invitation-row" data-email=i.email.clone()>
            <td class="strong">{i.email.clone()}</td>
            <td>{i.name.clone().unwrap_or_else(|| "—".into())}</td>
            <td>
                <span class="badge">{i.role.as_str()}</span>
            </td>
            <td class="nowrap">{format_time(Some(&i.created_at))}</td>
            <td class="nowrap">{format_time(Some(&i.expires_at))}</td>
            <td class="actions">
                <RowButton
                    testid=format!("invitation-revoke-{}", i.email)
                    danger=true
                    confirm
                    disabled=row.busy
                    on_click=revoke
                >
                    "Revoke"
                </RowButton>
            </td>
        </tr>
    }
}
