//! The cart expiry process against a real store and read model: an idle cart expires after
//! its window (a guest's shorter than a customer's), a cart that changed since the read
//! model saw it is left alone, and two sweeps, at once or one after the other, expire a
//! cart once.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::handlers::Handlers;
use commands::store::postgres::PgEventStore;
use commands::store::{Direction, EventStore, ReadFrom};
use domain::cart::{Cart, CartCommand, CartLine};
use domain::id::{CartItemId, ProductId};
use domain::money::{Currency, Money};
use domain::value::{Quantity, Sku};
use projections::cart_expiry::{sweep, CartTtl};
use projections::carts::CartsProjection;
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

const TTL: CartTtl = CartTtl {
    guest: Duration::from_secs(3_600),
    user: Duration::from_secs(2 * 3_600),
    empty: Duration::from_secs(1_800),
};

fn add(sku: &str) -> CartCommand {
    CartCommand::AddItem {
        line: CartLine {
            item_id: CartItemId::new(Uuid::new_v4()),
            product_id: ProductId::new(Uuid::new_v4()),
            variant_id: None,
            sku: Sku::parse(sku).unwrap(),
            quantity: Quantity::new(1).unwrap(),
            unit_price: Money::new(1_000, Currency::USD),
        },
        at: Utc::now(),
    }
}

struct Shop {
    store: Arc<dyn EventStore>,
    handlers: Arc<Handlers>,
    runner: Runner,
    pool: PgPool,
}

impl Shop {
    fn new(pool: PgPool) -> Shop {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let master = commands::privacy::MasterKey::from_bytes([7; 32]);
        let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
        Shop {
            handlers: Handlers::new(&store, keys, 100),
            runner: Runner::new(store.clone(), pool.clone(), Arc::new(CartsProjection)),
            store,
            pool,
        }
    }

    async fn cart(&self, cart: Uuid, user: Option<Uuid>, command: CartCommand) {
        let id = Uuid::new_v4();
        let actor = Actor {
            user_id: user,
            role: "customer".into(),
        };
        self.handlers
            .carts
            .handle(
                &CommandHandler::<Cart>::stream_id(cart),
                command,
                CommandMeta::new(id, id, actor, Utc::now()),
            )
            .await
            .unwrap();
    }

    async fn project(&self) {
        let n: i64 = sqlx::query_scalar("select count(*) from store.events")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let events = common::all_events(&*self.store, n as usize).await;
        self.runner.apply_batch(&events).await.unwrap();
    }

    async fn events_of(&self, cart: Uuid) -> Vec<String> {
        self.store
            .read_stream(
                &CommandHandler::<Cart>::stream_id(cart),
                ReadFrom::End,
                Direction::Forwards,
                100,
            )
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    async fn lines(&self, cart: Uuid) -> usize {
        let (s, _) = self
            .handlers
            .carts
            .load(&CommandHandler::<Cart>::stream_id(cart))
            .await
            .unwrap();
        s.lines.len()
    }
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn idle_carts_expire_by_their_window_and_active_ones_stay(pool: PgPool) {
    let shop = Shop::new(pool);
    let (guest, user, busy) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    shop.cart(guest, None, add("MUG-1")).await;
    shop.cart(user, Some(user), add("MUG-1")).await;
    shop.cart(busy, None, add("MUG-1")).await;
    shop.project().await;
    // The busy guest comes back; the read model has not seen it yet.
    shop.cart(busy, None, add("TEE-M")).await;

    // Nothing is idle yet.
    assert_eq!(
        sweep(&shop.handlers, &shop.pool, TTL, Utc::now())
            .await
            .unwrap(),
        0
    );

    // 90 minutes on: past a guest's hour, inside a customer's two. Two sweeps at once
    // and a third after them expire the idle guest's cart once.
    let later = Utc::now() + TimeDelta::minutes(90);
    let (a, b) = tokio::join!(
        sweep(&shop.handlers, &shop.pool, TTL, later),
        sweep(&shop.handlers, &shop.pool, TTL, later)
    );
    let again = sweep(&shop.handlers, &shop.pool, TTL, later).await.unwrap();
    assert!(
        a.unwrap() + b.unwrap() + again <= 2,
        "only the guest's cart may expire"
    );
    assert_eq!(
        shop.events_of(guest).await,
        ["CartItemAdded", "CartExpired"],
        "expired once"
    );
    assert_eq!(shop.lines(guest).await, 0);
    assert_eq!(
        shop.events_of(user).await,
        ["CartItemAdded"],
        "a customer's window is longer"
    );
    assert_eq!(
        shop.events_of(busy).await,
        ["CartItemAdded", "CartItemAdded"],
        "a cart changed since the read model looked is not idle"
    );
    assert_eq!(shop.lines(busy).await, 2);

    // The read model shows the expiry; three hours on, the customer's cart goes too.
    shop.project().await;
    let (items, revision): (i64, Option<i64>) = sqlx::query_as(
        "select (select count(*) from carts.cart_items where cart_id = $1), revision
           from carts.carts where cart_id = $1",
    )
    .bind(guest)
    .fetch_one(&shop.pool)
    .await
    .unwrap();
    assert_eq!((items, revision), (0, Some(1)));
    let much_later = Utc::now() + TimeDelta::hours(3);
    assert_eq!(
        sweep(&shop.handlers, &shop.pool, TTL, much_later)
            .await
            .unwrap(),
        2,
        "the customer's and the busy guest's carts, not the expired one again"
    );
    assert_eq!(shop.events_of(user).await, ["CartItemAdded", "CartExpired"]);
    assert_eq!(shop.lines(busy).await, 0);
}
