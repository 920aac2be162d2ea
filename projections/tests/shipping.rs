//! The `shipping` read model against a real store (issue 22): shipments per order, the
//! fulfilment queue (paid and not fully shipped, oldest payment first) and a carrier's
//! delivery time follow the use cases batch by batch, and a rebuild equals the live build.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::handlers::Handlers;
use commands::orders::Caller;
use commands::shipping::{self, Carriers, NewShipment, TrackingEvent};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::id::{OrderId, ProductId, UserId};
use domain::inventory::{Inventory, InventoryCommand};
use domain::money::{Currency, Money};
use domain::order::{Order, OrderCommand, OrderLine, PlaceOrder};
use domain::shipping::ShipmentStatus;
use domain::user::Role;
use domain::value::Sku;
use projections::shipping::ShippingProjection;
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

const TABLES: [&str; 4] = [
    "shipments",
    "shipment_lines",
    "fulfilment_queue",
    "carrier_performance",
];

struct Shop {
    store: Arc<dyn EventStore>,
    handlers: Arc<Handlers>,
    runner: Runner,
    pool: PgPool,
}

fn staff_meta() -> CommandMeta {
    let id = Uuid::new_v4();
    let actor = Actor {
        user_id: Some(Uuid::from_u128(1)),
        role: "staff".into(),
    };
    CommandMeta::new(id, id, actor, Utc::now())
}

fn staff() -> Caller {
    Caller {
        user_id: Uuid::from_u128(1),
        role: Role::Staff,
    }
}

impl Shop {
    fn new(pool: PgPool) -> Shop {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let master = commands::privacy::MasterKey::from_bytes([7; 32]);
        let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
        // Orders carry sealed addresses: the runner opens them, as the engine's does.
        let runner = Runner::new(store.clone(), pool.clone(), Arc::new(ShippingProjection))
            .with_keys(keys.clone());
        let handlers = Handlers::new(&store, keys, 100);
        Shop {
            store: handlers.store.clone(),
            handlers,
            runner,
            pool,
        }
    }

    /// Applies every event so far that the read model has not seen.
    async fn project(&self) {
        let n: i64 = sqlx::query_scalar("select count(*) from store.events")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let events = common::all_events(&*self.store, n as usize).await;
        self.runner.apply_batch(&events).await.unwrap();
    }

