//! ADR 0006 on orders: each line records its discount share and its tax, and the order's
//! totals are the fold of its lines. Properties for any lines, discount and rate; the
//! three bugs other engines shipped as unit cases; `OrderPlaced` v1 upcast to v2.

mod support;

use domain::aggregate::{Aggregate, DomainEvent};
use domain::id::{ProductId, VariantId};
use domain::money::Money;
use domain::order::{
    fold, place_lines, upcast_lines, Order, OrderCommand, OrderError, OrderEvent, OrderLine,
    OrderLineV1, OrderTotals, TaxTerms,
};
use domain::tax::Rounding;
use proptest::prelude::*;
use support::*;
use uuid::Uuid;

fn exclusive(rate_ppm: u32) -> TaxTerms {
    TaxTerms {
        rate_ppm,
        inclusive: false,
    }
}

fn inclusive(rate_ppm: u32) -> TaxTerms {
    TaxTerms {
        rate_ppm,
        inclusive: true,
    }
}

/// Places `lines` with `discount` over `over` and `tax`; answers the recorded event's
/// lines and totals.
fn placed(
    lines: Vec<OrderLine>,
    discount: i64,
    over: Option<Vec<ProductId>>,
    tax: TaxTerms,
) -> Result<(Vec<domain::order::PlacedLine>, OrderTotals), OrderError> {
    let OrderCommand::Place(mut p) = place(lines, discount, 0, 0) else {
        unreachable!()
    };
    p.discount_over = over;
    p.tax = tax;
    let events = Order::decide(&Default::default(), &OrderCommand::Place(p))?;
    match events.into_iter().next() {
        Some(OrderEvent::OrderPlaced { lines, totals, .. }) => Ok((lines, totals)),
        other => panic!("not a placement: {other:?}"),
    }
}

proptest! {
    /// For any lines, discount, scope, rate and mode: the recorded totals are the fold of
    /// the recorded lines, the discount shares add up to the discount (and only lines in
    /// scope get one), and each line's tax is its one rounding of `line_total − discount`.
    #[test]
    fn the_totals_are_the_fold_of_the_lines_and_the_shares_add_up(
        raw in prop::collection::vec((1u32..2_000, 0i64..5_000_000, any::<bool>()), 1..30),
        discount_part in 0u32..=100,
        rate_ppm in 0u32..=1_000_000,
        inclusive_prices: bool,
        scoped: bool,
    ) {
        let lines: Vec<OrderLine> =
            raw.iter().enumerate().map(|(i, &(q, p, _))| line(i as u8, q, p)).collect();
        let in_scope: Vec<ProductId> = lines
            .iter()
            .zip(&raw)
            .filter(|(_, r)| !scoped || r.2)
            .map(|(l, _)| l.product_id)
            .collect();
        let base: i64 = lines
            .iter()
            .filter(|l| in_scope.contains(&l.product_id))
            .map(|l| l.unit_price.amount * i64::from(l.quantity))
            .sum();
        let discount = base * i64::from(discount_part) / 100;
        let tax = TaxTerms { rate_ppm, inclusive: inclusive_prices };
        let (recorded, totals) =
            placed(lines.clone(), discount, scoped.then(|| in_scope.clone()), tax).unwrap();
        prop_assert_eq!(&fold(&recorded, totals.shipping).unwrap(), &totals);
        prop_assert_eq!(recorded.iter().map(|l| l.discount.amount).sum::<i64>(), discount);
        prop_assert_eq!(totals.discount.amount, discount);
        let mut sum = 0i64;
        for (asked, l) in lines.iter().zip(&recorded) {
            let line_total = asked.unit_price.amount * i64::from(asked.quantity);
            prop_assert_eq!(l.line_total.amount, line_total);
            prop_assert!(l.discount.amount >= 0 && l.discount.amount <= line_total);
            if !in_scope.contains(&l.product_id) {
                prop_assert_eq!(l.discount.amount, 0);
            }
            prop_assert_eq!(l.tax.taxable.amount, line_total - l.discount.amount);
            prop_assert_eq!(l.tax.rate_ppm, rate_ppm);
            prop_assert_eq!(l.tax.inclusive, inclusive_prices);
            prop_assert_eq!(l.tax.rounding, Rounding::HalfUp);
            sum += l.tax.amount.amount;
        }
        prop_assert_eq!(totals.tax.amount, sum);
        let added = if inclusive_prices { 0 } else { totals.tax.amount };
        prop_assert_eq!(
            totals.total.amount,
            totals.subtotal.amount - totals.discount.amount + added + totals.shipping.amount
        );
    }

    /// An upcast v1 order (no tax, a discount) folds to the totals it recorded.
    #[test]
    fn an_upcast_v1_order_folds_to_its_recorded_totals(
        raw in prop::collection::vec((1u32..2_000, 0i64..5_000_000), 1..30),
        discount_part in 0u32..=100,
        shipping in 0i64..10_000,
    ) {
        let lines: Vec<OrderLineV1> = raw
            .iter()
            .enumerate()
            .map(|(i, &(q, p))| {
                let l = line(i as u8, q, p);
                OrderLineV1 { product_id: l.product_id, sku: l.sku, quantity: q, unit_price: l.unit_price }
            })
            .collect();
        let subtotal: i64 = raw.iter().map(|&(q, p)| p * i64::from(q)).sum();
        let discount = subtotal * i64::from(discount_part) / 100;
        let totals = OrderTotals {
            subtotal: usd(subtotal),
            discount: usd(discount),
            tax: usd(0),
            shipping: usd(shipping),
            total: usd(subtotal - discount + shipping),
        };
        let v2 = upcast_lines(&lines, &totals);
        prop_assert_eq!(fold(&v2, usd(shipping)).unwrap(), totals);
        prop_assert!(v2.iter().all(|l| l.tax.amount.amount == 0 && l.variant_id.is_none()));
    }
}

