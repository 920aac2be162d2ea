//! The `payments` table of the `orders` read model: one row per order's payment, folded
//! from the payment events of a batch and upserted after the orders are written.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::payment::PaymentEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::projection::column;

/// A `payments` row.
#[derive(sqlx::FromRow)]
struct PaymentRow {
    order_id: Uuid,
    amount: i64,
    currency: String,
    method: Option<String>,
    gateway: Option<String>,
    status: String,
    transaction_id: Option<String>,
    attempts: i32,
    refunded: i64,
    error_code: Option<String>,
    error_message: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl PaymentRow {
    /// Folds one event into the order's row (`None`: no row yet). Captures and refunds of
    /// a payment never authorized nor failed change nothing, as an `update` would not.
    fn fold(row: &mut Option<PaymentRow>, order_id: Uuid, event: &PaymentEvent) {
        match (event, row.as_mut()) {
            (
                PaymentEvent::PaymentAuthorized {
                    amount,
                    method,
                    provider,
                    attempt,
                    at,
                    ..
                },
                existing,
            ) => {
                let (created_at, transaction_id, refunded) = match existing {
                    Some(r) => (r.created_at, r.transaction_id.take(), r.refunded),
                    None => (*at, None, 0),
                };
                *row = Some(PaymentRow {
                    order_id,
                    amount: amount.amount,
                    currency: amount.currency.as_str().to_owned(),
                    method: Some(method.clone()),
                    gateway: Some(provider.clone()),
                    status: "authorized".into(),
                    transaction_id,
                    attempts: *attempt as i32,
                    refunded,
                    error_code: None,
                    error_message: None,
                    created_at,
                    updated_at: *at,
                });
            }
            (
                PaymentEvent::PaymentFailed {
                    code,
                    message,
                    attempt,
                    at,
                    ..
                },
                Some(r),
            ) => {
                r.status = "failed".into();
                r.attempts = *attempt as i32;
                r.error_code = Some(code.clone());
                r.error_message = Some(message.clone());
                r.updated_at = *at;
            }
            (
                PaymentEvent::PaymentFailed {
                    amount,
                    code,
                    message,
                    attempt,
                    at,
                    ..
                },
                None,
            ) => {
                *row = Some(PaymentRow {
                    order_id,
                    amount: amount.amount,
                    currency: amount.currency.as_str().to_owned(),
                    method: None,
                    gateway: None,
                    status: "failed".into(),
                    transaction_id: None,
                    attempts: *attempt as i32,
                    refunded: 0,
                    error_code: Some(code.clone()),
                    error_message: Some(message.clone()),
                    created_at: *at,
                    updated_at: *at,
                });
            }
            (PaymentEvent::PaymentCaptured { reference, at, .. }, Some(r)) => {
                r.status = "captured".into();
                r.transaction_id = Some(reference.clone());
                r.updated_at = *at;
            }
            (PaymentEvent::PaymentRefunded { amount, at, .. }, Some(r)) => {
                r.refunded = r.refunded.saturating_add(amount.amount);
                r.status = if r.refunded >= r.amount {
                    "refunded"
                } else {
                    "partially_refunded"
                }
                .into();
                r.updated_at = *at;
            }
            (PaymentEvent::PaymentCaptured { .. } | PaymentEvent::PaymentRefunded { .. }, None) => {
            }
        }
    }
}

/// Writes a batch's payment events: reads the rows they touch in one query, folds the
/// events in log order, and upserts every changed row in one statement.
pub(super) async fn write(
    tx: &mut PgConnection,
    events: &[(Uuid, PaymentEvent)],
) -> Result<(), sqlx::Error> {
    let mut touched: Vec<Uuid> = events.iter().map(|(id, _)| *id).collect();
    touched.sort_unstable();
    touched.dedup();
    let mut rows: HashMap<Uuid, Option<PaymentRow>> =
        touched.iter().map(|id| (*id, None)).collect();
    let existing: Vec<PaymentRow> = sqlx::query_as(
        "select order_id, amount, currency::text as currency, method, gateway, status,
                transaction_id, attempts, refunded, error_code, error_message, created_at,
                updated_at
           from payments where order_id = any($1)",
    )
    .bind(&touched)
    .fetch_all(&mut *tx)
    .await?;
    for row in existing {
        rows.insert(row.order_id, Some(row));
    }
    for (order_id, event) in events {
        if let Some(row) = rows.get_mut(order_id) {
            PaymentRow::fold(row, *order_id, event);
        }
    }
    // In key order, as every writer of this table locks its rows.
    let rows: Vec<PaymentRow> = touched
        .iter()
        .filter_map(|id| rows.remove(id).flatten())
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&PaymentRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "insert into payments (order_id, amount, currency, method, gateway, status,
             transaction_id, attempts, refunded, error_code, error_message, created_at,
             updated_at)
         select * from unnest($1::uuid[], $2::int8[], $3::text[], $4::text[], $5::text[],
             $6::text[], $7::text[], $8::int4[], $9::int8[], $10::text[], $11::text[],
             $12::timestamptz[], $13::timestamptz[])
         on conflict (order_id) do update set amount = excluded.amount,
             currency = excluded.currency, method = excluded.method,
             gateway = excluded.gateway, status = excluded.status,
             transaction_id = excluded.transaction_id, attempts = excluded.attempts,
             refunded = excluded.refunded, error_code = excluded.error_code,
             error_message = excluded.error_message, created_at = excluded.created_at,
             updated_at = excluded.updated_at",
    )
    .bind(column(&rows, |r| r.order_id))
    .bind(column(&rows, |r| r.amount))
    .bind(column(&rows, |r| r.currency.clone()))
    .bind(col(|r| r.method.clone()))
    .bind(col(|r| r.gateway.clone()))
    .bind(column(&rows, |r| r.status.clone()))
    .bind(col(|r| r.transaction_id.clone()))
    .bind(column(&rows, |r| r.attempts))
    .bind(column(&rows, |r| r.refunded))
    .bind(col(|r| r.error_code.clone()))
    .bind(col(|r| r.error_message.clone()))
    .bind(column(&rows, |r| r.created_at))
    .bind(column(&rows, |r| r.updated_at))
    .execute(&mut *tx)
    .await?;
    Ok(())
}
