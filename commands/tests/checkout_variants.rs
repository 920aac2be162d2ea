//! Variants bought and orders taxed (issue 21 items 2 and 7, ADR 0006), through the use
//! cases against a real PostgreSQL store: a variant's line takes its price and SKU and the
//! saga reserves that SKU's stock; a variant the product does not have (or none for a
//! product sold as variants) is refused with nothing written; the tax table's rate for the
//! shipping address is recorded on each line, and the totals are their fold.
//!
//! (Beside `checkout.rs`, which holds the saga's concurrency tests and is long already.)

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use commands::cart::{self, CartUseCaseError, Shopper};
use commands::checkout::Checkout;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::handlers::Handlers;
use commands::orders::{self, Caller, Delivery, OrdersError, PlaceOrderInput, RequestedItem};
use commands::store::postgres::PgEventStore;
use commands::store::{Direction, EventStore, ReadFrom};
use domain::catalog::{CreateProduct, Product, ProductCommand, Variant, VariantRefusal};
use domain::id::{CategoryId, ProductId, VariantId};
use domain::inventory::{Inventory, InventoryCommand, InventoryEvent};
use domain::money::{Currency, Money};
use domain::order::{fold, Order, OrderEvent, OrderStatus};
use domain::tax::TaxZone;
use domain::user::Role;
use domain::value::{Address, Sku, Slug};
use domain::DomainEvent;
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

fn handlers(pool: &PgPool) -> Arc<Handlers> {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let master = commands::privacy::MasterKey::from_bytes([7; 32]);
    let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
    Handlers::new(&store, keys, 1_000)
}

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

