//! The `pricing` read model and the price-rule scheduler against a real store: a row
//! equals the write side's state after each step, the scheduler records a window's start
//! and end once (two sweeps at once, and a repeat), and a rebuild equals the live build.

mod common;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use commands::handler::{Actor, CommandMeta};
use commands::handlers::Handlers;
use commands::pricing;
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::pricing::{Adjustment, PriceRuleTerms, Scope, Segment, Window};
use projections::price_schedule::sweep;
use projections::pricing::PricingProjection;
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

struct Shop {
    store: Arc<dyn EventStore>,
    handlers: Arc<Handlers>,
    runner: Runner,
    pool: PgPool,
}

fn staff() -> CommandMeta {
    let id = Uuid::new_v4();
    let actor = Actor {
        user_id: Some(Uuid::from_u128(1)),
        role: "admin".into(),
    };
    CommandMeta::new(id, id, actor, Utc::now())
}

fn terms(name: &str, window: Window) -> PriceRuleTerms {
    PriceRuleTerms {
        name: name.into(),
        scope: Scope::Store,
        adjustment: Adjustment::PercentOff { basis_points: 500 },
        window,
        priority: 3,
        stacks: false,
        segment: Segment::Rfm {
            name: "champions".into(),
        },
    }
}

impl Shop {
    fn new(pool: PgPool) -> Shop {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let master = commands::privacy::MasterKey::from_bytes([7; 32]);
        let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
        Shop {
            handlers: Handlers::new(&store, keys, 100),
            runner: Runner::new(store.clone(), pool.clone(), Arc::new(PricingProjection)),
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

    async fn row(&self, id: Uuid) -> (String, i32, bool, String, Option<DateTime<Utc>>) {
        sqlx::query_as(
            "select status, version, enabled, segment, ends_at
               from pricing.price_rules where rule_id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    async fn dump(&self, schema: &str) -> Vec<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select row(t.*)::text from {schema}.price_rules t order by rule_id"
        )))
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn rows_follow_the_write_side_and_the_scheduler_records_each_change_once(pool: PgPool) {
    let shop = Shop::new(pool);
    let start = (Utc::now() + TimeDelta::hours(1)).trunc_subsecs(0);
    let end = start + TimeDelta::hours(2);
    let window = Window {
        starts_at: Some(start),
        ends_at: Some(end),
    };
    let sale = pricing::create_rule(&shop.handlers, terms("sale", window), true, &staff())
        .await
        .unwrap()
        .rule_id;
    let draft = pricing::create_rule(&shop.handlers, terms("draft", window), false, &staff())
        .await
        .unwrap()
        .rule_id;
    shop.project().await;
    assert_eq!(
        shop.row(sale).await,
        (
            "scheduled".into(),
            1,
            true,
            "rfm:champions".into(),
            Some(end)
        )
    );
    assert_eq!(shop.row(draft).await.0, "draft");

    // Nothing is due before the start; two sweeps at once at the start activate the sale
    // once, and never the draft.
    assert_eq!(
        sweep(&shop.handlers, &shop.pool, Utc::now()).await.unwrap(),
        0
    );
    let (a, b) = tokio::join!(
        sweep(&shop.handlers, &shop.pool, start),
        sweep(&shop.handlers, &shop.pool, start)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    shop.project().await;
    assert_eq!(shop.row(sale).await.0, "active");
    assert_eq!(shop.row(draft).await.0, "draft");
    assert_eq!(sweep(&shop.handlers, &shop.pool, start).await.unwrap(), 0);

    // At the end's exact second it expires.
    assert_eq!(sweep(&shop.handlers, &shop.pool, end).await.unwrap(), 1);
    shop.project().await;
    assert_eq!(shop.row(sale).await.0, "expired");

    // A change of terms reopens it, a version up; the row shows the write side's state.
    pricing::update_rule(
        &shop.handlers,
        sale,
        terms("sale", Window::default()),
        &staff(),
    )
    .await
    .unwrap();
    shop.project().await;
    assert_eq!(shop.row(sale).await.0, "active");
    assert_eq!(shop.row(sale).await.1, 2);
    let written = pricing::price_rule(&shop.handlers, sale).await.unwrap();
    assert_eq!(written.rule.unwrap().version, 2);

    let live = shop.dump("pricing").await;
    projections::rebuild::rebuild(
        shop.store.clone(),
        &shop.pool,
        Arc::new(PricingProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(shop.dump("pricing").await, live, "rebuilt vs live");
}
