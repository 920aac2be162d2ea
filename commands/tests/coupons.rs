//! The coupons' use cases and their limits against a real PostgreSQL store: a coupon
//! limited to 10 uses gives exactly 10 under 50 parallel checkouts through two processes'
//! handlers, with no order placed for a refused checkout; a customer's own limit; a coupon
//! that would take nothing off is refused and not used; a cancelled order gives its use
//! back, once.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use commands::cart::{self, CartUseCaseError, Shopper};
use commands::checkout::Checkout;
use commands::coupons::{self, CouponsError};
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::handlers::Handlers;
use commands::orders::Delivery;
use commands::store::postgres::PgEventStore;
use commands::store::{Direction, EventStore, ReadFrom};
use domain::catalog::{CreateProduct, Product, ProductCommand};
use domain::coupon::{Coupon, CouponDiscount, CouponScope, CouponTerms};
use domain::id::{CategoryId, ProductId};
use domain::money::{Currency, Money};
use domain::order::{CancellationReason, ChangedBy, Order, OrderCommand};
use domain::value::{Address, Sku, Slug};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
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

/// Data keys under a fixed master key, so two sets of handlers read each other's events.
fn handlers(pool: &PgPool) -> Arc<Handlers> {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let master = commands::privacy::MasterKey::from_bytes([7; 32]);
    let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
    Handlers::new(&store, keys, 1_000)
}

async fn product(handlers: &Handlers, sku: &str, price: i64, category: CategoryId) -> Uuid {
    let id = Uuid::new_v4();
    let create = CreateProduct {
        product_id: ProductId::new(id),
        sku: Sku::parse(sku).unwrap(),
        name: format!("product {sku}"),
        slug: Slug::from_name(&format!("product {}", id.simple())).unwrap(),
        description: None,
        category_id: category,
        price: Money::new(price, Currency::USD),
        attributes: Default::default(),
        seo: Default::default(),
        vendor_id: None,
        publish: true,
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

fn terms(code: &str) -> CouponTerms {
    CouponTerms {
        code: code.into(),
        discount: CouponDiscount::Percent {
            basis_points: 1_000,
        },
        valid_from: None,
        valid_until: None,
        max_uses: None,
        max_uses_per_customer: None,
        min_order: None,
        scope: CouponScope::default(),
    }
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

async fn uses(handlers: &Handlers, coupon: Uuid) -> u32 {
    let (s, _) = handlers
        .coupons
        .load(&CommandHandler::<Coupon>::stream_id(coupon))
        .await
        .unwrap();
    s.uses()
}

async fn orders_placed(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from store.events where event_type = 'OrderPlaced'")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A customer's cart holding `quantity` of each product, with `code` applied.
async fn cart_with(handlers: &Handlers, user: Uuid, products: &[(Uuid, u32)], code: &str) {
    let shopper = Shopper::Customer(user);
    for &(p, quantity) in products {
        cart::add_item(handlers, &shopper, p, None, quantity, meta(user))
            .await
            .unwrap();
    }
    cart::apply_coupon(handlers, &shopper, code, meta(user))
        .await
        .unwrap();
}

/// 50 customers check out at once with a coupon limited to 10 uses, through two sets of
/// handlers (two gateways): exactly 10 orders get the coupon, 40 checkouts are refused
/// with the limit named, and none of those places an order.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn fifty_parallel_checkouts_redeem_a_ten_use_coupon_exactly_ten_times(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    common::on_threads(options, connect, fifty_checkouts).await;
}

async fn fifty_checkouts(pool: PgPool) {
    let a = handlers(&pool);
    let b = handlers(&pool);
    let lamp = product(&a, "LAMP-1", 1_000, CategoryId::new(Uuid::new_v4())).await;
    let created = coupons::create_coupon(
        &a,
        CouponTerms {
            max_uses: Some(10),
            ..terms("TEN")
        },
        &meta(Uuid::nil()),
    )
    .await
    .unwrap();
    let customers: Vec<Uuid> = (0..50).map(|_| Uuid::new_v4()).collect();
    for &c in &customers {
        cart_with(&a, c, &[(lamp, 1)], "ten").await;
    }
    let tasks: Vec<_> = customers
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let h = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { cart::check_out(&h, c, delivery(), meta(c)).await })
        })
        .collect();
    let (mut placed, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(done) => {
                assert_eq!(done.order.totals.discount, Money::new(100, Currency::USD));
                placed += 1;
            }
            Err(CartUseCaseError::CouponRefused { field, message }) => {
                assert_eq!(field, "coupon");
                assert!(message.contains("10 times"), "{message}");
                refused += 1;
            }
            Err(other) => panic!("not a clear refusal: {other:?}"),
        }
    }
    assert_eq!((placed, refused), (10, 40));
    assert_eq!(uses(&a, created.coupon_id).await, 10);
    assert_eq!(
        orders_placed(&pool).await,
        10,
        "no order for a refused checkout"
    );
}