/// A product on sale with `variants` (SKU, price); none: sold as itself.
async fn product(
    h: &Handlers,
    sku: &str,
    price: i64,
    variants: &[(&str, i64)],
) -> (Uuid, Vec<Uuid>) {
    let id = Uuid::new_v4();
    let create = CreateProduct {
        product_id: ProductId::new(id),
        sku: Sku::parse(sku).unwrap(),
        name: format!("product {sku}"),
        slug: Slug::from_name(&format!("product {}", id.simple())).unwrap(),
        description: None,
        category_id: CategoryId::new(Uuid::new_v4()),
        price: usd(price),
        attributes: Default::default(),
        seo: Default::default(),
        vendor_id: None,
        publish: true,
        at: Utc::now(),
    };
    let stream = CommandHandler::<Product>::stream_id(id);
    h.products
        .handle(
            &stream,
            ProductCommand::Create(Box::new(create)),
            meta(Uuid::nil()),
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (sku, price) in variants {
        let variant_id = Uuid::new_v4();
        let v = Variant {
            variant_id: VariantId::new(variant_id),
            sku: Sku::parse(sku).unwrap(),
            name: format!("variant {sku}"),
            price: usd(*price),
            attributes: Default::default(),
        };
        h.products
            .handle(&stream, ProductCommand::AddVariant(v), meta(Uuid::nil()))
            .await
            .unwrap();
        ids.push(variant_id);
    }
    (id, ids)
}

async fn receive(h: &Handlers, sku: &str, quantity: u32) {
    let sku = Sku::parse(sku).unwrap();
    h.inventory
        .handle(
            &CommandHandler::<Inventory>::stream_id(&sku),
            InventoryCommand::ReceiveStock {
                sku: sku.clone(),
                warehouse: "main".into(),
                quantity,
            },
            meta(Uuid::nil()),
        )
        .await
        .unwrap();
}

fn address(country: &str, region: Option<&str>) -> Address {
    serde_json::from_value(serde_json::json!({
        "line1": "1 Main St", "city": "New York", "postal_code": "10001",
        "country": country, "region": region
    }))
    .unwrap()
}

fn input(items: &[(Uuid, Option<Uuid>, u32)], to: Address) -> PlaceOrderInput {
    PlaceOrderInput {
        items: items
            .iter()
            .map(|&(product_id, variant_id, quantity)| RequestedItem {
                product_id,
                variant_id,
                quantity,
            })
            .collect(),
        delivery: Delivery {
            shipping_address: to,
            billing_address: None,
            payment_method: "card".into(),
            notes: None,
            shipping_method: None,
        },
    }
}

fn customer(user: Uuid) -> Caller {
    Caller {
        user_id: user,
        role: Role::Customer,
    }
}

async fn count(pool: &PgPool, event_type: &str) -> i64 {
    sqlx::query_scalar("select count(*) from store.events where event_type = $1")
        .bind(event_type)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn stream(h: &Handlers, stream: &str) -> Vec<commands::store::RecordedEvent> {
    h.store
        .read_stream(stream, ReadFrom::Revision(0), Direction::Forwards, 1_000)
        .await
        .unwrap()
}

/// A line naming a variant takes the variant's price and SKU, and the saga reserves the
/// variant's stock under its SKU: the other variant's and the product's own stay untouched.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_variant_is_reserved_by_its_own_sku(pool: PgPool) {
    let h = handlers(&pool);
    let (tee, variants) = product(&h, "TEE", 1_000, &[("TEE-S", 1_500), ("TEE-L", 1_700)]).await;
    receive(&h, "TEE-L", 5).await;
    receive(&h, "TEE-S", 5).await;
    let user = Uuid::new_v4();
    let placed = orders::place_order(
        &h,
        &customer(user),
        input(&[(tee, Some(variants[1]), 2)], address("US", None)),
        meta(user),
    )
    .await
    .unwrap();
    let line = &placed.order.lines[0];
    assert_eq!(line.variant_id, Some(VariantId::new(variants[1])));
    assert_eq!(line.sku.as_str(), "TEE-L");
    assert_eq!(line.unit_price, usd(1_700));
    assert_eq!(placed.order.totals.total, usd(3_400));

    let order_stream = CommandHandler::<Order>::stream_id(placed.order.order_id);
    let events = stream(&h, &order_stream).await;
    let saga = Checkout::new(
        h.store.clone(),
        pool.clone(),
        CommandHandler::new(h.store.clone(), 10),
        CommandHandler::new(h.store.clone(), 10),
        Duration::from_secs(900),
    );
    saga.handle(&events[0]).await.unwrap();

    let (order, _) = h.orders.load(&order_stream).await.unwrap();
    assert_eq!(order.placed.unwrap().status, OrderStatus::AwaitingPayment);
    let reserved = |events: Vec<commands::store::RecordedEvent>| {
        events
            .iter()
            .filter_map(|e| {
                InventoryEvent::from_data(&e.event_type, e.schema_version, e.data.clone()).ok()
            })
            .filter_map(|e| match e {
                InventoryEvent::StockReserved { quantity, .. } => Some(quantity),
                _ => None,
            })
            .sum::<u32>()
    };
    let of = |sku: &str| CommandHandler::<Inventory>::stream_id(Sku::parse(sku).unwrap());
    assert_eq!(reserved(stream(&h, &of("TEE-L")).await), 2);
    assert_eq!(reserved(stream(&h, &of("TEE-S")).await), 0);
    assert!(stream(&h, &of("TEE")).await.is_empty());
}

/// A variant the product does not have (a random one, or another product's), no variant
/// for a product sold as variants, and a variant for a product without: each is refused
/// naming the item, and no order (and no cart line) is written.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn an_unknown_variant_is_refused_and_nothing_is_written(pool: PgPool) {
    let h = handlers(&pool);
    let (tee, _) = product(&h, "TEE", 1_000, &[("TEE-S", 1_500)]).await;
    let (_, others) = product(&h, "CAP", 900, &[("CAP-1", 900)]).await;
    let (mug, _) = product(&h, "MUG", 800, &[]).await;
    let user = Uuid::new_v4();
    let cases = [
        (
            vec![(mug, None, 1), (tee, Some(Uuid::new_v4()), 1)],
            "items[1].variant_id",
            VariantRefusal::Unknown,
        ),
        (
            vec![(tee, Some(others[0]), 1)],
            "items[0].variant_id",
            VariantRefusal::Unknown,
        ),
        (
            vec![(tee, None, 1)],
            "items[0].variant_id",
            VariantRefusal::Required,
        ),
        (
            vec![(mug, Some(others[0]), 1)],
            "items[0].variant_id",
            VariantRefusal::NoVariants,
        ),
    ];
    for (items, field, refusal) in cases {
        let refused = orders::place_order(
            &h,
            &customer(user),
            input(&items, address("US", None)),
            meta(user),
        )
        .await
        .unwrap_err();
        match refused {
            OrdersError::Variant {
                field: f,
                refusal: r,
            } => {
                assert_eq!((f.as_str(), r), (field, refusal));
            }
            other => panic!("{field}: expected {refusal:?}, got {other:?}"),
        }
    }
    assert_eq!(count(&pool, "OrderPlaced").await, 0);

    let shopper = Shopper::Customer(user);
    for (product, variant, refusal) in [
        (tee, Some(Uuid::new_v4()), VariantRefusal::Unknown),
        (tee, Some(others[0]), VariantRefusal::Unknown),
        (tee, None, VariantRefusal::Required),
        (mug, Some(others[0]), VariantRefusal::NoVariants),
    ] {
        match cart::add_item(&h, &shopper, product, variant, 1, meta(user)).await {
            Err(CartUseCaseError::Variant { field, refusal: r }) => {
                assert_eq!((field.as_str(), r), ("variant_id", refusal));
            }
            other => panic!("expected {refusal:?}, got {other:?}"),
        }
    }
    assert_eq!(count(&pool, "CartItemAdded").await, 0);
}