/// Saleor #12348 / #6720: 1000 units at 0.01 taxed at 8.875% is 10.00 × 8.875% = 0.8875,
/// rounded once: 0.89. Taxed per unit it would be 1000 × round(0.0008875) = 0.00.
#[test]
fn many_cheap_units_are_taxed_once_per_line() {
    let (lines, totals) = placed(vec![line(1, 1000, 1)], 0, None, exclusive(88_750)).unwrap();
    assert_eq!(lines[0].line_total, usd(1000));
    assert_eq!(lines[0].tax.amount, usd(89));
    assert_eq!(totals.tax, usd(89));
    assert_eq!(totals.total, usd(1089));
}

/// Medusa #14818: a fractional-cent tax (34.116425) is rounded once, when recorded; what
/// the order records, what its answer shows (its totals) and what a payment must be (the
/// recorded total) are the same integer.
#[test]
fn a_fractional_cent_rate_is_recorded_shown_and_charged_as_one_integer() {
    // 384.41 at 8.875% = 34.1163875; 3 lines so the per-line roundings matter.
    let (lines, totals) = placed(
        vec![line(1, 1, 38_441), line(2, 3, 1_999), line(3, 7, 333)],
        0,
        None,
        exclusive(88_750),
    )
    .unwrap();
    // 3411.63875 → 3412; 5997 × 0.08875 = 532.23375 → 532; 2331 × 0.08875 = 206.87625 → 207.
    let amounts: Vec<i64> = lines.iter().map(|l| l.tax.amount.amount).collect();
    assert_eq!(amounts, vec![3412, 532, 207]);
    assert_eq!(totals.tax, usd(3412 + 532 + 207));
    assert_eq!(totals.total, usd(38_441 + 5_997 + 2_331 + 4_151));
    // The state a payment is checked against holds the same total, and nothing else pays.
    let OrderCommand::Place(p) = place(
        vec![line(1, 1, 38_441), line(2, 3, 1_999), line(3, 7, 333)],
        0,
        0,
        0,
    ) else {
        unreachable!()
    };
    let mut p = *p;
    p.tax = exclusive(88_750);
    let mut state = Default::default();
    for e in Order::decide(&state, &OrderCommand::Place(Box::new(p))).unwrap() {
        state = Order::evolve(state, &e);
    }
    for e in Order::decide(&state, &OrderCommand::MarkStockReserved { at: at() }).unwrap() {
        state = Order::evolve(state, &e);
    }
    let pay = |amount: i64| OrderCommand::MarkPaid {
        amount: usd(amount),
        payment_reference: "ch_1".into(),
        at: at(),
    };
    assert!(matches!(
        Order::decide(&state, &pay(totals.total.amount - 1)),
        Err(OrderError::PaymentMismatch { .. })
    ));
    assert!(Order::decide(&state, &pay(totals.total.amount)).is_ok());
}

