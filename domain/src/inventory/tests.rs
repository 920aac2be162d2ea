use super::*;
use crate::aggregate::DomainEvent;
use uuid::Uuid;
use InventoryCommand as C;
use InventoryEvent as E;

fn sku() -> Sku {
    Sku::parse("SKU-1").unwrap()
}

fn given(events: &[E]) -> InventoryState {
    events
        .iter()
        .fold(InventoryState::default(), Inventory::evolve)
}

fn received(n: u32) -> E {
    E::StockReceived {
        sku: sku(),
        warehouse: DEFAULT_WAREHOUSE.into(),
        quantity: n,
    }
}

fn order() -> OrderId {
    OrderId::new(Uuid::new_v4())
}

#[test]
fn reserving_more_than_available_is_refused_whole() {
    let s = given(&[received(5)]);
    let err = Inventory::decide(
        &s,
        &C::ReserveStock {
            sku: sku(),
            order_id: order(),
            quantity: 6,
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        InventoryError::InsufficientStock {
            requested: 6,
            available: 5
        }
    );
}

#[test]
fn reserving_twice_for_one_order_reserves_once() {
    let o = order();
    let reserve = C::ReserveStock {
        sku: sku(),
        order_id: o,
        quantity: 2,
    };
    let s = given(&[received(5)]);
    let first = Inventory::decide(&s, &reserve).unwrap();
    assert_eq!(first.len(), 1);
    let s = given(&[received(5), first[0].clone()]);
    assert!(Inventory::decide(&s, &reserve).unwrap().is_empty());
    assert_eq!(s.available(), 3);
}

#[test]
fn release_and_commit_move_the_reservation() {
    let (a, b) = (order(), order());
    let mut s = given(&[received(10)]);
    for (o, q) in [(a, 3), (b, 4)] {
        for e in Inventory::decide(
            &s,
            &C::ReserveStock {
                sku: sku(),
                order_id: o,
                quantity: q,
            },
        )
        .unwrap()
        {
            s = Inventory::evolve(s, &e);
        }
    }
    for e in Inventory::decide(&s, &C::ReleaseReservation { order_id: a }).unwrap() {
        s = Inventory::evolve(s, &e);
    }
    for e in Inventory::decide(&s, &C::CommitReservation { order_id: b }).unwrap() {
        s = Inventory::evolve(s, &e);
    }
    assert_eq!(
        (
            s.on_hand_total(),
            s.reserved(),
            s.sold_total(),
            s.available()
        ),
        (6, 0, 4, 6)
    );
    // Releasing what is gone, or committing twice, changes nothing.
    assert!(
        Inventory::decide(&s, &C::ReleaseReservation { order_id: a })
            .unwrap()
            .is_empty()
    );
    assert!(Inventory::decide(&s, &C::CommitReservation { order_id: b })
        .unwrap()
        .is_empty());
    assert_eq!(
        Inventory::decide(&s, &C::CommitReservation { order_id: a }),
        Err(InventoryError::NoReservation(a))
    );
}

#[test]
fn adjustments_cannot_eat_reserved_stock() {
    let o = order();
    let s = given(&[
        received(5),
        // Recorded before warehouses were: held against the SKU's total only.
        E::StockReserved {
            sku: sku(),
            order_id: o,
            quantity: 4,
            warehouses: vec![],
        },
    ]);
    let err = Inventory::decide(
        &s,
        &C::AdjustStock {
            sku: sku(),
            warehouse: DEFAULT_WAREHOUSE.into(),
            delta: -2,
            reason: "damaged".into(),
        },
    )
    .unwrap_err();
    assert!(matches!(err, InventoryError::WouldGoNegative { .. }));
    let err = Inventory::decide(
        &s,
        &C::AdjustStock {
            sku: sku(),
            warehouse: DEFAULT_WAREHOUSE.into(),
            delta: -1,
            reason: " ".into(),
        },
    )
    .unwrap_err();
    assert_eq!(err, InventoryError::MissingReason);
}

#[test]
fn low_stock_alerts_once_per_crossing() {
    let mut s = given(&[
        received(10),
        E::LowStockThresholdSet {
            sku: sku(),
            threshold: 5,
        },
    ]);
    let mut alerts = 0;
    for _ in 0..3 {
        let events = Inventory::decide(
            &s,
            &C::ReserveStock {
                sku: sku(),
                order_id: order(),
                quantity: 2,
            },
        )
        .unwrap();
        alerts += events
            .iter()
            .filter(|e| e.event_type() == "LowStockDetected")
            .count();
        s = events.iter().fold(s, Inventory::evolve);
    }
    assert_eq!(alerts, 1, "10 → 8 → 6 → 4: one crossing below 5");
    let events = Inventory::decide(
        &s,
        &C::ReceiveStock {
            sku: sku(),
            warehouse: "main".into(),
            quantity: 10,
        },
    )
    .unwrap();
    s = events.iter().fold(s, Inventory::evolve);
    assert!(!s.low_stock_alerted, "back above re-arms the alert");
    let events = Inventory::decide(
        &s,
        &C::ReserveStock {
            sku: sku(),
            order_id: order(),
            quantity: 12,
        },
    )
    .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type() == "LowStockDetected")
            .count(),
        1
    );
}

