//! Huge amounts in the log (issue 18, item 9). The rules now refuse a price of 2^62, but a
//! log written before the bounds can hold one: a cart of four such items (2^64), two paid
//! orders on one day (2^63 of revenue). Every read model applies those events, saturating
//! its sums at the bounds of `bigint`, and parks none: before, the carts model parked the
//! cart's event ("bigint out of range") and the others overflowed `i64`.

mod common;

use std::sync::Arc;

use chrono::Utc;
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, ExpectedVersion, NewEvent};
use common::all_events;
use domain::aggregate::DomainEvent;
use domain::cart::{CartEvent, CartLine};
use domain::id::{CartItemId, OrderId, ProductId, UserId};
use domain::money::{Currency, Money};
use domain::order::{OrderEvent, OrderLineV1, OrderTotals};
use domain::value::{Quantity, Sku};
use projections::Runner;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const HUGE: i64 = 1 << 62;

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

/// Appends `events` to `stream` as they were stored before the bounds: outside `decide`.
async fn append<E: DomainEvent>(store: &dyn EventStore, stream: &str, events: &[E]) {
    let at = Utc::now().to_rfc3339();
    let events = events
        .iter()
        .map(|e| NewEvent {
            id: Uuid::new_v4(),
            event_type: e.event_type().into(),
            schema_version: e.schema_version(),
            data: e.to_data(),
            metadata: json!({ "occurred_at": at }),
        })
        .collect();
    store
        .append(stream, ExpectedVersion::Any, events)
        .await
        .unwrap();
}

fn huge_order(order_id: Uuid, user_id: Uuid) -> Vec<OrderEvent> {
    let at = Utc::now();
    let totals = OrderTotals {
        subtotal: usd(HUGE),
        discount: usd(0),
        tax: usd(0),
        shipping: usd(0),
        total: usd(HUGE),
    };
    // As a v1 event from before the bounds reads today: upcast, its sums saturated.
    let lines = domain::order::upcast_lines(
        &[OrderLineV1 {
            product_id: ProductId::new(Uuid::new_v4()),
            sku: Sku::parse("GOLD-1").unwrap(),
            quantity: 4,
            unit_price: usd(HUGE),
        }],
        &totals,
    );
    vec![
        OrderEvent::OrderPlaced {
            order_id: OrderId::new(order_id),
            user_id: UserId::new(user_id),
            lines,
            totals,
            shipping_address: serde_json::from_value(json!({
                "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
            }))
            .unwrap(),
            billing_address: None,
            payment_method: "card".into(),
            notes: None,
            coupon_code: None,
            shipping_method: None,
            placed_at: at,
        },
        OrderEvent::OrderStockReserved { at },
        OrderEvent::OrderPaid {
            amount: usd(HUGE),
            payment_reference: "ch_1".into(),
            at,
        },
    ]
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn huge_amounts_from_before_the_bounds_park_nothing(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let cart = Uuid::new_v4();
    let line = |quantity| CartLine {
        item_id: CartItemId::new(Uuid::new_v4()),
        product_id: ProductId::new(Uuid::new_v4()),
        variant_id: None,
        sku: Sku::parse("GOLD-1").unwrap(),
        quantity: Quantity::new(quantity).unwrap(),
        unit_price: usd(HUGE),
    };
    let second = line(1);
    append(
        &*store,
        &format!("cart-{cart}"),
        &[
            CartEvent::CartItemAdded {
                line: line(4),
                at: Utc::now(),
            },
            CartEvent::CartItemAdded {
                line: second.clone(),
                at: Utc::now(),
            },
            CartEvent::CartItemQuantityChanged {
                item_id: second.item_id,
                quantity: Quantity::new(3).unwrap(),
            },
        ],
    )
    .await;
    let user = Uuid::new_v4();
    let (first, other) = (Uuid::new_v4(), Uuid::new_v4());
    append(&*store, &format!("order-{first}"), &huge_order(first, user)).await;
    append(&*store, &format!("order-{other}"), &huge_order(other, user)).await;
    append(
        &*store,
        &format!("order-{other}"),
        &[OrderEvent::OrderRefunded {
            amount: usd(HUGE),
            reason: "r".into(),
            full: true,
            by: domain::order::ChangedBy::system(),
            at: Utc::now(),
        }],
    )
    .await;
    let events = all_events(&*store, 10).await;

    for projection in projections::all() {
        let name = projection.name();
        let runner = Runner::new(store.clone(), pool.clone(), projection);
        runner
            .apply_until_parked(&events)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let parked: Vec<(String, String)> =
        sqlx::query_as("select projection, error from projections.parked")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(parked, vec![], "no read model parks a huge amount");

    let (subtotal, total, count): (i64, i64, i32) =
        sqlx::query_as("select subtotal, total, item_count from carts.carts where cart_id = $1")
            .bind(cart)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (subtotal, total, count),
        (i64::MAX, i64::MAX, 7),
        "saturated, not wrapped"
    );
    let (revenue, refunded): (i64, i64) =
        sqlx::query_as("select gross_revenue, refunded_amount from analytics.daily_sales")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((revenue, refunded), (i64::MAX, HUGE));
    let line: i64 = sqlx::query_scalar("select subtotal from orders.order_items limit 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(line, i64::MAX, "4 x 2^62 saturates");
}
