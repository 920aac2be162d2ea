//! Issue 22, items 1 and 2, given / when / then: a shipment's lines against what its order
//! has left to ship, its steps (never back, never skipped), the carrier's tracking updates,
//! the order following its shipments, and a shipment's part of a stock reservation.

mod support;

use chrono::Duration;
use domain::aggregate::Aggregate;
use domain::id::{OrderId, ShipmentId, UserId};
use domain::inventory::{Allocation, Inventory, InventoryCommand, InventoryError, InventoryEvent};
use domain::order::{
    ChangedBy, Order, OrderCommand, OrderError, OrderEvent, OrderState, OrderStatus, ShippedLine,
};
use domain::shipping::{
    CarrierUpdate, CreateShipment, Remaining, Shipment, ShipmentCommand, ShipmentError,
    ShipmentEvent, ShipmentState, ShipmentStatus, StepError,
};
use domain::value::Sku;
use support::{at, line, place, usd};
use uuid::Uuid;

/// Given `events`, when `command`, then what `decide` answers.
fn given<A: Aggregate>(
    events: &[A::Event],
    command: A::Command,
) -> Result<Vec<A::Event>, A::Error> {
    let state = events.iter().fold(A::State::default(), A::evolve);
    A::decide(&state, &command)
}

/// Decides `command` on `state` and folds its events in; panics on a refusal.
fn step<A: Aggregate>(state: A::State, command: A::Command) -> A::State
where
    A::Error: std::fmt::Debug,
{
    let events = A::decide(&state, &command).expect("the command is accepted");
    events.iter().fold(state, A::evolve)
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

fn shipment_id(n: u128) -> ShipmentId {
    ShipmentId::new(Uuid::from_u128(900 + n))
}

/// An order of 3 × SKU-0 and 1 × SKU-1, paid.
fn paid_order() -> OrderState {
    let s = step::<Order>(
        OrderState::default(),
        place(vec![line(0, 3, 1000), line(1, 1, 500)], 0, 0, 0),
    );
    let s = step::<Order>(s, OrderCommand::MarkStockReserved { at: at() });
    let total = s.placed.as_ref().unwrap().totals.total;
    step::<Order>(
        s,
        OrderCommand::MarkPaid {
            amount: total,
            payment_reference: "ch_1".into(),
            at: at(),
        },
    )
}

fn remaining(taken: [u32; 2]) -> Vec<Remaining> {
    let order = paid_order().placed.unwrap();
    order
        .lines
        .iter()
        .zip(taken)
        .map(|(l, taken)| Remaining {
            product_id: l.product_id,
            variant_id: l.variant_id,
            sku: l.sku.clone(),
            ordered: l.quantity,
            taken,
        })
        .collect()
}

fn create(requested: Vec<(&str, u32)>, taken: [u32; 2]) -> ShipmentCommand {
    ShipmentCommand::Create(Box::new(CreateShipment {
        shipment_id: shipment_id(1),
        order_id: OrderId::new(Uuid::from_u128(7)),
        customer: UserId::new(Uuid::from_u128(8)),
        requested: requested.into_iter().map(|(s, q)| (sku(s), q)).collect(),
        order_lines: remaining(taken),
        warehouse: "main".into(),
        carrier: "test".into(),
        service_level: "standard".into(),
        tracking_number: "TEST0001".into(),
        label_url: "https://carrier.test/labels/TEST0001.pdf".into(),
        cost: usd(700),
        at: at(),
    }))
}

fn created() -> Vec<ShipmentEvent> {
    given::<Shipment>(&[], create(vec![("SKU-0", 2)], [0, 0])).unwrap()
}

fn move_to(to: ShipmentStatus) -> ShipmentCommand {
    ShipmentCommand::ChangeStatus {
        to,
        note: None,
        by: staff(),
        at: at(),
    }
}

/// A shipment `created`, then moved by staff through `steps`.
fn shipment_at(steps: &[ShipmentStatus]) -> Vec<ShipmentEvent> {
    let mut log = created();
    for &to in steps {
        log.extend(given::<Shipment>(&log, move_to(to)).unwrap());
    }
    log
}

fn carrier(id: &str, status: Option<ShipmentStatus>) -> ShipmentCommand {
    ShipmentCommand::RecordCarrierUpdate(Box::new(CarrierUpdate {
        event_id: id.into(),
        carrier: "test".into(),
        status,
        description: "scanned".into(),
        location: Some("Depot 4".into()),
        delayed: false,
        occurred_at: at() + Duration::hours(5),
        received_at: at() + Duration::hours(5),
    }))
}

#[test]
fn a_shipment_is_created_with_the_order_lines_it_holds() {
    let events = created();
    let [ShipmentEvent::ShipmentCreated { lines, carrier, .. }] = events.as_slice() else {
        panic!("one event: {events:?}");
    };
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].sku, sku("SKU-0"));
    assert_eq!(lines[0].quantity, 2);
    // The product comes from the order's line, not from the request.
    assert_eq!(lines[0].product_id, remaining([0, 0])[0].product_id);
    assert_eq!(carrier, "test");
    let state: ShipmentState = events
        .iter()
        .fold(ShipmentState::default(), Shipment::evolve);
    assert_eq!(state.shipment.unwrap().status, ShipmentStatus::Pending);
}

