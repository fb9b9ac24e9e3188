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
                <Route path=path!("/dashboard") view=shell(lazy_pages::dashboard_page) />
                <Route path=path!("/databases") view=shell(lazy_pages::databases_page) />
                <Route path=path!("/destinations") view=shell(lazy_pages::destinations_page) />
                <Route path=path!("/tasks") view=shell(lazy_pages::tasks_page) />
                <Route path=path!("/executions") view=shell(lazy_pages::executions_page) />
                <Route path=path!("/executions/:id") view=shell(lazy_pages::execution_page) />
                <Route path=path!("/restorations") view=shell(lazy_pages::restorations_page) />
                <Route path=path!("/restorations/new") view=shell(lazy_pages::new_restoration_page) />
                <Route path=path!("/restorations/:id") view=shell(lazy_pages::restoration_page) />
                <Route path=path!("/events") view=shell(lazy_pages::events_page) />
                <Route path=path!("/webhooks") view=shell(lazy_pages::webhooks_page) />
                <Route path=path!("/tokens") view=shell(lazy_pages::tokens_page) />
                <Route path=path!("/profile") view=shell(lazy_pages::profile_page) />
                <Route path=path!("/users") view=shell(lazy_pages::users_page) />
                <Route path=path!("/audit") view=shell(lazy_pages::audit_page) />
                <Route path=path!("/system") view=shell(lazy_pages::system_page) />
                <Route path=path!("/upload") view=shell(lazy_pages::upload_page) />
            </Routes>
        </Router>
    }
}

/// A logged-in page, inside the frame with the navigation. Its code is a WebAssembly module of
/// its own, fetched the first time the page is shown (the first download is the frame and sign-in).
fn shell<F>(page: fn() -> F) -> impl Fn() -> AnyView + Clone + Send + 'static
where
    F: std::future::Future<Output = AnyView> + Send + 'static,
{
    move || view! { <Shell>{Suspend::new(page())}</Shell> }.into_any()
}

mod lazy_pages {
    use leptos::prelude::*;

    /// One `#[lazy]` function a page: wasm-split (scripts/build-spa.sh) makes a module of what each
    /// one reaches and the main module does not.
    macro_rules! lazy_pages {
        ($($name:ident => $page:ident),* $(,)?) => {
            $(
                #[lazy]
                pub fn $name() -> AnyView {
                    crate::$page().into_any()
                }
            )*
        };
    }

    lazy_pages! {
        dashboard_page => DashboardPage,
        databases_page => DatabasesPage,
        destinations_page => DestinationsPage,
        tasks_page => TasksPage,
        executions_page => ExecutionsPage,
        execution_page => ExecutionPage,
        restorations_page => RestorationsPage,
        new_restoration_page => NewRestorationPage,
        restoration_page => RestorationPage,
        events_page => EventsPage,
        webhooks_page => WebhooksPage,
        tokens_page => TokensPage,
        profile_page => ProfilePage,
        users_page => UsersPage,
        audit_page => AuditPage,
        system_page => SystemPage,
        upload_page => UploadPage,
    }
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
