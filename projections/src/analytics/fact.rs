//! What an event means to the analytics read model: each event it wants becomes one
//! [`Fact`], decoded once, before the batch reads any row.

use chrono::{DateTime, NaiveDate, Utc};
use commands::store::RecordedEvent;
use domain::cart::CartEvent;
use domain::catalog::{CategoryEvent, ProductEvent};
use domain::inventory::InventoryEvent;
use domain::order::OrderEvent;
use uuid::Uuid;

use crate::runtime::projection::{decode, event_time, wire_name, ProjectionError};

pub(super) type Day = NaiveDate;
pub(super) type Time = DateTime<Utc>;

/// The day an instant belongs to in every table: its UTC date.
pub(super) fn day(at: Time) -> Day {
    at.date_naive()
}

/// The id part of `<category>-<id>`.
pub(super) fn stream_uuid(event: &RecordedEvent) -> Result<Uuid, ProjectionError> {
    event
        .stream_uuid()
        .ok_or_else(|| ProjectionError::event(event, "the stream id names no aggregate id"))
}

/// A line as an order placed it: product, its variant, sku, quantity, line revenue.
pub(super) struct PlacedLine {
    pub(super) product_id: Uuid,
    pub(super) variant_id: Option<Uuid>,
    pub(super) sku: String,
    pub(super) quantity: i64,
    pub(super) revenue: i64,
}

/// How one inventory event moves a SKU's counters.
#[derive(Default)]
pub(super) struct Movement {
    pub(super) on_hand: i64,
    pub(super) reserved: i64,
    pub(super) received: i64,
    pub(super) adjusted: i64,
    pub(super) committed: i64,
    pub(super) restocked: i64,
    pub(super) reserved_today: i64,
    pub(super) released_today: i64,
}

/// What an event means to this read model.
pub(super) enum Fact {
    Placed {
        order_id: Uuid,
        user_id: Uuid,
        currency: String,
        total: i64,
        placed_at: Time,
        lines: Vec<PlacedLine>,
    },
    Paid {
        order_id: Uuid,
        amount: i64,
        at: Time,
    },
    PaymentFailed {
        order_id: Uuid,
        at: Time,
    },
    Refunded {
        order_id: Uuid,
        amount: i64,
        full: bool,
        at: Time,
    },
    Cancelled {
        order_id: Uuid,
        reason: String,
        at: Time,
    },
    /// A cart got an item: it opens on `day` unless it is open already.
    CartFilled {
        cart_id: String,
        day: Day,
    },
    CartClosed {
        cart_id: String,
        expired: bool,
    },
    StockMoved {
        sku: String,
        movement: Movement,
        at: Time,
    },
    ThresholdSet {
        sku: String,
        threshold: i64,
        at: Time,
    },
    LowStock {
        event_id: Uuid,
        sku: String,
        available: i64,
        threshold: i64,
        at: Time,
    },
    ProductCreated {
        product_id: Uuid,
        sku: String,
        name: String,
        category_id: Uuid,
    },
    ProductUpdated {
        product_id: Uuid,
        name: Option<String>,
        category_id: Option<Uuid>,
    },
    SkuAdded {
        product_id: Uuid,
        sku: String,
    },
    CategoryCreated {
        category_id: Uuid,
        name: String,
        parent_id: Option<Uuid>,
    },
    CategoryRenamed {
        category_id: Uuid,
        name: String,
    },
    CategoryMoved {
        category_id: Uuid,
        parent_id: Option<Uuid>,
    },
}

