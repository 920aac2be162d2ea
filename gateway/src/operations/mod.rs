//! Operations for staff and admins (issue 25): how each read model follows `$all`
//! (`/api/v1/admin/projections`: checkpoint against the head, lag and its trend, stalls),
//! the events a read model refused (`/api/v1/admin/parked`: retried, skipped or
//! discarded, each action audited), and rebuilds started from here with their progress,
//! ending with the rebuilt read model verified against a fresh replay. The console's
//! operations pages (`crate::console`) answer from the same functions.
//!
//! # Layout
//!
//! - `guard`: who may operate ([`OPERATORS`]) and the read-only switch
//!   (`CONSOLE_READ_ONLY`) that turns every changing action off.
//! - `status`: each read model's status, from what `/health/detailed` reads
//!   (`crate::health::read_checkpoints`), with the stall verdict of
//!   `projections::status::stalled`.
//! - `parked`: parked events and the actions on them, over `projections::runtime::parked`.
//! - `rebuilds`: a rebuild in a task of its own, its progress in `projections.rebuilds`,
//!   then `projections::rebuild::verify`.
//! - `consumers`: the JetStream consumers of the relay's stream (`/api/v1/admin/consumers`:
//!   pending and redelivered), when NATS is configured.
//! - `outbox`: retrying a notification whose delivery failed for good
//!   (`/api/v1/admin/outbox/{id}/retry`), refused once retention dropped its content.
//! - `sql`: analysts' read-only SQL over the read models' schemas (`/api/v1/admin/sql`),
//!   as a role of their own (`ANALYST_DATABASE_URL`), with a timeout and a row cap.
//! - `views`: the answers; `routes`: the routes and their OpenAPI description.

mod consumers;
mod guard;
mod outbox;
mod parked;
mod rebuilds;
mod routes;
mod sql;
mod status;
mod views;

pub use ::projections::runtime::parked::Action as ParkedAction;
pub use consumers::{consumers, ConsumerView, ConsumersView};
pub use guard::{reason, writable, OPERATORS};
pub use outbox::{retry as retry_notification, OutboxRetryView};
pub use parked::{act, actions, find as find_parked, list, Acting, ActionBody, ParkedQuery};
pub use rebuilds::{
    latest as latest_rebuild, progress as rebuild_progress, start as start_rebuild,
};
pub use routes::{router, OperationsApi};
pub use sql::{analyst_pool, run as run_sql, SqlAnswer, SqlBody, ROW_CAP, SQL_READERS};
pub use status::read_models;
pub use views::{
    ParkedActionView, ParkedOutcome, ParkedView, ProjectionStatus, ProjectionsView, RebuildView,
};
