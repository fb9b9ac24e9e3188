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
    F: std::future::Future<Output = Result<AnyView, lazy_pages::LoadError>> + Send + 'static,
{
    move || {
        view! {
            <Shell>
                {Suspend::new(async move {
                    match page().await {
                        Ok(view) => {
                            lazy_pages::preload_the_rest();
                            view
                        }
                        // Most likely an upgrade: the other modules are gone too.
                        Err(_) => not_loaded(),
                    }
                })}
            </Shell>
        }
        .into_any()
    }
}

/// A page whose module could not be fetched: most often pgward was upgraded while this tab was open
/// (the old build's modules are gone), else the network. A reload fetches the current build.
fn not_loaded() -> AnyView {
    view! {
        <div class="card narrow" data-testid="page-not-loaded">
            <h1>"This page could not be loaded"</h1>
            <p class="muted">
                "pgward may have been updated since this tab opened, or the connection dropped. Reload to get the current version."
            </p>
            <button
                class="btn btn-primary"
                on:click=|_| {
                    let _ = window().location().reload();
                }
            >
                "Reload"
            </button>
        </div>
    }
    .into_any()
}

mod lazy_pages {
    use leptos::prelude::*;

    pub use leptos::wasm_split::SplitLoaderError as LoadError;

    /// One split function a page: wasm-split (scripts/build-spa.sh) makes a module of what each one
    /// reaches and the main module does not. `fallible`: a module that cannot be fetched is an `Err`
    /// the frame shows (Leptos's `#[lazy]` would panic, which aborts the whole app). Each also gets a
    /// preload function, which fetches its module without showing the page.
    macro_rules! lazy_pages {
        ($($name:ident / $preload:ident => $page:ident),* $(,)?) => {
            $(
                #[leptos::wasm_split::wasm_split(
                    $name,
                    wasm_split_path = ::leptos::wasm_split,
                    fallible,
                    preload($preload)
                )]
                pub fn $name() -> Result<AnyView, LoadError> {
                    Ok(crate::$page().into_any())
                }
            )*

            /// Once the first signed-in page is shown, fetches the other pages' modules one after
            /// another in the background, so that later navigation does not wait for the network
            /// (the first render still needs only the main module).
            pub fn preload_the_rest() {
                thread_local! {
                    static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
                }
                if STARTED.with(|s| s.replace(true)) {
                    return;
                }
                leptos::task::spawn_local(async {
                    // A module that cannot be fetched now is fetched again when its page opens.
                    $( let _ = $preload().await; )*
                });
            }
        };
    }

    lazy_pages! {
        dashboard_page / preload_dashboard_page => DashboardPage,
        databases_page / preload_databases_page => DatabasesPage,
        destinations_page / preload_destinations_page => DestinationsPage,
        tasks_page / preload_tasks_page => TasksPage,
        executions_page / preload_executions_page => ExecutionsPage,
        execution_page / preload_execution_page => ExecutionPage,
        restorations_page / preload_restorations_page => RestorationsPage,
        new_restoration_page / preload_new_restoration_page => NewRestorationPage,
        restoration_page / preload_restoration_page => RestorationPage,
        events_page / preload_events_page => EventsPage,
        webhooks_page / preload_webhooks_page => WebhooksPage,
        tokens_page / preload_tokens_page => TokensPage,
        profile_page / preload_profile_page => ProfilePage,
        users_page / preload_users_page => UsersPage,
        audit_page / preload_audit_page => AuditPage,
        system_page / preload_system_page => SystemPage,
        upload_page / preload_upload_page => UploadPage,
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
