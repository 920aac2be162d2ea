//! UltraMarket's read side: read models built from the event store's `$all`.
//!
//! # Layout
//!
//! - [`runtime`]: the `Projection` trait and the runner that follows `$all` from a
//!   checkpoint, applying each batch and advancing the checkpoint in one PostgreSQL
//!   transaction (effectively-once, invariant 5).
//! - [`orders`]: the `orders` schema: orders, their items and their status history.
//!
//! # Data flow
//!
//! The store's `$all` subscription feeds each runner in process (the embedded mode of
//! DESIGN.md); the gateway answers queries from these tables, waiting for a client's
//! consistency token when it sends one.

pub mod orders;
pub mod runtime;

pub use runtime::{Projection, ProjectionError, Runner};
