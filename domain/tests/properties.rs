//! Properties of the rules over random command sequences: what must hold whatever
//! customers, staff and process managers do, in whatever order.

mod support;

use domain::aggregate::{Aggregate, DomainEvent};
use domain::id::OrderId;
use domain::inventory::{Inventory, InventoryState};
use domain::order::{compute_totals, Order, OrderLine, OrderState, OrderStatus, TaxTerms};
use domain::payment::{ChargeOutcome, Payment, PaymentCommand, PaymentState};
use proptest::prelude::*;
use support::*;
use uuid::Uuid;

/// Prices excluding tax at `bp` basis points.
fn terms(bp: u32) -> TaxTerms {
    TaxTerms {
        rate_ppm: bp * 100,
        inclusive: false,
    }
}

/// Runs `commands` through decide/evolve, keeping accepted events; returns the final state
/// and every event recorded.
fn run<A: Aggregate>(commands: &[A::Command]) -> (A::State, Vec<A::Event>) {
    let mut state = A::State::default();
    let mut log = Vec::new();
    for c in commands {
        if let Ok(events) = A::decide(&state, c) {
            for e in &events {
                state = A::evolve(state, e);
            }
            log.extend(events);
        }
    }
    (state, log)
}

/// Replaying the stored form of `log` rebuilds `state`: the serde round trip included.
fn replays_to<A: Aggregate>(state: &A::State, log: &[A::Event]) -> bool
where
    A::State: PartialEq,
{
    let replayed = log.iter().fold(A::State::default(), |s, e| {
        let stored = e.to_data();
        assert!(stored.is_object());
        let back = A::Event::from_data(e.event_type(), e.schema_version(), stored)
            .expect("a stored event reads back");
        A::evolve(s, &back)
    });
    &replayed == state
}

