//! Form fields: a label, the control, and the API's message for the field under it.

use leptos::prelude::*;

use crate::ui::{FieldErrors, FieldKey};

fn field_class(wide: bool) -> &'static str {
    if wide { "field span-2" } else { "field" }
}

/// A field's caption, with an optional muted remark after it ("(optional)").
fn caption(label: TextProp, note: Option<TextProp>) -> impl IntoView {
    view! {
        <span>
            {move || label.get()}
            {note.map(|n| view! { <small class="muted">{move || n.get()}</small> })}
        </span>
    }
}

/// A labelled control (the children), with the message of its field under it. `wide` spans both
/// columns of a form grid.
#[component]
pub fn Field(
    #[prop(into)] label: TextProp,
    #[prop(optional, into)] note: Option<TextProp>,
    #[prop(optional)] wide: bool,
    #[prop(optional)] error: Option<FieldKey>,
    children: Children,
) -> impl IntoView {
    view! {
        <label class=field_class(wide)>
            {caption(label, note)}
            {children()}
            {error.map(FieldKey::message)}
        </label>
    }
}

/// A field of several controls (a list of checkboxes): laid out like [`Field`], but not one `<label>`,
/// which may hold a single control only.
#[component]
pub fn FieldGroup(
    #[prop(optional, into)] label: Option<TextProp>,
    #[prop(optional)] wide: bool,
    #[prop(optional)] error: Option<FieldKey>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class=field_class(wide)>
            {label.map(|l| caption(l, None))}
            {children()}
            {error.map(FieldKey::message)}
        </div>
    }
}

/// A labelled text-like input bound to `value`, marked invalid while its field has a message.
#[component]
pub fn TextField(
    #[prop(into)] label: TextProp,
    value: RwSignal<String>,
    testid: &'static str,
    error: FieldKey,
    /// The input's type: `text`, `number` or `password`.
    #[prop(default = "text")]
    kind: &'static str,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    // Browsers must not offer to fill a stored secret into someone else's credentials.
    let autocomplete = if kind == "password" {
        "new-password"
    } else {
        "off"
    };
    view! {
        <Field label error>
            <input
                type=kind
                placeholder=placeholder
                autocomplete=autocomplete
                spellcheck="false"
                data-testid=testid
                class:invalid=move || error.invalid()
                bind:value=value
            />
        </Field>
    }
}

/// A text-like input as data, for forms that list several: label, value, test id, placeholder and the
/// field's JSON path.
pub type Input = (
    &'static str,
    RwSignal<String>,
    &'static str,
    &'static str,
    &'static str,
);

/// [`TextField`]s of one type (`text`, `number`, `password`) one after the other.
pub fn inputs(
    kind: &'static str,
    fields: impl IntoIterator<Item = Input>,
    errors: FieldErrors,
) -> impl IntoView {
    fields
        .into_iter()
        .map(|(label, value, testid, placeholder, key)| {
            view! { <TextField label kind value testid placeholder error=errors.at(key) /> }
        })
        .collect_view()
}

/// A labelled checkbox bound to `value`.
#[component]
pub fn Checkbox(
    label: &'static str,
    value: RwSignal<bool>,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(default = "checkbox")] class: &'static str,
) -> impl IntoView {
    view! {
        <label class=class>
            <input type="checkbox" data-testid=testid bind:checked=value />
            <span>{label}</span>
        </label>
    }
}

/// For a checkbox that puts `item` in `chosen` or takes it out: whether it is checked, and its change
/// handler.
pub fn membership<T>(
    chosen: RwSignal<Vec<T>>,
    item: T,
) -> (
    impl Fn() -> bool + Send + Sync + 'static,
    impl Fn(leptos::ev::Event) + Send + Sync + 'static,
)
where
    T: PartialEq + Copy + Send + Sync + 'static,
{
    let checked = move || chosen.with(|v| v.contains(&item));
    let toggle = move |ev| {
        let on = event_target_checked(&ev);
        chosen.update(|v| {
            v.retain(|x| *x != item);
            if on {
                v.push(item);
            }
        });
    };
    (checked, toggle)
}
