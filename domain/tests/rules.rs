//! Given / when / then for users, the catalog, carts and coupons, and the replay property
//! for each: folding `evolve` over the stored form of what `decide` produced rebuilds the
//! same state.

mod support;

use chrono::Duration;
use domain::aggregate::{Aggregate, DomainEvent};
use domain::cart::{Cart, CartCommand, CartLine};
use domain::catalog::{
    CatalogError, Product, ProductCommand, ProductRecord, ProductStatus, Seller, Variant,
};
use domain::coupon::{Coupon, CouponCommand, CouponDiscount, CouponError, CouponTerms};
use domain::id::{
    CartId, CartItemId, CategoryId, CouponId, CredentialId, OrderId, ProductId, UserId, VariantId,
};
use domain::money::{Currency, Money};
use domain::user::{Role, User, UserCommand, UserError, UserStatus};
use domain::value::{Quantity, Sku, Slug};
use proptest::prelude::*;
use support::*;
use uuid::Uuid;

/// Applies commands that must succeed; returns the state.
fn given<A: Aggregate>(commands: &[A::Command]) -> A::State
where
    A::Error: std::fmt::Debug,
{
    commands.iter().fold(A::State::default(), |s, c| {
        let events = A::decide(&s, c).expect("a given command succeeds");
        events.iter().fold(s, A::evolve)
    })
}

fn replays<A: Aggregate>(commands: &[A::Command]) -> bool
where
    A::State: PartialEq,
{
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
    let replayed = log.iter().fold(A::State::default(), |s, e| {
        let back = A::Event::from_data(e.event_type(), e.schema_version(), e.to_data()).unwrap();
        A::evolve(s, &back)
    });
    replayed == state
}

fn register() -> UserCommand {
    UserCommand::Register {
        user_id: UserId::new(Uuid::from_u128(1)),
        email: domain::value::Email::parse("ann@example.com").unwrap(),
        credential: CredentialId::new(Uuid::from_u128(7)),
        first_name: None,
        last_name: None,
        role: Role::Customer,
        at: at(),
    }
}

#[test]
fn a_user_is_pending_until_verified_and_suspension_stops_changes() {
    let s = given::<User>(&[register()]);
    let a = s.registered.as_ref().unwrap();
    assert_eq!((a.status, a.email_verified), (UserStatus::Pending, false));
    assert_eq!(
        User::decide(&s, &register()),
        Err(UserError::AlreadyRegistered)
    );

    let s = given::<User>(&[register(), UserCommand::VerifyEmail { at: at() }]);
    assert_eq!(s.registered.as_ref().unwrap().status, UserStatus::Active);
    // Verifying twice records nothing.
    assert!(User::decide(&s, &UserCommand::VerifyEmail { at: at() })
        .unwrap()
        .is_empty());

    let s = given::<User>(&[
        register(),
        UserCommand::Suspend {
            reason: "chargebacks".into(),
            at: at(),
        },
    ]);
    let change = UserCommand::ChangePassword {
        credential: CredentialId::new(Uuid::from_u128(8)),
        reset: false,
        at: at(),
    };
    assert_eq!(User::decide(&s, &change), Err(UserError::Suspended));
    let s = given::<User>(&[
        register(),
        UserCommand::Suspend {
            reason: "x".into(),
            at: at(),
        },
        UserCommand::Reactivate { at: at() },
    ]);
    assert_eq!(
        s.registered.unwrap().status,
        UserStatus::Pending,
        "back to where it was"
    );
}

fn create_product(publish: bool) -> ProductCommand {
    ProductCommand::Create(Box::new(domain::catalog::CreateProduct {
        product_id: ProductId::new(Uuid::from_u128(70)),
        sku: Sku::parse("SHOE-1").unwrap(),
        name: "  Red shoe ".into(),
        slug: domain::value::Slug::parse("red-shoe").unwrap(),
        description: None,
        category_id: domain::id::CategoryId::new(Uuid::from_u128(50)),
        price: usd(4999),
        attributes: serde_json::Map::new(),
        vendor_id: None,
        publish,
        seo: Default::default(),
        at: at(),
    }))
}