/// A coupon once per customer: the second checkout is refused and places nothing, while
/// another customer can still use it.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_customer_uses_a_coupon_no_more_than_their_limit(pool: PgPool) {
    let h = handlers(&pool);
    let lamp = product(&h, "LAMP-2", 1_000, CategoryId::new(Uuid::new_v4())).await;
    let created = coupons::create_coupon(
        &h,
        CouponTerms {
            max_uses_per_customer: Some(1),
            ..terms("ONCE")
        },
        &meta(Uuid::nil()),
    )
    .await
    .unwrap();
    let ann = Uuid::new_v4();
    cart_with(&h, ann, &[(lamp, 1)], "ONCE").await;
    cart::check_out(&h, ann, delivery(), meta(ann))
        .await
        .unwrap();
    cart_with(&h, ann, &[(lamp, 2)], "ONCE").await;
    let again = cart::check_out(&h, ann, delivery(), meta(ann)).await;
    assert!(
        matches!(&again, Err(CartUseCaseError::CouponRefused { message, .. }) if message.contains("this customer")),
        "{again:?}"
    );
    assert_eq!(orders_placed(&pool).await, 1);
    let bob = Uuid::new_v4();
    cart_with(&h, bob, &[(lamp, 1)], "ONCE").await;
    cart::check_out(&h, bob, delivery(), meta(bob))
        .await
        .unwrap();
    assert_eq!(uses(&h, created.coupon_id).await, 2);
}

/// A coupon scoped to one category (which must exist): the cart previews and the order takes its share of
/// that category's lines only; a cart with none of them is refused `CouponNotApplicable`
/// and the coupon is not used (Vendure #1466), nor is an order placed.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_scoped_coupon_discounts_its_lines_and_is_not_used_for_others(pool: PgPool) {
    let h = handlers(&pool);
    let shoes = CategoryId::new(Uuid::new_v4());
    let boot = product(&h, "BOOT-1", 3_000, shoes).await;
    let book = product(&h, "BOOK-1", 6_000, CategoryId::new(Uuid::new_v4())).await;
    // The category must exist for the scope to be accepted.
    let refused = coupons::create_coupon(
        &h,
        CouponTerms {
            scope: CouponScope {
                product_ids: vec![],
                category_ids: vec![shoes],
            },
            ..terms("SHOES")
        },
        &meta(Uuid::nil()),
    )
    .await;
    assert!(
        matches!(&refused, Err(CouponsError::Invalid { field, .. }) if field == "scope.category_ids[0]"),
        "{refused:?}"
    );
    commands::catalog::create_category(
        &h,
        commands::catalog::NewCategory {
            category_id: shoes,
            name: "Shoes".into(),
            slug: None,
            parent_id: None,
        },
        &meta(Uuid::nil()),
    )
    .await
    .unwrap();
    let created = coupons::create_coupon(
        &h,
        CouponTerms {
            scope: CouponScope {
                product_ids: vec![],
                category_ids: vec![shoes],
            },
            ..terms("SHOES")
        },
        &meta(Uuid::nil()),
    )
    .await
    .unwrap();

    let ann = Uuid::new_v4();
    let shopper = Shopper::Customer(ann);
    cart::add_item(&h, &shopper, book, None, 1, meta(ann))
        .await
        .unwrap();
    let preview = cart::apply_coupon(&h, &shopper, "SHOES", meta(ann))
        .await
        .unwrap();
    assert_eq!(preview.discount, Money::new(0, Currency::USD));
    let refused = cart::check_out(&h, ann, delivery(), meta(ann)).await;
    assert!(
        matches!(refused, Err(CartUseCaseError::CouponNotApplicable { .. })),
        "{refused:?}"
    );
    assert_eq!(uses(&h, created.coupon_id).await, 0);
    assert_eq!(orders_placed(&pool).await, 0);

    let with_boot = cart::add_item(&h, &shopper, boot, None, 1, meta(ann))
        .await
        .unwrap();
    assert_eq!(
        with_boot.cart.discount,
        Money::new(300, Currency::USD),
        "a tenth of the boot, not of the book"
    );
    let done = cart::check_out(&h, ann, delivery(), meta(ann))
        .await
        .unwrap();
    assert_eq!(done.order.totals.discount, Money::new(300, Currency::USD));
    assert_eq!(uses(&h, created.coupon_id).await, 1);
}

