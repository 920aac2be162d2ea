//! UltraMarket's domain: the rules of the marketplace as pure functions.
//!
//! # Layout
//!
//! - [`aggregate`]: the `Aggregate` trait (`decide`, `evolve`) and `DomainEvent`, the stored
//!   shape of events (a stable type name, a schema version, a JSON object) with upcasting.
//! - Values checked at the edge: [`id`] (typed ids), [`money`] (integer minor units and a
//!   currency), [`value`] (`Email`, `Sku`, `Slug`, `Quantity`, `Address`).
//! - One module per aggregate: [`user`], [`catalog`] (categories and products),
//!   [`inventory`] (a SKU's stock per warehouse, and the `Warehouse` aggregate), [`cart`],
//!   [`coupon`], [`order`], [`payment`], and [`notification`] (the delivery of one message:
//!   claimed, sent or failed; and its templates, rendered purely into a subject and a
//!   body), [`session`] (an account's sign-ins, failed logins, logouts and revoked
//!   refresh-token families, as facts of the log), and [`tax`] (the store's rates by
//!   country and region, and the rule that taxes one order line).
//! - [`pricing`]: price rules and the one engine that prices lines under them (ADR 0008).
//! - [`pc_builder`]: the PC builder's compatibility rules, as data, and the check of a build;
//!   the `PcBuild` aggregate (a named choice of parts per slot, shared by a link).
//! - [`search`]: each gateway's log of the searches it answered, counted per query and
//!   recorded per interval (ADR 0007).
//! - The store's own settings (issue 22): [`shop`] (name, currencies, locales, address,
//!   price display, the order-number format and its pure `render`), [`configuration`]
//!   (the registry of typed feature flags and settings, and the values staff set), and
//!   [`navigation`] (the storefront's menus as trees of links).
//! - [`shipping`] (issue 22): an order's shipments, their steps from the warehouse to the
//!   door and the carrier's tracking updates; the order follows them (`partially_shipped`,
//!   `shipped`, `delivered`) and each shipped line commits its stock; the store's
//!   shipping zones, methods and rates (`ShippingRates`) and the quote of a parcel.
//! - [`vendors`] (issue 23): the stores that sell on the marketplace, their application,
//!   approval, suspension and terms; [`reviews`]: buyers' reviews of products they
//!   received, each with the proof of purchase found in the order's events;
//!   [`ledger`]: each store's double-entry book (sales at payment with their commission
//!   rule and version, refunds and clawbacks, payouts, adjustments).
//! - [`returns`] (issue 22): an order's returns (`OrderReturns`, one stream per order beside
//!   the order's): delivered lines sent back within a window, approved or rejected,
//!   received (restocked or written off) and refunded; the order as placed is never
//!   rewritten.
//!
//! - [`privacy`]: which fields of which events are personal data, whose key seals them and
//!   what they read as once erased (invariant 11), declared on the events' types.
//!
//! # Data flow
//!
//! The command side loads an aggregate's events, folds them with `evolve` into its state,
//! and asks `decide` what a command means in that state: new events or a typed refusal.
//! Everything outside (the clock, prices, a password hash, a payment provider's answer)
//! arrives inside the command, so `decide` is deterministic and this crate does no IO.

pub mod aggregate;
pub mod cart;
pub mod catalog;
pub mod configuration;
pub mod coupon;
pub mod id;
pub mod inventory;
pub mod ledger;
pub mod money;
pub mod navigation;
pub mod notification;
pub mod order;
pub mod payment;
pub mod pc_builder;
pub mod pricing;
pub mod privacy;
pub mod returns;
pub mod reviews;
pub mod search;
pub mod session;
pub mod shipping;
pub mod shop;
pub mod tax;
pub mod user;
pub mod value;
pub mod vendors;

pub use aggregate::{Aggregate, DomainEvent, EventDecodeError};
