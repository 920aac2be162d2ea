//! The orders' back-office pages (issue 25 item 4): `/admin/orders`, a page of orders
//! filtered by status, newest first, from the `orders` read model (the query of
//! `GET /api/v1/orders`); `/admin/orders/{id}`, one order with its lines and its History
//! tab, folded from the order's own events, and a link to its stream in the event log,
//! and its actions (`order_actions`: ship, refund) unless the console is read-only.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use commands::handler::CommandHandler;
use commands::store::{Direction, ReadFrom};
use domain::order::Order;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::confirm;
use super::history::{self, MAX_EVENTS};
use super::links::{stream as stream_link, with_query};
use super::order_actions::OrderAction;
use super::page::{html, layout, money, PageError};
use super::session::Signed;
use crate::auth::STAFF;
use crate::error::ApiError;
use crate::orders::read_model;
use crate::orders::views::OrderView;
use crate::state::AppState;

/// Orders on one page.
const PAGE: i64 = 25;

/// The statuses the filter offers, as the API names them.
const STATUSES: &[&str] = &[
    "pending",
    "awaiting_payment",
    "paid",
    "partially_shipped",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
    "partially_refunded",
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersQuery {
    status: Option<String>,
    offset: Option<i64>,
}

/// `GET /admin/orders`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<OrdersQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let q = q
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = status.filter(|s| !STATUSES.contains(s)) {
        return Err(ApiError::invalid_query("status", format!("no status {s:?}")).into());
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let (total, orders) =
        read_model::page(&state.pool, None, status, "created_at desc", PAGE, offset)
            .await
            .map_err(ApiError::from)?;
    let orders: Vec<OrderView> = orders.into_iter().map(OrderView::from).collect();
    let page_link = |offset: i64| {
        with_query(
            "/admin/orders",
            &[("status", status), ("offset", Some(&offset.to_string()))],
        )
    };
    let body = html! {
        form.filters method="get" action="/admin/orders" role="search" {
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" selected[status.is_none()] { "Any" }
                    @for s in STATUSES {
                        option value=(s) selected[status == Some(*s)] { (s) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        p #count { (total) " orders" @if let Some(s) = status { " " (s) } }
        @if orders.is_empty() {
            p #empty { "No order matches." }
        } @else {
            table #orders {
                caption { "Orders, newest first" }
                thead { tr {
                    th scope="col" { "Order" } th scope="col" { "Placed (UTC)" } th scope="col" { "Status" }
                    th scope="col" { "Payment" } th scope="col" { "Total" } th scope="col" { "Refunded" }
                } }
                tbody {
                    @for o in &orders {
                        tr {
                            td { a.order href=(format!("/admin/orders/{}", o.id)) { (o.id) } }
                            td { time datetime=(o.created_at.to_rfc3339()) { (o.created_at.format("%Y-%m-%d %H:%M")) } }
                            td.status { (o.status) }
                            td { (o.payment_status) }
                            td.num { (money(&o.total)) }
                            td.num { (money(&o.refunded)) }
                        }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if offset > 0 {
                    a #prev rel="prev" href=(page_link((offset - PAGE).max(0))) { "← Newer" }
                }
                @if offset + PAGE < total {
                    a #next rel="next" href=(page_link(offset + PAGE)) { "Older →" }
                }
            }
        }
    };
    Ok(html(
        StatusCode::OK,
        layout("Orders", Some(&signed.viewer()), body),
    ))
}

/// `GET /admin/orders/{id}`
pub async fn one(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let row = read_model::order(&state.pool, id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::NotFound("no such order".into()))?;
    let order = OrderView::from(
        read_model::stored(&state.pool, row)
            .await
            .map_err(ApiError::from)?,
    );
    let stream = CommandHandler::<Order>::stream_id(id);
    // Through the handlers' store, which opens the personal fields it sealed (ADR 0005):
    // the history diffs the order as staff read it.
    let events = state
        .handlers
        .store
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, MAX_EVENTS)
        .await?;
    let changes = history::changes::<Order>(&events, |s| {
        s.placed
            .as_ref()
            .map(|o| serde_json::to_value(OrderView::from(o)).unwrap_or_default())
    })?;
    let body = html! {
        dl.summary {
            dt { "Status" } dd #status { (order.status) }
            dt { "Payment" } dd { (order.payment_status) }
            dt { "Customer" } dd { code { (order.user_id) } }
            dt { "Total" } dd { (money(&order.total)) }
            dt { "Refunded" } dd { (money(&order.refunded)) }
            dt { "Shipping" } dd { (money(&order.shipping)) @if let Some(m) = &order.shipping_method { " (" (m) ")" } }
            dt { "Tracking" } dd { (order.tracking_number.as_deref().unwrap_or("—")) }
            dt { "Events" } dd { a.stream href=(stream_link(&stream)) { (stream) } }
        }
        (confirm::read_only_notice(&state))
        @if !state.config.console_read_only {
            nav.actions aria-label="Actions" {
                @for how in [OrderAction::Ship, OrderAction::Refund] {
                    @if how.offered(&order) {
                        @match how {
                            OrderAction::Ship => a #ship href=(format!("/admin/orders/{id}/ship")) { "Ship…" },
                            OrderAction::Refund => a #refund href=(format!("/admin/orders/{id}/refund")) { "Refund…" },
                        }
                    }
                }
            }
        }
        (lines(&order))
        (history::tab(&changes, events.len() >= MAX_EVENTS))
    };
    Ok(html(
        StatusCode::OK,
        layout(&format!("Order {id}"), Some(&signed.viewer()), body),
    ))
}

fn lines(order: &OrderView) -> Markup {
    html! {
        table #lines {
            caption { "Lines" }
            thead { tr {
                th scope="col" { "SKU" } th scope="col" { "Quantity" } th scope="col" { "Cancelled" }
                th scope="col" { "Unit price" } th scope="col" { "Discount" } th scope="col" { "Tax" }
            } }
            tbody {
                @for i in &order.items {
                    tr {
                        td { (i.sku) }
                        td.num { (i.quantity) }
                        td.num { (i.cancelled) }
                        td.num { (money(&i.price)) }
                        td.num { (money(&i.discount)) }
                        td.num { (money(&i.tax.amount)) }
                    }
                }
            }
        }
    }
}
