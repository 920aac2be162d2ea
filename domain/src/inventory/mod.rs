//! Stock of one SKU across warehouses, and the reservations orders hold against it.
//!
//! `available = on_hand - reserved` never goes below zero, and a reservation is
//! all-or-nothing for its order line: that is how the engine never oversells (invariant 6).
//! A reservation moves to `sold` when its order ships (`on_hand` drops then) or back to
//! `available` when it is released.
//!
//! Stock sits in warehouses, and so does each reservation: `StockReserved` records which
//! warehouses hold it ([`Allocation`]), by the rule of [`InventoryState::allocate`], and
//! its release or commit gives back to, or ships from, those same warehouses. So each
//! warehouse's own available stock (`on_hand` there minus what is reserved there) never
//! goes below zero either, and a transfer moves at most that much. Reservations recorded
//! before warehouses were (no `warehouses` in the event) count against the SKU's total
//! only, and their commit takes from the fullest shelf, as it always did.
//!
//! An order shipped in several shipments commits its reservation a shipment at a time
//! (`CommitShipped`): the shipment's quantity only, from the shipment's warehouse first,
//! recorded once per shipment (the `shipment` of `ReservationCommitted`), so a retried
//! shipment commits nothing twice. What is left stays reserved for the next shipment.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{OrderId, ShipmentId};
use crate::value::Sku;

pub mod warehouse;

pub use warehouse::{
    CreateWarehouse, Warehouse, WarehouseCommand, WarehouseError, WarehouseEvent, WarehouseState,
};

pub const DEFAULT_WAREHOUSE: &str = "main";

/// The highest low-stock threshold a SKU may have. Far above any shelf the shop keeps, so
/// a larger number is a typo (an extra zero, a pasted SKU) rather than a decision.
pub const MAX_LOW_STOCK_THRESHOLD: u32 = 1_000_000;

pub struct Inventory;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryCommand {
    ReceiveStock {
        sku: Sku,
        warehouse: String,
        quantity: u32,
    },
    AdjustStock {
        sku: Sku,
        warehouse: String,
        delta: i64,
        reason: String,
    },
    /// Reserve `quantity` for `order_id`; reserving again for the same order changes nothing.
    ReserveStock {
        sku: Sku,
        order_id: OrderId,
        quantity: u32,
    },
    /// Give back what `order_id` holds; nothing if it holds nothing.
    ReleaseReservation {
        order_id: OrderId,
    },
    /// Give back `quantity` of what `order_id` holds (part of its line was cancelled);
    /// the rest stays reserved.
    ReleaseUnits {
        order_id: OrderId,
        quantity: u32,
    },
    /// The order shipped: what it holds is sold and leaves the shelf.
    CommitReservation {
        order_id: OrderId,
    },
    /// One shipment of the order left `warehouse` with `quantity` of this SKU: that much
    /// of the order's reservation is sold; once per shipment.
    CommitShipped {
        order_id: OrderId,
        shipment_id: ShipmentId,
        quantity: u32,
        warehouse: String,
    },
    /// Sold goods came back (a refund after shipment).
    Restock {
        order_id: OrderId,
        quantity: u32,
        warehouse: String,
    },
    SetLowStockThreshold {
        threshold: u32,
    },
    /// Move `quantity` from one warehouse to another: at most what `from` has available.
    TransferStock {
        sku: Sku,
        from: String,
        to: String,
        quantity: u32,
    },
}

