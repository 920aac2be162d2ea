//! The inventory read model against a real store: warehouses, stock per SKU and warehouse
//! equal to what the write side holds (reservations held where the aggregate put them,
//! transfers, a reservation from before warehouses were recorded shipping from the
//! fullest shelf), sales per day, and a rebuild equal to the live build row for row.

mod common;

use std::sync::Arc;

use commands::handler::CommandHandler;
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, ExpectedVersion, NewEvent};
use domain::id::{OrderId, WarehouseId};
use domain::inventory::{
    CreateWarehouse, Inventory, InventoryCommand, Warehouse, WarehouseCommand, DEFAULT_WAREHOUSE,
};
use domain::value::Sku;
use projections::inventory::InventoryProjection;
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

use common::{caught_up, meta};

struct Stock {
    store: Arc<dyn EventStore>,
    inventory: CommandHandler<Inventory>,
}

impl Stock {
    async fn run(&self, sku: &Sku, command: InventoryCommand) -> bool {
        self.inventory
            .handle(
                &CommandHandler::<Inventory>::stream_id(sku),
                command,
                meta(),
            )
            .await
            .is_ok()
    }
}

/// One SKU's life across three warehouses; some commands are refused on purpose (more
/// than is there), which appends nothing.
async fn story(stock: &Stock, n: usize) {
    let sku = Sku::parse(&format!("SKU-{n}")).unwrap();
    let receive = |w: &str, quantity| InventoryCommand::ReceiveStock {
        sku: sku.clone(),
        warehouse: w.into(),
        quantity,
    };
    stock
        .run(&sku, receive(DEFAULT_WAREHOUSE, 3 + n as u32 % 4))
        .await;
    stock.run(&sku, receive("east", 8)).await;
    stock.run(&sku, receive("west", 2 + n as u32 % 3)).await;
    let orders: Vec<OrderId> = (0..5).map(|_| OrderId::new(Uuid::new_v4())).collect();
    for (i, o) in orders.iter().enumerate() {
        let reserve = InventoryCommand::ReserveStock {
            sku: sku.clone(),
            order_id: *o,
            quantity: 2 + (i + n) as u32 % 5,
        };
        stock.run(&sku, reserve).await;
    }
    stock
        .run(
            &sku,
            InventoryCommand::TransferStock {
                sku: sku.clone(),
                from: "east".into(),
                to: "west".into(),
                quantity: 1 + n as u32 % 3,
            },
        )
        .await;
    stock
        .run(
            &sku,
            InventoryCommand::CommitReservation {
                order_id: orders[0],
            },
        )
        .await;
    stock
        .run(
            &sku,
            InventoryCommand::ReleaseReservation {
                order_id: orders[1],
            },
        )
        .await;
    stock
        .run(
            &sku,
            InventoryCommand::CommitReservation {
                order_id: orders[2],
            },
        )
        .await;
    stock
        .run(
            &sku,
            InventoryCommand::AdjustStock {
                sku: sku.clone(),
                warehouse: "west".into(),
                delta: -1,
                reason: "count".into(),
            },
        )
        .await;
    stock
        .run(
            &sku,
            InventoryCommand::Restock {
                order_id: orders[0],
                quantity: 1,
                warehouse: "east".into(),
            },
        )
        .await;
}

/// A reservation as logs held it before warehouses were recorded, then its shipment.
async fn legacy_reservation(stock: &Stock, sku: &Sku) {
    let order = Uuid::new_v4();
    let stream = CommandHandler::<Inventory>::stream_id(sku);
    let m = meta();
    stock
        .store
        .append(
            &stream,
            ExpectedVersion::Any,
            vec![NewEvent {
                id: Uuid::new_v4(),
                event_type: "StockReserved".into(),
                schema_version: 1,
                data: serde_json::json!({ "sku": sku.as_str(), "order_id": order, "quantity": 1 }),
                metadata: m.metadata(1),
            }],
        )
        .await
        .unwrap();
    assert!(
        stock
            .run(
                sku,
                InventoryCommand::CommitReservation {
                    order_id: OrderId::new(order)
                }
            )
            .await
    );
}

