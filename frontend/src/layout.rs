//! The frame around every logged-in page: top bar with navigation, the theme, the user and a logout
//! button; on a phone the navigation and the account fold behind a menu button.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Redirect};
use leptos_router::hooks::use_location;
use pgward_api_types::Role;

use crate::session::use_session;
use crate::theme::ThemeSelect;

/// The navigation: where each link goes, its test id, what it says and the role it needs. API tokens
/// live on the profile page (the user's name in the top bar).
const NAV: [(&str, &str, &str, Role); 12] = [
    ("/dashboard", "nav-dashboard", "Dashboard", Role::Viewer),
    ("/databases", "nav-databases", "Databases", Role::Viewer),
    (
        "/destinations",
        "nav-destinations",
        "Destinations",
        Role::Viewer,
    ),
    ("/tasks", "nav-tasks", "Tasks", Role::Viewer),
    ("/executions", "nav-executions", "Executions", Role::Viewer),
    (
        "/restorations",
        "nav-restorations",
        "Restorations",
        Role::Viewer,
    ),
    ("/events", "nav-events", "Events", Role::Viewer),
    ("/webhooks", "nav-webhooks", "Webhooks", Role::Viewer),
    ("/upload", "nav-upload", "Upload", Role::Operator),
    ("/system", "nav-system", "System", Role::Viewer),
    ("/users", "nav-users", "Users", Role::Admin),
    ("/audit", "nav-audit", "Audit", Role::Admin),
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
    let logging_out = RwSignal::new(false);
    let logout = move |_| {
        logging_out.set(true);
        spawn_local(async move {
            // Revoke the session on the server; forget it locally whatever the answer.
            let _ = session.client().logout().await;
            session.clear();
        });
    };
    // On a phone the links and the account sit in a panel behind the menu button: open or not. Any
    // navigation closes it, and so does choosing a link in it (even the current page's) or Escape.
    let menu_open = RwSignal::new(false);
    let close_menu = move |_| menu_open.set(false);
    let pathname = use_location().pathname;
    Effect::new(move || {
        pathname.track();
        menu_open.set(false);
    });
    let toggle = NodeRef::<leptos::html::Button>::new();
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && menu_open.get_untracked() {
            menu_open.set(false);
            if let Some(button) = toggle.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    view! {
        <header class="topbar" on:keydown=escape>
            <div class="topbar-inner">
                <A href=crate::session::at("/dashboard") attr:class="brand">
                    <span class="brand-mark">"pg"</span>
                    <span class="brand-name">"pgward"</span>
                </A>
                <ThemeSelect />
                <button
                    type="button"
                    class="nav-toggle"
                    data-testid="nav-toggle"
                    aria-controls="topbar-menu"
                    aria-expanded=move || if menu_open.get() { "true" } else { "false" }
                    aria-label="Menu"
                    title="Menu"
                    node_ref=toggle
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    <span class="burger" aria-hidden="true"></span>
                </button>
                <div id="topbar-menu" class="topbar-menu" class:open=move || menu_open.get()>
                    <nav class="nav" aria-label="Main" on:click=close_menu>
                        {NAV
                            .into_iter()
                            .map(|(href, testid, label, role)| {
                                // Everyone's links stand from the start; the others once the role is known.
                                let shown = move || role == Role::Viewer || session.can(role);
                                view! {
                                    <Show when=shown>
                                        <A href=crate::session::at(href) attr:data-testid=testid>
                                            {label}
                                        </A>
                                    </Show>
                                }
                            })
                            .collect_view()}
                    </nav>
                    <div class="topbar-right" on:click=close_menu>
                        <A href=crate::session::at("/profile") attr:class="user" attr:data-testid="nav-profile" attr:title="Your profile, sessions and API tokens">
                            <span class="user-name" data-testid="current-user">
                                {move || {
                                    session
                                        .me()
                                        .map(|m| m.user.name.unwrap_or(m.user.email))
                                        .unwrap_or_default()
                                }}
                            </span>
                            {move || {
                                session
                                    .role()
                                    .map(|r| {
                                        view! {
                                            " "
                                            <span class="role-badge" data-testid="current-role">
                                                {r.as_str()}
                                            </span>
                                        }
                                    })
                            }}
                        </A>
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
            </div>
        </header>
    }
}
