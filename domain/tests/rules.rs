//! Given / when / then for users, the catalog, carts and coupons, and the replay property
//! for each: folding `evolve` over the stored form of what `decide` produced rebuilds the
//! same state.

mod support;

use chrono::Duration;
use domain::aggregate::{Aggregate, DomainEvent};
use domain::cart::{Cart, CartCommand, CartError, CartLine, CartState};
use domain::catalog::{
    CatalogError, Product, ProductCommand, ProductRecord, ProductStatus, Seller, Variant,
};
use domain::coupon::{
    Coupon, CouponCommand, CouponDiscount, CouponError, CouponLine, CouponScope, CouponTerms,
};
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
        variant_id: None,
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

/// Given the cart `s`, `command` is decided and its events applied.
fn then_cart(s: domain::cart::CartState, command: CartCommand) -> domain::cart::CartState {
    Cart::decide(&s, &command)
        .unwrap()
        .iter()
        .fold(s, Cart::evolve)
}

#[test]
fn saved_lines_leave_the_subtotal_and_checkout_and_come_back() {
    let s = given::<Cart>(&[
        CartCommand::AddItem {
            line: line(1, 10, 2),
            at: at(),
        },
        CartCommand::AddItem {
            line: line(2, 11, 1),
            at: at(),
        },
    ]);
    let item = CartItemId::new(Uuid::from_u128(1));
    let s = then_cart(s, CartCommand::SaveForLater { item_id: item });
    assert_eq!((s.lines.len(), s.saved.len()), (1, 1));
    assert_eq!(
        s.subtotal().unwrap().amount,
        1000,
        "a saved line counts in no total"
    );
    assert_eq!(
        Cart::decide(&s, &CartCommand::SaveForLater { item_id: item }),
        Err(CartError::UnknownItem(item)),
        "it is no longer in the cart"
    );
    let checked_out = then_cart(
        s.clone(),
        CartCommand::CheckOut {
            order_id: OrderId::new(Uuid::new_v4()),
            at: at(),
        },
    );
    assert_eq!(checked_out.saved.len(), 1, "checkout leaves saved lines");
    let s = then_cart(s, CartCommand::MoveToCart { item_id: item });
    assert_eq!((s.lines.len(), s.saved.len()), (2, 0));
    assert_eq!(s.subtotal().unwrap().amount, 3000);
    assert_eq!(
        Cart::decide(&s, &CartCommand::RemoveSaved { item_id: item }),
        Err(CartError::UnknownSavedItem(item))
    );
}

#[test]
fn a_share_holds_a_hash_and_a_copy_respects_the_line_limit() {
    let empty = CartState::default();
    let hash = "ab".repeat(32);
    assert_eq!(
        Cart::decide(
            &empty,
            &CartCommand::Share {
                token_hash: hash.clone(),
                at: at()
            }
        ),
        Err(CartError::Empty)
    );
    let s = given::<Cart>(&[CartCommand::AddItem {
        line: line(1, 10, 1),
        at: at(),
    }]);
    assert!(matches!(
        Cart::decide(
            &s,
            &CartCommand::Share {
                token_hash: "the token itself".into(),
                at: at()
            }
        ),
        Err(CartError::Invalid(_))
    ));
    let s = then_cart(
        s,
        CartCommand::Share {
            token_hash: hash.clone(),
            at: at(),
        },
    );
    assert_eq!(s.share.as_deref(), Some(hash.as_str()));
    let s = then_cart(s, CartCommand::RevokeShare);
    assert_eq!(s.share, None);

    let mut full = CartState::default();
    for n in 0..domain::cart::MAX_LINES as u128 - 1 {
        full = then_cart(
            full,
            CartCommand::AddItem {
                line: line(1_000 + n, 1_000 + n, 1),
                at: at(),
            },
        );
    }
    let copy = |lines| CartCommand::CopyLines {
        source_cart_id: CartId::new(Uuid::from_u128(7)),
        lines,
    };
    assert_eq!(
        Cart::decide(&full, &copy(vec![line(1, 10, 1), line(2, 11, 1)])),
        Err(CartError::TooManyLines)
    );
    // A product already in the cart adds to its line, so it takes no new one.
    let s = then_cart(full, copy(vec![line(1, 10, 1), line(2, 1_000, 4)]));
    assert_eq!(s.lines.len(), domain::cart::MAX_LINES);
    assert_eq!(
        s.lines[&CartItemId::new(Uuid::from_u128(1_000))]
            .quantity
            .get(),
        5
    );
}

