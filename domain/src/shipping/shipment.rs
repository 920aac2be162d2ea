//! The shipment aggregate: one parcel of an order's lines, from the warehouse to the door.
//!
//! Created with the lines it holds, checked against what the order still has to ship
//! ([`Remaining`], which the use case works out from the order), and the carrier's label
//! and tracking number (the use case asks the carrier first). Then staff move it step by
//! step (`ChangeStatus`, [`ShipmentStatus::step`]) and the carrier's tracking updates are
//! recorded, each once, in its timeline (`RecordCarrierUpdate`), moving it forward when
//! they say it went further.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::status::{ShipmentStatus, StepError};
use crate::aggregate::{Aggregate, Upcast};
use crate::id::{OrderId, ProductId, ShipmentId, UserId, VariantId};
use crate::money::Money;
use crate::order::ChangedBy;
use crate::value::{line, optional_line, Sku, MAX_CODE};

/// The most lines one shipment holds (an order's own bound).
pub const MAX_SHIPMENT_LINES: usize = crate::order::MAX_LINES;
/// The longest warehouse code, carrier name or service level.
const MAX_NAME: usize = 64;
/// The longest label reference (a URL).
const MAX_LABEL: usize = 2048;
/// The longest description or location in a carrier's tracking update.
const MAX_TRACKING_TEXT: usize = 500;

pub struct Shipment;

/// Some quantity of one order line, in a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShipmentLine {
    pub product_id: ProductId,
    /// The variant bought; `None` for a product without variants.
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub quantity: u32,
}

/// One order line as a new shipment sees it: what was ordered and what earlier shipments
/// of the order already took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remaining {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub ordered: u32,
    pub taken: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateShipment {
    pub shipment_id: ShipmentId,
    pub order_id: OrderId,
    /// The order's customer, who may follow the shipment.
    pub customer: UserId,
    /// The SKUs and quantities asked for, in the client's order.
    pub requested: Vec<(Sku, u32)>,
    /// Every line of the order, with what earlier shipments took of it.
    pub order_lines: Vec<Remaining>,
    pub warehouse: String,
    pub carrier: String,
    pub service_level: String,
    /// The carrier's answer when the label was made.
    pub tracking_number: String,
    pub label_url: String,
    /// What the carrier quoted for the parcel.
    pub cost: Money,
    pub at: DateTime<Utc>,
}