#[test]
fn products_publish_reprice_and_refuse_duplicate_variants() {
    let s = given::<Product>(&[create_product(false)]);
    let p = s.created.as_ref().unwrap();
    assert_eq!(
        (p.status, p.name.as_str()),
        (ProductStatus::Draft, "Red shoe")
    );
    let s = given::<Product>(&[create_product(true)]);
    assert_eq!(s.created.as_ref().unwrap().status, ProductStatus::Active);

    let eur = domain::money::Money::new(10, domain::money::Currency::parse("EUR").unwrap());
    assert!(matches!(
        Product::decide(
            &s,
            &ProductCommand::ChangePrice {
                price: eur,
                at: at()
            }
        ),
        Err(CatalogError::CurrencyChange(_))
    ));
    let same_sku = Variant {
        variant_id: VariantId::new(Uuid::new_v4()),
        sku: Sku::parse("SHOE-1").unwrap(),
        name: "size 41".into(),
        price: usd(4999),
        attributes: serde_json::Map::new(),
    };
    assert!(matches!(
        Product::decide(&s, &ProductCommand::AddVariant(same_sku)),
        Err(CatalogError::DuplicateVariant(_))
    ));
    let s = given::<Product>(&[create_product(true), ProductCommand::Archive { at: at() }]);
    assert_eq!(
        Product::decide(&s, &ProductCommand::Publish { at: at() }),
        Err(CatalogError::Archived)
    );
}

fn line(item: u128, product: u128, q: u32) -> CartLine {
    CartLine {
        item_id: CartItemId::new(Uuid::from_u128(item)),
        product_id: ProductId::new(Uuid::from_u128(product)),
        sku: Sku::parse(&format!("SKU-{product}")).unwrap(),
        quantity: Quantity::new(q).unwrap(),
        unit_price: usd(1000),
    }
}

#[test]
fn carts_add_up_lines_and_merge_a_guest_cart_once() {
    let s = given::<Cart>(&[
        CartCommand::AddItem {
            line: line(1, 10, 2),
            at: at(),
        },
        // The same product again adds to its line.
        CartCommand::AddItem {
            line: line(2, 10, 3),
            at: at(),
        },
        CartCommand::AddItem {
            line: line(3, 11, 1),
            at: at(),
        },
    ]);
    assert_eq!(s.lines.len(), 2);
    assert_eq!(s.subtotal().unwrap().amount, 6000);
    let merge = CartCommand::MergeGuestCart {
        guest_cart_id: CartId::new(Uuid::from_u128(99)),
        lines: vec![line(4, 11, 2), line(5, 12, 1)],
    };
    let s = [merge.clone()].iter().fold(s, |s, c| {
        Cart::decide(&s, c).unwrap().iter().fold(s, Cart::evolve)
    });
    assert_eq!(s.lines.len(), 3);
    assert_eq!(s.subtotal().unwrap().amount, 9000);
    assert!(
        Cart::decide(&s, &merge).unwrap().is_empty(),
        "a guest cart merges once"
    );
    let s = [CartCommand::CheckOut {
        order_id: OrderId::new(Uuid::new_v4()),
        at: at(),
    }]
    .iter()
    .fold(s, |s, c| {
        Cart::decide(&s, c).unwrap().iter().fold(s, Cart::evolve)
    });
    assert!(s.lines.is_empty());
}

fn coupon(discount: CouponDiscount) -> CouponCommand {
    CouponCommand::Create {
        coupon_id: CouponId::new(Uuid::from_u128(1)),
        terms: CouponTerms {
            code: "save10".into(),
            discount,
            valid_from: Some(at()),
            valid_until: Some(at() + Duration::days(7)),
            max_uses: Some(2),
            max_uses_per_customer: Some(1),
            min_order: Some(usd(2000)),
        },
    }
}

fn redeem(customer: u128, order: u128, subtotal: i64, days: i64) -> CouponCommand {
    CouponCommand::Redeem {
        customer: UserId::new(Uuid::from_u128(customer)),
        order_id: OrderId::new(Uuid::from_u128(order)),
        subtotal: usd(subtotal),
        at: at() + Duration::days(days),
    }
}

