//! Given / when / then for the bounds on money (issue 18, item 9): a price above
//! `MAX_PRICE`, a cart or an order above `MAX_TOTAL` and a sum past `i64` are refused by
//! the rules with a typed error, never wrapped, never a panic; and a payment recorded twice
//! by two racing requests is recorded once.

mod support;

use domain::aggregate::Aggregate;
use domain::cart::{Cart, CartCommand, CartError, CartLine};
use domain::catalog::{CatalogError, CreateProduct, Product, ProductCommand};
use domain::coupon::{Coupon, CouponCommand, CouponDiscount, CouponError, CouponTerms};
use domain::id::{CartId, CartItemId, CategoryId, CouponId, OrderId, ProductId};
use domain::money::{MAX_PRICE, MAX_TOTAL};
use domain::order::{Order, OrderError};
use domain::payment::{ChargeOutcome, Payment, PaymentCommand, PaymentError, PaymentEvent};
use domain::value::{Quantity, Sku, Slug};
use support::*;
use uuid::Uuid;

/// The price of the attack the issue reports: 2^62 minor units.
const HUGE: i64 = 1 << 62;

fn given<A: Aggregate>(commands: &[A::Command]) -> A::State
where
    A::Error: std::fmt::Debug,
{
    commands.iter().fold(A::State::default(), |s, c| {
        let events = A::decide(&s, c).expect("a given command succeeds");
        events.iter().fold(s, A::evolve)
    })
}

fn create_product(price: i64) -> ProductCommand {
    ProductCommand::Create(Box::new(CreateProduct {
        product_id: ProductId::new(Uuid::from_u128(70)),
        sku: Sku::parse("GOLD-1").unwrap(),
        name: "Gold bar".into(),
        slug: Slug::parse("gold-bar").unwrap(),
        description: None,
        category_id: CategoryId::new(Uuid::from_u128(50)),
        price: usd(price),
        attributes: serde_json::Map::new(),
        vendor_id: None,
        publish: true,
        seo: Default::default(),
        at: at(),
    }))
}

fn cart_line(i: u128, quantity: u32, price: i64) -> CartLine {
    CartLine {
        item_id: CartItemId::new(Uuid::from_u128(i)),
        product_id: ProductId::new(Uuid::from_u128(i + 1_000)),
        variant_id: None,
        sku: Sku::parse(&format!("SKU-{i}")).unwrap(),
        quantity: Quantity::new(quantity).unwrap(),
        unit_price: usd(price),
    }
}

fn add(line: CartLine) -> CartCommand {
    CartCommand::AddItem { line, at: at() }
}

#[test]
fn a_price_above_the_bound_is_refused_naming_price_amount() {
    assert!(Product::decide(&Default::default(), &create_product(MAX_PRICE)).is_ok());
    for price in [MAX_PRICE + 1, HUGE, i64::MAX] {
        match Product::decide(&Default::default(), &create_product(price)) {
            Err(CatalogError::Invalid { field, .. }) => assert_eq!(field, "price.amount"),
            other => panic!("{price}: {other:?}"),
        }
    }
    let s = given::<Product>(&[create_product(100)]);
    let reprice = ProductCommand::ChangePrice {
        price: usd(HUGE),
        at: at(),
    };
    assert!(matches!(
        Product::decide(&s, &reprice),
        Err(CatalogError::Invalid {
            field: "price.amount",
            ..
        })
    ));
}

#[test]
fn a_cart_is_refused_what_would_take_it_past_the_total_bound() {
    // Given a line whose price alone passes the total bound (a product priced before the
    // bounds existed): its quantity 4 made 2^64, which wrapped to a total of 0.
    assert_eq!(
        Cart::decide(&Default::default(), &add(cart_line(1, 4, HUGE))),
        Err(CartError::TotalTooLarge)
    );
    // Given a cart exactly at the bound...
    let at_bound = MAX_TOTAL / 10_000;
    let s = given::<Cart>(&[add(cart_line(1, 10_000, at_bound))]);
    assert_eq!(s.bounded_subtotal().unwrap().unwrap().amount, MAX_TOTAL);
    // ... one more unit of anything is refused, by a new line or a merge ...
    assert_eq!(
        Cart::decide(&s, &add(cart_line(2, 1, 1))),
        Err(CartError::TotalTooLarge)
    );
    let merge = CartCommand::MergeGuestCart {
        guest_cart_id: CartId::new(Uuid::from_u128(9)),
        lines: vec![cart_line(3, 1, 1)],
    };
    assert_eq!(Cart::decide(&s, &merge), Err(CartError::TotalTooLarge));
    // ... while lowering a quantity is not.
    let item_id = CartItemId::new(Uuid::from_u128(1));
    let lower = CartCommand::UpdateItem {
        item_id,
        quantity: Quantity::new(5).unwrap(),
    };
    let s = given::<Cart>(&[add(cart_line(1, 10_000, at_bound)), lower]);
    let raise = CartCommand::UpdateItem {
        item_id,
        quantity: Quantity::new(10_000).unwrap(),
    };
    assert!(
        Cart::decide(&s, &raise).is_ok(),
        "back to the bound is fine"
    );
    let s = given::<Cart>(&[add(cart_line(2, 1, 1)), add(cart_line(1, 5, at_bound))]);
    assert_eq!(
        Cart::decide(&s, &raise),
        Err(CartError::TotalTooLarge),
        "raising a quantity past the bound is not"
    );
}

