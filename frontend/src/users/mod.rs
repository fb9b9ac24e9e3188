//! `/users` (admins only): the people who use pgward. The list with per-user role, disable or enable,
//! end sessions and delete; a form creating a user with a password; invitations (the one-time link is
//! shown once) and the pending ones with revoke.

mod forms;
mod invitations;
mod row;

use leptos::prelude::*;
use pgward_api_types::Role;

use crate::parts::{
    ListCard, PageHeader, RefreshButton, Reload, RequireRole, RowActions, api_list,
};
use crate::session::use_session;

const COLUMNS: &[&str] = &[
    "Email",
    "Name",
    "Role",
    "Status",
    "Created",
    crate::parts::ACTIONS,
];

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Admin>
            <Users />
        </RequireRole>
    }
}

#[component]
fn Users() -> impl IntoView {
    let session = use_session();
    let actions = RowActions::new(session);
    // Revoking an invitation reports to the same banners, and reloads the invitations only.
    let invitations = RowActions {
        reload: Reload::new(),
        ..actions
    };
    let list = api_list(session, Some(actions.reload), |c| async move {
        c.list_users().await.map(|l| l.items)
    });
    let me = Memo::new(move |_| session.me().map(|m| m.user.id));
    let rows = crate::parts::table_of(list, COLUMNS, "user-table", move |u| {
        row::user_row(actions, u, me)
    });

    view! {
        <div data-testid="users-page">
            <PageHeader title="Users" intro="Who may use pgward, and what each of them may do.">
                <RefreshButton reload=actions.reload testid="users-refresh" />
            </PageHeader>
            <p class="muted small roles-help">
                <strong>"viewer"</strong>
                " reads everything but backups' contents · "
                <strong>"operator"</strong>
                " also changes databases, destinations, tasks and webhooks, runs, restores and downloads · "
                <strong>"admin"</strong>
                " also manages users, invitations and reads the audit log."
            </p>
            {actions.error_banner()}
            {actions.note_banner("user-note")}
            <ListCard list rows loading="Loading users…" empty=|| "No users." />
            <div class="two-cards">
                <forms::CreateUser on_saved=move || actions.reload.bump() />
                <forms::InviteUser on_saved=move || invitations.reload.bump() />
            </div>
            {invitations::pending(invitations)}
        </div>
    }
}
