//! The PC builder's use cases and its `pc_builder` read model against a real store: a
//! build is refused a product that is not a part, a part in the wrong slot and one off
//! sale (archived), with nothing written; a stranger cannot change it; a CPU of another socket is an
//! issue naming both parts and the rule; the read model's rows follow the products and
//! builds, a product that becomes a part joins its slot; and a rebuild equals the live
//! build.

mod common;

use std::sync::Arc;

use chrono::Utc;
use commands::catalog::{self, NewCategory, NewProduct, ProductChange};
use commands::handler::{Actor, CommandMeta};
use commands::handlers::Handlers;
use commands::pc_builder::{self, PcBuilderError};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::catalog::{Seller, Seo};
use domain::id::{CategoryId, ProductId};
use domain::money::{Currency, Money};
use domain::pc_builder::{Component, Slot};
use domain::value::Sku;
use projections::pc_builder::PcBuilderProjection;
use projections::Runner;
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use uuid::Uuid;

struct Shop {
    store: Arc<dyn EventStore>,
    handlers: Arc<Handlers>,
    runner: Runner,
    pool: PgPool,
    category: CategoryId,
}

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    let actor = Actor {
        user_id: Some(Uuid::from_u128(1)),
        role: "admin".into(),
    };
    CommandMeta::new(id, id, actor, Utc::now())
}

fn attributes(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

impl Shop {
    async fn new(pool: PgPool) -> Shop {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let master = commands::privacy::MasterKey::from_bytes([7; 32]);
        let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
        let handlers = Handlers::new(&store, keys, 100);
        let category = CategoryId::new(Uuid::new_v4());
        catalog::create_category(
            &handlers,
            NewCategory {
                category_id: category,
                name: "PC parts".into(),
                slug: None,
                parent_id: None,
            },
            &meta(),
        )
        .await
        .unwrap();
        Shop {
            runner: Runner::new(store.clone(), pool.clone(), Arc::new(PcBuilderProjection)),
            store,
            handlers,
            pool,
            category,
        }
    }

    /// A product with `attrs`, on sale unless `archived`.
    async fn part(&self, sku: &str, attrs: Value, archived: bool) -> ProductId {
        let id = ProductId::new(Uuid::new_v4());
        catalog::create_product(
            &self.handlers,
            NewProduct {
                product_id: id,
                sku: Sku::parse(sku).unwrap(),
                name: sku.to_owned(),
                slug: None,
                description: None,
                category_id: self.category,
                price: Money::new(10_000, Currency::USD),
                attributes: attributes(attrs),
                seller: Seller::Staff,
                seo: Seo::default(),
                draft: false,
            },
            &meta(),
        )
        .await
        .unwrap();
        if archived {
            catalog::archive_product(&self.handlers, id, Seller::Staff, &meta())
                .await
                .unwrap();
        }
        id
    }

    async fn project(&self) {
        let n: i64 = sqlx::query_scalar("select count(*) from store.events")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let events = common::all_events(&*self.store, n as usize).await;
        self.runner.apply_batch(&events).await.unwrap();
    }

    async fn dump(&self, schema: &str) -> Vec<String> {
        let mut rows = Vec::new();
        for table in ["parts", "builds", "build_components"] {
            let mut found: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "select '{table}:' || row(t.*)::text from {schema}.{table} t order by 1"
            )))
            .fetch_all(&self.pool)
            .await
            .unwrap();
            rows.append(&mut found);
        }
        rows
    }
}

fn c(slot: Slot, product: ProductId) -> Component {
    Component {
        slot,
        product_id: product,
        quantity: 1,
    }
}

