//! Shipping's use cases against a real PostgreSQL store (issue 22): shipments created at
//! once for the last units of an order never take more than was ordered, whichever
//! process's handlers create them, and leave no shipment behind for a refused one; each
//! shipment that leaves commits its own part of the stock reservation, and the order
//! follows to `shipped`.

mod common;

use std::sync::Arc;

use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::handlers::Handlers;
use commands::orders::Caller;
use commands::shipping::{self, Carriers, NewShipment, ShippingUseError};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::id::{OrderId, ProductId, UserId};
use domain::inventory::{Inventory, InventoryCommand};
use domain::money::{Currency, Money};
use domain::order::{Order, OrderCommand, OrderError, OrderLine, OrderStatus, PlaceOrder};
use domain::shipping::{ShipmentError, ShipmentStatus};
use domain::user::Role;
use domain::value::Sku;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use uuid::Uuid;

const STAFF: Uuid = Uuid::from_u128(1);

fn meta() -> CommandMeta {
    CommandMeta::new(
        Uuid::new_v4(),
        Uuid::new_v4(),
        Actor {
            user_id: Some(STAFF),
            role: "staff".into(),
        },
        Utc::now(),
    )
}

fn staff() -> Caller {
    Caller {
        user_id: STAFF,
        role: Role::Staff,
    }
}

/// Data keys under a fixed master key, so two sets of handlers read each other's events.
fn handlers(pool: &PgPool) -> Arc<Handlers> {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let master = commands::privacy::MasterKey::from_bytes([7; 32]);
    let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
    Handlers::new(&store, keys, 1_000)
}

/// An order of `quantity` × `sku`, its stock received and reserved, paid.
async fn paid_order(h: &Handlers, sku: &str, quantity: u32) -> Uuid {
    let sku = Sku::parse(sku).unwrap();
    let id = Uuid::new_v4();
    let inventory = CommandHandler::<Inventory>::stream_id(&sku);
    for command in [
        InventoryCommand::ReceiveStock {
            sku: sku.clone(),
            warehouse: "main".into(),
            quantity: 10,
        },
        InventoryCommand::ReserveStock {
            sku: sku.clone(),
            order_id: OrderId::new(id),
            quantity,
        },
    ] {
        h.inventory
            .handle(&inventory, command, meta())
            .await
            .unwrap();
    }
    let place = PlaceOrder {
        order_id: OrderId::new(id),
        user_id: UserId::new(Uuid::new_v4()),
        lines: vec![OrderLine {
            product_id: ProductId::new(Uuid::new_v4()),
            variant_id: None,
            sku,
            quantity,
            unit_price: Money::new(1000, Currency::USD),
            price_rules: Vec::new(),
            vendor_id: None,
        }],
        shipping_address: serde_json::from_value(serde_json::json!({
            "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
        }))
        .unwrap(),
        billing_address: None,
        payment_method: "card".into(),
        notes: None,
        coupon_code: None,
        discount: Money::zero(Currency::USD),
        discount_over: None,
        tax: domain::order::TaxTerms::default(),
        shipping: Money::zero(Currency::USD),
        shipping_method: None,
        at: Utc::now(),
    };
    let stream = CommandHandler::<Order>::stream_id(id);
    let total = Money::new(1000 * i64::from(quantity), Currency::USD);
    for command in [
        OrderCommand::Place(Box::new(place)),
        OrderCommand::MarkStockReserved { at: Utc::now() },
        OrderCommand::MarkPaid {
            amount: total,
            payment_reference: "ch_1".into(),
            at: Utc::now(),
        },
    ] {
        h.orders.handle(&stream, command, meta()).await.unwrap();
    }
    id
}

fn one(sku: &str) -> NewShipment {
    NewShipment {
        lines: vec![(sku.into(), 1)],
        warehouse: None,
        carrier: "test".into(),
        service_level: "standard".into(),
        weight_grams: Some(500),
    }
}

/// Twelve shipments of one unit each, asked at once through two processes' handlers, for
/// an order of three: three are created, nine refused as more than was ordered, and no
/// shipment stream exists for a refused one.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn shipments_created_at_once_never_take_more_than_was_ordered(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    common::on_threads(options, connect, race_for_the_last_units).await;
}

async fn race_for_the_last_units(pool: PgPool) {
    let a = handlers(&pool);
    let b = handlers(&pool);
    let order = paid_order(&a, "LAMP-1", 3).await;
    let carriers = Carriers::test(None);
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let h = if i % 2 == 0 { a.clone() } else { b.clone() };
            let carriers = carriers.clone();
            tokio::spawn(async move {
                shipping::create_shipment(&h, &carriers, &staff(), order, one("LAMP-1"), meta())
                    .await
            })
        })
        .collect();
    let (mut created, mut refused) = (Vec::new(), 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(done) => created.push(done.shipment.shipment_id),
            Err(
                ShippingUseError::Rejected(ShipmentError::ExceedsOrdered { .. })
                | ShippingUseError::Order(OrderError::ShipmentExceedsOrder { .. }),
            ) => refused += 1,
            Err(other) => panic!("not a clear refusal: {other:?}"),
        }
    }
    assert_eq!((created.len(), refused), (3, 9));
    let streams: i64 = sqlx::query_scalar(
        "select count(distinct stream_id) from store.events where stream_id like 'shipment-%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(streams, 3, "a refused shipment leaves nothing behind");

    // Each leaves: its own unit is committed, then the order is shipped.
    for (i, id) in (0i64..).zip(&created) {
        for to in [ShipmentStatus::Packed, ShipmentStatus::Shipped] {
            shipping::change_shipment_status(&a, &staff(), id.as_uuid(), to, None, meta())
                .await
                .unwrap();
        }
        let (stock, _) = a
            .inventory
            .load(&CommandHandler::<Inventory>::stream_id("LAMP-1"))
            .await
            .unwrap();
        assert_eq!(stock.reserved(), 2 - i);
        assert_eq!(stock.on_hand_total(), 9 - i);
        let (o, _) = a
            .orders
            .load(&CommandHandler::<Order>::stream_id(order))
            .await
            .unwrap();
        let expected = if i < 2 {
            OrderStatus::PartiallyShipped
        } else {
            OrderStatus::Shipped
        };
        assert_eq!(o.placed.unwrap().status, expected);
    }
}

/// A shipment for an order that is not paid is refused before a carrier is asked or
/// anything is written.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn an_unpaid_order_has_nothing_to_ship(pool: PgPool) {
    let h = handlers(&pool);
    let order = paid_order(&h, "LAMP-2", 1).await;
    let stream = CommandHandler::<Order>::stream_id(order);
    h.orders
        .handle(
            &stream,
            OrderCommand::Cancel {
                reason: domain::order::CancellationReason::Staff,
                note: None,
                by: staff().changed_by(),
                at: Utc::now(),
            },
            meta(),
        )
        .await
        .unwrap();
    let refused = shipping::create_shipment(
        &h,
        &Carriers::test(None),
        &staff(),
        order,
        one("LAMP-2"),
        meta(),
    )
    .await;
    assert!(
        matches!(refused, Err(ShippingUseError::NotShippable("cancelled"))),
        "{refused:?}"
    );
    let streams: i64 =
        sqlx::query_scalar("select count(*) from store.events where stream_id like 'shipment-%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(streams, 0);
}