/// Vendure #2662: the total is never recomputed from rounded parts in another order. A
/// discount shared over three equal lines (100 / 3) and taxed per line still folds to a
/// total that is exactly subtotal − discount + tax, to the minor unit.
#[test]
fn a_total_is_never_off_by_a_minor_unit() {
    let (lines, totals) = placed(
        vec![line(1, 1, 3_333), line(2, 1, 3_333), line(3, 1, 3_334)],
        100,
        None,
        exclusive(200_000),
    )
    .unwrap();
    let shares: Vec<i64> = lines.iter().map(|l| l.discount.amount).collect();
    // 100 × 3333/10000 = 33.33, 33.33, 33.34: the one unit left over goes to the largest
    // remainder.
    assert_eq!(shares.iter().sum::<i64>(), 100);
    assert_eq!(shares, vec![33, 33, 34]);
    let tax: i64 = lines.iter().map(|l| l.tax.amount.amount).sum();
    assert_eq!(totals.tax.amount, tax);
    assert_eq!(totals.total.amount, 10_000 - 100 + tax);
    assert_eq!(fold(&lines, totals.shipping).unwrap(), totals);
}

/// Inclusive prices: the tax is the part of the price that is tax, and the total is what
/// the prices say: 121.00 at 21% holds 21.00 of tax, and the order costs 121.00.
#[test]
fn inclusive_prices_hold_their_tax_and_add_nothing() {
    let (lines, totals) = placed(vec![line(1, 1, 12_100)], 0, None, inclusive(210_000)).unwrap();
    assert!(lines[0].tax.inclusive);
    assert_eq!(lines[0].tax.amount, usd(2_100));
    assert_eq!(totals.tax, usd(2_100));
    assert_eq!(totals.total, usd(12_100));
    // A discount comes off the taxable amount first: 100.00 of a 121.00 line after 21.00
    // off, of which 17.36 is tax (100 × 0.21 / 1.21 = 17.355…).
    let (lines, totals) =
        placed(vec![line(1, 1, 12_100)], 2_100, None, inclusive(210_000)).unwrap();
    assert_eq!(lines[0].tax.taxable, usd(10_000));
    assert_eq!(lines[0].tax.amount, usd(1_736));
    assert_eq!(totals.total, usd(10_000));
}

/// A coupon scoped to some products shares its discount only over their lines; one that
/// would take more than those lines cost is refused.
#[test]
fn a_scoped_discount_is_shared_only_over_its_lines() {
    let lines = vec![line(1, 1, 1_000), line(2, 1, 3_000)];
    let only = vec![lines[1].product_id];
    let (recorded, totals) = placed(lines.clone(), 300, Some(only.clone()), exclusive(0)).unwrap();
    assert_eq!(recorded[0].discount, usd(0));
    assert_eq!(recorded[1].discount, usd(300));
    assert_eq!(totals.total, usd(3_700));
    assert_eq!(
        placed(lines.clone(), 3_001, Some(only), exclusive(0)),
        Err(OrderError::DiscountExceedsSubtotal)
    );
    assert_eq!(
        placed(lines, 100, Some(vec![]), exclusive(0)),
        Err(OrderError::DiscountExceedsSubtotal)
    );
}

/// Two variants of one product are two lines, each with its variant and SKU.
#[test]
fn variants_of_one_product_are_lines_of_their_own() {
    let mut a = line(1, 1, 1_000);
    let mut b = line(2, 2, 1_200);
    b.product_id = a.product_id;
    a.variant_id = Some(VariantId::new(Uuid::from_u128(1)));
    b.variant_id = Some(VariantId::new(Uuid::from_u128(2)));
    let lines = place_lines(&[a.clone(), b.clone()], usd(0), None, exclusive(0)).unwrap();
    assert_eq!(lines[0].variant_id, a.variant_id);
    assert_eq!(lines[1].variant_id, b.variant_id);
    assert_eq!(lines[1].sku, b.sku);
}

