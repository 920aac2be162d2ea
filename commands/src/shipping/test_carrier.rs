//! The `test` carrier: everything a real one does, decided from its input alone, so tests
//! and demos ship without an account anywhere.
//!
//! - Quotes by weight: 4.00 for the first kilogram, 1.00 for each started kilogram after
//!   it, twice that for `express` (the order's currency, in minor units).
//! - The tracking number is `TEST` and the first 12 hex digits of the shipment's id, the
//!   label `https://carrier.test/labels/<tracking number>.pdf`.
//! - Its webhook body: `{"id", "type": "tracking.updated", "shipment_id",
//!   "tracking_number", "status", "description", "location", "occurred_at"}`, where
//!   `status` is one of the shipment's (`in_transit`, `delivered`, `returned`, `lost`;
//!   another word is kept in the timeline without moving the shipment).
//!   [`TestCarrier::update`] writes one, as the carrier would send it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::id::ShipmentId;
use domain::money::Money;
use domain::shipping::ShipmentStatus;
use serde::{Deserialize, Serialize};

use super::carrier::{Carrier, CarrierError, Label, Parcel, TrackingEvent};

/// The service levels the test carrier offers.
pub const SERVICE_LEVELS: [&str; 2] = ["standard", "express"];
/// The heaviest parcel it takes: 30 kg.
pub const MAX_WEIGHT_GRAMS: u32 = 30_000;

#[derive(Debug, Clone, Copy, Default)]
pub struct TestCarrier;

#[derive(Serialize, Deserialize)]
struct WebhookBody {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    shipment_id: ShipmentId,
    tracking_number: String,
    status: Option<String>,
    #[serde(default)]
    description: String,
    location: Option<String>,
    occurred_at: DateTime<Utc>,
}

impl TestCarrier {
    /// The tracking number of `shipment_id`'s label.
    pub fn tracking_number(shipment_id: ShipmentId) -> String {
        let hex = shipment_id.as_uuid().simple().to_string().to_uppercase();
        format!("TEST{}", &hex[..12])
    }

    /// The body of the webhook the carrier sends when `shipment_id`'s parcel reaches
    /// `status` (a status of ours, or any other word) at `at`; `id` is the webhook's.
    pub fn update(id: &str, shipment_id: ShipmentId, status: &str, at: DateTime<Utc>) -> Vec<u8> {
        let body = WebhookBody {
            id: id.to_owned(),
            kind: "tracking.updated".into(),
            shipment_id,
            tracking_number: Self::tracking_number(shipment_id),
            status: Some(status.to_owned()),
            description: format!("parcel {}", status.replace('_', " ")),
            location: Some("Test Hub 1".into()),
            occurred_at: at,
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

#[async_trait]
impl Carrier for TestCarrier {
    fn name(&self) -> &'static str {
        "test"
    }

    async fn quote(&self, parcel: &Parcel) -> Result<Money, CarrierError> {
        if !SERVICE_LEVELS.contains(&parcel.service_level.as_str()) {
            return Err(CarrierError::UnknownServiceLevel {
                carrier: self.name().into(),
                service_level: parcel.service_level.clone(),
                offered: SERVICE_LEVELS.join(", "),
            });
        }
        if parcel.weight_grams == 0 || parcel.weight_grams > MAX_WEIGHT_GRAMS {
            return Err(CarrierError::Refused(format!(
                "the test carrier takes parcels of 1 to {MAX_WEIGHT_GRAMS} g"
            )));
        }
        let kilograms = i64::from(parcel.weight_grams.div_ceil(1000));
        let standard = 400 + 100 * (kilograms - 1);
        let amount = if parcel.service_level == "express" {
            standard * 2
        } else {
            standard
        };
        Ok(Money::new(amount, parcel.currency))
    }

    async fn create_label(
        &self,
        shipment_id: ShipmentId,
        parcel: &Parcel,
    ) -> Result<Label, CarrierError> {
        // The quote's checks are the label's: a parcel it cannot price, it cannot send.
        self.quote(parcel).await?;
        let tracking_number = Self::tracking_number(shipment_id);
        Ok(Label {
            label_url: format!("https://carrier.test/labels/{tracking_number}.pdf"),
            tracking_number,
        })
    }

    async fn tracking(&self, _tracking_number: &str) -> Result<Vec<TrackingEvent>, CarrierError> {
        // The test carrier keeps no history: its updates are the webhooks a test sends.
        Ok(vec![])
    }

    fn read_webhook(&self, body: &[u8]) -> Result<TrackingEvent, CarrierError> {
        let b: WebhookBody =
            serde_json::from_slice(body).map_err(|e| CarrierError::Malformed(e.to_string()))?;
        if b.kind != "tracking.updated" {
            return Err(CarrierError::Malformed(format!(
                "type {:?}: the test carrier sends tracking.updated",
                b.kind
            )));
        }
        Ok(TrackingEvent {
            id: b.id,
            shipment_id: b.shipment_id,
            tracking_number: b.tracking_number,
            // `delayed` is the test carrier's word for a late parcel, a status of none of ours.
            delayed: b.status.as_deref() == Some("delayed"),
            status: b.status.and_then(|s| s.parse::<ShipmentStatus>().ok()),
            description: b.description,
            location: b.location,
            occurred_at: b.occurred_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::money::Currency;
    use uuid::Uuid;

    fn parcel(weight_grams: u32, service_level: &str) -> Parcel {
        Parcel {
            weight_grams,
            service_level: service_level.into(),
            currency: Currency::USD,
            from: "main".into(),
        }
    }

    #[tokio::test]
    async fn quotes_go_by_started_kilogram_and_double_for_express() {
        let c = TestCarrier;
        let amount = |w, s| {
            let p = parcel(w, s);
            async move { c.quote(&p).await.map(|m| m.amount) }
        };
        assert_eq!(amount(1, "standard").await.unwrap(), 400);
        assert_eq!(amount(1000, "standard").await.unwrap(), 400);
        assert_eq!(amount(1001, "standard").await.unwrap(), 500);
        assert_eq!(amount(2500, "express").await.unwrap(), 1200);
        assert!(matches!(
            amount(500, "overnight").await,
            Err(CarrierError::UnknownServiceLevel { .. })
        ));
        assert!(matches!(
            amount(MAX_WEIGHT_GRAMS + 1, "standard").await,
            Err(CarrierError::Refused(_))
        ));
    }

    #[tokio::test]
    async fn labels_and_updates_name_the_shipment() {
        let id = ShipmentId::new(Uuid::from_u128(0xabcdef));
        let label = TestCarrier
            .create_label(id, &parcel(800, "standard"))
            .await
            .unwrap();
        assert_eq!(label.tracking_number, "TEST000000000000");
        assert_eq!(
            label.label_url,
            "https://carrier.test/labels/TEST000000000000.pdf"
        );
        let at = Utc::now();
        let event = TestCarrier
            .read_webhook(&TestCarrier::update("evt_1", id, "in_transit", at))
            .unwrap();
        assert_eq!(event.shipment_id, id);
        assert_eq!(event.status, Some(ShipmentStatus::InTransit));
        assert_eq!(event.tracking_number, label.tracking_number);
        // A word that is none of ours is kept without a status.
        let other = TestCarrier
            .read_webhook(&TestCarrier::update("evt_2", id, "out_for_delivery", at))
            .unwrap();
        assert_eq!(other.status, None);
        assert!(TestCarrier.read_webhook(b"{}").is_err());
    }
}
