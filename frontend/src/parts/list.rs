//! Lists fetched from the API: the resource, its reload, polling while something on it moves, and the
//! card that shows it (loading, error, empty state, rows).

use std::future::Future;
use std::time::Duration;

use leptos::prelude::*;
use pgward_api_client::Client;
use pgward_api_types::{AuditPage, EventPage, ExecutionPage, RestorationPage};

use crate::session::Session;
use crate::ui::alert_error;

/// A whole list the API answered with.
pub type ListResource<T> = LocalResource<Result<Vec<T>, String>>;

/// Bumped to make a list fetch again (Refresh buttons, row actions, polling).
#[derive(Clone, Copy, Default)]
pub struct Reload(RwSignal<u32>);

impl Reload {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the calling resource fetch again on each bump.
    pub fn track(self) {
        self.0.track();
    }

    /// Tolerates a disposed page: timers and answers may arrive after it is gone.
    pub fn bump(self) {
        self.0.try_update(|n| *n = n.wrapping_add(1));
    }
}

/// A list fetched with `call`, again on every bump of `reload` (if any).
pub fn api_list<T, F, Fut>(session: Session, reload: Option<Reload>, call: F) -> ListResource<T>
where
    T: 'static,
    F: Fn(Client) -> Fut + Copy + 'static,
    Fut: Future<Output = pgward_api_client::Result<Vec<T>>> + 'static,
{
    LocalResource::new(move || {
        if let Some(reload) = reload {
            reload.track();
        }
        session.call(call)
    })
}

/// A list kept fresh while something on it moves: reloads on a timer, skipping a tick while the previous
/// load is still in flight, so a slow server never gets a queue of them.
#[derive(Clone, Copy, Default)]
pub struct Polling {
    pub reload: Reload,
    in_flight: StoredValue<bool>,
}

impl Polling {
    pub fn new() -> Self {
        Self::default()
    }

    /// A resource loaded by `load` on every reload, marked in flight while it loads.
    pub fn resource<T, Fut>(self, load: impl Fn() -> Fut + 'static) -> LocalResource<T>
    where
        T: 'static,
        Fut: Future<Output = T> + 'static,
    {
        LocalResource::new(move || {
            self.reload.track();
            let load = load();
            async move {
                self.in_flight.set_value(true);
                let result = load.await;
                self.in_flight.set_value(false);
                result
            }
        })
    }

    /// Reloads every `every` while `live` says so. Stops with the page.
    pub fn every(self, every: Duration, live: impl Into<Signal<bool>>) {
        let live = live.into();
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if live.try_get_untracked().unwrap_or(false)
                    && !self.in_flight.try_get_value().unwrap_or(true)
                {
                    self.reload.bump();
                }
            },
            every,
        ) {
            on_cleanup(move || handle.clear());
        }
    }
}

/// What the API answers a list with: all of it, or one page of it.
pub trait Listing: Clone + Send + Sync + 'static {
    type Item: Clone + Send + Sync + 'static;
    fn items(&self) -> &[Self::Item];
    fn into_items(self) -> Vec<Self::Item>;
    /// Where the next (older) page starts; `None` on the last one.
    fn next_cursor(&self) -> Option<String> {
        None
    }
}

impl<T: Clone + Send + Sync + 'static> Listing for Vec<T> {
    type Item = T;
    fn items(&self) -> &[T] {
        self
    }
    fn into_items(self) -> Vec<T> {
        self
    }
}

macro_rules! paged_listing {
    ($($page:ty => $item:ty),+) => {$(
        impl Listing for $page {
            type Item = $item;
            fn items(&self) -> &[$item] {
                &self.items
            }
            fn into_items(self) -> Vec<$item> {
                self.items
            }
            fn next_cursor(&self) -> Option<String> {
                self.next_cursor.clone()
            }
        }
    )+};
}

paged_listing!(
    ExecutionPage => pgward_api_types::Execution,
    RestorationPage => pgward_api_types::Restoration,
    EventPage => pgward_api_types::Event,
    AuditPage => pgward_api_types::AuditEntry
);

/// The items of the last answer (none while loading or after an error). Tracked.
pub fn items<L: Listing>(list: LocalResource<Result<L, String>>) -> Vec<L::Item> {
    list.get()
        .and_then(Result::ok)
        .map(Listing::into_items)
        .unwrap_or_default()
}

/// The rows of a list, rendered again each time it is fetched again.
pub fn each<L, V>(
    list: LocalResource<Result<L, String>>,
    row: impl Fn(L::Item) -> V + Send + Sync + 'static,
) -> impl Fn() -> Vec<V> + Send + Sync + 'static
where
    L: Listing,
    V: IntoView,
{
    move || items(list).into_iter().map(&row).collect()
}

