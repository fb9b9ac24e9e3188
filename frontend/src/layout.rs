//! The frame around every logged-in page: top bar with navigation, the user and a logout button.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Redirect};

use crate::session::use_session;

#[component]
pub fn Shell(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    view! {
        <Show
            when=move || session.logged_in()
            fallback=move || {
                if session.restoring() {
                    view! { <p class="muted centered">"Loading…"</p> }.into_any()
                } else {
                    view! { <Redirect path="/login" /> }.into_any()
                }
            }
        >
            <TopBar />
            <main class="content">{children()}</main>
        </Show>
    }
}

#[component]
fn TopBar() -> impl IntoView {
    let session = use_session();
    let me = LocalResource::new(move || session.call(|c| async move { c.me().await }));
    let logging_out = RwSignal::new(false);
    let logout = move |_| {
        logging_out.set(true);
        spawn_local(async move {
            // Revoke the session on the server; forget it locally whatever the answer.
            let _ = session.client().logout().await;
            session.clear();
        });
    };
    view! {
        <header class="topbar">
            <div class="topbar-inner">
                <a class="brand" href="/dashboard">
                    <span class="brand-mark">"pg"</span>
                    <span class="brand-name">"pgward"</span>
                </a>
                <nav class="nav">
                    <A href="/dashboard" attr:data-testid="nav-dashboard">
                        "Dashboard"
                    </A>
                    <A href="/databases" attr:data-testid="nav-databases">
                        "Databases"
                    </A>
                    <A href="/destinations" attr:data-testid="nav-destinations">
                        "Destinations"
                    </A>
                    <A href="/tasks" attr:data-testid="nav-tasks">
                        "Tasks"
                    </A>
                    <A href="/executions" attr:data-testid="nav-executions">
                        "Executions"
                    </A>
                    <A href="/restorations" attr:data-testid="nav-restorations">
                        "Restorations"
                    </A>
                    <A href="/events" attr:data-testid="nav-events">
                        "Events"
                    </A>
                    <A href="/webhooks" attr:data-testid="nav-webhooks">
                        "Webhooks"
                    </A>
                    <A href="/tokens" attr:data-testid="nav-tokens">
                        "API tokens"
                    </A>
                </nav>
                <div class="topbar-right">
                    <span class="user" data-testid="current-user">
                        {move || {
                            me.get()
                                .and_then(Result::ok)
                                .map(|m| m.user.name.unwrap_or(m.user.email))
                                .unwrap_or_default()
                        }}
                    </span>
                    <button
                        type="button"
                        class="btn btn-ghost"
                        data-testid="logout"
                        on:click=logout
                        disabled=move || logging_out.get()
                    >
                        "Log out"
                    </button>
                </div>
            </div>
        </header>
    }
}
