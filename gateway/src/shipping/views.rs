//! The shipping answers, and how the use cases' refusals read over HTTP.

use chrono::{DateTime, Utc};
use commands::shipping::{Carriers, ShippingUseError, TrackingReceiver};
use commands::webhook::WebhookError;
use domain::shipping::{CreatedShipment, ShipmentError, StepError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, FieldError};
use crate::state::AppState;
use crate::views::Money;

/// The carriers this process ships with: the `test` carrier, and the receiver of their
/// webhooks when `SHIPPING_WEBHOOK_SECRET` is set. Cheap to build (a pool handle and a
/// key), so it is built where it is used rather than kept in the state.
pub fn carriers(state: &AppState) -> Carriers {
    let webhooks = state.config.shipping_webhook_secret.as_ref().map(|secret| {
        std::sync::Arc::new(TrackingReceiver::new(
            secret.expose().as_bytes().to_vec(),
            state.config.shipping_webhook_tolerance,
            state.pool.clone(),
        ))
    });
    Carriers::test(webhooks)
}

/// Some quantity of one order line, in a shipment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentLineView {
    pub product_id: Uuid,
    pub quantity: u32,
    pub sku: String,
    pub variant_id: Option<Uuid>,
}

/// One step of a shipment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentStepView {
    pub at: DateTime<Utc>,
    /// Who moved it: a staff role, or `carrier:<name>`.
    pub by_role: String,
    pub note: Option<String>,
    pub status: String,
}

/// A shipment: some lines of one order, leaving one warehouse with one carrier.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentView {
    pub carrier: String,
    /// What the carrier quoted for the parcel.
    pub cost: Money,
    pub created_at: DateTime<Utc>,
    /// The steps so far, oldest first (creation is `pending`).
    pub history: Vec<ShipmentStepView>,
    pub id: Uuid,
    pub label_url: String,
    pub lines: Vec<ShipmentLineView>,
    pub order_id: Uuid,
    pub service_level: String,
    /// `pending`, `packed`, `shipped`, `in_transit`, `delivered`, `returned` or `lost`.
    pub status: String,
    pub tracking_number: String,
    pub updated_at: DateTime<Utc>,
    pub warehouse: String,
}

impl From<&CreatedShipment> for ShipmentView {
    fn from(s: &CreatedShipment) -> Self {
        ShipmentView {
            carrier: s.carrier.clone(),
            cost: s.cost.into(),
            created_at: s.created_at,
            history: s
                .history
                .iter()
                .map(|h| ShipmentStepView {
                    at: h.at,
                    by_role: h.by.role.clone(),
                    note: h.note.clone(),
                    status: h.status.as_str().into(),
                })
                .collect(),
            id: s.shipment_id.as_uuid(),
            label_url: s.label_url.clone(),
            lines: s
                .lines
                .iter()
                .map(|l| ShipmentLineView {
                    product_id: l.product_id.as_uuid(),
                    quantity: l.quantity,
                    sku: l.sku.to_string(),
                    variant_id: l.variant_id.map(|v| v.as_uuid()),
                })
                .collect(),
            order_id: s.order_id.as_uuid(),
            service_level: s.service_level.clone(),
            status: s.status.as_str().into(),
            tracking_number: s.tracking_number.clone(),
            updated_at: s.updated_at,
            warehouse: s.warehouse.clone(),
        }
    }
}

/// An order's shipments, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentList {
    pub items: Vec<ShipmentView>,
    pub total: usize,
}

/// One carrier event of a shipment's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingEventView {
    pub description: String,
    /// The carrier's id for the update.
    pub id: String,
    pub location: Option<String>,
    /// When the carrier says it happened.
    pub occurred_at: DateTime<Utc>,
    /// When the engine heard of it.
    pub received_at: DateTime<Utc>,
    /// The carrier's status in the shipment's words, when it has one.
    pub status: Option<String>,
}

/// A shipment's tracking: where it is, and every carrier event, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingView {
    pub carrier: String,
    pub events: Vec<TrackingEventView>,
    pub shipment_id: Uuid,
    pub status: String,
    pub tracking_number: String,
}

