//! `/audit` (admins only): who did what, when and from where, newest first, with filters kept in the
//! page's address (action or operation, resource, user, a date range in UTC) and paging by cursor.

use chrono::{DateTime, Days, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_router::hooks::{query_signal, use_navigate};
use pgward_api_types::{AuditEntry, AuditQuery, Role};
use uuid::Uuid;

use crate::parts::{
    ClearFilters, FilterSelect, ListCard, PageHeader, Pager, Pages, RefreshButton, Reload,
    RequireRole, api_list, items, labelled, table_of,
};
use crate::session::use_session;
use crate::ui::format_time;

const PAGE_SIZE: u32 = 50;

const COLUMNS: &[&str] = &[
    "At",
    "Actor",
    "Operation",
    "Resource",
    "Fields",
    "Status",
    "Client",
];

/// What requests act on: the first part of the API path.
const RESOURCES: [&str; 14] = [
    "auth",
    "me",
    "tokens",
    "users",
    "invitations",
    "databases",
    "destinations",
    "tasks",
    "executions",
    "restorations",
    "webhooks",
    "uploads",
    "downloads",
    "audit",
];

#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Admin>
            <AuditLog />
        </RequireRole>
    }
}

/// The start of a `YYYY-MM-DD` day (UTC); `next` gives the start of the day after it, so that "until"
/// includes the day chosen.
fn day_start(day: Option<String>, next: bool) -> Option<DateTime<Utc>> {
    let date = NaiveDate::parse_from_str(day?.trim(), "%Y-%m-%d").ok()?;
    let date = if next {
        date.checked_add_days(Days::new(1))?
    } else {
        date
    };
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// A filter kept in the query, edited by a text-like input and applied when the input changes
/// (Enter or leaving it), not on every keystroke.
fn query_input(
    label: &'static str,
    kind: &'static str,
    testid: &'static str,
    placeholder: &'static str,
    query: (Memo<Option<String>>, SignalSetter<Option<String>>),
) -> impl IntoView {
    let (value, set_value) = query;
    view! {
        <label class="field inline">
            <span>{label}</span>
            <input
                type=kind
                placeholder=placeholder
                spellcheck="false"
                data-testid=testid
                prop:value=move || value.get().unwrap_or_default()
                on:change=move |ev| {
                    let v = event_target_value(&ev).trim().to_string();
                    set_value.set((!v.is_empty()).then_some(v));
                }
            />
        </label>
    }
}

#[component]
fn AuditLog() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let action = query_signal::<String>("action");
    let resource = query_signal::<String>("resource");
    let user = query_signal::<String>("user_id");
    let since = query_signal::<String>("since");
    let until = query_signal::<String>("until");
    let filters = [action.0, resource.0, user.0, since.0, until.0];
    let pages = Pages::new();
    pages.restart_on(move || filters.iter().for_each(|f| f.track()));

    let reload = Reload::new();
    let list = LocalResource::new(move || {
        reload.track();
        let query = AuditQuery {
            action: action.0.get(),
            resource: resource.0.get(),
            user_id: user.0.get().and_then(|u| Uuid::parse_str(&u).ok()),
            since: day_start(since.0.get(), false),
            until: day_start(until.0.get(), true),
            limit: Some(PAGE_SIZE),
            cursor: pages.cursor(),
            ..Default::default()
        };
        session.call_with(query, |c, q| async move { c.list_audit(&q).await })
    });
    let users = api_list(session, None, |c| async move {
        c.list_users().await.map(|l| l.items)
    });
    let filtered = move || filters.iter().any(|f| f.with(Option::is_some));
    let rows = table_of(list, COLUMNS, "audit-table", audit_row);

    view! {
        <div data-testid="audit-page">
            <PageHeader
                title="Audit log"
                intro="Every change, download, login and refusal, newest first, at times in your zone (Profile)."
            >
                <RefreshButton reload testid="audit-refresh" />
            </PageHeader>
            <ListCard
                list
                rows
                loading="Loading the audit log…"
                empty_testid="audit-empty"
                empty=move || {
                    if untrack(filtered) { "Nothing matches these filters." } else { "Nothing recorded yet." }
                }
                footer=move || {
                    view! { <Pager list pages testids=("audit-newer", "audit-older") hide_alone=true /> }
                }
            >
                <div class="filters">
                    {query_input("Action or operation", "text", "audit-filter-action", "e.g. delete or run_task", action)}
                    <FilterSelect
                        label="Resource"
                        testid="audit-filter-resource"
                        query=resource
                        all="All resources"
                        options=|| RESOURCES.iter().map(|r| labelled(r)).collect()
                    />
                    <FilterSelect
                        label="User"
                        testid="audit-filter-user"
                        query=user
                        all="Everyone"
                        options=move || {
                            items(users).into_iter().map(|u| (u.id.to_string(), u.email)).collect()
                        }
                    />
                    {query_input("Since (UTC)", "date", "audit-filter-since", "", since)}
                    {query_input("Until (UTC)", "date", "audit-filter-until", "", until)}
                    <ClearFilters
                        shown=filtered
                        testid="audit-filter-clear"
                        on_clear=move || navigate("/audit", Default::default())
                    />
                </div>
            </ListCard>
        </div>
    }
}

/// Who did it: the user's email, through which API token if one, or nobody known.
fn actor(e: &AuditEntry) -> AnyView {
    let a = &e.actor;
    match (&a.email, &a.token_name) {
        (Some(email), Some(token)) => view! {
            <div>{email.clone()}</div>
            <div class="muted small">{format!("token \u{201c}{token}\u{201d}")}</div>
        }
        .into_any(),
        (Some(email), None) => view! { <div>{email.clone()}</div> }.into_any(),
        (None, Some(token)) => {
            view! { <div>{format!("token \u{201c}{token}\u{201d}")}</div> }.into_any()
        }
        (None, None) => view! { <span class="muted">"anonymous"</span> }.into_any(),
    }
}

fn audit_row(e: AuditEntry) -> impl IntoView {
    let status_class = if e.status < 400 {
        "badge badge-ok"
    } else {
        "badge badge-bad"
    };
    let resource = match &e.resource_id {
        Some(id) => format!("{}/{id}", e.resource),
        None => e.resource.clone(),
    };
    let fields = if e.fields.is_empty() {
        "—".to_string()
    } else {
        e.fields.join(", ")
    };
    view! {
        <tr data-testid="audit-row" data-operation=e.operation.clone() data-status=e.status.to_string()>
            <td class="nowrap">{format_time(Some(&e.at))}</td>
            <td data-testid="audit-actor">{actor(&e)}</td>
            <td title=format!("{} {}", e.method, e.path)>
                <div class="mono" data-testid="audit-operation">
                    {e.operation.clone()}
                </div>
                <div class="muted small mono ellipsis">{format!("{} {}", e.method, e.path)}</div>
            </td>
            <td class="mono small ellipsis" title=resource.clone() data-testid="audit-resource">
                {resource.clone()}
            </td>
            <td class="small" data-testid="audit-fields">
                {fields}
            </td>
            <td>
                <span class=status_class data-testid="audit-status">
                    {e.status}
                </span>
            </td>
            <td class="small" title=e.user_agent.clone().unwrap_or_default()>
                {e.client_addr.clone().unwrap_or_else(|| "—".into())}
            </td>
        </tr>
    }
}
