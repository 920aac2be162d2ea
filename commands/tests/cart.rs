//! The cart's use cases against a real PostgreSQL store: checkout places the order with
//! the coupon's discount and empties the cart, and releases the coupon's redemption when
//! the order cannot be placed (its compensation).

use std::sync::Arc;

use chrono::Utc;
use commands::cart::{self, CartUseCaseError, Shopper, COUPON_CODE_KIND};
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::handlers::Handlers;
use commands::orders::{Delivery, OrdersError};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::catalog::{CreateProduct, Product, ProductCommand};
use domain::coupon::{Coupon, CouponCommand, CouponDiscount, CouponTerms};
use domain::id::{CategoryId, CouponId, ProductId};
use domain::money::{Currency, Money};
use domain::order::OrderError;
use domain::value::{Address, Sku, Slug};
use sqlx::PgPool;
use uuid::Uuid;

fn meta(user: Uuid) -> CommandMeta {
    CommandMeta::new(
        Uuid::new_v4(),
        Uuid::new_v4(),
        Actor {
            user_id: Some(user),
            role: "customer".into(),
        },
        Utc::now(),
    )
}

fn shop(pool: PgPool) -> Arc<Handlers> {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    Handlers::new(&store, test_keys(&pool), 100)
}

async fn product(handlers: &Handlers, sku: &str, price: i64) -> Uuid {
    let id = Uuid::new_v4();
    let create = CreateProduct {
        product_id: ProductId::new(id),
        sku: Sku::parse(sku).unwrap(),
        name: format!("product {sku}"),
        slug: Slug::from_name(&format!("product {}", id.simple())).unwrap(),
        description: None,
        category_id: CategoryId::new(Uuid::new_v4()),
        price: Money::new(price, Currency::USD),
        attributes: Default::default(),
        vendor_id: None,
        publish: true,
        seo: Default::default(),
        at: Utc::now(),
    };
    handlers
        .products
        .handle(
            &CommandHandler::<Product>::stream_id(id),
            ProductCommand::Create(Box::new(create)),
            meta(Uuid::nil()),
        )
        .await
        .unwrap();
    id
}

/// A 10% coupon, once per customer.
async fn coupon(handlers: &Handlers, code: &str) -> Uuid {
    let id = Uuid::new_v4();
    let m = meta(Uuid::nil());
    commands::unique::claim(handlers, COUPON_CODE_KIND, code, id, &m)
        .await
        .unwrap();
    let terms = CouponTerms {
        code: code.into(),
        discount: CouponDiscount::Percent {
            basis_points: 1_000,
        },
        valid_from: None,
        valid_until: None,
        max_uses: None,
        max_uses_per_customer: Some(1),
        min_order: None,
        scope: Default::default(),
    };
    handlers
        .coupons
        .handle(
            &CommandHandler::<Coupon>::stream_id(id),
            CouponCommand::Create {
                coupon_id: CouponId::new(id),
                terms,
            },
            m,
        )
        .await
        .unwrap();
    id
}

fn delivery() -> Delivery {
    Delivery {
        shipping_address: serde_json::from_value::<Address>(serde_json::json!({
            "name": null, "line1": "1 Main St", "line2": null, "city": "Springfield",
            "region": null, "postal_code": "12345", "country": "US"
        }))
        .unwrap(),
        billing_address: None,
        payment_method: "card".into(),
        notes: None,
        shipping_method: None,
    }
}

async fn redemptions(handlers: &Handlers, coupon: Uuid) -> usize {
    let (s, _) = handlers
        .coupons
        .load(&CommandHandler::<Coupon>::stream_id(coupon))
        .await
        .unwrap();
    s.redemptions.len()
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn checkout_places_the_order_with_the_coupons_discount_and_empties_the_cart(pool: PgPool) {
    let handlers = shop(pool);
    let user = Uuid::new_v4();
    let shopper = Shopper::Customer(user);
    let lamp = product(&handlers, "LAMP-1", 10_000).await;
    let coupon_id = coupon(&handlers, "TENOFF").await;
    cart::add_item(&handlers, &shopper, lamp, None, 2, meta(user))
        .await
        .unwrap();
    let with_coupon = cart::apply_coupon(&handlers, &shopper, " tenoff ", meta(user))
        .await
        .unwrap();
    // The preview the answer shows is the discount checkout will redeem.
    assert_eq!(with_coupon.discount, Money::new(2_000, Currency::USD));

    let done = cart::check_out(&handlers, user, delivery(), meta(user))
        .await
        .unwrap();
    assert_eq!(done.order.totals.discount, Money::new(2_000, Currency::USD));
    assert_eq!(done.order.totals.total, Money::new(18_000, Currency::USD));
    assert!(done.position.is_some());
    assert_eq!(redemptions(&handlers, coupon_id).await, 1);
    let (cart_after, _) = handlers
        .carts
        .load(&CommandHandler::<domain::cart::Cart>::stream_id(user))
        .await
        .unwrap();
    assert!(cart_after.lines.is_empty());
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn checkout_releases_the_coupon_when_the_order_cannot_be_placed(pool: PgPool) {
    let handlers = shop(pool);
    let user = Uuid::new_v4();
    let shopper = Shopper::Customer(user);
    // Two products under one SKU (the write side's SKU claim bypassed): the cart takes
    // both, the order refuses a SKU twice, after the coupon was redeemed.
    let a = product(&handlers, "TWIN-1", 1_000).await;
    let b = product(&handlers, "TWIN-1", 1_500).await;
    let coupon_id = coupon(&handlers, "TWINS").await;
    for p in [a, b] {
        cart::add_item(&handlers, &shopper, p, None, 1, meta(user))
            .await
            .unwrap();
    }
    cart::apply_coupon(&handlers, &shopper, "TWINS", meta(user))
        .await
        .unwrap();

    let refused = cart::check_out(&handlers, user, delivery(), meta(user)).await;
    assert!(
        matches!(
            refused,
            Err(CartUseCaseError::Order(OrdersError::Rejected(
                OrderError::InvalidLine { .. }
            )))
        ),
        "{refused:?}"
    );
    // The compensation: the coupon's use does not count, so the customer can still use it.
    assert_eq!(redemptions(&handlers, coupon_id).await, 0);
    let (kept, _) = handlers
        .carts
        .load(&CommandHandler::<domain::cart::Cart>::stream_id(user))
        .await
        .unwrap();
    assert_eq!(kept.lines.len(), 2, "the cart keeps its lines");
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_guest_without_a_cart_has_nothing_to_change(pool: PgPool) {
    let handlers = shop(pool);
    let guest = Shopper::Guest(None);
    let refused = cart::remove_coupon(&handlers, &guest, meta(Uuid::nil())).await;
    assert!(matches!(refused, Err(CartUseCaseError::NoCart)));
    // A bad quantity is answered before the missing cart, as the API always did.
    let refused =
        cart::change_quantity(&handlers, &guest, Uuid::new_v4(), 0, meta(Uuid::nil())).await;
    assert!(
        matches!(refused, Err(CartUseCaseError::Invalid { ref field, .. }) if field == "quantity")
    );
}

/// Data keys under a fixed master key: these tests read what they wrote through the same
/// handlers, which open it.
fn test_keys(pool: &PgPool) -> Arc<commands::privacy::DataKeys> {
    let master = commands::privacy::MasterKey::from_bytes([7; 32]);
    Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None))
}
