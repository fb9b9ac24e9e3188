//! `/system`: what this pgward server is: its version, its catalog, and the PostgreSQL client tools
//! it found (which server versions it can back up and restore).

use leptos::prelude::*;
use pgward_api_types::{PgClient, SystemInfo};

use crate::parts::{PageHeader, RefreshButton, Reload};
use crate::session::use_session;
use crate::ui::alert_error;

#[component]
pub fn SystemPage() -> impl IntoView {
    let session = use_session();
    let reload = Reload::new();
    let info = LocalResource::new(move || {
        reload.track();
        session.call(|c| async move { c.system().await })
    });
    view! {
        <PageHeader title="System" intro="This pgward server and the PostgreSQL tools it found.">
            <RefreshButton reload testid="system-refresh" />
        </PageHeader>
        {move || match info.get() {
            None => view! { <p class="muted pad">"Loading…"</p> }.into_any(),
            Some(Err(e)) => alert_error(e).into_any(),
            Some(Ok(info)) => system_view(info).into_any(),
        }}
    }
}

fn system_view(info: SystemInfo) -> impl IntoView {
    let catalog = match info.catalog.as_str() {
        "embedded" => "embedded (pgward runs its own catalog server)",
        "external" => "external PostgreSQL server",
        other => other,
    }
    .to_string();
    let majors = if info.pg_client_majors.is_empty() {
        "none".to_string()
    } else {
        info.pg_client_majors
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <section class="card" data-testid="system-info">
            <h2>"Server"</h2>
            <dl class="system-facts">
                <dt>"pgward version"</dt>
                <dd class="mono" data-testid="system-version">{info.version}</dd>
                <dt>"Catalog"</dt>
                <dd data-testid="system-catalog" data-catalog=info.catalog.clone()>{catalog}</dd>
                <dt>"Complete client sets for PostgreSQL"</dt>
                <dd data-testid="system-majors">{majors}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>"PostgreSQL client tools"</h2>
            <p class="muted small">
                "pg_dump, pg_restore and psql of each major version found. A backup needs a client at least as new as the database server."
            </p>
            {clients_table(info.pg_clients)}
        </section>
    }
}

fn clients_table(clients: Vec<PgClient>) -> AnyView {
    if clients.is_empty() {
        return view! {
            <p class="muted" data-testid="system-clients-empty">
                "No PostgreSQL client tools were found."
            </p>
        }
        .into_any();
    }
    let rows = clients
        .into_iter()
        .map(|c| {
            let (class, status) = if c.complete {
                ("badge badge-ok", "complete")
            } else {
                ("badge badge-bad", "pg_dump only")
            };
            view! {
                <tr data-testid="system-client" data-major=c.major.to_string()>
                    <td>{c.major}</td>
                    <td class="mono">{c.version}</td>
                    <td class="mono">{c.bin_dir}</td>
                    <td>
                        <span
                            class=class
                            title="Whether psql and pg_restore were found beside pg_dump"
                            data-testid="system-client-complete"
                        >
                            {status}
                        </span>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="PostgreSQL clients">
            <table class="table" data-testid="system-clients">
                <thead>
                    <tr>
                        <th scope="col">"Major"</th>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Directory"</th>
                        <th scope="col">"Tools"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
