//! pgward's web UI: a client-side-rendered Leptos app. It talks to the API only through
//! `pgward-api-client`, with the DTOs of `pgward-api-types`.

mod accept_invitation;
mod audit;
mod auth_pages;
mod dashboard;
mod databases;
mod destinations;
mod events;
mod executions;
mod layout;
mod parts;
mod profile;
mod restorations;
mod session;
mod system;
mod tasks;
mod theme;
mod tokens;
mod ui;
mod upload;
mod users;
mod webhooks;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::accept_invitation::AcceptInvitationPage;
use crate::audit::AuditPage;
use crate::auth_pages::{Home, LoginPage, SetupPage};
use crate::dashboard::DashboardPage;
use crate::databases::DatabasesPage;
use crate::destinations::DestinationsPage;
use crate::events::EventsPage;
use crate::executions::{ExecutionPage, ExecutionsPage};
use crate::layout::Shell;
use crate::profile::ProfilePage;
use crate::restorations::{NewRestorationPage, RestorationPage, RestorationsPage};
use crate::session::Session;
use crate::system::SystemPage;
use crate::tasks::TasksPage;
use crate::tokens::TokensPage;
use crate::upload::UploadPage;
use crate::users::UsersPage;
use crate::webhooks::WebhooksPage;

fn main() {
    console_error_panic_hook::set_once();
    // boot.js has applied a stored theme already; this covers a page without it.
    theme::Theme::stored().apply();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    provide_context(Session::start());
    view! {
        <Router base=session::base_path()>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=Home />
                <Route path=path!("/setup") view=SetupPage />
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/accept-invitation") view=AcceptInvitationPage />
                <Route path=path!("/dashboard") view=shell(DashboardPage) />
                <Route path=path!("/databases") view=shell(DatabasesPage) />
                <Route path=path!("/destinations") view=shell(DestinationsPage) />
                <Route path=path!("/tasks") view=shell(TasksPage) />
                <Route path=path!("/executions") view=shell(ExecutionsPage) />
                <Route path=path!("/executions/:id") view=shell(ExecutionPage) />
                <Route path=path!("/restorations") view=shell(RestorationsPage) />
                <Route path=path!("/restorations/new") view=shell(NewRestorationPage) />
                <Route path=path!("/restorations/:id") view=shell(RestorationPage) />
                <Route path=path!("/events") view=shell(EventsPage) />
                <Route path=path!("/webhooks") view=shell(WebhooksPage) />
                <Route path=path!("/tokens") view=shell(TokensPage) />
                <Route path=path!("/profile") view=shell(ProfilePage) />
                <Route path=path!("/users") view=shell(UsersPage) />
                <Route path=path!("/audit") view=shell(AuditPage) />
                <Route path=path!("/system") view=shell(SystemPage) />
                <Route path=path!("/upload") view=shell(UploadPage) />
            </Routes>
        </Router>
    }
}

/// A logged-in page, inside the frame with the navigation.
fn shell<V: IntoView + 'static>(page: fn() -> V) -> impl Fn() -> AnyView + Clone + Send + 'static {
    move || view! { <Shell>{page()}</Shell> }.into_any()
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <div class="centered">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <A href=crate::session::at("/") attr:class="btn btn-primary">"Go to pgward"</A>
            </div>
        </div>
    }
}