impl From<&CreatedShipment> for TrackingView {
    fn from(s: &CreatedShipment) -> Self {
        TrackingView {
            carrier: s.carrier.clone(),
            events: s
                .tracking
                .iter()
                .map(|t| TrackingEventView {
                    description: t.description.clone(),
                    id: t.event_id.clone(),
                    location: t.location.clone(),
                    occurred_at: t.occurred_at,
                    received_at: t.received_at,
                    status: t.status.map(|s| s.as_str().into()),
                })
                .collect(),
            shipment_id: s.shipment_id.as_uuid(),
            status: s.status.as_str().into(),
            tracking_number: s.tracking_number.clone(),
        }
    }
}

fn unprocessable(code: &'static str, field: String, detail: String) -> ApiError {
    ApiError::UnprocessableEntity {
        code,
        detail: detail.clone(),
        errors: vec![FieldError::new(field, detail)],
    }
}

impl From<ShippingUseError> for ApiError {
    fn from(e: ShippingUseError) -> Self {
        let detail = e.to_string();
        match e {
            ShippingUseError::Invalid { field, message } => ApiError::invalid_field(field, message),
            ShippingUseError::OrderNotFound => ApiError::NotFound("no such order".into()),
            ShippingUseError::NotFound => ApiError::NotFound("no such shipment".into()),
            ShippingUseError::NotStaff => ApiError::Forbidden(detail),
            ShippingUseError::NotShippable(_) => ApiError::conflict("order_not_shippable", detail),
            ShippingUseError::Rejected(r) => match r {
                ShipmentError::ExceedsOrdered { line, .. } => {
                    unprocessable("exceeds_ordered", format!("lines[{line}].quantity"), detail)
                }
                ShipmentError::NotOrdered { line, .. } => {
                    unprocessable("not_ordered", format!("lines[{line}].sku"), detail)
                }
                ShipmentError::DuplicateLine { line, .. } => {
                    ApiError::invalid_field(format!("lines[{line}].sku"), detail)
                }
                ShipmentError::ZeroQuantity { line } => {
                    ApiError::invalid_field(format!("lines[{line}].quantity"), detail)
                }
                ShipmentError::NoLines | ShipmentError::TooManyLines(_) => {
                    ApiError::invalid_field("lines", detail)
                }
                ShipmentError::InvalidText { field, reason } => {
                    ApiError::invalid_field(field, reason)
                }
                ShipmentError::Step(StepError::Backwards { .. }) => {
                    ApiError::conflict("status_backwards", detail)
                }
                ShipmentError::Step(StepError::Skipped { .. }) => {
                    ApiError::conflict("status_skipped", detail)
                }
                ShipmentError::Step(StepError::Finished { .. }) => {
                    ApiError::conflict("shipment_finished", detail)
                }
                ShipmentError::WrongCarrier { .. } => {
                    unprocessable("wrong_carrier", "carrier".into(), detail)
                }
                ShipmentError::AlreadyCreated => ApiError::conflict("shipment_exists", detail),
                ShipmentError::NotCreated => ApiError::NotFound("no such shipment".into()),
            },
            ShippingUseError::Order(domain::order::OrderError::ShipmentExceedsOrder { .. }) => {
                unprocessable("exceeds_ordered", "lines".into(), detail)
            }
            ShippingUseError::Order(_) => ApiError::conflict("invalid_status", detail),
            ShippingUseError::Stock(_) => ApiError::conflict("stock_not_reserved", detail),
            ShippingUseError::CarrierRefused(m) => {
                unprocessable("carrier_refused", "carrier".into(), m)
            }
            ShippingUseError::CarrierUnavailable(cause) => {
                tracing::warn!(%cause, "the carrier did not answer");
                ApiError::ServiceUnavailable {
                    code: "carrier_unavailable",
                    detail: "the carrier did not answer; try again".into(),
                }
            }
            // The webhook route answers these itself, each 401 with its own code
            // (`webhook::refusal`).
            ShippingUseError::Signature(WebhookError::Malformed) => {
                ApiError::bad_request("webhook_signature_malformed", detail)
            }
            ShippingUseError::Signature(_) => ApiError::Unauthorized(detail),
            ShippingUseError::Malformed(_) => ApiError::bad_request("webhook_malformed", detail),
            ShippingUseError::UnknownCarrier(_) => ApiError::NotFound(detail),
            ShippingUseError::WebhooksOff => ApiError::ServiceUnavailable {
                code: "webhook_not_configured",
                detail,
            },
            ShippingUseError::Store(e) => e.into(),
            ShippingUseError::Failed(cause) => ApiError::internal(cause),
        }
    }
}