#[test]
fn a_threshold_past_the_bound_is_refused_and_one_below_stock_alerts_at_once() {
    let s = given(&[received(3)]);
    let err = Inventory::decide(
        &s,
        &C::SetLowStockThreshold {
            threshold: MAX_LOW_STOCK_THRESHOLD + 1,
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        InventoryError::ThresholdOutOfRange {
            threshold: MAX_LOW_STOCK_THRESHOLD + 1
        }
    );
    let events = Inventory::decide(&s, &C::SetLowStockThreshold { threshold: 5 }).unwrap();
    let types: Vec<_> = events.iter().map(|e| e.event_type()).collect();
    assert_eq!(types, ["LowStockThresholdSet", "LowStockDetected"]);
}

fn received_in(warehouse: &str, n: u32) -> E {
    E::StockReceived {
        sku: sku(),
        warehouse: warehouse.into(),
        quantity: n,
    }
}

fn reserve(o: OrderId, quantity: u32) -> C {
    C::ReserveStock {
        sku: sku(),
        order_id: o,
        quantity,
    }
}

fn held(events: &[E]) -> Vec<(String, u32)> {
    match &events[0] {
        E::StockReserved { warehouses, .. } => warehouses
            .iter()
            .map(|a| (a.warehouse.clone(), a.quantity))
            .collect(),
        other => panic!("not a reservation: {other:?}"),
    }
}

#[test]
fn a_reservation_is_held_whole_where_it_fits_else_split_down_the_ranking() {
    let s = given(&[received_in("east", 6), received_in("west", 9), received(2)]);
    // The default warehouse first when it covers the line.
    assert_eq!(
        held(&Inventory::decide(&s, &reserve(order(), 2)).unwrap()),
        [("main".to_owned(), 2)]
    );
    // Else the one with most available that covers it.
    assert_eq!(
        held(&Inventory::decide(&s, &reserve(order(), 5)).unwrap()),
        [("west".to_owned(), 5)]
    );
    // None covers 16: main, then most available first.
    assert_eq!(
        held(&Inventory::decide(&s, &reserve(order(), 16)).unwrap()),
        [
            ("main".to_owned(), 2),
            ("west".to_owned(), 9),
            ("east".to_owned(), 5)
        ]
    );
}

#[test]
fn a_commit_ships_from_and_a_release_gives_back_to_the_warehouses_holding_it() {
    let o = order();
    let mut s = given(&[received_in("east", 6), received(1)]);
    let events = Inventory::decide(&s, &reserve(o, 4)).unwrap();
    s = events.iter().fold(s, Inventory::evolve);
    assert_eq!((s.available_in("east"), s.reserved_in("east")), (2, 4));
    let released = Inventory::decide(&s, &C::ReleaseReservation { order_id: o }).unwrap();
    assert!(
        matches!(&released[0], E::ReservationReleased { warehouses, .. } if warehouses[0].warehouse == "east")
    );
    let after = released.iter().fold(s.clone(), Inventory::evolve);
    assert_eq!(after.available_in("east"), 6);
    let committed = Inventory::decide(&s, &C::CommitReservation { order_id: o }).unwrap();
    let after = committed.iter().fold(s, Inventory::evolve);
    assert_eq!(
        (
            after.on_hand["east"],
            after.on_hand["main"],
            after.reserved_in("east")
        ),
        (2, 1, 0),
        "shipped from east, not from the fullest shelf's neighbour"
    );
}

#[test]
fn a_transfer_is_two_events_and_moves_at_most_what_is_available_there() {
    let o = order();
    let mut s = given(&[received_in("east", 5)]);
    s = Inventory::decide(&s, &reserve(o, 3))
        .unwrap()
        .iter()
        .fold(s, Inventory::evolve);
    let transfer = |from: &str, to: &str, quantity| C::TransferStock {
        sku: sku(),
        from: from.into(),
        to: to.into(),
        quantity,
    };
    assert_eq!(
        Inventory::decide(&s, &transfer("east", "main", 3)).unwrap_err(),
        InventoryError::InsufficientStockIn {
            warehouse: "east".into(),
            requested: 3,
            available: 2
        }
    );
    assert_eq!(
        Inventory::decide(&s, &transfer("east", "east", 1)).unwrap_err(),
        InventoryError::SameWarehouse
    );
    assert_eq!(
        Inventory::decide(&s, &transfer("east", "main", 0)).unwrap_err(),
        InventoryError::ZeroQuantity
    );
    let events = Inventory::decide(&s, &transfer("east", "main", 2)).unwrap();
    let types: Vec<_> = events.iter().map(|e| e.event_type()).collect();
    assert_eq!(types, ["StockTransferredOut", "StockTransferredIn"]);
    let after = events.iter().fold(s.clone(), Inventory::evolve);
    assert_eq!((after.on_hand["east"], after.on_hand["main"]), (3, 2));
    assert_eq!(
        after.available(),
        s.available(),
        "a transfer changes no total"
    );
}

#[test]
fn events_from_before_warehouses_were_recorded_still_read() {
    let old = serde_json::json!({ "sku": "SKU-1", "order_id": Uuid::nil(), "quantity": 2 });
    let e = InventoryEvent::from_data("StockReserved", 1, old).unwrap();
    assert!(matches!(e, E::StockReserved { ref warehouses, .. } if warehouses.is_empty()));
    let s = given(&[received_in("east", 1), received(4), e.clone()]);
    let committed = Inventory::decide(
        &s,
        &C::CommitReservation {
            order_id: OrderId::new(Uuid::nil()),
        },
    )
    .unwrap();
    let after = committed.iter().fold(s, Inventory::evolve);
    assert_eq!(
        (after.on_hand["main"], after.on_hand["east"]),
        (2, 1),
        "the fullest shelf, as before"
    );
}
