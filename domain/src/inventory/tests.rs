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
        E::StockReserved {
            sku: sku(),
            order_id: o,
            quantity: 4,
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