/// A stored v1 `OrderPlaced` reads back as v2: its lines gain no variant, a share of the
/// discount and a tax of nothing, and its fold is its recorded totals.
#[test]
fn a_stored_v1_order_is_read_as_v2() {
    let v1 = serde_json::json!({
        "order_id": Uuid::from_u128(7), "user_id": Uuid::from_u128(8),
        "lines": [
            {"product_id": Uuid::from_u128(1), "sku": "A-1", "quantity": 3, "unit_price": {"amount": 1999, "currency": "USD"}},
            {"product_id": Uuid::from_u128(2), "sku": "B-1", "quantity": 1, "unit_price": {"amount": 1003, "currency": "USD"}}
        ],
        "totals": {
            "subtotal": {"amount": 7000, "currency": "USD"},
            "discount": {"amount": 700, "currency": "USD"},
            "tax": {"amount": 0, "currency": "USD"},
            "shipping": {"amount": 0, "currency": "USD"},
            "total": {"amount": 6300, "currency": "USD"}
        },
        // Sealed personal data passes through unread.
        "shipping_address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"},
        "billing_address": null, "payment_method": "card", "notes": null,
        "coupon_code": "TENOFF", "placed_at": "2026-01-01T00:00:00Z"
    });
    let event = OrderEvent::from_data("OrderPlaced", 1, v1).unwrap();
    assert_eq!(event.schema_version(), 2);
    let OrderEvent::OrderPlaced { lines, totals, .. } = event else {
        panic!("not a placement")
    };
    assert_eq!(lines[0].discount, usd(600)); // 5997 / 7000 × 700 = 599.7
    assert_eq!(lines[1].discount, usd(100));
    assert!(lines
        .iter()
        .all(|l| l.tax.amount == usd(0) && l.tax.rate_ppm == 0));
    assert_eq!(fold(&lines, totals.shipping).unwrap(), totals);
    assert_eq!(Money::new(6300, totals.total.currency), totals.total);
}

fn rule(n: u128, amount_off: i64) -> domain::pricing::Applied {
    domain::pricing::Applied {
        rule_id: domain::id::PriceRuleId::new(Uuid::from_u128(n)),
        rule_version: 3,
        amount_off,
    }
}

/// ADR 0008 on orders: a line keeps its list price and the rules that took something off;
/// the subtotal is at the prices after the rules, the coupon is shared over those and the
/// tax is of what is left, and the totals are still the fold of the lines.
#[test]
fn price_rules_lower_the_subtotal_and_the_coupon_and_tax_follow() {
    let mut cheap = line(1, 2, 1_000); // 20.00 list
    cheap.price_rules = vec![rule(7, 500), rule(8, 100)]; // 6.00 off
    let dear = line(2, 1, 6_000);
    let (lines, totals) = placed(vec![cheap, dear], 400, None, exclusive(100_000)).unwrap();
    assert_eq!(lines[0].line_total, usd(2_000), "the list total stays");
    assert_eq!(lines[0].price_rules, vec![rule(7, 500), rule(8, 100)]);
    assert_eq!(lines[0].price().unwrap(), usd(1_400));
    assert_eq!(totals.subtotal, usd(7_400), "14.00 + 60.00");
    // 4.00 shared over 14.00 and 60.00: 0.76 and 3.24.
    assert_eq!(lines[0].discount, usd(76));
    assert_eq!(lines[1].discount, usd(324));
    assert_eq!(lines[0].tax.taxable, usd(1_324));
    assert_eq!(totals, fold(&lines, usd(0)).unwrap());
    assert_eq!(totals.total, usd(7_400 - 400 + 132 + 568));
}

/// A rule that takes more than the line's total, or nothing, is not an order's to record.
#[test]
fn a_price_rule_off_more_than_the_line_is_refused() {
    let mut over = line(1, 1, 1_000);
    over.price_rules = vec![rule(7, 1_001)];
    assert!(matches!(
        placed(vec![over], 0, None, exclusive(0)),
        Err(OrderError::InvalidLine { line: 0, .. })
    ));
    let mut nothing = line(1, 1, 1_000);
    nothing.price_rules = vec![rule(7, 0)];
    assert!(placed(vec![nothing], 0, None, exclusive(0)).is_err());
    let mut all = line(1, 1, 1_000);
    all.price_rules = vec![rule(7, 1_000)];
    let (_, totals) = placed(vec![all], 0, None, exclusive(0)).unwrap();
    assert_eq!(totals.total, usd(0), "a free line is a line");
}
