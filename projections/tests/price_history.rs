//! The `price_history` read model against a real store: a story of list-price changes and
//! a promotion over two months, told with the commands' own times, gives the change rows,
//! the days and the Omnibus figure (the lowest price of the 30 days before the promotion)
//! a person would work out by hand; a product listed during the promotion has none; and a
//! rebuild equals the live build.

mod common;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use commands::catalog::{self, NewCategory, NewProduct, ProductChange};
use commands::handler::{Actor, CommandMeta};
use commands::handlers::Handlers;
use commands::pricing;
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::catalog::{Seller, Seo};
use domain::id::{CategoryId, ProductId};
use domain::money::{Currency, Money};
use domain::pricing::{Adjustment, PriceRuleTerms, Scope, Segment, Window};
use domain::value::Sku;
use projections::price_history::{lowest_30_days, Asked, PriceHistoryProjection};
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

struct Shop {
    store: Arc<dyn EventStore>,
    handlers: Arc<Handlers>,
    runner: Runner,
    pool: PgPool,
}

fn staff_at(at: DateTime<Utc>) -> CommandMeta {
    let id = Uuid::new_v4();
    let actor = Actor {
        user_id: Some(Uuid::from_u128(1)),
        role: "admin".into(),
    };
    CommandMeta::new(id, id, actor, at)
}

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::parse("EUR").unwrap())
}

impl Shop {
    fn new(pool: PgPool) -> Shop {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let master = commands::privacy::MasterKey::from_bytes([7; 32]);
        let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
        Shop {
            handlers: Handlers::new(&store, keys, 100),
            runner: Runner::new(
                store.clone(),
                pool.clone(),
                Arc::new(PriceHistoryProjection),
            ),
            store,
            pool,
        }
    }

    async fn project(&self) {
        let n: i64 = sqlx::query_scalar("select count(*) from store.events")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let events = common::all_events(&*self.store, n as usize).await;
        self.runner.apply_batch(&events).await.unwrap();
    }

    async fn product(
        &self,
        sku: &str,
        category: CategoryId,
        price: i64,
        at: DateTime<Utc>,
    ) -> Uuid {
        let id = ProductId::new(Uuid::new_v4());
        catalog::create_product(
            &self.handlers,
            NewProduct {
                product_id: id,
                sku: Sku::parse(sku).unwrap(),
                name: format!("Product {sku}"),
                slug: None,
                description: None,
                category_id: category,
                price: eur(price),
                attributes: Default::default(),
                seller: Seller::Staff,
                seo: Seo::default(),
                draft: false,
            },
            &staff_at(at),
        )
        .await
        .unwrap();
        id.as_uuid()
    }

    async fn reprice(&self, product: Uuid, price: i64, at: DateTime<Utc>) {
        let change = ProductChange {
            price: Some(eur(price)),
            ..ProductChange::default()
        };
        catalog::update_product(
            &self.handlers,
            ProductId::new(product),
            change,
            Seller::Staff,
            &staff_at(at),
        )
        .await
        .unwrap();
    }

