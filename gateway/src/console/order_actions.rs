//! Shipping and refunding an order from its page (issue 25 item 4):
//! `/admin/orders/{id}/ship` and `/admin/orders/{id}/refund`, each a confirm step (what
//! will happen, the values, a required reason, the session's token), refused when the
//! console is read-only. They call the use cases of `PUT /api/v1/orders/{id}/status`
//! (`shipped`) and `POST /api/v1/orders/{id}/refund` as the signed-in staff member; the
//! reason is the shipment's note or the refund's reason, which the order's events keep and
//! its History tab shows.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use commands::orders::{Caller, RefundRequest, StatusRequest};
use domain::money::{Currency, Money as DomainMoney};
use domain::order::OrderStatus;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::confirm;
use super::forms::{accepted, amount, answered, given, see_other, Confirmed};
use super::page::money;
use super::page::{html, layout, PageError};
use super::session::Signed;
use crate::auth::STAFF;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::orders::read_model;
use crate::orders::views::OrderView;
use crate::state::AppState;

/// Ship or refund.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    Ship,
    Refund,
}

impl OrderAction {
    fn of(name: &str) -> Result<OrderAction, ApiError> {
        match name {
            "ship" => Ok(OrderAction::Ship),
            "refund" => Ok(OrderAction::Refund),
            _ => Err(ApiError::NotFound(format!(
                "no order action {name:?}: ship or refund"
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            OrderAction::Ship => "ship",
            OrderAction::Refund => "refund",
        }
    }

    /// Whether the order's page offers it: shipping what is paid and not all shipped,
    /// refunding what was paid and not all refunded. The use case decides; this only
    /// spares a link that would be refused.
    pub fn offered(self, order: &OrderView) -> bool {
        match self {
            OrderAction::Ship => matches!(order.status.as_str(), "paid" | "partially_shipped"),
            OrderAction::Refund => {
                matches!(
                    order.payment_status.as_str(),
                    "captured" | "partially_refunded"
                ) && order.refunded.amount < order.total.amount
            }
        }
    }
}

/// What the order forms send.
#[derive(Debug, Default, Deserialize)]
pub struct OrderForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    tracking_number: String,
    /// A refund's amount; blank: all that is left.
    #[serde(default)]
    amount: String,
}

impl Confirmed for OrderForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

async fn order(state: &AppState, id: Uuid) -> Result<OrderView, ApiError> {
    let row = read_model::order(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such order".into()))?;
    Ok(OrderView::from(read_model::stored(&state.pool, row).await?))
}

fn page(signed: &Signed, o: &OrderView, how: OrderAction, f: &OrderForm) -> Markup {
    let left = DomainMoney::new(
        o.total.amount - o.refunded.amount,
        Currency::parse(&o.total.currency).unwrap_or(Currency::USD),
    );
    let what = html! {
        dl.summary {
            dt { "Order" } dd { code { (o.id) } }
            dt { "Status" } dd { (o.status) }
            dt { "Total" } dd { (money(&o.total)) }
            dt { "Refunded" } dd { (money(&o.refunded)) }
        }
        p.effect {
            @match how {
                OrderAction::Ship => "Marks the order shipped, with its tracking number; the customer is told.",
                OrderAction::Refund => { "Gives money back to the customer's payment: the amount you enter, or all that is left (" (left.to_string()) ")." }
            }
        }
    };
    let fields = match how {
        OrderAction::Ship => html! {
            div.field {
                label for="tracking_number" { "Tracking number" }
                input #tracking_number name="tracking_number" type="text" value=(f.tracking_number) maxlength="100" autocomplete="off";
            }
        },
        OrderAction::Refund => html! {
            div.field {
                label for="amount" { "Amount (" (o.total.currency) "; blank: all that is left)" }
                input #amount name="amount" type="text" inputmode="decimal" value=(f.amount) placeholder=(format!("{}.{:02}", left.amount / 100, left.amount % 100));
            }
        },
    };
    let label = match how {
        OrderAction::Ship => "Mark it shipped",
        OrderAction::Refund => "Refund",
    };
    confirm::form_with(
        signed,
        &format!("/admin/orders/{}/{}", o.id, how.name()),
        label,
        &format!("/admin/orders/{}", o.id),
        &f.reason,
        what,
        fields,
    )
}

impl OrderAction {
    fn title(self) -> &'static str {
        match self {
            OrderAction::Ship => "Ship the order",
            OrderAction::Refund => "Refund the order",
        }
    }
}

/// `GET /admin/orders/{id}/{ship|refund}`
pub async fn form(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, how)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let how = OrderAction::of(&how)?;
    crate::operations::writable(&state)?;
    let o = order(&state, id).await?;
    let body = page(&signed, &o, how, &OrderForm::default());
    Ok(html(
        StatusCode::OK,
        layout(how.title(), Some(&signed.viewer()), body),
    ))
}

/// `POST /admin/orders/{id}/{ship|refund}`
pub async fn act(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path((id, how)): Path<(Uuid, String)>,
    body: Result<Form<OrderForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let how = OrderAction::of(&how)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let o = order(&state, id).await?;
    let caller = Caller {
        user_id: signed.user_id,
        role: signed.role,
    };
    let result = async {
        let reason = reason?;
        let meta = signed.command_meta(&request, &ip, &reason);
        let done = match how {
            OrderAction::Ship => {
                let change = StatusRequest {
                    status: OrderStatus::Shipped,
                    tracking_number: given(&f.tracking_number),
                    notes: Some(reason.clone()),
                };
                commands::orders::change_order_status(&state.handlers, &caller, id, change, meta)
                    .await?
            }
            OrderAction::Refund => {
                let currency = Currency::parse(&o.total.currency).map_err(ApiError::internal)?;
                let amount = match given(&f.amount) {
                    Some(text) => Some(DomainMoney::new(amount("amount", &text)?, currency)),
                    None => None,
                };
                let refund = RefundRequest {
                    amount,
                    reason: reason.clone(),
                };
                commands::orders::refund_order(&state.handlers, &caller, id, refund, meta).await?
            }
        };
        crate::consistency::reached(&state, "orders", done.position).await?;
        Ok(see_other(&format!("/admin/orders/{id}")))
    }
    .await;
    answered(&signed, how.title(), result, || page(&signed, &o, how, &f))
}