fn field(e: PcBuilderError) -> String {
    match e {
        PcBuilderError::Invalid { field, .. } => field,
        other => panic!("expected a refused field, got {other:?}"),
    }
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn builds_refuse_what_is_not_a_part_and_the_read_model_rebuilds_equal(pool: PgPool) {
    let shop = Shop::new(pool).await;
    let am5 = shop
        .part(
            "CPU-AM5",
            json!({ "pc_slot": "cpu", "socket": "AM5" }),
            false,
        )
        .await;
    let lga = shop
        .part(
            "CPU-LGA",
            json!({ "pc_slot": "cpu", "socket": "LGA1700" }),
            false,
        )
        .await;
    let board = shop
        .part(
            "MB-AM5",
            json!({ "pc_slot": "motherboard", "socket": "AM5", "memory_type": "DDR5" }),
            false,
        )
        .await;
    let draft = shop
        .part(
            "CPU-DRAFT",
            json!({ "pc_slot": "cpu", "socket": "AM5" }),
            true,
        )
        .await;
    let lamp = shop.part("LAMP", json!({ "colour": "red" }), false).await;
    let ann = Uuid::new_v4();
    let events_before: i64 = sqlx::query_scalar("select count(*) from store.events")
        .fetch_one(&shop.pool)
        .await
        .unwrap();

    // Refused, each by the component at fault, with nothing written.
    for (components, at_fault) in [
        (vec![c(Slot::Cpu, lamp)], "components[0].product_id"),
        (
            vec![c(Slot::Cpu, am5), c(Slot::Cpu, board)],
            "components[1].slot",
        ),
        (vec![c(Slot::Cpu, draft)], "components[0].product_id"),
    ] {
        let refused = pc_builder::create_build(&shop.handlers, Some(ann), "x", components, &meta())
            .await
            .unwrap_err();
        assert_eq!(field(refused), at_fault);
    }
    let events_after: i64 = sqlx::query_scalar("select count(*) from store.events")
        .fetch_one(&shop.pool)
        .await
        .unwrap();
    assert_eq!(
        events_after, events_before,
        "a refused build writes nothing"
    );

    // A build that works, then a CPU of another socket: an issue naming both and the rule.
    let built = pc_builder::create_build(
        &shop.handlers,
        Some(ann),
        "Ann's rig",
        vec![c(Slot::Cpu, am5), c(Slot::Motherboard, board)],
        &meta(),
    )
    .await
    .unwrap();
    assert!(built.compatibility.ok, "{:?}", built.compatibility);
    let build_id = built.build.build_id.as_uuid();
    let stranger = pc_builder::set_components(
        &shop.handlers,
        Uuid::new_v4(),
        build_id,
        vec![c(Slot::Cpu, lga)],
        meta(),
    )
    .await
    .unwrap_err();
    assert!(matches!(stranger, PcBuilderError::NotFound), "{stranger:?}");
    let swapped = pc_builder::set_components(
        &shop.handlers,
        ann,
        build_id,
        vec![c(Slot::Cpu, lga), c(Slot::Motherboard, board)],
        meta(),
    )
    .await
    .unwrap();
    assert!(!swapped.compatibility.ok);
    let issue = swapped
        .compatibility
        .issues
        .iter()
        .find(|i| i.rule == "cpu_socket")
        .unwrap_or_else(|| panic!("no socket issue: {:?}", swapped.compatibility));
    let mut named = issue.parts.clone();
    named.sort();
    let mut expected = vec![lga, board];
    expected.sort();
    assert_eq!(named, expected);

    // The lamp becomes a cooler: it joins that slot in the read model.
    catalog::update_product(
        &shop.handlers,
        lamp,
        ProductChange {
            attributes: Some(attributes(
                json!({ "pc_slot": "cooler", "sockets": ["AM5"], "height_mm": 150 }),
            )),
            ..ProductChange::default()
        },
        Seller::Staff,
        &meta(),
    )
    .await
    .unwrap();
    shop.project().await;
    let slots: Vec<(String, Option<String>, String)> =
        sqlx::query_as("select sku, slot, status from pc_builder.parts order by sku")
            .fetch_all(&shop.pool)
            .await
            .unwrap();
    assert_eq!(
        slots,
        vec![
            ("CPU-AM5".into(), Some("cpu".into()), "active".into()),
            ("CPU-DRAFT".into(), Some("cpu".into()), "archived".into()),
            ("CPU-LGA".into(), Some("cpu".into()), "active".into()),
            ("LAMP".into(), Some("cooler".into()), "active".into()),
            ("MB-AM5".into(), Some("motherboard".into()), "active".into()),
        ]
    );
    let components: Vec<(Uuid, String)> = sqlx::query_as(
        "select product_id, slot from pc_builder.build_components
          where build_id = $1 order by slot",
    )
    .bind(build_id)
    .fetch_all(&shop.pool)
    .await
    .unwrap();
    assert_eq!(
        components,
        vec![
            (lga.as_uuid(), "cpu".to_owned()),
            (board.as_uuid(), "motherboard".to_owned())
        ]
    );

    let live = shop.dump("pc_builder").await;
    projections::rebuild::rebuild(
        shop.store.clone(),
        &shop.pool,
        Arc::new(PcBuilderProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(shop.dump("pc_builder").await, live, "rebuilt vs live");
}