#[test]
fn coupons_keep_their_window_limits_and_minimum() {
    let c = coupon(CouponDiscount::Percent { basis_points: 1000 });
    let s = given::<Coupon>(std::slice::from_ref(&c));
    assert_eq!(s.terms.as_ref().unwrap().code, "SAVE10");
    assert!(matches!(
        Coupon::decide(&s, &redeem(1, 1, 5000, -1)),
        Err(CouponError::NotYetValid(_))
    ));
    assert!(matches!(
        Coupon::decide(&s, &redeem(1, 1, 5000, 7)),
        Err(CouponError::Expired(_))
    ));
    assert!(matches!(
        Coupon::decide(&s, &redeem(1, 1, 1999, 1)),
        Err(CouponError::BelowMinimumOrder(_))
    ));
    match Coupon::decide(&s, &redeem(1, 1, 5000, 1))
        .unwrap()
        .as_slice()
    {
        [domain::coupon::CouponEvent::CouponRedeemed { discount, .. }] => {
            assert_eq!(discount.amount, 500)
        }
        other => panic!("{other:?}"),
    }
    let s = given::<Coupon>(&[c.clone(), redeem(1, 1, 5000, 1)]);
    assert!(matches!(
        Coupon::decide(&s, &redeem(1, 2, 5000, 1)),
        Err(CouponError::CustomerLimitReached(1))
    ));
    let s = given::<Coupon>(&[c.clone(), redeem(1, 1, 5000, 1), redeem(2, 2, 5000, 1)]);
    assert!(matches!(
        Coupon::decide(&s, &redeem(3, 3, 5000, 1)),
        Err(CouponError::UsageLimitReached(2))
    ));
    // A cancelled order gives its use back.
    let s = given::<Coupon>(&[
        c,
        redeem(1, 1, 5000, 1),
        redeem(2, 2, 5000, 1),
        CouponCommand::ReleaseRedemption {
            order_id: OrderId::new(Uuid::from_u128(2)),
        },
    ]);
    assert!(Coupon::decide(&s, &redeem(3, 3, 5000, 1)).is_ok());

    // A fixed discount never exceeds the subtotal.
    let s = given::<Coupon>(&[CouponCommand::Create {
        coupon_id: CouponId::new(Uuid::from_u128(2)),
        terms: CouponTerms {
            code: "BIG".into(),
            discount: CouponDiscount::Fixed {
                amount: usd(10_000),
            },
            valid_from: None,
            valid_until: None,
            max_uses: None,
            max_uses_per_customer: None,
            min_order: None,
        },
    }]);
    match Coupon::decide(&s, &redeem(1, 1, 2500, 0))
        .unwrap()
        .as_slice()
    {
        [domain::coupon::CouponEvent::CouponRedeemed { discount, .. }] => {
            assert_eq!(discount.amount, 2500)
        }
        other => panic!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn users_replay(c in prop::collection::vec(user_command(), 0..40)) {
        prop_assert!(replays::<User>(&c));
    }

    #[test]
    fn products_replay(c in prop::collection::vec(product_command(), 0..40)) {
        prop_assert!(replays::<Product>(&c));
    }

    #[test]
    fn categories_replay(c in prop::collection::vec(category_command(), 0..10)) {
        prop_assert!(replays::<domain::catalog::Category>(&c));
    }

    #[test]
    fn carts_replay(c in prop::collection::vec(cart_command(), 0..40)) {
        prop_assert!(replays::<Cart>(&c));
    }

    /// Whatever is redeemed and released, uses never pass the limits.
    #[test]
    fn coupons_replay_and_keep_limits(c in prop::collection::vec(coupon_command(), 0..40)) {
        prop_assert!(replays::<Coupon>(&c));
        let mut s = domain::coupon::CouponState::default();
        for cmd in &c {
            if let Ok(events) = Coupon::decide(&s, cmd) {
                s = events.iter().fold(s, Coupon::evolve);
            }
            prop_assert!(s.redemptions.len() <= 4);
            let mut per: std::collections::HashMap<_, usize> = Default::default();
            for customer in s.redemptions.values() {
                *per.entry(customer).or_default() += 1;
            }
            prop_assert!(per.values().all(|&n| n <= 2));
        }
    }
}

/// Only staff and the vendor who sells a product may change it; staff's products go
/// on sale at once, a vendor's wait as drafts.
#[test]
fn a_vendor_changes_only_their_own_products() {
    let [ann, bob] = [10, 11].map(|n| UserId::new(Uuid::from_u128(n)));
    let owned_by = |vendor_id| ProductRecord {
        product_id: ProductId::new(Uuid::from_u128(1)),
        sku: Sku::parse("SKU-1").unwrap(),
        name: "Lamp".into(),
        slug: Slug::parse("lamp").unwrap(),
        description: None,
        category_id: CategoryId::new(Uuid::from_u128(2)),
        price: Money::new(100, Currency::USD),
        attributes: serde_json::Map::new(),
        vendor_id,
        status: ProductStatus::Draft,
        variants: vec![],
        images: vec![],
        seo: Default::default(),
        old_slugs: vec![],
    };
    let anns = owned_by(Some(ann));
    assert!(Seller::Staff.may_change(&anns) && Seller::Vendor(ann).may_change(&anns));
    assert!(!Seller::Vendor(bob).may_change(&anns));
    assert!(!Seller::Vendor(ann).may_change(&owned_by(None)));
    assert!(Seller::Staff.publishes() && !Seller::Vendor(ann).publishes());
    assert_eq!(
        (Seller::Staff.vendor(), Seller::Vendor(ann).vendor()),
        (None, Some(ann))
    );
}
