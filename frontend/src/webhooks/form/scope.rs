//! What a webhook is about: the events it is sent for, and about which tasks, databases and
//! destinations.

use leptos::prelude::*;
use pgward_api_types::EventKind;
use uuid::Uuid;

use super::model::{Form, Lists};
use crate::parts::{CheckList, Checkbox, Choice, FieldGroup, ListResource, membership};

#[component]
pub fn EventsField(form: Form) -> impl IntoView {
    let checks = EventKind::ALL
        .into_iter()
        .map(|k| {
            let (checked, toggle) = membership(form.events, k);
            view! {
                <label class="checkbox">
                    <input
                        type="checkbox"
                        data-testid="webhook-event"
                        data-kind=k.as_str()
                        prop:checked=checked
                        on:change=toggle
                    />
                    <span>{k.as_str()}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <FieldGroup label="Events" wide=true error=form.errors.at("events")>
            <div class="check-list" data-testid="webhook-events">{checks}</div>
        </FieldGroup>
    }
}

/// One kind of target: a labelled list of checkboxes.
fn target<T: Clone + Send + Sync + 'static>(
    label: &'static str,
    items: ListResource<T>,
    chosen: RwSignal<Vec<Uuid>>,
    choice: fn(&T) -> Choice,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <FieldGroup label>
            <CheckList items chosen choice testid empty=|| "None yet." />
        </FieldGroup>
    }
}

/// "About everything", or the chosen tasks, databases and destinations.
#[component]
pub fn TargetsFields(form: Form, lists: Lists) -> impl IntoView {
    let chosen = move || {
        (!form.all_targets.get()).then(|| {
            view! {
                {target(
                    "Tasks",
                    lists.tasks,
                    form.task_ids,
                    |t| Choice::plain(t.id, &t.spec.name),
                    "webhook-target-tasks",
                )}
                {target(
                    "Databases",
                    lists.databases,
                    form.database_ids,
                    |d| Choice::plain(d.id, &d.name),
                    "webhook-target-databases",
                )}
                {target(
                    "Destinations",
                    lists.destinations,
                    form.destination_ids,
                    |d| Choice::plain(d.id, &d.name),
                    "webhook-target-destinations",
                )}
            }
        })
    };
    view! {
        <FieldGroup wide=true error=form.errors.at("targets")>
            <Checkbox
                label="About every task, database and destination"
                value=form.all_targets
                testid="webhook-all-targets"
            />
        </FieldGroup>
        {chosen}
    }
}
