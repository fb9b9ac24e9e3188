//! The frame around every logged-in page: top bar with navigation, the user and a logout button.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Redirect};

use crate::session::use_session;

/// The navigation: where each link goes, its test id and what it says.
const NAV: [(&str, &str, &str); 9] = [
    ("/dashboard", "nav-dashboard", "Dashboard"),
    ("/databases", "nav-databases", "Databases"),
    ("/destinations", "nav-destinations", "Destinations"),
    ("/tasks", "nav-tasks", "Tasks"),
    ("/executions", "nav-executions", "Executions"),
    ("/restorations", "nav-restorations", "Restorations"),
    ("/events", "nav-events", "Events"),
    ("/webhooks", "nav-webhooks", "Webhooks"),
    ("/tokens", "nav-tokens", "API tokens"),
];

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
                    {NAV
                        .into_iter()
                        .map(|(href, testid, label)| {
                            view! {
                                <A href=href attr:data-testid=testid>
                                    {label}
                                </A>
                            }
                        })
                        .collect_view()}
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