/// Part of a reservation held in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Allocation {
    pub warehouse: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum InventoryEvent {
    StockReceived {
        sku: Sku,
        warehouse: String,
        quantity: u32,
    },
    StockAdjusted {
        sku: Sku,
        warehouse: String,
        delta: i64,
        reason: String,
    },
    StockReserved {
        sku: Sku,
        order_id: OrderId,
        quantity: u32,
        /// Where the reservation is held; empty in events from before warehouses were
        /// recorded.
        #[serde(default)]
        warehouses: Vec<Allocation>,
    },
    ReservationReleased {
        sku: Sku,
        order_id: OrderId,
        quantity: u32,
        /// Where the reservation is held; empty in events from before warehouses were
        /// recorded.
        #[serde(default)]
        warehouses: Vec<Allocation>,
    },
    ReservationCommitted {
        sku: Sku,
        order_id: OrderId,
        quantity: u32,
        /// Where the reservation is held; empty in events from before warehouses were
        /// recorded.
        #[serde(default)]
        warehouses: Vec<Allocation>,
        /// The shipment that took `quantity` (part of the reservation); `None` when the
        /// whole reservation was committed at once.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shipment: Option<ShipmentId>,
    },
    StockRestocked {
        sku: Sku,
        order_id: OrderId,
        warehouse: String,
        quantity: u32,
    },
    LowStockThresholdSet {
        sku: Sku,
        threshold: u32,
    },
    /// Available stock fell below the threshold; recorded once per crossing.
    LowStockDetected {
        sku: Sku,
        available: i64,
        threshold: u32,
    },
    /// The first half of a transfer, appended with its second: stock left `warehouse`.
    StockTransferredOut {
        sku: Sku,
        warehouse: String,
        to: String,
        quantity: u32,
    },
    /// The second half of a transfer: stock arrived in `warehouse`.
    StockTransferredIn {
        sku: Sku,
        warehouse: String,
        from: String,
        quantity: u32,
    },
}

crate::domain_event!(InventoryEvent {
    StockReceived,
    StockAdjusted,
    StockReserved,
    ReservationReleased,
    ReservationCommitted,
    StockRestocked,
    LowStockThresholdSet,
    LowStockDetected,
    StockTransferredOut,
    StockTransferredIn,
});
impl Upcast for InventoryEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryState {
    pub sku: Option<Sku>,
    pub on_hand: BTreeMap<String, i64>,
    pub reservations: BTreeMap<OrderId, u32>,
    /// Where each reservation is held; a reservation from before warehouses were recorded
    /// has no entry.
    pub allocations: BTreeMap<OrderId, Vec<Allocation>>,
    pub sold: BTreeMap<OrderId, u32>,
    /// The shipments whose part of a reservation is committed, so each commits once.
    pub shipped: std::collections::BTreeSet<(OrderId, ShipmentId)>,
    /// Everything ever received, restocked or adjusted in: the ceiling of reserved + sold.
    pub received: i64,
    pub low_stock_threshold: Option<u32>,
    /// Set while below the threshold, so the alert fires once per crossing.
    pub low_stock_alerted: bool,
}

impl InventoryState {
    pub fn on_hand_total(&self) -> i64 {
        self.on_hand.values().sum()
    }

    pub fn reserved(&self) -> i64 {
        self.reservations.values().map(|&q| i64::from(q)).sum()
    }

    pub fn sold_total(&self) -> i64 {
        self.sold.values().map(|&q| i64::from(q)).sum()
    }

    pub fn available(&self) -> i64 {
        self.on_hand_total() - self.reserved()
    }

    /// Takes `quantity` held in `warehouses` off `order_id`'s reservation (committed or
    /// released); what is left stays reserved where it was.
    fn shrink_reservation(&mut self, order_id: OrderId, quantity: u32, warehouses: &[Allocation]) {
        let left = self
            .reservations
            .get(&order_id)
            .map_or(0, |r| r.saturating_sub(quantity));
        if left == 0 {
            self.reservations.remove(&order_id);
            self.allocations.remove(&order_id);
            return;
        }
        self.reservations.insert(order_id, left);
        if let Some(held) = self.allocations.get_mut(&order_id) {
            for taken in warehouses {
                if let Some(a) = held.iter_mut().find(|a| a.warehouse == taken.warehouse) {
                    a.quantity = a.quantity.saturating_sub(taken.quantity);
                }
            }
            held.retain(|a| a.quantity > 0);
        }
    }

    /// What the reservations hold in `warehouse`.
    pub fn reserved_in(&self, warehouse: &str) -> i64 {
        self.allocations
            .values()
            .flatten()
            .filter(|a| a.warehouse == warehouse)
            .map(|a| i64::from(a.quantity))
            .sum()
    }

