//! Issue 22, item 1's last rule, given / when / then: staff cancel units of lines that have
//! not shipped. The order keeps the rest, gives the units' charge back exactly (however a
//! line is cancelled bit by bit), never lets a shipment take a cancelled unit, moves on
//! when what is left has all gone, and a partial refund never stops the next shipment.
//! The stock side: a reservation gives back part of itself.

mod support;

use domain::aggregate::Aggregate;
use domain::id::{OrderId, ShipmentId, UserId};
use domain::inventory::{Allocation, Inventory, InventoryCommand, InventoryError, InventoryEvent};
use domain::money::Money;
use domain::order::{
    ChangedBy, Order, OrderCommand, OrderError, OrderEvent, OrderState, OrderStatus, ShippedLine,
};
use domain::value::Sku;
use support::{at, line, place};
use uuid::Uuid;

fn step(state: OrderState, command: OrderCommand) -> OrderState {
    let events = Order::decide(&state, &command).expect("the command is accepted");
    events.iter().fold(state, Order::evolve)
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn staff() -> ChangedBy {
    ChangedBy {
        user_id: Some(UserId::new(Uuid::from_u128(1))),
        role: "staff".into(),
    }
}

fn lines(of: &[(&str, u32)]) -> Vec<ShippedLine> {
    of.iter()
        .map(|&(s, quantity)| ShippedLine {
            sku: sku(s),
            quantity,
        })
        .collect()
}

fn cancel(n: u128, of: &[(&str, u32)]) -> OrderCommand {
    OrderCommand::CancelLines {
        cancellation_id: Uuid::from_u128(300 + n),
        lines: lines(of),
        reason: "out of the blue colour".into(),
        by: staff(),
        at: at(),
    }
}

fn shipment(n: u128) -> ShipmentId {
    ShipmentId::new(Uuid::from_u128(900 + n))
}

fn allocate(n: u128, of: &[(&str, u32)]) -> OrderCommand {
    OrderCommand::AllocateShipment {
        shipment_id: shipment(n),
        lines: lines(of),
        at: at(),
    }
}

fn ship(n: u128) -> OrderCommand {
    OrderCommand::ShipLines {
        shipment_id: shipment(n),
        tracking_number: None,
        by: staff(),
        at: at(),
    }
}

fn delivered(n: u128) -> OrderCommand {
    OrderCommand::RecordShipmentDelivered {
        shipment_id: shipment(n),
        by: staff(),
        at: at(),
    }
}

/// 3 × SKU-0 at 10.00 and 1 × SKU-1 at 5.00, a 1.00 coupon, 8.875% tax on top, 7.00
/// shipping; paid.
fn paid_order() -> OrderState {
    let s = step(
        OrderState::default(),
        place(vec![line(0, 3, 1000), line(1, 1, 500)], 100, 887, 700),
    );
    let s = step(s, OrderCommand::MarkStockReserved { at: at() });
    let total = s.placed.as_ref().unwrap().totals.total;
    step(
        s,
        OrderCommand::MarkPaid {
            amount: total,
            payment_reference: "ch_1".into(),
            at: at(),
        },
    )
}

fn refunded(s: &OrderState) -> i64 {
    s.placed.as_ref().unwrap().refunded.amount
}

fn status(s: &OrderState) -> OrderStatus {
    s.placed.as_ref().unwrap().status
}

#[test]
fn a_line_cancelled_bit_by_bit_gives_back_exactly_what_it_was_charged() {
    let s = paid_order();
    let charged = s.placed.as_ref().unwrap().lines[0].charged().unwrap();
    let mut s = s;
    let mut given_back = Vec::new();
    for n in 0..3 {
        let events = Order::decide(&s, &cancel(n, &[("SKU-0", 1)])).unwrap();
        let [OrderEvent::OrderLinesCancelled { refund, lines, .. }] = events.as_slice() else {
            panic!("one cancellation: {events:?}");
        };
        assert_eq!(lines[0].refund, *refund);
        given_back.push(refund.amount);
        s = events.iter().fold(s, Order::evolve);
    }
    // The units' shares differ by rounding, and add up to the charge to the cent.
    assert_eq!(given_back.iter().sum::<i64>(), charged.amount);
    assert!(given_back
        .iter()
        .all(|&g| (g - charged.amount / 3).abs() <= 1));
    assert_eq!(refunded(&s), charged.amount);
    let o = s.placed.as_ref().unwrap();
    assert_eq!(o.cancelled.get(&sku("SKU-0")), Some(&3));
    assert_eq!(o.status, OrderStatus::Paid, "SKU-1 still ships");
    assert_eq!(o.payment_status.as_str(), "partially_refunded");
    assert_eq!(o.totals.total.amount - o.refunded.amount, {
        let l = &o.lines[1];
        l.charged().unwrap().amount + o.totals.shipping.amount
    });
}

#[test]
fn the_same_cancellation_twice_records_once_and_every_unit_is_the_order_s_cancel() {
    let s = step(paid_order(), cancel(1, &[("SKU-0", 2)]));
    // A retry carries the same id, and finds it done.
    assert_eq!(Order::decide(&s, &cancel(1, &[("SKU-0", 2)])), Ok(vec![]));
    assert_eq!(
        Order::decide(&s, &cancel(2, &[("SKU-0", 1), ("SKU-1", 1)])),
        Err(OrderError::CancelsEveryLine)
    );
    assert_eq!(
        Order::decide(&s, &cancel(2, &[("SKU-0", 2)])),
        Err(OrderError::CancelExceedsUnshipped {
            sku: "SKU-0".into(),
            requested: 2,
            remaining: 1,
        })
    );
    assert!(matches!(
        Order::decide(&s, &cancel(2, &[("SKU-9", 1)])),
        Err(OrderError::InvalidLine { line: 0, .. })
    ));
    assert!(matches!(
        Order::decide(&s, &cancel(2, &[("SKU-1", 1), ("SKU-1", 1)])),
        Err(OrderError::InvalidLine { line: 1, .. })
    ));
    assert!(matches!(
        Order::decide(&s, &cancel(2, &[("SKU-1", 0)])),
        Err(OrderError::CancelExceedsUnshipped { requested: 0, .. })
    ));
}

#[test]
fn a_shipment_never_takes_a_cancelled_unit_nor_a_cancellation_a_unit_in_a_shipment() {
    let s = step(paid_order(), allocate(1, &[("SKU-0", 2)]));
    assert_eq!(
        Order::decide(&s, &cancel(1, &[("SKU-0", 2)])),
        Err(OrderError::CancelExceedsUnshipped {
            sku: "SKU-0".into(),
            requested: 2,
            remaining: 1,
        })
    );
    let s = step(s, cancel(1, &[("SKU-0", 1)]));
    assert!(matches!(
        Order::decide(&s, &allocate(2, &[("SKU-0", 1)])),
        Err(OrderError::ShipmentExceedsOrder { remaining: 0, .. })
    ));
}

#[test]
fn cancelling_what_is_left_once_the_rest_has_gone_ships_and_delivers_the_order() {
    let s = step(paid_order(), allocate(1, &[("SKU-0", 3)]));
    let s = step(s, ship(1));
    assert_eq!(status(&s), OrderStatus::PartiallyShipped);
    let s = step(s, delivered(1));
    let events = Order::decide(&s, &cancel(1, &[("SKU-1", 1)])).unwrap();
    assert!(
        matches!(
            events.as_slice(),
            [
                OrderEvent::OrderLinesCancelled { .. },
                OrderEvent::OrderShipped { .. },
                OrderEvent::OrderDelivered { .. }
            ]
        ),
        "{events:?}"
    );
    let s = events.iter().fold(s, Order::evolve);
    assert_eq!(status(&s), OrderStatus::Delivered);
    // Nothing is left to cancel or ship.
    assert!(matches!(
        Order::decide(&s, &cancel(2, &[("SKU-0", 1)])),
        Err(OrderError::InvalidTransition { .. })
    ));
}

#[test]
fn a_partial_refund_leaves_the_next_shipment_free_to_leave_and_arrive() {
    let s = step(paid_order(), allocate(1, &[("SKU-0", 3)]));
    let s = step(s, allocate(2, &[("SKU-1", 1)]));
    let s = step(s, ship(1));
    let s = step(s, delivered(1));
    // A return of the first parcel is refunded: the order shows it.
    let currency = s.placed.as_ref().unwrap().totals.total.currency;
    let s = step(
        s,
        OrderCommand::Refund {
            amount: Some(Money::new(1000, currency)),
            reason: "return".into(),
            by: staff(),
            at: at(),
        },
    );
    assert_eq!(status(&s), OrderStatus::PartiallyRefunded);
    let s = step(s, ship(2));
    assert_eq!(status(&s), OrderStatus::Shipped);
    let s = step(s, delivered(2));
    assert_eq!(status(&s), OrderStatus::Delivered);
    assert_eq!(
        s.placed.as_ref().unwrap().payment_status.as_str(),
        "partially_refunded"
    );
}

#[test]
fn an_order_not_paid_or_refunded_in_full_has_no_lines_to_cancel() {
    let unpaid = step(
        OrderState::default(),
        place(vec![line(0, 3, 1000), line(1, 1, 500)], 0, 0, 0),
    );
    assert!(matches!(
        Order::decide(&unpaid, &cancel(1, &[("SKU-0", 1)])),
        Err(OrderError::InvalidTransition { .. })
    ));
    let s = step(
        paid_order(),
        OrderCommand::Refund {
            amount: None,
            reason: "goodwill".into(),
            by: staff(),
            at: at(),
        },
    );
    assert!(matches!(
        Order::decide(&s, &cancel(1, &[("SKU-0", 1)])),
        Err(OrderError::InvalidTransition { .. })
    ));
}

#[test]
fn a_reservation_gives_back_part_of_itself_and_keeps_the_rest_where_it_was() {
    let order = OrderId::new(Uuid::from_u128(7));
    let log = [
        InventoryEvent::StockReceived {
            sku: sku("SKU-0"),
            warehouse: "main".into(),
            quantity: 2,
        },
        InventoryEvent::StockReceived {
            sku: sku("SKU-0"),
            warehouse: "east".into(),
            quantity: 5,
        },
        InventoryEvent::StockReserved {
            sku: sku("SKU-0"),
            order_id: order,
            quantity: 4,
            warehouses: vec![
                Allocation {
                    warehouse: "main".into(),
                    quantity: 2,
                },
                Allocation {
                    warehouse: "east".into(),
                    quantity: 2,
                },
            ],
        },
    ];
    let state = log.iter().fold(Default::default(), Inventory::evolve);
    let release = |quantity| InventoryCommand::ReleaseUnits {
        order_id: order,
        quantity,
    };
    assert_eq!(
        Inventory::decide(&state, &release(5)),
        Err(InventoryError::ReleaseExceedsReservation {
            order_id: order,
            reserved: 4,
            requested: 5,
        })
    );
    assert_eq!(
        Inventory::decide(&state, &release(0)),
        Err(InventoryError::ZeroQuantity)
    );
    let events = Inventory::decide(&state, &release(3)).unwrap();
    let state = events.iter().fold(state, Inventory::evolve);
    assert_eq!(state.reserved(), 1);
    assert_eq!(state.available(), 6);
    // Each warehouse's part adds up to what is still held.
    assert_eq!(state.reserved_in("main") + state.reserved_in("east"), 1);
    // The rest ships as before; a whole release gives back what is left.
    let events = Inventory::decide(
        &state,
        &InventoryCommand::ReleaseReservation { order_id: order },
    )
    .unwrap();
    let state = events.iter().fold(state, Inventory::evolve);
    assert_eq!((state.reserved(), state.available()), (0, 7));
    assert_eq!(
        Inventory::decide(&state, &release(1)),
        Err(InventoryError::NoReservation(order))
    );
}
