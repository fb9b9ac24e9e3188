//! Users and invitations (admins), one's own profile and sessions (everyone), and accepting an
//! invitation (public: the code is the credential).

mod handlers;
pub mod service;

crate::features::api::routes! {
    list, create, get, update, delete, end_sessions,
    list_invitations, create_invitation, revoke_invitation, accept_invitation,
    update_me, list_my_sessions, end_my_other_sessions, end_my_session,
}