    async fn dump(&self) -> Vec<String> {
        let mut all = Vec::new();
        for table in TABLES {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "select row(t.*)::text from shipping.{table} t order by 1"
            )))
            .fetch_all(&self.pool)
            .await
            .unwrap();
            all.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
        }
        all
    }

    /// An order of `lines` (SKU, quantity), its stock reserved, paid.
    async fn paid_order(&self, lines: &[(&str, u32)]) -> Uuid {
        let id = Uuid::new_v4();
        let h = &self.handlers;
        for &(sku, quantity) in lines {
            let sku = Sku::parse(sku).unwrap();
            let stream = CommandHandler::<Inventory>::stream_id(&sku);
            for command in [
                InventoryCommand::ReceiveStock {
                    sku: sku.clone(),
                    warehouse: "main".into(),
                    quantity: 10,
                },
                InventoryCommand::ReserveStock {
                    sku,
                    order_id: OrderId::new(id),
                    quantity,
                },
            ] {
                h.inventory
                    .handle(&stream, command, staff_meta())
                    .await
                    .unwrap();
            }
        }
        let place = PlaceOrder {
            order_id: OrderId::new(id),
            user_id: UserId::new(Uuid::new_v4()),
            lines: lines
                .iter()
                .map(|&(sku, quantity)| OrderLine {
                    product_id: ProductId::new(Uuid::new_v4()),
                    variant_id: None,
                    sku: Sku::parse(sku).unwrap(),
                    quantity,
                    unit_price: Money::new(1000, Currency::USD),
                    price_rules: Vec::new(),
                    vendor_id: None,
                })
                .collect(),
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
        let units: u32 = lines.iter().map(|l| l.1).sum();
        let stream = CommandHandler::<Order>::stream_id(id);
        for command in [
            OrderCommand::Place(Box::new(place)),
            OrderCommand::MarkStockReserved { at: Utc::now() },
            OrderCommand::MarkPaid {
                amount: Money::new(1000 * i64::from(units), Currency::USD),
                payment_reference: "ch_1".into(),
                at: Utc::now(),
            },
        ] {
            h.orders
                .handle(&stream, command, staff_meta())
                .await
                .unwrap();
        }
        id
    }

    async fn ship(&self, order: Uuid, lines: &[(&str, u32)], warehouse: &str) -> Uuid {
        let input = NewShipment {
            lines: lines.iter().map(|&(s, q)| (s.to_owned(), q)).collect(),
            warehouse: Some(warehouse.into()),
            carrier: "test".into(),
            service_level: "standard".into(),
            weight_grams: None,
        };
        shipping::create_shipment(
            &self.handlers,
            &Carriers::test(None),
            &staff(),
            order,
            input,
            staff_meta(),
        )
        .await
        .unwrap()
        .shipment
        .shipment_id
        .as_uuid()
    }

    async fn step(&self, shipment: Uuid, to: ShipmentStatus) {
        shipping::change_shipment_status(
            &self.handlers,
            &staff(),
            shipment,
            to,
            None,
            staff_meta(),
        )
        .await
        .unwrap();
    }
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn shipments_and_the_queue_follow_the_log_and_a_rebuild_equals_the_live_build(pool: PgPool) {
    let shop = Shop::new(pool);
    let early = shop.paid_order(&[("LAMP-1", 3), ("BULB-1", 1)]).await;
    let later = shop.paid_order(&[("LAMP-1", 1)]).await;
    shop.project().await;
    let queue: Vec<Uuid> = sqlx::query_scalar(
        "select order_id from shipping.fulfilment_queue where paid_at is not null
          order by paid_at, order_id",
    )
    .fetch_all(&shop.pool)
    .await
    .unwrap();
    assert_eq!(queue, [early, later], "oldest payment first");

    let first = shop.ship(early, &[("LAMP-1", 2)], "main").await;
    let second = shop
        .ship(early, &[("LAMP-1", 1), ("BULB-1", 1)], "east")
        .await;
    shop.project().await;
    for to in [ShipmentStatus::Packed, ShipmentStatus::Shipped] {
        shop.step(first, to).await;
    }
    shop.step(second, ShipmentStatus::Packed).await;
    shop.project().await;
    let row: (i64, i64, i32) = sqlx::query_as(
        "select units_ordered, units_shipped, shipments from shipping.fulfilment_queue
          where order_id = $1",
    )
    .bind(early)
    .fetch_one(&shop.pool)
    .await
    .unwrap();
    assert_eq!(row, (4, 2, 1));
    let per_warehouse: Vec<(String, String, i64)> = sqlx::query_as(
        "select warehouse, status, units from shipping.shipments order by warehouse",
    )
    .fetch_all(&shop.pool)
    .await
    .unwrap();
    assert_eq!(
        per_warehouse,
        [
            ("east".to_owned(), "packed".to_owned(), 2),
            ("main".to_owned(), "shipped".to_owned(), 2)
        ]
    );

    // The carrier delivers the first, a day and a half after it shipped.
    let shipped_at: chrono::DateTime<Utc> =
        sqlx::query_scalar("select shipped_at from shipping.shipments where shipment_id = $1")
            .bind(first)
            .fetch_one(&shop.pool)
            .await
            .unwrap();
    let update = TrackingEvent {
        id: "evt_1".into(),
        shipment_id: first.into(),
        tracking_number: shipping::TestCarrier::tracking_number(first.into()),
        status: Some(ShipmentStatus::Delivered),
        description: "left at the door".into(),
        location: None,
        delayed: false,
        occurred_at: shipped_at + Duration::hours(36),
    };
    shipping::record_carrier_update(&shop.handlers, "test", update, Utc::now(), staff_meta())
        .await
        .unwrap();
    // The second leaves: the order is fully shipped and leaves the queue.
    shop.step(second, ShipmentStatus::Shipped).await;
    shop.project().await;
    let performance: (i64, i64) = sqlx::query_as(
        "select delivered, total_seconds from shipping.carrier_performance where carrier = 'test'",
    )
    .fetch_one(&shop.pool)
    .await
    .unwrap();
    assert_eq!(performance, (1, 36 * 3600));
    let queued: Vec<Uuid> =
        sqlx::query_scalar("select order_id from shipping.fulfilment_queue order by order_id")
            .fetch_all(&shop.pool)
            .await
            .unwrap();
    assert_eq!(queued, [later]);

    let live = shop.dump().await;
    assert!(live.len() >= 6, "{live:#?}");
    projections::rebuild::rebuild(
        shop.store.clone(),
        &shop.pool,
        Arc::new(ShippingProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(shop.dump().await, live, "rebuilt vs live");
}