#[test]
fn a_shipment_never_takes_more_than_the_order_has_left() {
    // 3 ordered, 2 taken by an earlier shipment: 2 more is one too many.
    assert_eq!(
        given::<Shipment>(&[], create(vec![("SKU-0", 2)], [2, 0])),
        Err(ShipmentError::ExceedsOrdered {
            line: 0,
            sku: sku("SKU-0"),
            requested: 2,
            remaining: 1,
        })
    );
    assert!(given::<Shipment>(&[], create(vec![("SKU-0", 1)], [2, 0])).is_ok());
    assert_eq!(
        given::<Shipment>(&[], create(vec![("SKU-1", 1), ("SKU-9", 1)], [0, 0])),
        Err(ShipmentError::NotOrdered {
            line: 1,
            sku: sku("SKU-9"),
        })
    );
    assert_eq!(
        given::<Shipment>(&[], create(vec![("SKU-0", 1), ("SKU-0", 1)], [0, 0])),
        Err(ShipmentError::DuplicateLine {
            line: 1,
            sku: sku("SKU-0"),
        })
    );
    assert_eq!(
        given::<Shipment>(&[], create(vec![("SKU-0", 0)], [0, 0])),
        Err(ShipmentError::ZeroQuantity { line: 0 })
    );
    assert_eq!(
        given::<Shipment>(&[], create(vec![], [0, 0])),
        Err(ShipmentError::NoLines)
    );
    assert_eq!(
        given::<Shipment>(&created(), create(vec![("SKU-0", 1)], [0, 0])),
        Err(ShipmentError::AlreadyCreated)
    );
}

#[test]
fn a_shipment_moves_one_step_at_a_time_and_never_back() {
    use ShipmentStatus::*;
    let log = shipment_at(&[Packed, Shipped, InTransit, Delivered]);
    let state = log.iter().fold(ShipmentState::default(), Shipment::evolve);
    let shipment = state.shipment.unwrap();
    assert_eq!(shipment.status, Delivered);
    assert_eq!(
        shipment
            .history
            .iter()
            .map(|h| h.status)
            .collect::<Vec<_>>(),
        [Packed, Shipped, InTransit, Delivered]
    );

    // Back from shipped to packed.
    assert_eq!(
        given::<Shipment>(&shipment_at(&[Packed, Shipped]), move_to(Packed)),
        Err(ShipmentError::Step(StepError::Backwards {
            from: Shipped,
            to: Packed,
        }))
    );
    // Pending straight to shipped skips packing.
    assert_eq!(
        given::<Shipment>(&created(), move_to(Shipped)),
        Err(ShipmentError::Step(StepError::Skipped {
            from: Pending,
            to: Shipped,
            next: Packed,
        }))
    );
    // Nothing moves a delivered shipment.
    assert_eq!(
        given::<Shipment>(&log, move_to(Lost)),
        Err(ShipmentError::Step(StepError::Finished {
            status: Delivered
        }))
    );
    // Lost before it ever left is a skip; lost on the way is a step.
    assert!(matches!(
        given::<Shipment>(&shipment_at(&[Packed]), move_to(Lost)),
        Err(ShipmentError::Step(StepError::Skipped { .. }))
    ));
    assert!(given::<Shipment>(&shipment_at(&[Packed, Shipped]), move_to(Lost)).is_ok());
    // Asking for the status it has changes nothing: a retried request is harmless.
    assert_eq!(
        given::<Shipment>(&shipment_at(&[Packed]), move_to(Packed)),
        Ok(vec![])
    );
    assert_eq!(
        given::<Shipment>(&[], move_to(Packed)),
        Err(ShipmentError::NotCreated)
    );
}

