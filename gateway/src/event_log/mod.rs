//! The event log as back-office staff, admins and auditors read it (issue 25):
//! `/api/v1/admin/streams` (streams searched by category, id pattern and last activity),
//! `/api/v1/admin/streams/{stream_id}` (one stream's events) and `/api/v1/admin/events`
//! (`$all`, filtered, paged both ways by position). The console's event log pages
//! (`crate::console`) answer from the same queries, so a page shows what the API answers.
//!
//! # Layout
//!
//! - `queries`: the questions and how the store answers them (`search_streams`,
//!   `read_stream`, `read_all_filtered`), with their paging.
//! - `views`: the answers; personal data sealed in the log stays sealed in them.
//! - `routes`: the routes, their OpenAPI description, and who may read.

mod queries;
mod routes;
mod views;

pub use queries::{
    events, stream, streams, time as parse_time, uuid as parse_uuid, EventsQuery, StreamQuery,
    StreamsQuery,
};
pub use routes::{router, EventLogApi, READERS};
pub use views::{EventPage, EventView, StreamEvents, StreamPage, StreamSummary};
