//! The vendor ledger against a real store (issue 23 item 4): the process manager records
//! a paid order's vendor lines in each store's ledger with the rule the store had when
//! the order was paid (a rule changed afterwards does not reach back), the marketplace's
//! own line in none; handled again, it appends nothing; a payout through the test
//! provider, then a full refund, makes a clawback; the `ledger` read model follows, every
//! sold line's commission recomputes from the rule it records, and a rebuild equals the
//! live build.

mod common;

use std::sync::Arc;

use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::handlers::Handlers;
use commands::ledger::{self, PayoutRequest, TestPayoutProvider};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use commands::vendors::{self, NewVendor};
use domain::id::{OrderId, ProductId, UserId, VendorId};
use domain::ledger::PayoutStatus;
use domain::money::{Currency, Money};
use domain::order::{ChangedBy, Order, OrderCommand, OrderLine, PlaceOrder};
use domain::value::Sku;
use domain::vendors::CommissionRule;
use projections::ledger::LedgerProjection;
use projections::ledger_process::LedgerProcess;
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

const TABLES: [&str; 5] = ["entries", "postings", "balances", "payouts", "sale_lines"];

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    let actor = Actor {
        user_id: Some(Uuid::from_u128(1)),
        role: "staff".into(),
    };
    CommandMeta::new(id, id, actor, Utc::now())
}

struct Shop {
    store: Arc<dyn EventStore>,
    handlers: Arc<Handlers>,
    runner: Runner,
    process: LedgerProcess,
    pool: PgPool,
    /// How many events of `$all` the process manager has handled.
    handled: usize,
}

impl Shop {
    fn new(pool: PgPool) -> Shop {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let master = commands::privacy::MasterKey::from_bytes([7; 32]);
        let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
        let runner = Runner::new(store.clone(), pool.clone(), Arc::new(LedgerProjection))
            .with_keys(keys.clone());
        let handlers = Handlers::new(&store, keys, 100);
        Shop {
            store: handlers.store.clone(),
            process: LedgerProcess::new(handlers.clone(), pool.clone()),
            handlers,
            runner,
            pool,
            handled: 0,
        }
    }

    async fn events(&self) -> Vec<commands::store::RecordedEvent> {
        let n: i64 = sqlx::query_scalar("select count(*) from store.events")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        common::all_events(&*self.store, n as usize).await
    }

    /// The process manager handles every event it has not seen yet, as it would follow
    /// `$all`.
    async fn follow(&mut self) {
        let events = self.events().await;
        for e in &events[self.handled..] {
            self.process.handle(e).await.unwrap();
        }
        self.handled = events.len();
    }

    async fn project(&self) {
        let events = self.events().await;
        self.runner.apply_batch(&events).await.unwrap();
    }

