//! The fulfilment e-mails (issue 22 item 7): each shipment's shipped, delivered and
//! delayed messages, and a return's approval and refund, to the order's customer.

use std::collections::hash_map::Entry;

use commands::store::RecordedEvent;
use domain::notification::Template;
use domain::returns::ReturnsEvent;
use domain::shipping::{ShipmentEvent, ShipmentStatus};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Batch, Parcel};
use crate::runtime::column;

impl Batch {
    /// Reads the shipments the batch's steps and updates name.
    pub(super) async fn load_shipments(
        &mut self,
        tx: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<(), sqlx::Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let rows: Vec<(Uuid, Uuid, Uuid, String)> = sqlx::query_as(
            "select shipment_id, order_id, user_id, tracking_number from shipment_recipients
              where shipment_id = any($1)",
        )
        .bind(ids)
        .fetch_all(&mut *tx)
        .await?;
        for (id, order_id, user_id, tracking_number) in rows {
            self.shipments.insert(
                id,
                Parcel {
                    order_id,
                    user_id,
                    tracking_number,
                },
            );
        }
        Ok(())
    }

    pub(super) async fn write_shipments(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.new_shipments.is_empty() {
            return Ok(());
        }
        let rows = &self.new_shipments;
        sqlx::query(
            "insert into shipment_recipients (shipment_id, order_id, user_id, tracking_number)
             select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[])
             on conflict (shipment_id) do nothing",
        )
        .bind(column(rows, |r| r.0))
        .bind(column(rows, |r| r.1.order_id))
        .bind(column(rows, |r| r.1.user_id))
        .bind(column(rows, |r| r.1.tracking_number.clone()))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    pub(super) fn shipment(&mut self, event: &RecordedEvent, id: Uuid, e: ShipmentEvent) {
        let template = match &e {
            ShipmentEvent::ShipmentCreated {
                order_id,
                user_id,
                tracking_number,
                ..
            } => {
                if let Entry::Vacant(v) = self.shipments.entry(id) {
                    let parcel = Parcel {
                        order_id: order_id.as_uuid(),
                        user_id: user_id.as_uuid(),
                        tracking_number: tracking_number.clone(),
                    };
                    v.insert(parcel.clone());
                    self.new_shipments.push((id, parcel));
                }
                return;
            }
            ShipmentEvent::ShipmentStatusChanged { to, .. } => match to {
                ShipmentStatus::Shipped => Template::ShipmentShipped,
                ShipmentStatus::Delivered => Template::ShipmentDelivered,
                _ => return,
            },
            ShipmentEvent::ShipmentTracked { delayed: true, .. } => Template::ShipmentDelayed,
            ShipmentEvent::ShipmentTracked { .. } => return,
        };
        let Some(parcel) = self.shipments.get(&id).cloned() else {
            return;
        };
        let description = match &e {
            ShipmentEvent::ShipmentTracked { description, .. } => Some(description.clone()),
            _ => None,
        };
        let payload = json!({
            "order_id": parcel.order_id,
            "shipment_id": id,
            "tracking_number": parcel.tracking_number,
            "description": description,
        });
        self.notify_user(event, parcel.user_id, template, payload);
    }

    pub(super) fn order_return(&mut self, event: &RecordedEvent, order_id: Uuid, e: ReturnsEvent) {
        let Some(&user_id) = self.owners.get(&order_id) else {
            return;
        };
        let (template, payload) = match e {
            ReturnsEvent::ReturnApproved { return_id, .. } => (
                Template::ReturnApproved,
                json!({ "order_id": order_id, "return_id": return_id }),
            ),
            ReturnsEvent::ReturnRefunded {
                return_id, amount, ..
            } => (
                Template::RefundIssued,
                json!({ "order_id": order_id, "return_id": return_id, "amount": amount }),
            ),
            _ => return,
        };
        self.notify_user(event, user_id, template, payload);
    }
}
