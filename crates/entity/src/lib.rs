//! sea-orm entities of the catalog. They never leave the server: handlers convert them to api-types DTOs.

pub mod api_tokens;
pub mod audit_log;
pub mod databases;
pub mod destinations;
pub mod events;
pub mod executions;
pub mod invitations;
pub mod restorations;
pub mod sessions;
pub mod task_destinations;
pub mod tasks;
pub mod users;
pub mod webhook_attempts;
pub mod webhook_deliveries;
pub mod webhooks;