    /// On hand in `warehouse` minus what the reservations hold there.
    pub fn available_in(&self, warehouse: &str) -> i64 {
        self.on_hand.get(warehouse).copied().unwrap_or(0) - self.reserved_in(warehouse)
    }

    /// Where a reservation of `quantity` is taken from. The rule: the warehouses with
    /// stock available are ranked, the default warehouse first, then by most available,
    /// then by code; the first one that covers the whole quantity holds all of it, so an
    /// order line ships from one place when any place can ship it. When none can, the
    /// line is split down the same ranking, each warehouse giving all it has until the
    /// quantity is covered. The caller has checked the SKU's total: the warehouses' own
    /// available stock adds up to at least that, so the split always covers it.
    pub fn allocate(&self, quantity: u32) -> Vec<Allocation> {
        let mut ranked: Vec<(&str, i64)> = self
            .on_hand
            .keys()
            .map(|w| (w.as_str(), self.available_in(w)))
            .filter(|&(_, n)| n > 0)
            .collect();
        ranked.sort_by(|a, b| {
            (a.0 != DEFAULT_WAREHOUSE)
                .cmp(&(b.0 != DEFAULT_WAREHOUSE))
                .then(b.1.cmp(&a.1))
                .then(a.0.cmp(b.0))
        });
        if let Some(&(w, _)) = ranked.iter().find(|&&(_, n)| n >= i64::from(quantity)) {
            return vec![Allocation {
                warehouse: w.to_owned(),
                quantity,
            }];
        }
        let mut left = quantity;
        let mut split = Vec::new();
        for (w, n) in ranked {
            if left == 0 {
                break;
            }
            let take = u32::try_from(n).unwrap_or(u32::MAX).min(left);
            split.push(Allocation {
                warehouse: w.to_owned(),
                quantity: take,
            });
            left -= take;
        }
        split
    }
}

/// Which of a reservation's warehouses a shipment of `quantity` from `warehouse` takes:
/// that warehouse's part first, then the others in the reservation's order. A reservation
/// from before warehouses were recorded (`held` empty) names none.
fn part_of(held: &[Allocation], quantity: u32, warehouse: &str) -> Vec<Allocation> {
    let mut left = quantity;
    let mut taken = Vec::new();
    let ordered = held
        .iter()
        .filter(|a| a.warehouse == warehouse)
        .chain(held.iter().filter(|a| a.warehouse != warehouse));
    for a in ordered {
        if left == 0 {
            break;
        }
        let take = a.quantity.min(left);
        if take > 0 {
            taken.push(Allocation {
                warehouse: a.warehouse.clone(),
                quantity: take,
            });
            left -= take;
        }
    }
    taken
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("only {available} available, {requested} requested")]
    InsufficientStock { requested: u32, available: i64 },
    #[error("quantity must be positive")]
    ZeroQuantity,
    #[error("an adjustment needs a reason")]
    MissingReason,
    #[error("adjusting by {delta} would leave {warehouse} with {would_be} on hand, below what is reserved or zero")]
    WouldGoNegative {
        warehouse: String,
        delta: i64,
        would_be: i64,
    },
    #[error("order {0} holds no reservation to commit")]
    NoReservation(OrderId),
    #[error("order {order_id} holds {reserved} reserved, a shipment cannot take {requested}")]
    CommitExceedsReservation {
        order_id: OrderId,
        reserved: u32,
        requested: u32,
    },
    #[error("order {order_id} holds {reserved} reserved, cannot release {requested}")]
    ReleaseExceedsReservation {
        order_id: OrderId,
        reserved: u32,
        requested: u32,
    },
    #[error("order {order_id} bought {sold}, cannot restock {requested}")]
    RestockExceedsSold {
        order_id: OrderId,
        sold: u32,
        requested: u32,
    },
    #[error("warehouse name must be 1 to 64 characters")]
    InvalidWarehouse,
    #[error("a transfer needs two different warehouses")]
    SameWarehouse,
    #[error("only {available} available in {warehouse}, {requested} requested")]
    InsufficientStockIn {
        warehouse: String,
        requested: u32,
        available: i64,
    },
    #[error("a low-stock threshold must be 0 to {max}, not {threshold}", max = MAX_LOW_STOCK_THRESHOLD)]
    ThresholdOutOfRange { threshold: u32 },
    /// Free text the rule of `crate::value` refuses: too long, or with control characters.
    #[error("{field}: {reason}")]
    InvalidText { field: &'static str, reason: String },
}