#[test]
fn a_carrier_update_is_recorded_once_with_the_carrier_as_actor() {
    use ShipmentStatus::*;
    let log = shipment_at(&[Packed, Shipped]);
    let events = given::<Shipment>(&log, carrier("evt_1", Some(InTransit))).unwrap();
    let [ShipmentEvent::ShipmentTracked { event_id, .. }, ShipmentEvent::ShipmentStatusChanged { from, to, by, .. }] =
        events.as_slice()
    else {
        panic!("tracked, then moved: {events:?}");
    };
    assert_eq!(event_id, "evt_1");
    assert_eq!((*from, *to), (Shipped, InTransit));
    assert_eq!(by.role, "carrier:test");
    assert_eq!(by.user_id, None);

    let log: Vec<_> = log.into_iter().chain(events).collect();
    // The same update again: nothing.
    assert_eq!(
        given::<Shipment>(&log, carrier("evt_1", Some(InTransit))),
        Ok(vec![])
    );
    // A late "shipped" after "in_transit" is kept in the timeline, the status stays.
    let late = given::<Shipment>(&log, carrier("evt_0", Some(Shipped))).unwrap();
    assert!(matches!(
        late.as_slice(),
        [ShipmentEvent::ShipmentTracked { .. }]
    ));
    // Another carrier's word on this parcel is refused.
    let mut other = carrier("evt_2", Some(Delivered));
    if let ShipmentCommand::RecordCarrierUpdate(u) = &mut other {
        u.carrier = "acme".into();
    }
    assert!(matches!(
        given::<Shipment>(&log, other),
        Err(ShipmentError::WrongCarrier { .. })
    ));
    // The carrier may report delivery without an in-transit scan.
    let delivered = given::<Shipment>(
        &shipment_at(&[Packed, Shipped]),
        carrier("evt_9", Some(Delivered)),
    )
    .unwrap();
    assert!(matches!(
        delivered.as_slice(),
        [
            ShipmentEvent::ShipmentTracked { .. },
            ShipmentEvent::ShipmentStatusChanged { to: Delivered, .. }
        ]
    ));
    // Before it has the parcel, the carrier moves nothing.
    let early = given::<Shipment>(&created(), carrier("evt_3", Some(InTransit))).unwrap();
    assert_eq!(early.len(), 1);
}

fn allocate(n: u128, lines: &[(&str, u32)]) -> OrderCommand {
    OrderCommand::AllocateShipment {
        shipment_id: shipment_id(n),
        lines: lines
            .iter()
            .map(|&(s, q)| ShippedLine {
                sku: sku(s),
                quantity: q,
            })
            .collect(),
        at: at(),
    }
}

fn ship(n: u128) -> OrderCommand {
    OrderCommand::ShipLines {
        shipment_id: shipment_id(n),
        tracking_number: Some(format!("TEST{n}")),
        by: staff(),
        at: at(),
    }
}

fn delivered(n: u128) -> OrderCommand {
    OrderCommand::RecordShipmentDelivered {
        shipment_id: shipment_id(n),
        by: ChangedBy {
            user_id: None,
            role: "carrier:test".into(),
        },
        at: at(),
    }
}

fn status(s: &OrderState) -> OrderStatus {
    s.placed.as_ref().unwrap().status
}

#[test]
fn the_order_follows_its_shipments_to_shipped_and_delivered() {
    let s = step::<Order>(paid_order(), allocate(1, &[("SKU-0", 3)]));
    let s = step::<Order>(s, allocate(2, &[("SKU-1", 1)]));
    // Both shipments hold every line; none has left.
    assert_eq!(status(&s), OrderStatus::Paid);

    let s = step::<Order>(s, ship(1));
    assert_eq!(status(&s), OrderStatus::PartiallyShipped);
    assert_eq!(
        s.placed.as_ref().unwrap().tracking_number.as_deref(),
        Some("TEST1")
    );
    // The last shipment out: the order is shipped, in the same decision.
    let events = Order::decide(&s, &ship(2)).unwrap();
    assert!(matches!(
        events.as_slice(),
        [
            OrderEvent::OrderLinesShipped { .. },
            OrderEvent::OrderShipped { .. }
        ]
    ));
    let s = events.iter().fold(s, Order::evolve);
    assert_eq!(status(&s), OrderStatus::Shipped);
    // Shipping it again changes nothing.
    assert_eq!(Order::decide(&s, &ship(2)), Ok(vec![]));

    let s = step::<Order>(s, delivered(1));
    assert_eq!(status(&s), OrderStatus::Shipped, "one of two arrived");
    let s = step::<Order>(s, delivered(2));
    assert_eq!(status(&s), OrderStatus::Delivered);
    assert_eq!(Order::decide(&s, &delivered(2)), Ok(vec![]));
}