/// The transitions docs/api.md allows, as (from, to).
fn allowed(from: OrderStatus, to: OrderStatus) -> bool {
    use OrderStatus::*;
    matches!(
        (from, to),
        (Pending, AwaitingPayment)
            | (Pending, Cancelled)
            | (AwaitingPayment, Paid)
            | (AwaitingPayment, AwaitingPayment) // a failed payment leaves it payable
            | (AwaitingPayment, Cancelled)
            | (Paid, Shipped)
            | (Paid, Cancelled)
            | (Shipped, Delivered)
            | (Paid | PartiallyShipped | Shipped | Delivered | PartiallyRefunded, Refunded | PartiallyRefunded)
            // Shipments (issue 22): one leaves, then the rest.
            | (Paid | PartiallyShipped, PartiallyShipped | Shipped)
            // A partial refund leaves the order where it was on its way (PlacedOrder::stage):
            // the next shipment still leaves, and arrives.
            | (PartiallyRefunded, PartiallyShipped | Shipped | Delivered)
    ) || from == to // recording a shipment, or one's arrival, may leave the status as it was
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Stock never goes negative, and reserved + sold never exceeds what came in.
    #[test]
    fn stock_is_never_oversold(commands in prop::collection::vec(inventory_command(), 0..60)) {
        let mut state = InventoryState::default();
        for c in &commands {
            if let Ok(events) = Inventory::decide(&state, c) {
                for e in &events {
                    state = Inventory::evolve(state, e);
                }
            }
            prop_assert!(state.available() >= 0, "available {}", state.available());
            // on_hand = received - sold, so this is "never promise what is not on the shelf".
            prop_assert!(
                state.reserved() + state.sold_total() <= state.received,
                "reserved {} + sold {} > received {}", state.reserved(), state.sold_total(), state.received
            );
            prop_assert_eq!(state.on_hand_total(), state.received - state.sold_total());
            // Per warehouse too: what is reserved in a warehouse is on its shelf.
            for w in state.on_hand.keys() {
                prop_assert!(
                    state.available_in(w) >= 0,
                    "{} holds {} with {} reserved", w, state.on_hand[w], state.reserved_in(w)
                );
            }
            let held: i64 = state.allocations.values().flatten().map(|a| i64::from(a.quantity)).sum();
            prop_assert_eq!(held, state.reserved(), "every reservation is held somewhere");
        }
        let (s, log) = run::<Inventory>(&commands);
        prop_assert!(replays_to::<Inventory>(&s, &log));
    }

    /// Totals add up: total = subtotal - discount + tax + shipping, tax on the discounted
    /// subtotal, and the subtotal is the sum of the lines.
    #[test]
    fn order_totals_add_up(
        lines in prop::collection::vec((1u32..50, 0i64..1_000_000), 1..20),
        discount_share in 0u32..=100,
        tax_bp in 0u32..3_000,
        shipping in 0i64..10_000,
    ) {
        let lines: Vec<OrderLine> = lines.iter().enumerate().map(|(i, &(q, p))| line(i as u8, q, p)).collect();
        let subtotal: i64 = lines.iter().map(|l| l.unit_price.amount * i64::from(l.quantity)).sum();
        let discount = subtotal * i64::from(discount_share) / 100;
        let t = compute_totals(&lines, usd(discount), terms(tax_bp), usd(shipping)).unwrap();
        prop_assert_eq!(t.subtotal.amount, subtotal);
        prop_assert_eq!(t.total.amount, t.subtotal.amount - t.discount.amount + t.tax.amount + t.shipping.amount);
        prop_assert!(t.tax.amount >= 0 && t.total.amount >= 0);
        prop_assert!(compute_totals(&lines, usd(subtotal + 1), terms(tax_bp), usd(shipping)).is_err());
    }

    /// No command sequence moves an order along a transition docs/api.md does not allow, and
    /// refunds never exceed what was paid.
    #[test]
    fn orders_follow_the_state_machine(commands in prop::collection::vec(order_command(), 0..40)) {
        let mut state = OrderState::default();
        for c in &commands {
            let before = state.placed.as_ref().map(|o| o.status);
            if let Ok(events) = Order::decide(&state, c) {
                for e in &events {
                    state = Order::evolve(state, e);
                }
                if let (Some(from), Some(o)) = (before, state.placed.as_ref()) {
                    if !events.is_empty() {
                        prop_assert!(allowed(from, o.status), "{:?} -> {:?}", from, o.status);
                    }
                }
            }
            if let Some(o) = &state.placed {
                prop_assert!(o.refunded.amount <= o.paid.amount);
            }
        }
        let (s, log) = run::<Order>(&commands);
        prop_assert!(replays_to::<Order>(&s, &log));
    }

    /// Refunds never exceed the captured amount, whatever is asked.
    #[test]
    fn refunds_never_exceed_captures(
        captured in 1i64..100_000,
        declines in 0usize..3,
        refunds in prop::collection::vec(1i64..60_000, 0..10),
    ) {
        let order_id = OrderId::new(Uuid::from_u128(9));
        let mut commands = Vec::new();
        for attempt in 1..=declines as u32 {
            commands.push(PaymentCommand::Charge { order_id, attempt, amount: usd(captured), method: "card".into(), provider: "test".into(), outcome: ChargeOutcome::Declined { code: "card_declined".into(), message: "no".into() }, at: at() });
        }
        commands.push(PaymentCommand::Charge { order_id, attempt: declines as u32 + 1, amount: usd(captured), method: "card".into(), provider: "test".into(), outcome: ChargeOutcome::Captured { reference: "ch".into() }, at: at() });
        commands.extend(refunds.iter().map(|&r| PaymentCommand::Refund { amount: usd(r), reason: "r".into(), at: at() }));
        let (s, log): (PaymentState, _) = run::<Payment>(&commands);
        prop_assert_eq!(s.captured, Some(usd(captured)));
        prop_assert!(s.refunded.map_or(0, |r| r.amount) <= captured);
        prop_assert_eq!(s.attempts as usize, declines + 1);
        prop_assert!(replays_to::<Payment>(&s, &log));
    }
}

/// An unknown type or a future schema version is a typed error, never a guess.
#[test]
fn unknown_types_and_versions_are_refused() {
    use domain::aggregate::EventDecodeError;
    use domain::order::OrderEvent;
    let data = serde_json::json!({ "at": "2026-11-24T12:00:00Z" });
    assert!(OrderEvent::from_data("OrderStockReserved", 1, data.clone()).is_ok());
    assert!(matches!(
        OrderEvent::from_data("OrderTeleported", 1, data.clone()),
        Err(EventDecodeError::UnknownType(_))
    ));
    assert!(matches!(
        OrderEvent::from_data("OrderStockReserved", 9, data),
        Err(EventDecodeError::UnknownVersion { version: 9, .. })
    ));
    assert!(matches!(
        OrderEvent::from_data("OrderStockReserved", 1, serde_json::json!({ "at": 5 })),
        Err(EventDecodeError::BadShape { .. })
    ));
}