pub(super) fn fact(event: &RecordedEvent) -> Result<Option<Fact>, ProjectionError> {
    let fact = match event.category() {
        "order" => {
            let order_id = stream_uuid(event)?;
            match decode::<OrderEvent>(event)? {
                OrderEvent::OrderPlaced {
                    user_id,
                    lines,
                    totals,
                    placed_at,
                    ..
                } => Fact::Placed {
                    order_id,
                    user_id: user_id.as_uuid(),
                    currency: totals.total.currency.as_str().to_owned(),
                    total: totals.total.amount,
                    placed_at,
                    lines: lines
                        .iter()
                        .map(|l| PlacedLine {
                            product_id: l.product_id.as_uuid(),
                            variant_id: l.variant_id.map(|v| v.as_uuid()),
                            sku: l.sku.as_str().to_owned(),
                            quantity: i64::from(l.quantity),
                            revenue: l.unit_price.amount.saturating_mul(i64::from(l.quantity)),
                        })
                        .collect(),
                },
                OrderEvent::OrderPaid { amount, at, .. } => Fact::Paid {
                    order_id,
                    amount: amount.amount,
                    at,
                },
                OrderEvent::OrderPaymentFailed { at, .. } => Fact::PaymentFailed { order_id, at },
                OrderEvent::OrderRefunded {
                    amount, full, at, ..
                } => Fact::Refunded {
                    order_id,
                    amount: amount.amount,
                    full,
                    at,
                },
                OrderEvent::OrderCancelled { reason, at, .. } => Fact::Cancelled {
                    order_id,
                    reason: wire_name(&reason),
                    at,
                },
                _ => return Ok(None),
            }
        }
        "cart" => {
            let cart_id = event.stream_key().to_owned();
            match decode::<CartEvent>(event)? {
                CartEvent::CartItemAdded { at, .. } => Fact::CartFilled {
                    cart_id,
                    day: day(at),
                },
                CartEvent::GuestCartMerged { .. }
                | CartEvent::SharedCartCopied { .. }
                | CartEvent::SavedItemMovedToCart { .. } => Fact::CartFilled {
                    cart_id,
                    day: day(event_time(event)),
                },
                CartEvent::CartCheckedOut { .. } => Fact::CartClosed {
                    cart_id,
                    expired: false,
                },
                CartEvent::CartExpired { .. } => Fact::CartClosed {
                    cart_id,
                    expired: true,
                },
                _ => return Ok(None),
            }
        }
        "inventory" => {
            use InventoryEvent as E;
            let at = event_time(event);
            let (sku, movement) = match decode::<InventoryEvent>(event)? {
                E::StockReceived { sku, quantity, .. } => {
                    let q = i64::from(quantity);
                    let m = Movement {
                        on_hand: q,
                        received: q,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::StockAdjusted { sku, delta, .. } => {
                    let m = Movement {
                        on_hand: delta,
                        adjusted: delta,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::StockReserved { sku, quantity, .. } => {
                    let q = i64::from(quantity);
                    let m = Movement {
                        reserved: q,
                        reserved_today: q,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::ReservationReleased { sku, quantity, .. } => {
                    let q = i64::from(quantity);
                    let m = Movement {
                        reserved: -q,
                        released_today: q,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::ReservationCommitted { sku, quantity, .. } => {
                    let q = i64::from(quantity);
                    let m = Movement {
                        on_hand: -q,
                        reserved: -q,
                        committed: q,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::StockRestocked { sku, quantity, .. } => {
                    let q = i64::from(quantity);
                    let m = Movement {
                        on_hand: q,
                        restocked: q,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::LowStockThresholdSet { sku, threshold } => {
                    return Ok(Some(Fact::ThresholdSet {
                        sku: sku.as_str().to_owned(),
                        threshold: i64::from(threshold),
                        at,
                    }))
                }
                E::LowStockDetected {
                    sku,
                    available,
                    threshold,
                } => {
                    return Ok(Some(Fact::LowStock {
                        event_id: event.id,
                        sku: sku.as_str().to_owned(),
                        available,
                        threshold: i64::from(threshold),
                        at,
                    }))
                }
                // A transfer moves stock between warehouses: the SKU's sums do not change.
                E::StockTransferredOut { .. } | E::StockTransferredIn { .. } => return Ok(None),
            };
            Fact::StockMoved {
                sku: sku.as_str().to_owned(),
                movement,
                at,
            }
        }
        "product" => {
            let product_id = stream_uuid(event)?;
            match decode::<ProductEvent>(event)? {
                ProductEvent::ProductCreated {
                    sku,
                    name,
                    category_id,
                    ..
                } => Fact::ProductCreated {
                    product_id,
                    sku: sku.as_str().to_owned(),
                    name,
                    category_id: category_id.as_uuid(),
                },
                // Only the name and category matter here; an update of neither costs nothing.
                ProductEvent::ProductUpdated {
                    name, category_id, ..
                } if name.is_some() || category_id.is_some() => Fact::ProductUpdated {
                    product_id,
                    name,
                    category_id: category_id.map(|c| c.as_uuid()),
                },
                ProductEvent::VariantAdded { variant } => Fact::SkuAdded {
                    product_id,
                    sku: variant.sku.as_str().to_owned(),
                },
                _ => return Ok(None),
            }
        }
        "category" => {
            let category_id = stream_uuid(event)?;
            match decode::<CategoryEvent>(event)? {
                CategoryEvent::CategoryCreated {
                    name, parent_id, ..
                } => Fact::CategoryCreated {
                    category_id,
                    name,
                    parent_id: parent_id.map(|p| p.as_uuid()),
                },
                CategoryEvent::CategoryRenamed { name } => {
                    Fact::CategoryRenamed { category_id, name }
                }
                CategoryEvent::CategoryMoved { parent_id } => Fact::CategoryMoved {
                    category_id,
                    parent_id: parent_id.map(|p| p.as_uuid()),
                },
                // Analytics keeps no slugs.
                CategoryEvent::CategorySlugChanged { .. } => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(fact))
}
