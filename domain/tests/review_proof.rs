//! Issue 23, item 6: a review's proof of purchase counts units. A buyer who sent back every
//! unit delivered to them (a return not rejected) has no proof; one who kept a unit has.
//! Units cancelled before they shipped were never delivered.

mod support;

use domain::aggregate::Aggregate;
use domain::id::{ProductId, ShipmentId, UserId};
use domain::order::{ChangedBy, Order, OrderCommand, OrderEvent, OrderState, ShippedLine};
use domain::reviews::proof_of_kept_purchase;
use domain::value::Sku;
use support::{at, line, place};
use uuid::Uuid;

fn staff() -> ChangedBy {
    ChangedBy {
        user_id: None,
        role: "staff".into(),
    }
}

/// Decides each command in turn; the events with made-up ids, in order.
fn story(commands: Vec<OrderCommand>) -> Vec<(Uuid, OrderEvent)> {
    let mut state = OrderState::default();
    let mut out = Vec::new();
    for c in commands {
        for e in Order::decide(&state, &c).expect("accepted") {
            state = Order::evolve(state, &e);
            out.push((Uuid::from_u128(out.len() as u128 + 1), e));
        }
    }
    out
}

/// Two units of product 100, paid.
fn paid() -> Vec<OrderCommand> {
    let total = {
        let s = Order::decide(
            &OrderState::default(),
            &place(vec![line(0, 2, 1000)], 0, 0, 0),
        )
        .unwrap()
        .iter()
        .fold(OrderState::default(), Order::evolve);
        s.placed.unwrap().totals.total
    };
    vec![
        place(vec![line(0, 2, 1000)], 0, 0, 0),
        OrderCommand::MarkStockReserved { at: at() },
        OrderCommand::MarkPaid {
            amount: total,
            payment_reference: "ch_1".into(),
            at: at(),
        },
    ]
}

fn buyer() -> UserId {
    UserId::new(Uuid::from_u128(8))
}

fn product() -> ProductId {
    ProductId::new(Uuid::from_u128(100))
}

#[test]
fn a_buyer_who_sent_every_unit_back_has_no_proof() {
    let mut commands = paid();
    commands.push(OrderCommand::Ship {
        tracking_number: None,
        note: None,
        by: staff(),
        at: at(),
    });
    commands.push(OrderCommand::Deliver {
        note: None,
        by: staff(),
        at: at(),
    });
    let events = story(commands);
    let kept_one = proof_of_kept_purchase(&events, buyer(), product(), |_| 1).expect("a proof");
    assert_eq!(kept_one.event_ids.len(), 2);
    assert_eq!(
        kept_one.event_ids[1],
        events.last().unwrap().0,
        "the delivery"
    );
    assert_eq!(
        proof_of_kept_purchase(&events, buyer(), product(), |_| 2),
        None
    );
}

#[test]
fn units_cancelled_before_shipping_were_never_delivered() {
    let shipment = ShipmentId::new(Uuid::from_u128(900));
    let sku = Sku::parse("SKU-0").unwrap();
    let mut commands = paid();
    commands.extend([
        OrderCommand::AllocateShipment {
            shipment_id: shipment,
            lines: vec![ShippedLine {
                sku: sku.clone(),
                quantity: 1,
            }],
            at: at(),
        },
        OrderCommand::CancelLines {
            cancellation_id: Uuid::from_u128(5),
            lines: vec![ShippedLine {
                sku: sku.clone(),
                quantity: 1,
            }],
            reason: "scratched".into(),
            by: staff(),
            at: at(),
        },
        OrderCommand::ShipLines {
            shipment_id: shipment,
            tracking_number: None,
            by: staff(),
            at: at(),
        },
    ]);
    let shipped = story(commands.clone());
    // On its way, not delivered: no proof yet.
    assert_eq!(
        proof_of_kept_purchase(&shipped, buyer(), product(), |_| 0),
        None
    );
    commands.push(OrderCommand::RecordShipmentDelivered {
        shipment_id: shipment,
        by: staff(),
        at: at(),
    });
    let delivered = story(commands);
    assert!(proof_of_kept_purchase(&delivered, buyer(), product(), |_| 0).is_some());
    // One unit arrived; returning it leaves nothing kept.
    assert_eq!(
        proof_of_kept_purchase(&delivered, buyer(), product(), |_| 1),
        None
    );
}
