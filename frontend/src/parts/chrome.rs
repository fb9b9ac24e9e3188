//! What every page has around its content: the header, Refresh and the live marker, and the buttons of
//! its forms.

use leptos::prelude::*;

use super::field::Checkbox;
use super::list::Reload;

/// The page's title and a line saying what it is for; the children go to the right (buttons).
#[component]
pub fn PageHeader(
    title: &'static str,
    intro: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="muted">{intro}</p>
            </div>
            {children.map(|c| c())}
        </div>
    }
}

/// The header of a form that adds or, once a row's Edit was chosen, edits: its title ("Add a `noun`",
/// or "Edit “`name`”" once the edited row is loaded), and while editing a button back to adding. Test
/// ids: `<prefix>-form-title`, `<prefix>-edit-cancel`.
#[component]
pub fn AddOrEditHeader(
    noun: &'static str,
    #[prop(into)] name: Signal<Option<String>>,
    #[prop(into)] editing: Signal<bool>,
    prefix: &'static str,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let title = move || match name.get() {
        None => format!("Add a {noun}"),
        Some(name) => format!("Edit \u{201c}{name}\u{201d}"),
    };
    view! {
        <div class="card-header">
            <h2 data-testid=format!("{prefix}-form-title")>{title}</h2>
            <Show when=move || editing.get()>
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid=format!("{prefix}-edit-cancel")
                    on:click=move |_| on_cancel()
                >
                    "Cancel editing"
                </button>
            </Show>
        </div>
    }
}

/// "Clear filters", shown while a list is filtered.
#[component]
pub fn ClearFilters(
    shown: impl Fn() -> bool + Send + Sync + 'static,
    testid: &'static str,
    on_clear: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        let on_clear = on_clear.clone();
        shown().then(|| {
            view! {
                <button
                    type="button"
                    class="btn btn-small btn-link"
                    data-testid=testid
                    on:click=move |_| on_clear()
                >
                    "Clear filters"
                </button>
            }
        })
    }
}

#[component]
pub fn RefreshButton(
    reload: Reload,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <button type="button" class="btn" data-testid=testid on:click=move |_| reload.bump()>
            "Refresh"
        </button>
    }
}

/// Shown while the page refreshes itself.
#[component]
pub fn LiveBadge(
    live: Memo<bool>,
    testid: &'static str,
    #[prop(optional)] title: Option<&'static str>,
) -> impl IntoView {
    move || {
        live.get().then(|| {
            view! {
                <span class="live" data-testid=testid title=title>
                    <span class="live-dot"></span>
                    "Live"
                </span>
            }
        })
    }
}

/// The label of a button that starts something slow: `working` while `busy`.
fn busy_label(busy: Signal<bool>, idle: TextProp, working: Option<&'static str>) -> impl IntoView {
    move || match working.filter(|_| busy.get()) {
        Some(w) => w.into(),
        None => idle.get(),
    }
}

/// A form's submit button, disabled (and saying `working`) while the form is busy.
#[component]
pub fn SubmitButton(
    #[prop(into)] busy: Signal<bool>,
    testid: &'static str,
    #[prop(into)] idle: TextProp,
    #[prop(optional)] working: Option<&'static str>,
    /// As wide as the form (the login and setup cards).
    #[prop(optional)]
    block: bool,
) -> impl IntoView {
    let class = if block {
        "btn btn-primary btn-block"
    } else {
        "btn btn-primary"
    };
    view! {
        <button type="submit" class=class data-testid=testid disabled=busy>
            {busy_label(busy, idle, working)}
        </button>
    }
}

/// A form's secondary button (e.g. Test), disabled (and saying `working`) while it runs.
#[component]
fn BusyButton(
    #[prop(into)] busy: Signal<bool>,
    testid: &'static str,
    #[prop(into)] idle: TextProp,
    working: &'static str,
    on_click: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <button type="button" class="btn" data-testid=testid on:click=move |_| on_click() disabled=busy>
            {busy_label(busy, idle, Some(working))}
        </button>
    }
}

/// The actions of a form that adds something it can test first: skip the test on saving, test now, save.
/// `testids` are those of the checkbox and the two buttons.
#[component]
pub fn TestAndSave(
    skip: RwSignal<bool>,
    skip_label: &'static str,
    testing: RwSignal<bool>,
    test_label: &'static str,
    on_test: impl Fn() + Send + Sync + 'static,
    saving: RwSignal<bool>,
    testids: [&'static str; 3],
) -> impl IntoView {
    let [skip_id, test_id, save_id] = testids;
    view! {
        <div class="form-actions span-2">
            <Checkbox label=skip_label value=skip testid=skip_id />
            <div class="spacer"></div>
            <BusyButton busy=testing testid=test_id idle=test_label working="Testing…" on_click=on_test />
            <SubmitButton busy=saving testid=save_id idle="Save" working="Saving…" />
        </div>
    }
}

/// What testing a connection or destination found.
pub enum Outcome {
    Passed(String),
    Failed(String),
    /// The test itself could not run.
    Error(String),
}

/// The result of a Test button, for the tests as `data-status` ok, failed or error.
pub fn test_outcome(testid: &'static str, outcome: Outcome) -> impl IntoView {
    let (status, class, text) = match outcome {
        Outcome::Passed(t) => ("ok", "alert alert-ok", t),
        Outcome::Failed(t) => ("failed", "alert alert-error", t),
        Outcome::Error(t) => ("error", "alert alert-error", t),
    };
    view! {
        <div class=class role="status" data-testid=testid data-status=status>
            {text}
        </div>
    }
}