#[test]
fn an_idle_cart_expires_only_as_the_sweeper_saw_it() {
    let s = given::<Cart>(&[CartCommand::AddItem {
        line: line(1, 10, 1),
        at: at(),
    }]);
    assert_eq!(s.changes, 1);
    let stale = CartCommand::ExpireIdle {
        at: at(),
        seen_changes: 0,
    };
    assert!(
        Cart::decide(&s, &stale).unwrap().is_empty(),
        "changed since"
    );
    let s = then_cart(
        s,
        CartCommand::ExpireIdle {
            at: at(),
            seen_changes: 1,
        },
    );
    assert!(s.is_blank());
    let again = CartCommand::ExpireIdle {
        at: at(),
        seen_changes: s.changes,
    };
    assert!(
        Cart::decide(&s, &again).unwrap().is_empty(),
        "nothing left to expire"
    );
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
            scope: Default::default(),
        },
    }
}

fn redeem(customer: u128, order: u128, subtotal: i64, days: i64) -> CouponCommand {
    CouponCommand::Redeem {
        customer: UserId::new(Uuid::from_u128(customer)),
        order_id: OrderId::new(Uuid::from_u128(order)),
        lines: vec![CouponLine {
            product_id: ProductId::new(Uuid::from_u128(77)),
            category_id: None,
            subtotal: usd(subtotal),
        }],
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
            scope: Default::default(),
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

    /// Whatever is redeemed, released and updated, a redemption never takes the uses past
    /// the limits the coupon has when it is redeemed (an update may lower a limit below
    /// the uses already counted; those stand).
    #[test]
    fn coupons_replay_and_keep_limits(c in prop::collection::vec(coupon_command(), 0..40)) {
        prop_assert!(replays::<Coupon>(&c));
        let mut s = domain::coupon::CouponState::default();
        for cmd in &c {
            let Ok(events) = Coupon::decide(&s, cmd) else { continue };
            s = events.iter().fold(s, Coupon::evolve);
            let redeemed = events.iter().find_map(|e| match e {
                domain::coupon::CouponEvent::CouponRedeemed { customer, .. } => Some(*customer),
                _ => None,
            });
            let (Some(customer), Some(terms)) = (redeemed, s.terms.as_ref()) else { continue };
            if let Some(max) = terms.max_uses {
                prop_assert!(s.redemptions.len() <= max as usize);
            }
            if let Some(max) = terms.max_uses_per_customer {
                let used = s.redemptions.values().filter(|c| **c == customer).count();
                prop_assert!(used <= max as usize);
            }
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

fn scoped(terms: CouponTerms, scope: CouponScope) -> CouponTerms {
    CouponTerms { scope, ..terms }
}

fn terms_of(c: &CouponCommand) -> CouponTerms {
    match c {
        CouponCommand::Create { terms, .. } => terms.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_scoped_coupon_discounts_only_its_lines_and_is_not_used_when_none_match() {
    let shoes = domain::id::CategoryId::new(Uuid::from_u128(40));
    let hat = ProductId::new(Uuid::from_u128(41));
    let base = terms_of(&coupon(CouponDiscount::Percent { basis_points: 1000 }));
    let create = CouponCommand::Create {
        coupon_id: CouponId::new(Uuid::from_u128(3)),
        terms: scoped(
            base,
            CouponScope {
                product_ids: vec![hat],
                category_ids: vec![shoes],
            },
        ),
    };
    let s = given::<Coupon>(&[create]);
    let line = |product: u128, category: Option<domain::id::CategoryId>, amount| CouponLine {
        product_id: ProductId::new(Uuid::from_u128(product)),
        category_id: category,
        subtotal: usd(amount),
    };
    let redeem = |lines| CouponCommand::Redeem {
        customer: UserId::new(Uuid::from_u128(1)),
        order_id: OrderId::new(Uuid::from_u128(1)),
        lines,
        at: at() + Duration::days(1),
    };
    // Given a 10% coupon on shoes and the hat, when an order holds shoes (3,000), the hat
    // (1,000) and a book (6,000), then it takes 400 off: a tenth of the lines in scope.
    let order = redeem(vec![
        line(50, Some(shoes), 3000),
        line(41, None, 1000),
        line(60, None, 6000),
    ]);
    match Coupon::decide(&s, &order).unwrap().as_slice() {
        [domain::coupon::CouponEvent::CouponRedeemed { discount, .. }] => {
            assert_eq!(*discount, usd(400))
        }
        other => panic!("{other:?}"),
    }
    // When no line is in scope, the coupon is refused and not used.
    assert!(matches!(
        Coupon::decide(&s, &redeem(vec![line(60, None, 6000)])),
        Err(CouponError::NotApplicable(_))
    ));
    // The minimum is on the whole order, not on the lines in scope.
    assert!(matches!(
        Coupon::decide(&s, &redeem(vec![line(41, None, 1000)])),
        Err(CouponError::BelowMinimumOrder(_))
    ));
}

#[test]
fn a_coupons_terms_change_but_not_its_code_and_it_can_be_reactivated() {
    let c = coupon(CouponDiscount::Percent { basis_points: 1000 });
    let s = given::<Coupon>(std::slice::from_ref(&c));
    let mut new = terms_of(&c);
    new.code = "OTHER".into();
    new.discount = CouponDiscount::Percent { basis_points: 2000 };
    new.valid_until = None;
    let events = Coupon::decide(&s, &CouponCommand::Update { terms: new.clone() }).unwrap();
    let s = events.iter().fold(s, Coupon::evolve);
    let t = s.terms.as_ref().unwrap();
    assert_eq!(t.code, "SAVE10", "the code stays");
    assert_eq!(t.discount, CouponDiscount::Percent { basis_points: 2000 });
    // The same terms again change nothing.
    assert!(
        Coupon::decide(&s, &CouponCommand::Update { terms: new.clone() })
            .unwrap()
            .is_empty()
    );
    // Bad terms are refused by the field that carries them.
    let mut bad = new.clone();
    bad.discount = CouponDiscount::Percent {
        basis_points: 10_001,
    };
    assert!(matches!(
        Coupon::decide(&s, &CouponCommand::Update { terms: bad }),
        Err(CouponError::Invalid {
            field: "discount.basis_points",
            ..
        })
    ));
    let mut backwards = new;
    backwards.valid_until = Some(at() - Duration::days(1));
    assert!(matches!(
        Coupon::decide(&s, &CouponCommand::Update { terms: backwards }),
        Err(CouponError::Invalid {
            field: "valid_until",
            ..
        })
    ));
    let s = given::<Coupon>(&[c, CouponCommand::Deactivate]);
    assert!(!s.active);
    let events = Coupon::decide(&s, &CouponCommand::Reactivate).unwrap();
    assert!(events.iter().fold(s, Coupon::evolve).active);
}

#[test]
fn coupon_created_v1_without_a_scope_reads_as_a_coupon_for_everything() {
    let old = serde_json::json!({
        "coupon_id": Uuid::from_u128(9),
        "terms": {
            "code": "OLD", "discount": {"kind": "percent", "basis_points": 500},
            "valid_from": null, "valid_until": null, "max_uses": null,
            "max_uses_per_customer": null, "min_order": null
        }
    });
    match domain::coupon::CouponEvent::from_data("CouponCreated", 1, old).unwrap() {
        domain::coupon::CouponEvent::CouponCreated { terms, .. } => {
            assert!(terms.scope.is_everything())
        }
        other => panic!("{other:?}"),
    }
}
