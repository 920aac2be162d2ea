//! A carrier's tracking updates: recorded on the shipment with the carrier as the actor,
//! moving it forward when they say it went further, and the order and stock following.
//! Through a webhook, the update is first authenticated: its HMAC signature over
//! `"<timestamp>.<body>"` (`crate::webhook`, shared with the payment provider's), the
//! timestamp's window, and the replay cache of the carrier's webhook ids in PostgreSQL
//! (`carrier.webhook_receipts`), which every gateway shares.

use chrono::{DateTime, Utc};
use domain::order::ChangedBy;
use domain::shipping::{CarrierUpdate, Shipment, ShipmentCommand};

use super::carrier::TrackingEvent;
use super::error::ShippingUseError;
use super::follow::follow;
use super::setup::Carriers;
use super::shipments::{load_shipment, ShipmentOutcome};
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::webhook::WebhookError;

/// What a carrier's update came to.
#[derive(Debug, Clone)]
pub struct WebhookOutcome {
    pub shipment: ShipmentOutcome,
    /// Whether the update moved the shipment's status.
    pub moved: bool,
}

/// Records `event`, a tracking update of `carrier`, on its shipment. The events carry the
/// carrier as their actor (`actor_id` `carrier:<name>`).
#[tracing::instrument(skip_all, fields(carrier, shipment_id = %event.shipment_id), err)]
pub async fn record_carrier_update(
    handlers: &Handlers,
    carrier: &str,
    event: TrackingEvent,
    received_at: DateTime<Utc>,
    mut meta: CommandMeta,
) -> Result<WebhookOutcome, ShippingUseError> {
    let actor = format!("carrier:{carrier}");
    meta.external_actor = Some(actor.clone());
    let shipment_id = event.shipment_id.as_uuid();
    let shipment = load_shipment(handlers, shipment_id).await?;
    if shipment.tracking_number != event.tracking_number {
        return Err(ShippingUseError::Malformed(format!(
            "tracking number {:?} is not the shipment's",
            event.tracking_number
        )));
    }
    let before = shipment.status;
    let update = CarrierUpdate {
        event_id: event.id,
        carrier: carrier.to_owned(),
        status: event.status,
        description: event.description,
        location: event.location,
        delayed: event.delayed,
        occurred_at: event.occurred_at,
        received_at,
    };
    let handled = handlers
        .shipments
        .handle(
            &CommandHandler::<Shipment>::stream_id(shipment_id),
            ShipmentCommand::RecordCarrierUpdate(Box::new(update)),
            meta.clone(),
        )
        .await?;
    let shipment = load_shipment(handlers, shipment_id).await?;
    let by = ChangedBy {
        user_id: None,
        role: actor,
    };
    let followed = follow(handlers, &shipment, &by, &meta).await?;
    Ok(WebhookOutcome {
        moved: shipment.status != before,
        shipment: ShipmentOutcome {
            shipment,
            position: followed.or(handled.position),
        },
    })
}

/// Checks a carrier's webhook (`header` is its signature, `body` its update) at `now`,
/// refuses a webhook id seen before, and records the update.
#[tracing::instrument(skip_all, fields(carrier), err)]
pub async fn receive_tracking_webhook(
    handlers: &Handlers,
    carriers: &Carriers,
    carrier: &str,
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    meta: CommandMeta,
) -> Result<WebhookOutcome, ShippingUseError> {
    let Some(receiver) = carriers.webhooks.as_deref() else {
        return Err(ShippingUseError::WebhooksOff);
    };
    let carrier = carriers
        .named(carrier)
        .ok_or_else(|| ShippingUseError::UnknownCarrier(carrier.to_owned()))?;
    receiver
        .signer
        .verify(header, body, now)
        .map_err(ShippingUseError::Signature)?;
    let event = carrier
        .read_webhook(body)
        .map_err(|e| ShippingUseError::Malformed(e.to_string()))?;
    let webhook_id = event.id.clone();
    let fresh = receiver
        .replay
        .claim(carrier.name(), &webhook_id)
        .await
        .map_err(|e| ShippingUseError::Failed(e.to_string()))?;
    if !fresh {
        return Err(ShippingUseError::Signature(WebhookError::Replayed));
    }
    match record_carrier_update(handlers, carrier.name(), event, now, meta).await {
        Ok(outcome) => Ok(outcome),
        Err(e) => {
            // A refusal stays refused; a failure of ours must not turn the carrier's
            // retry into a replay.
            if matches!(e, ShippingUseError::Store(_) | ShippingUseError::Failed(_)) {
                if let Err(release) = receiver.replay.release(carrier.name(), &webhook_id).await {
                    tracing::warn!(error = %release, "could not forget a webhook id");
                }
            }
            Err(e)
        }
    }
}
