//! The projection runtime: one runner per read model, applying `$all` from its checkpoint.
//!
//! - [`projection`]: the [`Projection`] trait a read model implements, [`ProjectionError`],
//!   and the helpers read models decode events and bind arrays with.
//! - [`schema`]: a read model's schema created from its DDL ([`ensure_schema`]), and
//!   whether its tables still match the code's.
//! - `batch`: one batch and its checkpoint move in one transaction, poison parked; what
//!   both the runner and a rebuild apply events through.
//! - [`parked`]: parked events as staff act on them: retried into the live read model,
//!   skipped or discarded, each action audited (issue 25's console).
//! - [`runner`]: the [`Runner`] that follows `$all` (or a JetStream worker's batches), and
//!   the held checkpoint moves over events a read model wants nothing of.
//!
//! The checkpoints themselves are [`crate::checkpoint`]. This file only declares and
//! re-exports: the files here import each other directly, and so does [`crate::rebuild`],
//! which the runner calls.

pub(crate) mod batch;
pub mod parked;
pub mod projection;
pub mod runner;
pub mod schema;

pub use projection::{column, decode, event_time, wire_name, Projection, ProjectionError};
pub use runner::{raise, Runner, BATCH, CHECKPOINT_LINGER};
pub use schema::{ensure_schema, SchemaState};