    async fn changes(&self, sku: Uuid) -> Vec<(DateTime<Utc>, i64, i64, bool)> {
        sqlx::query_as(
            "select at, list_price, price, promoted from price_history.changes
              where sku = $1 order by at",
        )
        .bind(sku)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    /// The lowest price of the 30 days before the promotion (or now), by the query the
    /// product answer makes, taking the history's own word for the promotion.
    async fn lowest(&self, sku: Uuid) -> Option<i64> {
        let asked = [Asked {
            sku,
            promoted: true,
            since: None,
        }];
        lowest_30_days(&self.pool, &asked, Utc::now())
            .await
            .unwrap()
            .get(&sku)
            .map(|(_, low, _)| *low)
    }

    async fn dump(&self, schema: &str) -> Vec<String> {
        let mut rows = Vec::new();
        for table in ["skus", "changes", "days", "rules", "categories"] {
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

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn the_lowest_price_before_a_promotion_is_worked_out_from_the_log(pool: PgPool) {
    let shop = Shop::new(pool);
    let day = TimeDelta::days(1);
    let t0 = (Utc::now() - day * 60).trunc_subsecs(0);
    let category = CategoryId::new(Uuid::new_v4());
    catalog::create_category(
        &shop.handlers,
        NewCategory {
            category_id: category,
            name: "Lamps".into(),
            slug: None,
            parent_id: None,
        },
        &staff_at(t0),
    )
    .await
    .unwrap();

    // A lamp at 100.00, dearer on day 20, cheapest on day 45, back up on day 50.
    let lamp = shop.product("LAMP-1", category, 10_000, t0).await;
    shop.reprice(lamp, 12_000, t0 + day * 20).await;
    shop.reprice(lamp, 9_000, t0 + day * 45).await;
    shop.reprice(lamp, 11_000, t0 + day * 50).await;
    // A shade never repriced: its one price is 60 days old and still in force.
    let shade = shop.product("SHADE-1", category, 4_000, t0).await;

    // A 20% sale on the category from day 55, enabled on day 52; the scheduler notices the
    // window five minutes late, but the price moved at the window's second.
    let start = t0 + day * 55;
    let terms = PriceRuleTerms {
        name: "Lamp week".into(),
        scope: Scope::Category {
            category_id: category,
        },
        adjustment: Adjustment::PercentOff {
            basis_points: 2_000,
        },
        window: Window {
            starts_at: Some(start),
            ends_at: None,
        },
        priority: 0,
        stacks: false,
        segment: Segment::All,
    };
    let rule = pricing::create_rule(&shop.handlers, terms, true, &staff_at(t0 + day * 52))
        .await
        .unwrap()
        .rule_id;
    let late = start + TimeDelta::minutes(5);
    pricing::tick_rule(&shop.handlers, rule, late, &staff_at(late))
        .await
        .unwrap();
    // A bulb listed during the sale: no price of its own before it.
    let bulb = shop.product("BULB-1", category, 500, t0 + day * 57).await;
    shop.project().await;

    assert_eq!(
        shop.changes(lamp).await,
        vec![
            (t0, 10_000, 10_000, false),
            (t0 + day * 20, 12_000, 12_000, false),
            (t0 + day * 45, 9_000, 9_000, false),
            (t0 + day * 50, 11_000, 11_000, false),
            (start, 11_000, 8_800, true),
        ]
    );
    // The window is days 25 to 55: 120.00 was in force when it opened, then 90.00, 110.00.
    assert_eq!(shop.lowest(lamp).await, Some(9_000));
    assert_eq!(shop.lowest(shade).await, Some(4_000));
    assert_eq!(
        shop.changes(bulb).await,
        vec![(t0 + day * 57, 500, 400, true)]
    );
    assert_eq!(
        shop.lowest(bulb).await,
        None,
        "never an older or a later price"
    );

    // Day 45 on its own: opened at 120.00, closed at 90.00.
    let d45: (i64, i64, i64) = sqlx::query_as(
        "select low, high, close from price_history.days
          where sku = $1 and day = ($2 at time zone 'UTC')::date",
    )
    .bind(lamp)
    .bind(t0 + day * 45)
    .fetch_one(&shop.pool)
    .await
    .unwrap();
    assert_eq!(d45, (9_000, 12_000, 9_000));

    // The sale ends: the price is back at list, and the promotion with it.
    let end = t0 + day * 59;
    pricing::disable_rule(&shop.handlers, rule, &staff_at(end))
        .await
        .unwrap();
    shop.project().await;
    let after = shop.changes(lamp).await;
    assert_eq!(after.last(), Some(&(end, 11_000, 11_000, false)));
    // At list price the window is the last 30 days: the sale's 88.00 is in it.
    assert_eq!(shop.lowest(lamp).await, Some(8_800));

    let live = shop.dump("price_history").await;
    assert!(live.len() > 10);
    projections::rebuild::rebuild(
        shop.store.clone(),
        &shop.pool,
        Arc::new(PriceHistoryProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(shop.dump("price_history").await, live, "rebuilt vs live");
}