#[test]
fn the_order_refuses_a_shipment_past_what_is_left_and_hand_shipping_once_it_has_shipments() {
    let s = step::<Order>(paid_order(), allocate(1, &[("SKU-0", 2)]));
    // Two shipments asked at once for the last units: the order's stream decides.
    assert_eq!(
        Order::decide(&s, &allocate(2, &[("SKU-0", 2)])),
        Err(OrderError::ShipmentExceedsOrder {
            sku: "SKU-0".into(),
            requested: 2,
            remaining: 1,
        })
    );
    assert!(matches!(
        Order::decide(&s, &allocate(2, &[("SKU-7", 1)])),
        Err(OrderError::ShipmentExceedsOrder { remaining: 0, .. })
    ));
    assert_eq!(
        Order::decide(&s, &ship(9)),
        Err(OrderError::UnknownShipment)
    );
    assert_eq!(
        Order::decide(&s, &delivered(1)),
        Err(OrderError::ShipmentNotShipped)
    );
    // PUT /orders/{id}/status `shipped` would commit every reservation at once.
    assert_eq!(
        Order::decide(
            &s,
            &OrderCommand::Ship {
                tracking_number: None,
                note: None,
                by: staff(),
                at: at(),
            }
        ),
        Err(OrderError::FollowsShipments)
    );
    // Without shipments, an order still ships by hand.
    assert!(Order::decide(
        &paid_order(),
        &OrderCommand::Ship {
            tracking_number: None,
            note: None,
            by: staff(),
            at: at(),
        }
    )
    .is_ok());
    // An order not paid yet has nothing to ship.
    let unpaid = step::<Order>(
        OrderState::default(),
        place(vec![line(0, 3, 1000)], 0, 0, 0),
    );
    assert!(matches!(
        Order::decide(&unpaid, &allocate(1, &[("SKU-0", 1)])),
        Err(OrderError::InvalidTransition { .. })
    ));
}

#[test]
fn a_shipment_commits_its_part_of_a_reservation_once() {
    let order = OrderId::new(Uuid::from_u128(7));
    let inv = [
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
    let commit = |n: u128, quantity: u32| InventoryCommand::CommitShipped {
        order_id: order,
        shipment_id: shipment_id(n),
        quantity,
        warehouse: "east".into(),
    };
    let events = given::<Inventory>(&inv, commit(1, 3)).unwrap();
    // East's part first (the shipment leaves from there), then main's.
    let [InventoryEvent::ReservationCommitted {
        quantity,
        warehouses,
        shipment,
        ..
    }] = events.as_slice()
    else {
        panic!("one commit: {events:?}");
    };
    assert_eq!(*quantity, 3);
    assert_eq!(*shipment, Some(shipment_id(1)));
    assert_eq!(
        warehouses
            .iter()
            .map(|a| (a.warehouse.as_str(), a.quantity))
            .collect::<Vec<_>>(),
        [("east", 2), ("main", 1)]
    );
    let log: Vec<_> = inv.iter().cloned().chain(events).collect();
    let state = log.iter().fold(Default::default(), Inventory::evolve);
    assert_eq!(state.reserved(), 1, "one unit stays reserved");
    assert_eq!(state.sold_total(), 3);
    assert_eq!(state.on_hand_total(), 4);
    assert_eq!(state.reserved_in("main"), 1);

    // The same shipment again commits nothing; another may take what is left, no more.
    assert_eq!(given::<Inventory>(&log, commit(1, 3)), Ok(vec![]));
    assert_eq!(
        given::<Inventory>(&log, commit(2, 2)),
        Err(InventoryError::CommitExceedsReservation {
            order_id: order,
            reserved: 1,
            requested: 2,
        })
    );
    let last = given::<Inventory>(&log, commit(2, 1)).unwrap();
    let state = log
        .iter()
        .chain(&last)
        .fold(Default::default(), Inventory::evolve);
    assert_eq!(state.reserved(), 0);
    assert!(state.reservations.is_empty() && state.allocations.is_empty());
    assert_eq!(state.sold_total(), 4);
    // The saga's whole-order commit after the last shipment: nothing left, nothing done.
    let log: Vec<_> = log.into_iter().chain(last).collect();
    assert_eq!(
        given::<Inventory>(
            &log,
            InventoryCommand::CommitReservation { order_id: order }
        ),
        Ok(vec![])
    );
}