    async fn dump(&self) -> Vec<String> {
        let mut all = Vec::new();
        for table in TABLES {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "select row(t.*)::text from ledger.{table} t order by 1"
            )))
            .fetch_all(&self.pool)
            .await
            .unwrap();
            all.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
        }
        all
    }

    /// An order of `lines` (SKU, unit price, store), placed, reserved and paid.
    async fn paid_order(&self, lines: &[(&str, i64, Option<Uuid>)]) -> Uuid {
        let id = Uuid::new_v4();
        let place = PlaceOrder {
            order_id: OrderId::new(id),
            user_id: UserId::new(Uuid::new_v4()),
            lines: lines
                .iter()
                .map(|&(sku, price, vendor)| OrderLine {
                    product_id: ProductId::new(Uuid::new_v4()),
                    variant_id: None,
                    sku: Sku::parse(sku).unwrap(),
                    quantity: 1,
                    unit_price: Money::new(price, Currency::USD),
                    price_rules: Vec::new(),
                    vendor_id: vendor.map(VendorId::new),
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
            shipping: Money::new(499, Currency::USD),
            shipping_method: None,
            at: Utc::now(),
        };
        let total: i64 = lines.iter().map(|l| l.1).sum::<i64>() + 499;
        let stream = CommandHandler::<Order>::stream_id(id);
        for command in [
            OrderCommand::Place(Box::new(place)),
            OrderCommand::MarkStockReserved { at: Utc::now() },
            OrderCommand::MarkPaid {
                amount: Money::new(total, Currency::USD),
                payment_reference: "ch_1".into(),
                at: Utc::now(),
            },
        ] {
            self.handlers
                .orders
                .handle(&stream, command, meta())
                .await
                .unwrap();
        }
        id
    }

    async fn balance(&self, vendor: Uuid) -> (i64, i64, i64, i64) {
        sqlx::query_as(
            "select gross, commission + fees, balance, clawback_outstanding
               from ledger.balances where vendor_id = $1",
        )
        .bind(vendor)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn paid_lines_are_booked_by_the_rule_at_payment_clawed_back_after_a_payout_and_rebuilt(
    pool: PgPool,
) {
    let mut shop = Shop::new(pool);
    let h = shop.handlers.clone();
    let (vera, otto) = (Uuid::new_v4(), Uuid::new_v4());
    vendors::apply(
        &h,
        vera,
        NewVendor {
            store_name: "Vera's Lamps".into(),
            slug: Some("vera-lamps".into()),
            contact_email: "vera@example.com".into(),
            payout: Some(("Vera Lumen".into(), "DE89370400440532013000".into())),
            ..NewVendor::default()
        },
        meta(),
    )
    .await
    .unwrap();
    let stacked = CommissionRule {
        percent_bp: 1_000,
        fixed: 30,
        min: 50,
        max: None,
    };
    vendors::change_commission(&h, vera, Some(stacked), meta())
        .await
        .unwrap();

    // Vera's lamp, Otto's mug (a vendor without a store: the default 10%) and the
    // marketplace's own gift card, in one order with shipping.
    let order = shop
        .paid_order(&[
            ("VERA-1", 2_500, Some(vera)),
            ("OTTO-1", 1_000, Some(otto)),
            ("GIFT-1", 500, None),
        ])
        .await;
    // Vera's rule changes after the payment, before the manager gets to it.
    vendors::change_commission(&h, vera, Some(CommissionRule::percent(5_000)), meta())
        .await
        .unwrap();
    shop.follow().await;
    shop.project().await;
    assert_eq!(shop.balance(vera).await, (2_500, 280, 2_220, 0));
    assert_eq!(shop.balance(otto).await, (1_000, 100, 900, 0));
    let (version, source): (i32, String) = sqlx::query_as(
        "select rule_version, rule_source from ledger.sale_lines where vendor_id = $1",
    )
    .bind(vera)
    .fetch_one(&shop.pool)
    .await
    .unwrap();
    assert_eq!((version, source.as_str()), (1, "vendor"));
    let booked: i64 = sqlx::query_scalar("select count(*) from ledger.sale_lines")
        .fetch_one(&shop.pool)
        .await
        .unwrap();
    assert_eq!(booked, 2, "the gift card is the marketplace's own");

    // Handled again from the start (a restart before the checkpoint moved): nothing new.
    let before = shop.events().await.len();
    shop.handled = 0;
    shop.follow().await;
    assert_eq!(shop.events().await.len(), before);

    // Vera is paid; then the whole order is refunded: her line comes back as a clawback,
    // Otto's as a refund from his unpaid balance.
    let provider = TestPayoutProvider::new(shop.pool.clone());
    let paid = ledger::create_payout(&h, &provider, vera, PayoutRequest::default(), meta())
        .await
        .unwrap();
    assert_eq!(paid.payout.status, PayoutStatus::Paid);
    assert_eq!(paid.payout.amount, Money::new(2_220, Currency::USD));
    let err = ledger::create_payout(&h, &provider, otto, PayoutRequest::default(), meta())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ledger::LedgerUseError::VendorNotFound),
        "{err}"
    );
    h.orders
        .handle(
            &CommandHandler::<Order>::stream_id(order),
            OrderCommand::Refund {
                amount: None,
                reason: "arrived broken".into(),
                by: ChangedBy::system(),
                at: Utc::now(),
            },
            meta(),
        )
        .await
        .unwrap();
    shop.follow().await;
    shop.project().await;
    assert_eq!(shop.balance(vera).await, (2_500, 0, -2_220, 2_220));
    assert_eq!(shop.balance(otto).await, (1_000, 0, 0, 0));

    // Every entry balances; each balance is the sum of its entries' effects.
    let unbalanced: i64 = sqlx::query_scalar(
        "select count(*) from (select 1 from ledger.postings group by vendor_id, revision, entry_no
           having sum(case when side = 'debit' then amount else -amount end) <> 0) u",
    )
    .fetch_one(&shop.pool)
    .await
    .unwrap();
    assert_eq!(unbalanced, 0);
    let drift: i64 = sqlx::query_scalar(
        "select count(*) from ledger.balances b
          where b.balance <> (select sum(effect) from ledger.entries e
                               where e.vendor_id = b.vendor_id and e.currency = b.currency)",
    )
    .fetch_one(&shop.pool)
    .await
    .unwrap();
    assert_eq!(drift, 0);

    // A dispute: each line's commission recomputes from the rule it records.
    let lines: Vec<(sqlx::types::Json<CommissionRule>, i64, i64, i64)> =
        sqlx::query_as("select rule, net, commission, fee from ledger.sale_lines")
            .fetch_all(&shop.pool)
            .await
            .unwrap();
    for (rule, net, commission, fee) in lines {
        let again = rule.0.charge(net);
        assert_eq!((again.commission, again.fee), (commission, fee));
    }

    let live = shop.dump().await;
    assert!(live.len() >= 20, "{live:#?}");
    projections::rebuild::rebuild(
        shop.store.clone(),
        &shop.pool,
        Arc::new(LedgerProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(shop.dump().await, live, "rebuilt vs live");
}