type StockRow = (String, String, i64, i64, i64);

async fn rows(pool: &PgPool, schema: &str) -> (Vec<String>, Vec<StockRow>) {
    let mut dump = Vec::new();
    for table in ["warehouses", "stock", "sales"] {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select t::text from {schema}.{table} t order by 1"
        )))
        .fetch_all(pool)
        .await
        .unwrap();
        dump.push(format!("{table}: {}", rows.len()));
        dump.extend(rows);
    }
    let stock = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select sku, warehouse, on_hand, reserved, available from {schema}.stock
          order by sku, warehouse"
    )))
    .fetch_all(pool)
    .await
    .unwrap();
    (dump, stock)
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn stock_per_warehouse_equals_the_write_side_and_a_rebuild_equals_the_live_build(
    pool: PgPool,
) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let stock = Arc::new(Stock {
        store: store.clone(),
        inventory: CommandHandler::new(store.clone(), 1000),
    });
    let warehouses: CommandHandler<Warehouse> = CommandHandler::new(store.clone(), 100);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let live = tokio::spawn(
        Runner::new(store.clone(), pool.clone(), Arc::new(InventoryProjection)).run(stopped),
    );
    for (code, priority) in [("east", 5), ("west", 1)] {
        let id = WarehouseId::new(Uuid::new_v4());
        let create = WarehouseCommand::Create(CreateWarehouse {
            warehouse_id: id,
            code: code.into(),
            name: format!("{code} hall"),
            country: Some("de".into()),
            region: None,
            priority,
        });
        let stream = CommandHandler::<Warehouse>::stream_id(id);
        warehouses.handle(&stream, create, meta()).await.unwrap();
        if code == "west" {
            warehouses
                .handle(&stream, WarehouseCommand::Deactivate, meta())
                .await
                .unwrap();
        }
    }
    let tasks: Vec<_> = (0..24)
        .map(|n| {
            let stock = stock.clone();
            tokio::spawn(async move { story(&stock, n).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    // The fullest shelf of SKU-0 is east or main, whichever holds more: the read model
    // must pick the one the aggregate did.
    legacy_reservation(&stock, &Sku::parse("SKU-0").unwrap()).await;
    caught_up(&*store, &pool, "inventory").await;
    stop.send(true).unwrap();
    live.await.unwrap().unwrap();

    let (live_dump, live_stock) = rows(&pool, "inventory").await;
    let mut expected: Vec<(String, String, i64, i64, i64)> = Vec::new();
    for n in 0..24 {
        let sku = Sku::parse(&format!("SKU-{n}")).unwrap();
        let (state, _) = stock
            .inventory
            .load(&CommandHandler::<Inventory>::stream_id(&sku))
            .await
            .unwrap();
        for (w, &on_hand) in &state.on_hand {
            let reserved = state.reserved_in(w);
            expected.push((
                sku.as_str().into(),
                w.clone(),
                on_hand,
                reserved,
                on_hand - reserved,
            ));
        }
    }
    expected.sort();
    assert_eq!(
        live_stock, expected,
        "the read model holds what the write side does"
    );
    assert!(
        live_stock.iter().any(|r| r.3 > 0),
        "some reservations are held somewhere: {live_stock:?}"
    );
    let sold: i64 =
        sqlx::query_scalar("select coalesce(sum(quantity), 0)::bigint from inventory.sales")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(sold > 0, "shipments are counted");
    let inactive: Vec<(String, bool)> =
        sqlx::query_as("select code, active from inventory.warehouses order by code")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(inactive, [("east".into(), true), ("west".into(), false)]);

    let parked: i64 = sqlx::query_scalar("select count(*) from projections.parked")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(parked, 0);
    projections::rebuild::rebuild(
        store.clone(),
        &pool,
        Arc::new(InventoryProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    let (rebuilt, _) = rows(&pool, "inventory").await;
    assert_eq!(live_dump, rebuilt, "rebuilt vs live");
}
