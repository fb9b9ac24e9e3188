//! Feature modules. Each owns its tables' queries and exposes one `configure` mount point.

pub mod api;
pub mod audit;
pub mod auth;
pub mod databases;
pub mod destinations;
pub mod events;
pub mod executions;
pub mod health;
pub mod metrics;
pub mod restorations;
pub mod system;
pub mod tasks;
pub mod tokens;
pub mod users;
pub mod validate;
pub mod webhooks;

use utoipa_actix_web::service_config::ServiceConfig;

/// Everything below `/api/v1`.
pub fn configure_api(cfg: &mut ServiceConfig) {
    auth::configure(cfg);
    users::configure(cfg);
    audit::configure(cfg);
    tokens::configure(cfg);
    databases::configure(cfg);
    destinations::configure(cfg);
    tasks::configure(cfg);
    events::configure(cfg);
    executions::configure(cfg);
    restorations::configure(cfg);
    system::configure(cfg);
    webhooks::configure(cfg);
}