impl From<crate::value::InvalidValue> for InventoryError {
    fn from(e: crate::value::InvalidValue) -> Self {
        InventoryError::InvalidText {
            field: e.field,
            reason: e.message,
        }
    }
}

/// A warehouse name: one line (`crate::value::line`) of 1 to 64 characters.
fn check_warehouse(w: &str) -> Result<(), InventoryError> {
    if w.trim().is_empty() || w.len() > 64 {
        return Err(InventoryError::InvalidWarehouse);
    }
    crate::value::line("warehouse", w, 64)?;
    Ok(())
}

impl Aggregate for Inventory {
    const CATEGORY: &'static str = "inventory";
    type State = InventoryState;
    type Command = InventoryCommand;
    type Event = InventoryEvent;
    type Error = InventoryError;

    fn decide(
        s: &InventoryState,
        cmd: &InventoryCommand,
    ) -> Result<Vec<InventoryEvent>, InventoryError> {
        use InventoryCommand as C;
        use InventoryEvent as E;
        let sku = |given: Option<&Sku>| -> Sku {
            s.sku.clone().or_else(|| given.cloned()).unwrap_or_else(|| {
                // Unreachable through the API (a SKU names the stream); keeps decide total.
                Sku::parse("UNKNOWN").expect("a constant SKU is valid")
            })
        };
        let mut events = match cmd {
            C::ReceiveStock {
                sku: given,
                warehouse,
                quantity,
            } => {
                if *quantity == 0 {
                    return Err(InventoryError::ZeroQuantity);
                }
                check_warehouse(warehouse)?;
                vec![E::StockReceived {
                    sku: sku(Some(given)),
                    warehouse: warehouse.clone(),
                    quantity: *quantity,
                }]
            }
            C::AdjustStock {
                sku: given,
                warehouse,
                delta,
                reason,
            } => {
                check_warehouse(warehouse)?;
                if crate::value::paragraphs("reason", reason, crate::value::MAX_REASON)?.is_empty()
                {
                    return Err(InventoryError::MissingReason);
                }
                if *delta == 0 {
                    return Err(InventoryError::ZeroQuantity);
                }
                let here = s.on_hand.get(warehouse).copied().unwrap_or(0);
                let would_be = here + delta;
                // Stock reserved in this warehouse stays there: a count may take only what
                // is available in it.
                if would_be < 0
                    || s.available() + delta < 0
                    || s.available_in(warehouse) + delta < 0
                {
                    return Err(InventoryError::WouldGoNegative {
                        warehouse: warehouse.clone(),
                        delta: *delta,
                        would_be,
                    });
                }
                vec![E::StockAdjusted {
                    sku: sku(Some(given)),
                    warehouse: warehouse.clone(),
                    delta: *delta,
                    reason: reason.trim().to_owned(),
                }]
            }
            C::ReserveStock {
                sku: given,
                order_id,
                quantity,
            } => {
                if *quantity == 0 {
                    return Err(InventoryError::ZeroQuantity);
                }
                if s.reservations.contains_key(order_id) || s.sold.contains_key(order_id) {
                    return Ok(vec![]);
                }
                if i64::from(*quantity) > s.available() {
                    return Err(InventoryError::InsufficientStock {
                        requested: *quantity,
                        available: s.available(),
                    });
                }
                vec![E::StockReserved {
                    sku: sku(Some(given)),
                    order_id: *order_id,
                    quantity: *quantity,
                    warehouses: s.allocate(*quantity),
                }]
            }
            C::ReleaseReservation { order_id } => match s.reservations.get(order_id) {
                None => vec![],
                Some(&quantity) => vec![E::ReservationReleased {
                    sku: sku(None),
                    order_id: *order_id,
                    quantity,
                    warehouses: s.allocations.get(order_id).cloned().unwrap_or_default(),
                }],
            },
            C::ReleaseUnits { order_id, quantity } => {
                if *quantity == 0 {
                    return Err(InventoryError::ZeroQuantity);
                }
                let Some(&reserved) = s.reservations.get(order_id) else {
                    return Err(InventoryError::NoReservation(*order_id));
                };
                if *quantity > reserved {
                    return Err(InventoryError::ReleaseExceedsReservation {
                        order_id: *order_id,
                        reserved,
                        requested: *quantity,
                    });
                }
                let held = s.allocations.get(order_id).map_or(&[][..], Vec::as_slice);
                vec![E::ReservationReleased {
                    sku: sku(None),
                    order_id: *order_id,
                    quantity: *quantity,
                    warehouses: part_of(held, *quantity, ""),
                }]
            }
            C::CommitReservation { order_id } => match s.reservations.get(order_id) {
                Some(&quantity) => vec![E::ReservationCommitted {
                    sku: sku(None),
                    order_id: *order_id,
                    quantity,
                    warehouses: s.allocations.get(order_id).cloned().unwrap_or_default(),
                    shipment: None,
                }],
                None if s.sold.contains_key(order_id) => vec![],
                None => return Err(InventoryError::NoReservation(*order_id)),
            },
            C::CommitShipped {
                order_id,
                shipment_id,
                quantity,
                warehouse,
            } => {
                if s.shipped.contains(&(*order_id, *shipment_id)) {
                    return Ok(vec![]);
                }
                if *quantity == 0 {
                    return Err(InventoryError::ZeroQuantity);
                }
                let Some(&reserved) = s.reservations.get(order_id) else {
                    return Err(InventoryError::NoReservation(*order_id));
                };
                if *quantity > reserved {
                    return Err(InventoryError::CommitExceedsReservation {
                        order_id: *order_id,
                        reserved,
                        requested: *quantity,
                    });
                }
                vec![E::ReservationCommitted {
                    sku: sku(None),
                    order_id: *order_id,
                    quantity: *quantity,
                    warehouses: part_of(
                        s.allocations.get(order_id).map_or(&[][..], Vec::as_slice),
                        *quantity,
                        warehouse,
                    ),
                    shipment: Some(*shipment_id),
                }]
            }
            C::Restock {
                order_id,
                quantity,
                warehouse,
            } => {
                check_warehouse(warehouse)?;
                let sold = s.sold.get(order_id).copied().unwrap_or(0);
                if *quantity == 0 {
                    return Err(InventoryError::ZeroQuantity);
                }
                if *quantity > sold {
                    return Err(InventoryError::RestockExceedsSold {
                        order_id: *order_id,
                        sold,
                        requested: *quantity,
                    });
                }
                vec![E::StockRestocked {
                    sku: sku(None),
                    order_id: *order_id,
                    warehouse: warehouse.clone(),
                    quantity: *quantity,
                }]
            }
            C::SetLowStockThreshold { threshold } => {
                if *threshold > MAX_LOW_STOCK_THRESHOLD {
                    return Err(InventoryError::ThresholdOutOfRange {
                        threshold: *threshold,
                    });
                }
                vec![E::LowStockThresholdSet {
                    sku: sku(None),
                    threshold: *threshold,
                }]
            }
            C::TransferStock {
                sku: given,
                from,
                to,
                quantity,
            } => {
                check_warehouse(from)?;
                check_warehouse(to)?;
                if *quantity == 0 {
                    return Err(InventoryError::ZeroQuantity);
                }
                if from == to {
                    return Err(InventoryError::SameWarehouse);
                }
                let available = s.available_in(from);
                if i64::from(*quantity) > available {
                    return Err(InventoryError::InsufficientStockIn {
                        warehouse: from.clone(),
                        requested: *quantity,
                        available,
                    });
                }
                let sku = sku(Some(given));
                vec![
                    E::StockTransferredOut {
                        sku: sku.clone(),
                        warehouse: from.clone(),
                        to: to.clone(),
                        quantity: *quantity,
                    },
                    E::StockTransferredIn {
                        sku,
                        warehouse: to.clone(),
                        from: from.clone(),
                        quantity: *quantity,
                    },
                ]
            }
        };

        // The alert belongs to the decision that crossed the line.
        let after = events.iter().fold(s.clone(), Self::evolve);
        if let Some(threshold) = after.low_stock_threshold {
            if after.available() < i64::from(threshold) && !after.low_stock_alerted {
                events.push(E::LowStockDetected {
                    sku: sku(None),
                    available: after.available(),
                    threshold,
                });
            }
        }
        Ok(events)
    }