/// A carrier's word on a parcel, as its webhook (or a poll) brought it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierUpdate {
    /// The carrier's id for the update: a repeat is recorded once.
    pub event_id: String,
    pub carrier: String,
    /// The status the carrier reports, when it maps to one of ours.
    pub status: Option<ShipmentStatus>,
    pub description: String,
    pub location: Option<String>,
    /// The carrier reports the parcel late (the customer is told).
    pub delayed: bool,
    /// When the carrier says it happened.
    pub occurred_at: DateTime<Utc>,
    /// When the engine heard of it.
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShipmentCommand {
    Create(Box<CreateShipment>),
    /// Staff move the shipment one step.
    ChangeStatus {
        to: ShipmentStatus,
        note: Option<String>,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    RecordCarrierUpdate(Box<CarrierUpdate>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ShipmentEvent {
    ShipmentCreated {
        shipment_id: ShipmentId,
        order_id: OrderId,
        user_id: UserId,
        lines: Vec<ShipmentLine>,
        warehouse: String,
        carrier: String,
        service_level: String,
        tracking_number: String,
        label_url: String,
        cost: Money,
        created_at: DateTime<Utc>,
    },
    ShipmentStatusChanged {
        from: ShipmentStatus,
        to: ShipmentStatus,
        note: Option<String>,
        /// Staff, or the carrier (`role` `carrier:<name>`, no user).
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    /// A carrier's tracking update, kept whether or not it moved the status.
    ShipmentTracked {
        event_id: String,
        carrier: String,
        status: Option<ShipmentStatus>,
        description: String,
        location: Option<String>,
        /// The carrier reports the parcel late; absent (false) on updates before delays
        /// were told apart (a compatible addition).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        delayed: bool,
        occurred_at: DateTime<Utc>,
        received_at: DateTime<Utc>,
    },
}

crate::domain_event!(ShipmentEvent {
    ShipmentCreated,
    ShipmentStatusChanged,
    ShipmentTracked,
});
impl Upcast for ShipmentEvent {}

/// One line of a shipment's status history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub status: ShipmentStatus,
    pub by: ChangedBy,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// One carrier event of a shipment's tracking timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingEntry {
    pub event_id: String,
    pub status: Option<ShipmentStatus>,
    pub description: String,
    pub location: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedShipment {
    pub shipment_id: ShipmentId,
    pub order_id: OrderId,
    pub user_id: UserId,
    pub lines: Vec<ShipmentLine>,
    pub warehouse: String,
    pub carrier: String,
    pub service_level: String,
    pub tracking_number: String,
    pub label_url: String,
    pub cost: Money,
    pub status: ShipmentStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub history: Vec<StatusEntry>,
    pub tracking: Vec<TrackingEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipmentState {
    pub shipment: Option<CreatedShipment>,
    /// The carrier event ids recorded, so a repeat is recorded once.
    pub seen: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentError {
    #[error("the shipment already exists")]
    AlreadyCreated,
    #[error("no such shipment")]
    NotCreated,
    #[error("a shipment needs at least one line")]
    NoLines,
    #[error("a shipment holds at most {0} lines")]
    TooManyLines(usize),
    #[error("lines[{line}].quantity: must be positive")]
    ZeroQuantity { line: usize },
    #[error("lines[{line}].sku: {sku} appears twice; add up the quantities")]
    DuplicateLine { line: usize, sku: Sku },
    #[error("lines[{line}].sku: the order has no line {sku}")]
    NotOrdered { line: usize, sku: Sku },
    #[error("lines[{line}].quantity: {requested} of {sku} asked, {remaining} left to ship")]
    ExceedsOrdered {
        line: usize,
        sku: Sku,
        requested: u32,
        remaining: u32,
    },
    #[error("the update comes from {given}, the shipment travels with {carrier}")]
    WrongCarrier { given: String, carrier: String },
    #[error(transparent)]
    Step(#[from] StepError),
    /// Free text the rule of `crate::value` refuses: empty, too long, or with control
    /// characters.
    #[error("{field}: {reason}")]
    InvalidText { field: &'static str, reason: String },
}

impl From<crate::value::InvalidValue> for ShipmentError {
    fn from(e: crate::value::InvalidValue) -> Self {
        ShipmentError::InvalidText {
            field: e.field,
            reason: e.message,
        }
    }
}

/// One line of text, required.
fn required(field: &'static str, raw: &str, max: usize) -> Result<String, ShipmentError> {
    let s = line(field, raw, max)?;
    if s.is_empty() {
        return Err(ShipmentError::InvalidText {
            field,
            reason: "is required".into(),
        });
    }
    Ok(s)
}

/// The lines a new shipment holds: each asked SKU matched with its order line, and never
/// more than the order has left to ship of it.
fn lines_of(c: &CreateShipment) -> Result<Vec<ShipmentLine>, ShipmentError> {
    if c.requested.is_empty() {
        return Err(ShipmentError::NoLines);
    }
    if c.requested.len() > MAX_SHIPMENT_LINES {
        return Err(ShipmentError::TooManyLines(MAX_SHIPMENT_LINES));
    }
    let mut lines = Vec::with_capacity(c.requested.len());
    for (i, (sku, quantity)) in c.requested.iter().enumerate() {
        if *quantity == 0 {
            return Err(ShipmentError::ZeroQuantity { line: i });
        }
        if c.requested[..i].iter().any(|(s, _)| s == sku) {
            return Err(ShipmentError::DuplicateLine {
                line: i,
                sku: sku.clone(),
            });
        }
        let Some(ordered) = c.order_lines.iter().find(|l| &l.sku == sku) else {
            return Err(ShipmentError::NotOrdered {
                line: i,
                sku: sku.clone(),
            });
        };
        let remaining = ordered.ordered.saturating_sub(ordered.taken);
        if *quantity > remaining {
            return Err(ShipmentError::ExceedsOrdered {
                line: i,
                sku: sku.clone(),
                requested: *quantity,
                remaining,
            });
        }
        lines.push(ShipmentLine {
            product_id: ordered.product_id,
            variant_id: ordered.variant_id,
            sku: sku.clone(),
            quantity: *quantity,
        });
    }
    Ok(lines)
}

impl Aggregate for Shipment {
    const CATEGORY: &'static str = "shipment";
    type State = ShipmentState;
    type Command = ShipmentCommand;
    type Event = ShipmentEvent;
    type Error = ShipmentError;

    fn decide(
        s: &ShipmentState,
        cmd: &ShipmentCommand,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        use ShipmentCommand as C;
        use ShipmentEvent as E;
        match cmd {
            C::Create(c) => {
                if s.shipment.is_some() {
                    return Err(ShipmentError::AlreadyCreated);
                }
                let lines = lines_of(c)?;
                Ok(vec![E::ShipmentCreated {
                    shipment_id: c.shipment_id,
                    order_id: c.order_id,
                    user_id: c.customer,
                    lines,
                    warehouse: required("warehouse", &c.warehouse, MAX_NAME)?,
                    carrier: required("carrier", &c.carrier, MAX_NAME)?,
                    service_level: required("service_level", &c.service_level, MAX_NAME)?,
                    tracking_number: required("tracking_number", &c.tracking_number, MAX_CODE)?,
                    label_url: required("label_url", &c.label_url, MAX_LABEL)?,
                    cost: c.cost,
                    created_at: c.at,
                }])
            }
            C::ChangeStatus { to, note, by, at } => {
                let shipment = s.shipment.as_ref().ok_or(ShipmentError::NotCreated)?;
                if !shipment.status.step(*to)? {
                    return Ok(vec![]);
                }
                Ok(vec![E::ShipmentStatusChanged {
                    from: shipment.status,
                    to: *to,
                    note: note.clone(),
                    by: by.clone(),
                    at: *at,
                }])
            }
            C::RecordCarrierUpdate(u) => {
                let shipment = s.shipment.as_ref().ok_or(ShipmentError::NotCreated)?;
                if u.carrier != shipment.carrier {
                    return Err(ShipmentError::WrongCarrier {
                        given: u.carrier.clone(),
                        carrier: shipment.carrier.clone(),
                    });
                }
                let event_id = required("id", &u.event_id, MAX_CODE)?;
                if s.seen.contains(&event_id) {
                    return Ok(vec![]);
                }
                let description = line("description", &u.description, MAX_TRACKING_TEXT)?;
                let location = optional_line("location", u.location.as_deref(), MAX_TRACKING_TEXT)?;
                let mut events = vec![E::ShipmentTracked {
                    event_id,
                    carrier: u.carrier.clone(),
                    status: u.status,
                    description: description.clone(),
                    location,
                    delayed: u.delayed,
                    occurred_at: u.occurred_at,
                    received_at: u.received_at,
                }];
                if let Some(to) = u.status {
                    if shipment.status.carrier_moves(to) {
                        events.push(E::ShipmentStatusChanged {
                            from: shipment.status,
                            to,
                            note: (!description.is_empty()).then_some(description),
                            by: ChangedBy {
                                user_id: None,
                                role: format!("carrier:{}", u.carrier),
                            },
                            at: u.occurred_at,
                        });
                    }
                }
                Ok(events)
            }
        }
    }

    fn evolve(mut s: ShipmentState, event: &ShipmentEvent) -> ShipmentState {
        use ShipmentEvent as E;
        match event {
            E::ShipmentCreated {
                shipment_id,
                order_id,
                user_id,
                lines,
                warehouse,
                carrier,
                service_level,
                tracking_number,
                label_url,
                cost,
                created_at,
            } => {
                s.shipment = Some(CreatedShipment {
                    shipment_id: *shipment_id,
                    order_id: *order_id,
                    user_id: *user_id,
                    lines: lines.clone(),
                    warehouse: warehouse.clone(),
                    carrier: carrier.clone(),
                    service_level: service_level.clone(),
                    tracking_number: tracking_number.clone(),
                    label_url: label_url.clone(),
                    cost: *cost,
                    status: ShipmentStatus::Pending,
                    created_at: *created_at,
                    updated_at: *created_at,
                    history: vec![],
                    tracking: vec![],
                });
            }
            E::ShipmentStatusChanged {
                to, note, by, at, ..
            } => {
                if let Some(sh) = s.shipment.as_mut() {
                    sh.status = *to;
                    sh.updated_at = *at;
                    sh.history.push(StatusEntry {
                        status: *to,
                        by: by.clone(),
                        note: note.clone(),
                        at: *at,
                    });
                }
            }
            E::ShipmentTracked {
                event_id,
                status,
                description,
                location,
                occurred_at,
                received_at,
                ..
            } => {
                s.seen.insert(event_id.clone());
                if let Some(sh) = s.shipment.as_mut() {
                    sh.tracking.push(TrackingEntry {
                        event_id: event_id.clone(),
                        status: *status,
                        description: description.clone(),
                        location: location.clone(),
                        occurred_at: *occurred_at,
                        received_at: *received_at,
                    });
                }
            }
        }
        s
    }
}
