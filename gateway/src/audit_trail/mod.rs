//! The event log for auditors (issue 25 item 2), beside `crate::event_log`'s streams and
//! `$all`: the audit trail searched and exported, one request's whole trail, and any
//! aggregate's state over time. Each answers `/api/v1/admin/...` and the console's pages
//! alike (`crate::console::audit`, `crate::console::time_travel`).
//!
//! # Layout
//!
//! - `search`: the trail (the `audit` read model) by actor, correlation id, event type,
//!   resource and time, paged on the server, and its CSV or JSON export.
//! - `timeline`: one correlation id from the HTTP request (its audit record) to every
//!   event it caused (nested by causation) and the read models each event has reached.
//! - `timeline_export`: a timeline as a CSV or JSON download.
//! - `aggregate`: an aggregate's state at a version or a time, and one step of a stream
//!   (the state before and after one event), folded by `commands::time_travel`.
//! - `diff`: what changed between two states, field by field.
//! - `routes`: the routes, their OpenAPI description, and who may read.

mod aggregate;
mod diff;
mod routes;
mod search;
mod timeline;
mod timeline_export;

pub use aggregate::{state_at, step, AggregateState, StateQuery, Step};
pub use diff::FieldChange;
pub use routes::{router, AuditTrailApi};
pub use search::{export, search, TrailQuery, CSV_COLUMNS, EXPORT_MAX};
pub use timeline::{timeline, Timeline, TimelineEvent, MAX_EVENTS};
pub use timeline_export::{timeline_file, ExportQuery, TIMELINE_COLUMNS};
