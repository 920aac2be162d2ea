//! Shipping (issue 22): the parcels an order leaves in, and where they are.
//!
//! A [`Shipment`] holds some lines (and quantities) of one order, leaves one warehouse
//! with one carrier at one service level, carries the carrier's tracking number and label,
//! and moves `pending → packed → shipped → in_transit → delivered`, or ends `returned` or
//! `lost` once it has left. Staff move it one step at a time ([`status`]); the carrier's
//! tracking updates are recorded as they come and move it forward.
//!
//! What a shipment may take of its order (the quantities ordered less what earlier
//! shipments took) and the carrier's label arrive inside `CreateShipment`: the use case
//! knows the order and calls the carrier, this module decides.
//!
//! - [`status`]: [`ShipmentStatus`] and the rule of a step.
//! - [`shipment`]: the aggregate: commands, events, state, `decide`, `evolve`.
//! - [`rates`]: the store's zones, the methods each offers and their rates (by weight or
//!   order value, with a free-shipping threshold): the `ShippingRates` aggregate, one
//!   stream, and the pure quote of a parcel to an address.

pub mod rates;
pub mod shipment;
pub mod status;

pub use rates::{
    Consignment, Destination, Quote, QuoteError, RateBasis, RateBracket, RatesCommand, RatesError,
    RatesEvent, RatesState, ShippingMethod, ShippingRates, ShippingZone, SHIPPING_RATES_ID,
};
pub use shipment::{
    CarrierUpdate, CreateShipment, CreatedShipment, Remaining, Shipment, ShipmentCommand,
    ShipmentError, ShipmentEvent, ShipmentLine, ShipmentState, StatusEntry, TrackingEntry,
    MAX_SHIPMENT_LINES,
};
pub use status::{ShipmentStatus, StepError};
