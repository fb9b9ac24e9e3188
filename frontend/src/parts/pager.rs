//! Paging through a newest-first list by the API's cursor.

use leptos::prelude::*;

use super::list::Listing;

/// The cursor of the page shown (`None`: the newest), and those of the newer pages before it.
#[derive(Clone, Copy, Default)]
pub struct Pages {
    cursor: RwSignal<Option<String>>,
    newer: RwSignal<Vec<Option<String>>>,
}

impl Pages {
    pub fn new() -> Self {
        Self::default()
    }

    /// Tracked: where the page to fetch starts.
    pub fn cursor(self) -> Option<String> {
        self.cursor.get()
    }

    /// Back to the newest page whenever something `watch` reads changes (a filter): an older page of
    /// another filter means nothing.
    pub fn restart_on(self, watch: impl Fn() + 'static) {
        Effect::new(move |prev: Option<()>| {
            watch();
            if prev.is_some() {
                self.cursor.set(None);
                self.newer.set(Vec::new());
            }
        });
    }

    fn to_newer(self) {
        let mut stack = self.newer.get_untracked();
        if let Some(prev) = stack.pop() {
            self.newer.set(stack);
            self.cursor.set(prev);
        }
    }

    fn to_older(self, next: String) {
        self.newer.update(|s| s.push(self.cursor.get_untracked()));
        self.cursor.set(Some(next));
    }
}

/// "← Newer" and "Older →" under a list. With `hide_alone` the pair hides while there is only one page.
#[component]
pub fn Pager<L: Listing>(
    list: LocalResource<Result<L, String>>,
    pages: Pages,
    /// Of the newer and the older button.
    testids: (&'static str, &'static str),
    #[prop(default = "pager")] class: &'static str,
    #[prop(optional)] hide_alone: bool,
) -> impl IntoView {
    let next = Memo::new(move |_| {
        list.with(|answer| {
            answer
                .as_ref()
                .and_then(|r| r.as_ref().ok())
                .and_then(Listing::next_cursor)
        })
    });
    let first = move || pages.newer.with(Vec::is_empty);
    let last = move || next.with(Option::is_none);
    let (newer_id, older_id) = testids;
    view! {
        <div class=class class:hidden=move || hide_alone && first() && last()>
            <button
                type="button"
                class="btn btn-small"
                data-testid=newer_id
                disabled=first
                on:click=move |_| pages.to_newer()
            >
                "← Newer"
            </button>
            <button
                type="button"
                class="btn btn-small"
                data-testid=older_id
                disabled=last
                on:click=move |_| {
                    if let Some(next) = next.get_untracked() {
                        pages.to_older(next);
                    }
                }
            >
                "Older →"
            </button>
        </div>
    }
}
