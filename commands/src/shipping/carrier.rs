//! The [`Carrier`] port: a parcel service behind one interface.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::id::ShipmentId;
use domain::money::{Currency, Money};
use domain::shipping::ShipmentStatus;

#[derive(Debug, thiserror::Error)]
pub enum CarrierError {
    /// The carrier does not offer this service level.
    #[error("{carrier} has no service level {service_level:?} (it has {offered})")]
    UnknownServiceLevel {
        carrier: String,
        service_level: String,
        offered: String,
    },
    /// The carrier cannot take this parcel (too heavy, say).
    #[error("{0}")]
    Refused(String),
    /// A webhook body that is not one of this carrier's updates.
    #[error("not a tracking update: {0}")]
    Malformed(String),
    /// The carrier did not answer, or answered an error.
    #[error("carrier {carrier}: {message}")]
    Unavailable { carrier: String, message: String },
}

/// What is sent: its weight and how fast, priced in the order's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parcel {
    pub weight_grams: u32,
    pub service_level: String,
    pub currency: Currency,
    /// The warehouse it leaves from.
    pub from: String,
}

/// A label the carrier made: the tracking number and where the printable label is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub tracking_number: String,
    pub label_url: String,
}

/// One tracking update of a carrier, as its webhook or a poll brings it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingEvent {
    /// The carrier's id for the update.
    pub id: String,
    /// The shipment the label was made for (the reference given to the carrier).
    pub shipment_id: ShipmentId,
    pub tracking_number: String,
    /// The carrier's status in our words; `None` for one that maps to none of ours.
    pub status: Option<ShipmentStatus>,
    pub description: String,
    pub location: Option<String>,
    /// The carrier reports the parcel late.
    pub delayed: bool,
    pub occurred_at: DateTime<Utc>,
}

/// A parcel service behind one interface.
#[async_trait]
pub trait Carrier: Send + Sync + 'static {
    /// The carrier's name in URLs and on shipments (`test`).
    fn name(&self) -> &'static str;

    /// What sending `parcel` costs.
    async fn quote(&self, parcel: &Parcel) -> Result<Money, CarrierError>;

    /// Makes the label of `parcel` for `shipment_id` (the reference its updates name).
    /// Asked twice for one shipment, a carrier answers the same label.
    async fn create_label(
        &self,
        shipment_id: ShipmentId,
        parcel: &Parcel,
    ) -> Result<Label, CarrierError>;

    /// The updates the carrier has for `tracking_number`, oldest first.
    async fn tracking(&self, tracking_number: &str) -> Result<Vec<TrackingEvent>, CarrierError>;

    /// Reads the body of one of the carrier's webhooks (its signature already checked).
    fn read_webhook(&self, body: &[u8]) -> Result<TrackingEvent, CarrierError>;
}