#[test]
fn an_order_is_refused_a_huge_price_quantity_or_total() {
    let over = |lines| Order::decide(&Default::default(), &place(lines, 0, 0, 0));
    assert!(matches!(
        over(vec![line(1, 4, HUGE)]),
        Err(OrderError::InvalidLine { line: 0, .. })
    ));
    assert!(matches!(
        over(vec![line(1, 10_001, 1)]),
        Err(OrderError::InvalidLine { line: 0, .. })
    ));
    // 100 lines of 10,000 at the largest price: 10^15, within i64, beyond the bound.
    let lines = (0..100).map(|i| line(i, 10_000, MAX_PRICE)).collect();
    assert_eq!(over(lines), Err(OrderError::TotalTooLarge));
    // Tax and shipping count too.
    let at_bound = MAX_TOTAL / 10_000;
    assert!(Order::decide(
        &Default::default(),
        &place(vec![line(1, 10_000, at_bound)], 0, 0, 0)
    )
    .is_ok());
    assert_eq!(
        Order::decide(
            &Default::default(),
            &place(vec![line(1, 10_000, at_bound)], 0, 0, 1)
        ),
        Err(OrderError::TotalTooLarge)
    );
    assert_eq!(
        Order::decide(
            &Default::default(),
            &place(vec![line(1, 10_000, at_bound)], 0, 1, 0)
        ),
        Err(OrderError::TotalTooLarge),
        "tax past the bound"
    );
}

fn coupon(discount: CouponDiscount, min_order: Option<i64>) -> CouponCommand {
    CouponCommand::Create {
        coupon_id: CouponId::new(Uuid::from_u128(5)),
        terms: CouponTerms {
            code: "BIG".into(),
            discount,
            valid_from: None,
            valid_until: None,
            max_uses: None,
            max_uses_per_customer: None,
            min_order: min_order.map(usd),
            scope: Default::default(),
        },
    }
}

#[test]
fn a_coupon_is_refused_amounts_past_the_total_bound() {
    let fixed = |amount| CouponDiscount::Fixed {
        amount: usd(amount),
    };
    assert!(Coupon::decide(&Default::default(), &coupon(fixed(MAX_TOTAL), None)).is_ok());
    assert!(matches!(
        Coupon::decide(&Default::default(), &coupon(fixed(HUGE), None)),
        Err(CouponError::Invalid { .. })
    ));
    let tenth = CouponDiscount::Percent {
        basis_points: 1_000,
    };
    assert!(matches!(
        Coupon::decide(&Default::default(), &coupon(tenth, Some(HUGE))),
        Err(CouponError::Invalid { .. })
    ));
    assert!(matches!(
        Coupon::decide(&Default::default(), &coupon(tenth, Some(-1))),
        Err(CouponError::Invalid { .. })
    ));
}

fn charge(attempt: u32, amount: i64, outcome: ChargeOutcome) -> PaymentCommand {
    PaymentCommand::Charge {
        order_id: OrderId::new(Uuid::from_u128(9)),
        attempt,
        amount: usd(amount),
        method: "card".into(),
        provider: "test".into(),
        outcome,
        at: at(),
    }
}

fn captured(reference: &str) -> ChargeOutcome {
    ChargeOutcome::Captured {
        reference: reference.into(),
    }
}

fn declined() -> ChargeOutcome {
    ChargeOutcome::Declined {
        code: "card_declined".into(),
        message: "no".into(),
    }
}

#[test]
fn a_payment_is_bounded_and_a_raced_answer_is_recorded_once() {
    assert!(matches!(
        Payment::decide(&Default::default(), &charge(1, HUGE, captured("ch_1"))),
        Err(PaymentError::Money(_))
    ));
    // Given the capture of attempt 1...
    let s = given::<Payment>(&[charge(1, 500, captured("ch_1"))]);
    // ... the same answer for the same key, from a request that raced, adds nothing ...
    assert_eq!(
        Payment::decide(&s, &charge(1, 500, captured("ch_1"))),
        Ok(vec![])
    );
    // ... and another capture is refused.
    assert_eq!(
        Payment::decide(&s, &charge(2, 500, captured("ch_2"))),
        Err(PaymentError::AlreadyCaptured)
    );
    // Given the decline of attempt 1, its racing twin adds nothing; attempt 2 counts.
    let s = given::<Payment>(&[charge(1, 500, declined())]);
    assert_eq!(Payment::decide(&s, &charge(1, 500, declined())), Ok(vec![]));
    assert!(matches!(
        Payment::decide(&s, &charge(2, 500, declined())).unwrap()[..],
        [PaymentEvent::PaymentFailed { attempt: 2, .. }]
    ));
}