/// The shipping address's rate (its region's before its country's) is recorded on each
/// line, rounded once per line, in either mode; the totals are the fold of the lines, and
/// a cart checked out with two variants of one product records two taxed lines.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn tax_is_recorded_per_line(pool: PgPool) {
    let h = handlers(&pool);
    // A fresh command each: one meta twice would be one command retried.
    let ny = TaxZone::new("US", Some("NY")).unwrap();
    commands::tax::set_rate(&h, ny, 88_750, "NY sales tax".into(), &meta(Uuid::nil()))
        .await
        .unwrap();
    commands::tax::set_rate(
        &h,
        TaxZone::new("US", None).unwrap(),
        50_000,
        "US".into(),
        &meta(Uuid::nil()),
    )
    .await
    .unwrap();
    let (tee, variants) = product(&h, "TEE", 1_000, &[("TEE-S", 1_999), ("TEE-L", 2_499)]).await;
    let (pen, _) = product(&h, "PEN", 1, &[]).await;
    let user = Uuid::new_v4();

    // Exclusive prices, New York: 3 × 19.99 = 59.97 → 5.3223375 → 5.32; 1000 × 0.01 =
    // 10.00 → 0.8875 → 0.89 (per unit it would be nothing).
    let placed = orders::place_order(
        &h,
        &customer(user),
        input(
            &[(tee, Some(variants[0]), 3), (pen, None, 1000)],
            address("US", Some("ny")),
        ),
        meta(user),
    )
    .await
    .unwrap()
    .order;
    let taxes: Vec<(u32, i64)> = placed
        .lines
        .iter()
        .map(|l| (l.tax.rate_ppm, l.tax.amount.amount))
        .collect();
    assert_eq!(taxes, vec![(88_750, 532), (88_750, 89)]);
    assert!(placed.lines.iter().all(|l| !l.tax.inclusive));
    assert_eq!(placed.totals.tax, usd(621));
    assert_eq!(placed.totals.total, usd(5_997 + 1_000 + 621));
    assert_eq!(
        fold(&placed.lines, placed.totals.shipping).unwrap(),
        placed.totals
    );
    // The event holds what the state does.
    let events = stream(&h, &CommandHandler::<Order>::stream_id(placed.order_id)).await;
    assert_eq!(events[0].schema_version, 2);
    match OrderEvent::from_data(&events[0].event_type, 2, events[0].data.clone()).unwrap() {
        OrderEvent::OrderPlaced { lines, totals, .. } => {
            assert_eq!(lines, placed.lines);
            assert_eq!(totals, placed.totals);
        }
        other => panic!("not a placement: {other:?}"),
    }

    // Inclusive prices, elsewhere in the US (the country's 5%), through the cart: two
    // variants of one product are two lines, and the tax is inside the prices.
    commands::tax::set_prices_include_tax(&h, true, &meta(Uuid::nil()))
        .await
        .unwrap();
    let shopper = Shopper::Customer(user);
    for v in &variants {
        cart::add_item(&h, &shopper, tee, Some(*v), 1, meta(user))
            .await
            .unwrap();
    }
    let checked = cart::check_out(
        &h,
        user,
        Delivery {
            shipping_address: address("US", Some("CA")),
            billing_address: None,
            payment_method: "card".into(),
            notes: None,
            shipping_method: None,
        },
        meta(user),
    )
    .await
    .unwrap()
    .order;
    let mut lines: Vec<(Option<VariantId>, &str, i64, i64)> = checked
        .lines
        .iter()
        .map(|l| {
            (
                l.variant_id,
                l.sku.as_str(),
                l.tax.amount.amount,
                l.tax.rate_ppm.into(),
            )
        })
        .collect();
    lines.sort_by_key(|l| l.1.to_owned());
    // 19.99 × 5 / 105 = 0.9519 → 0.95; 24.99 × 5 / 105 = 1.19.
    assert_eq!(
        lines,
        vec![
            (Some(VariantId::new(variants[1])), "TEE-L", 119, 50_000),
            (Some(VariantId::new(variants[0])), "TEE-S", 95, 50_000),
        ]
    );
    assert!(checked.lines.iter().all(|l| l.tax.inclusive));
    assert_eq!(checked.totals.tax, usd(214));
    assert_eq!(checked.totals.total, usd(1_999 + 2_499));
}