    fn evolve(mut s: InventoryState, event: &InventoryEvent) -> InventoryState {
        use InventoryEvent as E;
        match event {
            E::StockReceived {
                sku,
                warehouse,
                quantity,
            } => {
                s.sku.get_or_insert_with(|| sku.clone());
                *s.on_hand.entry(warehouse.clone()).or_default() += i64::from(*quantity);
                s.received += i64::from(*quantity);
            }
            E::StockAdjusted {
                sku,
                warehouse,
                delta,
                ..
            } => {
                s.sku.get_or_insert_with(|| sku.clone());
                *s.on_hand.entry(warehouse.clone()).or_default() += delta;
                s.received += delta;
            }
            E::StockReserved {
                sku,
                order_id,
                quantity,
                warehouses,
            } => {
                s.sku.get_or_insert_with(|| sku.clone());
                s.reservations.insert(*order_id, *quantity);
                if !warehouses.is_empty() {
                    s.allocations.insert(*order_id, warehouses.clone());
                }
            }
            // The whole reservation, or part of a cancelled line: the rest stays held.
            E::ReservationReleased {
                order_id,
                quantity,
                warehouses,
                ..
            } => s.shrink_reservation(*order_id, *quantity, warehouses),
            E::ReservationCommitted {
                order_id,
                quantity,
                warehouses,
                shipment,
                ..
            } => {
                // A whole reservation, or a shipment's part of it.
                s.shrink_reservation(*order_id, *quantity, warehouses);
                if let Some(shipment) = shipment {
                    s.shipped.insert((*order_id, *shipment));
                }
                *s.sold.entry(*order_id).or_default() += quantity;
                if warehouses.is_empty() {
                    // A reservation from before warehouses were recorded leaves the
                    // fullest shelf, as it always did.
                    if let Some((_, n)) = s.on_hand.iter_mut().max_by_key(|(_, n)| **n) {
                        *n -= i64::from(*quantity);
                    }
                }
                for a in warehouses {
                    *s.on_hand.entry(a.warehouse.clone()).or_default() -= i64::from(a.quantity);
                }
            }
            E::StockRestocked {
                order_id,
                warehouse,
                quantity,
                ..
            } => {
                if let Some(sold) = s.sold.get_mut(order_id) {
                    *sold -= quantity;
                    if *sold == 0 {
                        s.sold.remove(order_id);
                    }
                }
                *s.on_hand.entry(warehouse.clone()).or_default() += i64::from(*quantity);
            }
            E::LowStockThresholdSet { threshold, .. } => {
                s.low_stock_threshold = Some(*threshold);
            }
            E::LowStockDetected { .. } => s.low_stock_alerted = true,
            E::StockTransferredOut {
                warehouse,
                quantity,
                ..
            } => *s.on_hand.entry(warehouse.clone()).or_default() -= i64::from(*quantity),
            E::StockTransferredIn {
                warehouse,
                quantity,
                ..
            } => *s.on_hand.entry(warehouse.clone()).or_default() += i64::from(*quantity),
        }
        // Back at or above the line: the next fall below alerts again.
        if s.low_stock_threshold
            .is_some_and(|t| s.available() >= i64::from(t))
        {
            s.low_stock_alerted = false;
        }
        s
    }
}

#[cfg(test)]
mod tests;
