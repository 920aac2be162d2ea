//! `ultramarket seed-demo`: a demo catalog, so a newcomer's first look is at a real shop.
//!
//! [`DemoCatalog::new`] describes it (fifteen categories in two levels, three hundred and
//! twenty-six products, twenty-six of them PC parts for the PC builder, with descriptions,
//! prices, attributes and an image each, sizes as variants for clothing and shoes, stock
//! for every SKU and a few low-stock thresholds); [`seed_demo`] writes it through the same
//! use cases as the HTTP routes (`commands::catalog` and `commands::inventory`, SKU and
//! slug claims included), with the engine itself as the actor, so the read models, the
//! audit trail and the claims look exactly as if staff had typed it all in.
//!
//! Every id is a UUIDv5 of [`NAMESPACE`] and the item's name, and each step looks at the
//! aggregate before it acts, so seeding again appends nothing and an interrupted run
//! finishes where it stopped. The command ids are derived the same way, so even two runs
//! racing each other are told apart by the store's retry check rather than doubling stock.
//!
//! [`demo_admin`] leaves an admin to sign in to the console with (`console`).

mod console;
mod demo;
mod steps;

pub use console::{demo_admin, DemoAdmin, DEMO_ADMIN_EMAIL};
pub use demo::{DemoCatalog, DemoCategory, DemoProduct, DemoVariant, NAMESPACE};
pub use steps::{seed_demo, SeedError, SeedReport};
