//! Buttons on a list's rows (test, run, delete…): they report to the page's banners and reload its list.

use std::future::Future;

use leptos::prelude::*;
use pgward_api_client::Client;

use super::list::Reload;
use super::save::save;
use crate::session::Session;
use crate::ui::{confirm as ask, error_banner};

/// What a row action says when it worked, with an optional link (label, href).
#[derive(Clone)]
pub struct Note {
    pub text: String,
    pub link: Option<(String, String)>,
}

impl From<String> for Note {
    fn from(text: String) -> Self {
        Self { text, link: None }
    }
}

/// What a page's row buttons share: the page's error and note banners, and the list they reload.
#[derive(Clone, Copy)]
pub struct RowActions {
    pub session: Session,
    pub error: RwSignal<Option<String>>,
    pub note: RwSignal<Option<Note>>,
    pub reload: Reload,
}

impl RowActions {
    pub fn new(session: Session) -> Self {
        Self::with_reload(session, Reload::new())
    }

    /// Row actions of a list that reloads itself too (polling).
    pub fn with_reload(session: Session, reload: Reload) -> Self {
        Self {
            session,
            error: RwSignal::new(None),
            note: RwSignal::new(None),
            reload,
        }
    }

    /// The buttons of one row.
    pub fn row(self) -> Row {
        Row {
            actions: self,
            busy: RwSignal::new(false),
        }
    }

    pub fn say(self, note: impl Into<Note>) {
        self.note.set(Some(note.into()));
    }

    pub fn error_banner(self) -> impl IntoView {
        error_banner(move || self.error.get())
    }

    /// The green banner of the last action that worked; its link is `{testid}-link`.
    pub fn note_banner(self, testid: &'static str) -> impl IntoView {
        move || {
            self.note.get().map(|Note { text, link }| {
                view! {
                    <div class="alert alert-ok" role="status" data-testid=testid>
                        {text}
                        {link
                            .map(|(label, href)| {
                                view! {
                                    " "
                                    <a href=href data-testid=format!("{testid}-link")>
                                        {label}
                                    </a>
                                }
                            })}
                    </div>
                }
            })
        }
    }
}

/// One row's buttons: a row does one thing at a time, so they share a busy flag.
#[derive(Clone, Copy)]
pub struct Row {
    pub actions: RowActions,
    pub busy: RwSignal<bool>,
}

impl Row {
    /// Calls the API for this row: clears the page's banners and marks the row busy while the call runs,
    /// then hands the answer to `done`.
    pub fn request<T, F, Fut>(self, call: F, done: impl FnOnce(Result<T, String>) + 'static)
    where
        T: 'static,
        F: Fn(Client) -> Fut + 'static,
        Fut: Future<Output = pgward_api_client::Result<T>> + 'static,
    {
        let Row { actions, busy } = self;
        actions.error.set(None);
        actions.note.set(None);
        save(
            actions.session,
            busy,
            (),
            move |c, ()| call(c),
            move |result| {
                done(result.map_err(|f| f.message));
            },
        );
    }

    /// [`Row::request`] with an error shown in the page's banner; `ok` gets a success.
    pub fn run<T, F, Fut>(self, call: F, ok: impl FnOnce(T) + 'static)
    where
        T: 'static,
        F: Fn(Client) -> Fut + 'static,
        Fut: Future<Output = pgward_api_client::Result<T>> + 'static,
    {
        let error = self.actions.error;
        self.request(call, move |result| match result {
            Ok(value) => ok(value),
            Err(e) => error.set(Some(e)),
        });
    }

    /// [`Row::run`] that says what it did (the note `report` makes of the answer) and reloads the list.
    pub fn run_and_report<T, F, Fut>(self, call: F, report: impl FnOnce(T) -> Note + 'static)
    where
        T: 'static,
        F: Fn(Client) -> Fut + 'static,
        Fut: Future<Output = pgward_api_client::Result<T>> + 'static,
    {
        let actions = self.actions;
        self.run(call, move |value| {
            actions.say(report(value));
            actions.reload.bump();
        });
    }

    /// A click handler doing [`Row::run_and_reload`] with `call`.
    pub fn reloading<T, F, Fut>(self, call: F) -> impl Fn() + Copy + Send + Sync + 'static
    where
        T: 'static,
        F: Fn(Client) -> Fut + Copy + Send + Sync + 'static,
        Fut: Future<Output = pgward_api_client::Result<T>> + 'static,
    {
        move || self.run_and_reload(call)
    }

    /// [`Row::run`] that reloads the list once the call worked.
    pub fn run_and_reload<T, F, Fut>(self, call: F)
    where
        T: 'static,
        F: Fn(Client) -> Fut + 'static,
        Fut: Future<Output = pgward_api_client::Result<T>> + 'static,
    {
        let reload = self.actions.reload;
        self.run(call, move |_| reload.bump());
    }
}

/// A small button in a row's actions cell. With `confirm`, the browser asks first and a "no" does
/// nothing.
#[component]
pub fn RowButton(
    on_click: impl Fn() + Send + Sync + 'static,
    children: Children,
    #[prop(optional, into)] testid: Option<String>,
    #[prop(optional)] danger: bool,
    #[prop(optional, into)] confirm: Option<String>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    let class = if danger {
        "btn btn-small btn-danger"
    } else {
        "btn btn-small"
    };
    view! {
        <button
            type="button"
            class=class
            data-testid=testid
            on:click=move |_| {
                if confirm.as_deref().is_none_or(ask) {
                    on_click();
                }
            }
            disabled=disabled
        >
            {children()}
        </button>
    }
}

/// A row's "Delete": a danger button that asks `confirm` first and waits while the row is busy.
#[component]
pub fn DeleteButton(
    on_click: impl Fn() + Send + Sync + 'static,
    #[prop(into)] testid: String,
    #[prop(into)] confirm: String,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <RowButton testid=testid danger=true confirm=confirm disabled=disabled on_click=on_click>
            "Delete"
        </RowButton>
    }
}
