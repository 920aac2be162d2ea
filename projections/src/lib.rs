//! UltraMarket's read side: the relay to NATS, and the read models built from the event
//! store's `$all`.
//!
//! # Layout
//!
//! - [`relay`]: tails `$all` from a checkpoint and publishes each event to JetStream
//!   (`<prefix>.<category>.<EventType>`, `Nats-Msg-Id` = event id, the previous event's
//!   position in a header).
//! - [`runtime`]: the [`Projection`] trait and the [`Runner`] that applies events from a
//!   checkpoint, each batch and its checkpoint in one PostgreSQL transaction
//!   (effectively-once, invariant 5), parking poison events in `projections.parked`.
//! - [`jetstream`]: the production feed: one durable pull consumer per projection, which
//!   heals any gap (a lost, purged or reset stream) from the store, since NATS is derived.
//! - [`rebuild`]: a read model rebuilt from the store into a shadow schema and swapped in;
//!   and `verify`, a fresh replay compared table by table with the live read model.
//! - [`status`]: lag per projection, in metrics and `projections.status`.
//! - One module per read model, each in its own schema with its DDL in
//!   `schemas/read-models/<name>.sql`: [`orders`], [`catalog`], [`carts`], [`analytics`],
//!   [`audit`], [`notifications`], [`users`].
//!
//! # Data flow
//!
//! With `NATS_URL` set: store → relay → JetStream → one consumer per projection → its
//! tables. Without it (the embedded default), each runner follows the store's own `$all`
//! subscription in process. Either way the gateway answers queries from these tables,
//! waiting for a client's consistency token when it sends one.

use std::sync::Arc;

pub mod analytics;
pub mod audit;
pub mod carts;
pub mod catalog;
pub mod jetstream;
pub mod notifications;
pub mod orders;
pub mod rebuild;
pub mod relay;
pub mod runtime;
pub mod status;
pub mod users;

pub use runtime::{Projection, ProjectionError, Runner};

/// Every read model the engine maintains, in the order they are started.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(orders::OrdersProjection),
        Arc::new(notifications::NotificationsProjection),
        Arc::new(carts::CartsProjection),
        Arc::new(catalog::CatalogProjection),
        Arc::new(analytics::AnalyticsProjection),
        Arc::new(audit::AuditProjection),
        Arc::new(users::UsersProjection),
    ]
}

/// The read model called `name`.
pub fn by_name(name: &str) -> Option<Arc<dyn Projection>> {
    all().into_iter().find(|p| p.name() == name)
}