/// An order placed with a coupon and then cancelled gives the use back through the
/// checkout saga (Vendure #5278); handling the cancellation again gives nothing more back.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_cancelled_order_gives_its_coupon_use_back_once(pool: PgPool) {
    let h = handlers(&pool);
    let lamp = product(&h, "LAMP-3", 1_000, CategoryId::new(Uuid::new_v4())).await;
    let created = coupons::create_coupon(
        &h,
        CouponTerms {
            max_uses: Some(1),
            ..terms("SOLO")
        },
        &meta(Uuid::nil()),
    )
    .await
    .unwrap();
    let ann = Uuid::new_v4();
    cart_with(&h, ann, &[(lamp, 1)], "SOLO").await;
    let done = cart::check_out(&h, ann, delivery(), meta(ann))
        .await
        .unwrap();
    assert_eq!(uses(&h, created.coupon_id).await, 1);

    let order_stream = CommandHandler::<Order>::stream_id(done.order.order_id);
    h.orders
        .handle(
            &order_stream,
            OrderCommand::Cancel {
                reason: CancellationReason::Customer,
                note: None,
                by: ChangedBy::system(),
                at: Utc::now(),
            },
            meta(ann),
        )
        .await
        .unwrap();
    let events = h
        .store
        .read_stream(
            &order_stream,
            ReadFrom::Revision(0),
            Direction::Forwards,
            100,
        )
        .await
        .unwrap();
    let cancelled = events
        .iter()
        .find(|e| e.event_type == "OrderCancelled")
        .expect("the order was cancelled");
    let saga = Checkout::new(
        h.store.clone(),
        pool.clone(),
        CommandHandler::new(h.store.clone(), 10),
        CommandHandler::new(h.store.clone(), 10),
        Duration::from_secs(900),
    )
    .releasing_coupons(h.clone());
    saga.handle(cancelled).await.unwrap();
    assert_eq!(uses(&h, created.coupon_id).await, 0);
    let coupon_stream = CommandHandler::<Coupon>::stream_id(created.coupon_id);
    let before = h
        .store
        .read_stream(
            &coupon_stream,
            ReadFrom::Revision(0),
            Direction::Forwards,
            100,
        )
        .await
        .unwrap()
        .len();
    saga.handle(cancelled).await.unwrap();
    let after = h
        .store
        .read_stream(
            &coupon_stream,
            ReadFrom::Revision(0),
            Direction::Forwards,
            100,
        )
        .await
        .unwrap()
        .len();
    assert_eq!(before, after, "a repeat gives nothing back twice");

    // The use given back is usable by another customer.
    let bob = Uuid::new_v4();
    cart_with(&h, bob, &[(lamp, 1)], "SOLO").await;
    cart::check_out(&h, bob, delivery(), meta(bob))
        .await
        .unwrap();
}
