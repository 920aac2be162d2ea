//! Stock in the back office: `/admin/stock/{sku}/receive` and `/admin/stock/{sku}/adjust`,
//! each a form that is its own confirm step, calling the use cases of
//! `POST /api/v1/inventory/{sku}/receive` and `/adjust` (`commands::inventory`) as the
//! signed-in staff member; then the product's page, once the read models show the change.
//! An adjustment's reason is the command's own (the event keeps it); a receipt's goes to
//! the events' metadata.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use commands::inventory::{self as use_case, StockAdjustment, StockReceipt};
use domain::value::Sku;
use maud::{html, Markup};
use serde::Deserialize;

use super::confirm;
use super::forms::{accepted, answered, given, see_other, whole, Confirmed};
use super::links::segment;
use super::page::{html, layout, PageError};
use super::session::Signed;
use crate::auth::STAFF;
use crate::catalog::views::StockView;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

/// Receive or adjust.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Move {
    Receive,
    Adjust,
}

impl Move {
    fn of(name: &str) -> Result<Move, ApiError> {
        match name {
            "receive" => Ok(Move::Receive),
            "adjust" => Ok(Move::Adjust),
            _ => Err(ApiError::NotFound(format!(
                "no stock action {name:?}: receive or adjust"
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Move::Receive => "receive",
            Move::Adjust => "adjust",
        }
    }
}

/// What the stock forms send.
#[derive(Debug, Default, Deserialize)]
pub struct StockForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
    /// Received units (receive) or the change, signed (adjust).
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    warehouse: String,
}

impl Confirmed for StockForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseQuery {
    warehouse: Option<String>,
}

fn sku_of(raw: &str) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|e| ApiError::invalid_field("sku", e.message))
}

/// Where "Cancel" and a done action lead: the SKU's product, or the console's products.
fn back(stock: Option<&StockView>) -> String {
    match stock
        .and_then(|s| s.levels.as_ref())
        .and_then(|l| l.product_id)
    {
        Some(id) => format!("/admin/products/{id}"),
        None => "/admin/products".into(),
    }
}

/// The form's title and body.
fn page(
    signed: &Signed,
    sku: &Sku,
    stock: Option<&StockView>,
    how: Move,
    f: &StockForm,
) -> (String, Markup) {
    let (title, effect, label, quantity_label) = match how {
        Move::Receive => (
            "Receive stock",
            "Books units that arrived into a warehouse: on hand and available grow by them.",
            "Receive the units",
            "Units received",
        ),
        Move::Adjust => (
            "Adjust stock",
            "Corrects a warehouse's count (a stocktake, damage, loss): a positive change adds units, a negative one takes them away. On hand may not drop below what orders hold.",
            "Adjust the count",
            "Change (e.g. -2 or 5)",
        ),
    };
    let what = html! {
        dl.summary {
            dt { "SKU" } dd { code { (sku.as_str()) } }
            @if let Some(s) = stock {
                dt { "Now" } dd { (s.on_hand) " on hand, " (s.reserved) " reserved, " (s.available) " available" }
            }
        }
        p.effect { (effect) }
    };
    let fields = html! {
        div.field {
            label for="quantity" { (quantity_label) }
            input #quantity name="quantity" type="number" value=(f.quantity) required
                min=[(how == Move::Receive).then_some("1")] step="1";
        }
        div.field {
            label for="warehouse" { "Warehouse code (blank: the default warehouse)" }
            input #warehouse name="warehouse" type="text" value=(f.warehouse) maxlength="64" autocomplete="off";
        }
    };
    let body = confirm::form_with(
        signed,
        &format!("/admin/stock/{}/{}", segment(sku.as_str()), how.name()),
        label,
        &back(stock),
        &f.reason,
        what,
        fields,
    );
    (format!("{title}: {}", sku.as_str()), body)
}

/// `GET /admin/stock/{sku}/{receive|adjust}`
pub async fn form(
    State(state): State<AppState>,
    signed: Signed,
    Path((raw, how)): Path<(String, String)>,
    q: Result<Query<WarehouseQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let how = Move::of(&how)?;
    crate::operations::writable(&state)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let sku = sku_of(&raw)?;
    let stock = crate::catalog::stock_of(&state.pool, &sku).await?;
    let f = StockForm {
        warehouse: q.warehouse.unwrap_or_default(),
        ..StockForm::default()
    };
    let (title, body) = page(&signed, &sku, stock.as_ref(), how, &f);
    Ok(html(
        StatusCode::OK,
        layout(&title, Some(&signed.viewer()), body),
    ))
}

/// `POST /admin/stock/{sku}/{receive|adjust}`
pub async fn act(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path((raw, how)): Path<(String, String)>,
    body: Result<Form<StockForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let how = Move::of(&how)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let sku = sku_of(&raw)?;
    let stock = crate::catalog::stock_of(&state.pool, &sku).await?;
    let result = async {
        let reason = reason?;
        let meta = signed.command_meta(&request, &ip, &reason);
        let warehouse = given(&f.warehouse);
        let done = match how {
            Move::Receive => {
                let quantity = whole("quantity", &f.quantity, 1, i64::from(u32::MAX))?;
                let receipt = StockReceipt {
                    sku: sku.clone(),
                    quantity: quantity as u32,
                    warehouse,
                };
                use_case::receive_stock(&state.handlers, receipt, &meta).await?
            }
            Move::Adjust => {
                let delta = whole("quantity", &f.quantity, -1_000_000_000, 1_000_000_000)?;
                let adjustment = StockAdjustment {
                    sku: sku.clone(),
                    delta,
                    reason: reason.clone(),
                    warehouse,
                };
                use_case::adjust_stock(&state.handlers, adjustment, &meta).await?
            }
        };
        // The product page reads both: the SKU's totals (catalog) and its warehouses
        // (inventory).
        crate::consistency::reached(&state, "inventory", done.position).await?;
        crate::consistency::reached(&state, "catalog", done.position).await?;
        let now = crate::catalog::stock_of(&state.pool, &sku).await?;
        Ok(see_other(&back(now.as_ref().or(stock.as_ref()))))
    }
    .await;
    let (title, again) = page(&signed, &sku, stock.as_ref(), how, &f);
    answered(&signed, &title, result, || again)
}
