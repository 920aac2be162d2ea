//! UltraMarket's read side: read models built from the event store's `$all`.
//!
//! # Layout
//!
//! - [`runtime`]: the [`Projection`] trait and the [`Runner`] that applies `$all` from a
//!   checkpoint, each batch and its checkpoint in one PostgreSQL transaction
//!   (effectively-once, invariant 5), parking poison events in `projections.parked`.
//! - [`rebuild`]: a read model rebuilt from the store into a shadow schema and swapped in.
//! - [`status`]: lag per projection, in metrics and `projections.status`.
//! - One module per read model, each in its own schema with its DDL in
//!   `schemas/read-models/<name>.sql`: [`orders`].
//!
//! # Data flow
//!
//! The store's `$all` subscription feeds each runner in process (the embedded mode of
//! DESIGN.md); the gateway answers queries from these tables, waiting for a client's
//! consistency token when it sends one.

use std::sync::Arc;

pub mod orders;
pub mod rebuild;
pub mod runtime;
pub mod status;

pub use runtime::{Projection, ProjectionError, Runner};

/// Every read model the engine maintains, in the order they are started.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![Arc::new(orders::OrdersProjection)]
}

/// The read model called `name`.
pub fn by_name(name: &str) -> Option<Arc<dyn Projection>> {
    all().into_iter().find(|p| p.name() == name)
}
