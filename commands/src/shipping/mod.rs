//! Shipping's use cases (issue 22): shipments of an order's lines, their steps, and the
//! carriers' tracking updates, with the order and the stock following them.
//!
//! # Layout
//!
//! - [`carrier`]: the [`Carrier`] port (quote, label, tracking, reading a webhook) and
//!   what crosses it.
//! - [`test_carrier`]: the `test` carrier: deterministic quotes by weight, labels and
//!   tracking numbers made from the shipment's id, and the tracking updates it would send.
//! - [`setup`]: [`Carriers`], the carriers a process ships with and the receiver of their
//!   signed webhooks.
//! - [`receiver`]: [`TrackingReceiver`], the signer and the replay cache of webhook ids
//!   (`carrier.webhook_receipts`), at the bottom.
//! - [`create`]: [`create_shipment`]: the lines are checked against what the order has
//!   left, the carrier quotes and labels the parcel, the order records the shipment (on
//!   its own stream, so two shipments cannot take one unit), then the shipment is created.
//! - [`follow`]: what a shipment's status means for the rest of the shop: once it has left,
//!   its lines' stock is committed and the order records it; once it arrived, the order
//!   records that too. Each step is idempotent, so a retry finishes what a failure cut.
//! - [`status`]: [`change_shipment_status`] (staff, one step at a time).
//! - [`tracking`]: [`record_carrier_update`] and [`receive_tracking_webhook`]: a carrier's
//!   signed webhook checked (signature, window, the replay cache of webhook ids in
//!   PostgreSQL) and recorded with the carrier as the actor.
//! - [`shipments`]: a shipment and an order's shipments as the caller may see them, read
//!   whole from the write side.
//! - [`rates`]: the store's shipping zones, methods and rates ([`set_zone`],
//!   [`remove_zone`]), what an order weighs (the catalog's `weight_grams`), the quotes for
//!   an address and what checkout charges ([`charge`]), with [`RatesUseError`].
//! - [`error`]: [`ShippingUseError`], at the bottom.

pub mod carrier;
pub mod create;
pub mod error;
pub mod follow;
pub mod rates;
pub mod receiver;
pub mod setup;
pub mod shipments;
pub mod status;
pub mod test_carrier;
pub mod tracking;

pub use carrier::{Carrier, CarrierError, Label, Parcel, TrackingEvent};
pub use create::{create_shipment, NewShipment};
pub use error::ShippingUseError;
pub use rates::{
    charge, quote, rates_stream, remove_zone, set_zone, shipping_rates, weight_of, RatesDecided,
    RatesUseError,
};
pub use receiver::{TrackingReceiver, TrackingReplay};
pub use setup::Carriers;
pub use shipments::{shipment, shipments_of_order, ShipmentOutcome};
pub use status::change_shipment_status;
pub use test_carrier::TestCarrier;
pub use tracking::{receive_tracking_webhook, record_carrier_update, WebhookOutcome};
