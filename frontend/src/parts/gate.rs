//! What a role may see: controls shown only to those who may use them, and pages that tell the others
//! which role they need.

use leptos::prelude::*;
use leptos_router::components::A;
use pgward_api_types::Role;

use crate::session::use_session;
use crate::ui::alert_error;

/// The children, only while the logged-in user has at least `role` (nothing while the role is unknown).
#[component]
pub fn Can(role: Role, children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    view! { <Show when=move || session.can(role)>{children()}</Show> }
}

/// A page (the children) for `role` and above; anyone else is told which role it needs.
#[component]
pub fn RequireRole(role: Role, children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let state = Memo::new(move |_| match (session.role(), session.me_error()) {
        (Some(r), _) if r >= role => Gate::Open,
        (Some(_), _) => Gate::Closed,
        (None, Some(e)) => Gate::Error(e),
        (None, None) => Gate::Loading,
    });
    move || match state.get() {
        Gate::Open => children().into_any(),
        Gate::Closed => forbidden(role).into_any(),
        Gate::Error(e) => alert_error(e).into_any(),
        Gate::Loading => view! { <p class="muted pad">"Loading…"</p> }.into_any(),
    }
}

#[derive(Clone, PartialEq)]
enum Gate {
    Loading,
    Error(String),
    Open,
    Closed,
}

/// What someone without the role sees instead of the page.
pub fn forbidden(role: Role) -> impl IntoView {
    view! {
        <section class="card narrow-center" data-testid="forbidden">
            <h1>"Not for your role"</h1>
            <p class="muted">
                {format!("You need the {} role to open this page.", role.as_str())}
            </p>
            <A href=crate::session::at("/dashboard") attr:class="btn">
                "Back to the dashboard"
            </A>
        </section>
    }
}
