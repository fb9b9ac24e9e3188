//! Choosing registered things in a form: the lists the pickers are fed with, a select of databases and
//! checkbox lists of destinations (or any other list).

use leptos::prelude::*;
use pgward_api_types::{Database, Destination, Role, Task};
use uuid::Uuid;

use super::field::membership;
use super::list::{ListResource, ListStates, Reload, Tone, api_list, items as items_of};
use crate::session::Session;
use crate::ui::FieldKey;

/// Every registered database.
pub fn databases(session: Session, reload: Option<Reload>) -> ListResource<Database> {
    api_list(session, reload, |c| async move {
        c.all_databases(&Default::default()).await
    })
}

pub fn destinations(session: Session, reload: Option<Reload>) -> ListResource<Destination> {
    api_list(session, reload, |c| async move {
        c.list_destinations().await.map(|l| l.items)
    })
}

pub fn tasks(session: Session, reload: Option<Reload>) -> ListResource<Task> {
    api_list(session, reload, |c| async move {
        c.list_tasks().await.map(|l| l.items)
    })
}

/// An `<option>` per (value, label), selected while `chosen` says so: the select's value may be set
/// before the options arrive, and a select cannot hold a value it has no option for.
pub fn option_list(
    options: impl Fn() -> Vec<(String, String)> + Send + Sync + 'static,
    chosen: impl Fn(&str) -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        options()
            .into_iter()
            .map(|(value, label)| {
                let id = value.clone();
                view! {
                    <option value=value prop:selected=move || chosen(&id)>
                        {label}
                    </option>
                }
            })
            .collect_view()
    }
}

/// An option whose label is its value.
pub fn labelled(value: &str) -> (String, String) {
    (value.to_string(), value.to_string())
}

/// A filter of a list kept in the page's query (see `query_signal`): everything, or one of `options`.
#[component]
pub fn FilterSelect(
    label: &'static str,
    testid: &'static str,
    query: (Memo<Option<String>>, SignalSetter<Option<String>>),
    /// The first option, which filters nothing.
    all: &'static str,
    options: impl Fn() -> Vec<(String, String)> + Send + Sync + 'static,
) -> impl IntoView {
    let (value, set_value) = query;
    view! {
        <label class="field inline">
            <span>{label}</span>
            <select
                data-testid=testid
                prop:value=move || value.get().unwrap_or_default()
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    set_value.set((!v.is_empty()).then_some(v));
                }
            >
                <option value="" prop:selected=move || value.with(Option::is_none)>
                    {all}
                </option>
                {option_list(options, move |v| value.with(|q| q.as_deref() == Some(v)))}
            </select>
        </label>
    }
}

/// A select of the registered databases bound to `value` (the id; empty for none). With `error`, it is
/// marked invalid while that field has a message.
#[component]
pub fn DatabasePicker(
    databases: ListResource<Database>,
    value: RwSignal<String>,
    testid: &'static str,
    /// The empty first option.
    placeholder: &'static str,
    #[prop(optional)] error: Option<FieldKey>,
) -> impl IntoView {
    view! {
        <select
            data-testid=testid
            class:invalid=move || error.is_some_and(FieldKey::invalid)
            bind:value=value
        >
            <option value="">{placeholder}</option>
            {option_list(
                move || items_of(databases).iter().map(|d| (d.id.to_string(), d.name.clone())).collect(),
                move |id| value.with(|v| v == id),
            )}
        </select>
    }
}

/// One checkbox of a [`CheckList`]: the id it stands for, its name and an optional muted detail.
pub struct Choice {
    pub id: Uuid,
    pub name: String,
    pub detail: Option<&'static str>,
}

impl Choice {
    pub fn plain(id: Uuid, name: &str) -> Self {
        Self {
            id,
            name: name.to_string(),
            detail: None,
        }
    }
}

/// Checkboxes choosing ids from a list the API gives. Each input carries `data-name` (and
/// `option_testid`), so a test can pick one by name.
#[component]
pub fn CheckList<T: Clone + Send + Sync + 'static>(
    items: ListResource<T>,
    chosen: RwSignal<Vec<Uuid>>,
    choice: fn(&T) -> Choice,
    testid: &'static str,
    /// What stands there while the list is empty.
    #[prop(into)]
    empty: ViewFn,
    #[prop(optional_no_strip)] option_testid: Option<&'static str>,
) -> impl IntoView {
    let rows = move || {
        items_of(items)
            .iter()
            .map(|item| {
                let Choice { id, name, detail } = choice(item);
                let (checked, toggle) = membership(chosen, id);
                view! {
                    <label class="checkbox">
                        <input
                            type="checkbox"
                            data-testid=option_testid
                            data-name=name.clone()
                            prop:checked=checked
                            on:change=toggle
                        />
                        <span>{name}</span>
                        {detail.map(|d| view! { <small class="muted">{d}</small> })}
                    </label>
                }
            })
            .collect_view()
    };
    view! {
        <div class="check-list" data-testid=testid>
            <ListStates list=items rows empty empty_testid=None tone=Tone::Inline />
        </div>
    }
}

/// Checkboxes of the registered destinations, each with its kind.
#[component]
pub fn DestinationPicker(
    destinations: ListResource<Destination>,
    chosen: RwSignal<Vec<Uuid>>,
    testid: &'static str,
    #[prop(into)] empty: ViewFn,
    #[prop(optional_no_strip)] option_testid: Option<&'static str>,
) -> impl IntoView {
    let choice = |d: &Destination| Choice {
        detail: Some(crate::destinations::kind_label(d.config.kind())),
        ..Choice::plain(d.id, &d.name)
    };
    view! { <CheckList items=destinations chosen choice testid empty option_testid /> }
}

/// A select of roles bound to `value` (the role's name), offering those `roles` gives (e.g. only those
/// up to the user's own).
#[component]
pub fn RoleSelect(
    value: RwSignal<String>,
    #[prop(into)] testid: String,
    #[prop(into)] roles: Signal<Vec<Role>>,
) -> impl IntoView {
    view! {
        <select data-testid=testid bind:value=value>
            {option_list(
                move || roles.get().into_iter().map(|r| labelled(r.as_str())).collect(),
                move |r| value.with(|v| v == r),
            )}
        </select>
    }
}