/// How a list shows that it is loading, failed or is empty.
#[derive(Clone, Copy, Default, PartialEq)]
pub enum Tone {
    /// A page's own list: the failure as the page's error banner.
    #[default]
    Page,
    /// A list inside an overview (dashboard, delivery history): quieter.
    Panel,
    /// Options inside a form field.
    Inline,
}

impl Tone {
    fn loading(self, text: &'static str) -> AnyView {
        match self {
            Tone::Page => view! { <p class="muted pad">{text}</p> }.into_any(),
            Tone::Panel => view! { <p class="muted">{text}</p> }.into_any(),
            Tone::Inline => view! { <span class="muted">{text}</span> }.into_any(),
        }
    }

    fn error(self, message: String) -> AnyView {
        match self {
            Tone::Page => alert_error(message).into_any(),
            Tone::Panel => view! { <p class="field-error">{message}</p> }.into_any(),
            Tone::Inline => view! { <span class="field-error">{message}</span> }.into_any(),
        }
    }

    fn empty(self, testid: Option<&'static str>, content: AnyView) -> AnyView {
        if self == Tone::Inline {
            view! { <span class="muted">{content}</span> }.into_any()
        } else {
            view! {
                <p class="empty" data-testid=testid>
                    {content}
                </p>
            }
            .into_any()
        }
    }
}

#[derive(Clone, PartialEq)]
enum ListState {
    Loading,
    Error(String),
    Empty,
    Rows,
}

/// A list as its answer arrives: a loading line, the error, the empty state or the rows. The rows stay in
/// place while the list is fetched again (no flicker when polling); they follow the list themselves
/// (see [`each`]).
#[component]
pub fn ListStates<L: Listing>(
    list: LocalResource<Result<L, String>>,
    #[prop(into)] rows: ViewFn,
    /// What the empty state says.
    #[prop(into)]
    empty: ViewFn,
    #[prop(optional_no_strip)] empty_testid: Option<&'static str>,
    #[prop(default = "Loading…")] loading: &'static str,
    #[prop(optional)] tone: Tone,
) -> impl IntoView {
    let state = Memo::new(move |_| {
        list.with(|answer| match answer {
            None => ListState::Loading,
            Some(Err(e)) => ListState::Error(e.clone()),
            Some(Ok(l)) if l.items().is_empty() => ListState::Empty,
            Some(Ok(_)) => ListState::Rows,
        })
    });
    move || match state.get() {
        ListState::Loading => tone.loading(loading),
        ListState::Error(e) => tone.error(e),
        ListState::Empty => tone.empty(empty_testid, empty.run()),
        ListState::Rows => rows.run(),
    }
}

/// A card holding a list: what goes above it (title, filters), its states and rows, and a pager below.
#[component]
pub fn ListCard<L: Listing>(
    list: LocalResource<Result<L, String>>,
    #[prop(into)] rows: ViewFn,
    #[prop(into)] empty: ViewFn,
    #[prop(optional)] empty_testid: Option<&'static str>,
    #[prop(default = "Loading…")] loading: &'static str,
    #[prop(optional)] tone: Tone,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional, into)] footer: Option<ViewFn>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <section class="card" data-testid=testid>
            {children.map(|c| c())}
            <ListStates list rows empty empty_testid loading tone />
            {footer.map(|f| f.run())}
        </section>
    }
}

/// The header of the actions column, right-aligned by the stylesheet.
pub const ACTIONS: &str = "Actions";

/// A table with a header row; the body is the children (usually [`each`] or a `<For>`). It scrolls
/// sideways inside its box when it is wider than the screen, never widening the page.
#[component]
pub fn Table(
    columns: &'static [&'static str],
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let headers = columns
        .iter()
        .map(|&c| view! { <th class=(c == ACTIONS).then_some("actions")>{c}</th> })
        .collect_view();
    view! {
        // Focusable, so a keyboard can scroll a table wider than a phone's screen.
        <div class="table-wrap" tabindex="0" role="region" aria-label="Table">
            <table class="table" data-testid=testid>
                <thead>
                    <tr>{headers}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

/// A list's rows as a table, a `<tr>` per item by `row`: the `rows` of a [`ListCard`].
pub fn table_of<L, V, R>(
    list: LocalResource<Result<L, String>>,
    columns: &'static [&'static str],
    testid: impl Into<Option<&'static str>>,
    row: R,
) -> impl Fn() -> AnyView + Send + Sync + 'static
where
    L: Listing,
    V: IntoView + 'static,
    R: Fn(L::Item) -> V + Clone + Send + Sync + 'static,
{
    let testid = testid.into();
    move || {
        let rows = each(list, row.clone());
        match testid {
            Some(testid) => view! { <Table columns testid>{rows}</Table> }.into_any(),
            None => view! { <Table columns>{rows}</Table> }.into_any(),
        }
    }
}
