//! The colour theme: the system's (`prefers-color-scheme`) unless the user chose light or dark in the
//! top bar. An explicit choice is kept in local storage (`pgward.theme`) and set as `data-theme` on
//! `<html>`; with the system's, neither exists and the stylesheet's media query decides. `boot.js`
//! applies the stored choice before the app loads, so a reload does not flash the other palette.

use leptos::prelude::*;

/// Where the choice is kept. Nothing is stored while the system decides.
const KEY: &str = "pgward.theme";

/// What the user chose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Theme::System => "System",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    /// Anything but "light" or "dark" means the system's.
    fn parse(s: &str) -> Self {
        match s {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }

    /// The stored choice; the system's when there is none (or no storage).
    pub fn stored() -> Self {
        storage()
            .and_then(|s| s.get_item(KEY).ok().flatten())
            .map_or(Theme::System, |v| Self::parse(&v))
    }

    /// Shows the page in this theme: `data-theme` on `<html>`, or none for the system's.
    pub fn apply(self) {
        let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        else {
            return;
        };
        let _ = match self {
            Theme::System => root.remove_attribute("data-theme"),
            explicit => root.set_attribute("data-theme", explicit.as_str()),
        };
    }

    /// Remembers the choice for the next visits (forgets it for the system's).
    fn store(self) {
        if let Some(s) = storage() {
            let _ = match self {
                Theme::System => s.remove_item(KEY),
                explicit => s.set_item(KEY, explicit.as_str()),
            };
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The top bar's theme control: system, light or dark, applied and remembered at once.
#[component]
pub fn ThemeSelect() -> impl IntoView {
    let chosen = RwSignal::new(Theme::stored());
    let change = move |ev| {
        let theme = Theme::parse(&event_target_value(&ev));
        theme.apply();
        theme.store();
        chosen.set(theme);
    };
    view! {
        <select
            class="theme-select"
            data-testid="theme-toggle"
            aria-label="Colour theme"
            title="Colour theme: the system's, light or dark"
            on:change=change
        >
            {Theme::ALL
                .into_iter()
                .map(|t| {
                    view! {
                        <option value=t.as_str() prop:selected=move || chosen.get() == t>
                            {t.label()}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}
