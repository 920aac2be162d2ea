//! The returns' answers, and how the use cases' refusals read over HTTP.

use chrono::{DateTime, Utc};
use commands::returns::ReturnsUseError;
use domain::order::OrderError;
use domain::returns::{OrderReturn, ReturnError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, FieldError};
use crate::views::Money;

/// Some quantity of one order line, in a return.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnLineView {
    pub product_id: Uuid,
    pub quantity: u32,
    /// What these units refund.
    pub refund: Money,
    pub sku: String,
    pub variant_id: Option<Uuid>,
}

/// One step of a return.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnStepView {
    pub at: DateTime<Utc>,
    pub by_role: String,
    /// Staff's note, or the reason of a rejection.
    pub note: Option<String>,
    pub status: String,
}

/// A return: some delivered lines of one order, on their way back.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnView {
    /// `restock` or `write_off`, once received.
    pub disposition: Option<String>,
    /// Each step after the request, oldest first.
    pub history: Vec<ReturnStepView>,
    pub id: Uuid,
    pub lines: Vec<ReturnLineView>,
    pub order_id: Uuid,
    /// The provider's reference of the refund, once refunded.
    pub payment_reference: Option<String>,
    pub reason: String,
    /// What the return refunds.
    pub refund: Money,
    pub requested_at: DateTime<Utc>,
    /// `requested`, `approved`, `rejected`, `received` or `refunded`.
    pub status: String,
    pub updated_at: DateTime<Utc>,
    /// Where the goods were received.
    pub warehouse: Option<String>,
}

impl From<&OrderReturn> for ReturnView {
    fn from(r: &OrderReturn) -> Self {
        ReturnView {
            disposition: r.disposition.map(|d| d.as_str().to_owned()),
            history: r
                .history
                .iter()
                .map(|(status, by, note, at)| ReturnStepView {
                    at: *at,
                    by_role: by.role.clone(),
                    note: note.clone(),
                    status: status.as_str().to_owned(),
                })
                .collect(),
            id: r.return_id.as_uuid(),
            lines: r
                .lines
                .iter()
                .map(|l| ReturnLineView {
                    product_id: l.product_id.as_uuid(),
                    quantity: l.quantity,
                    refund: l.refund.into(),
                    sku: l.sku.to_string(),
                    variant_id: l.variant_id.map(|v| v.as_uuid()),
                })
                .collect(),
            order_id: r.order_id.as_uuid(),
            payment_reference: r.payment_reference.clone(),
            reason: r.reason.clone(),
            refund: r.refund.into(),
            requested_at: r.requested_at,
            status: r.status.as_str().to_owned(),
            updated_at: r.updated_at,
            warehouse: r.warehouse.clone(),
        }
    }
}

/// An order's returns, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnList {
    pub items: Vec<ReturnView>,
    pub total: usize,
}

fn refused(code: &'static str, field: String, e: &ReturnError) -> ApiError {
    ApiError::UnprocessableEntity {
        code,
        detail: e.to_string(),
        errors: vec![FieldError::new(field, e.to_string())],
    }
}

impl From<ReturnError> for ApiError {
    fn from(e: ReturnError) -> Self {
        use ReturnError as R;
        match &e {
            R::WindowClosed { line, .. } => {
                refused("return_window_closed", format!("lines[{line}].sku"), &e)
            }
            R::ExceedsReturnable { line, .. } => {
                refused("exceeds_returnable", format!("lines[{line}].quantity"), &e)
            }
            R::NotDelivered { line, .. } => {
                refused("not_delivered", format!("lines[{line}].sku"), &e)
            }
            R::NotOrdered { line, .. } => refused("not_ordered", format!("lines[{line}].sku"), &e),
            R::ZeroQuantity { line } => {
                ApiError::invalid_field(format!("lines[{line}].quantity"), "must be positive")
            }
            R::DuplicateLine { line, .. } => {
                ApiError::invalid_field(format!("lines[{line}].sku"), e.to_string())
            }
            R::NoLines => ApiError::invalid_field("lines", e.to_string()),
            R::InvalidText { field, reason } => ApiError::invalid_field(*field, reason.clone()),
            R::TooManyReturns => ApiError::invalid_field("lines", e.to_string()),
            R::UnknownReturn => ApiError::NotFound(e.to_string()),
            R::AlreadyRequested | R::InvalidTransition { .. } => {
                ApiError::conflict("invalid_status", e.to_string())
            }
            R::RefundMismatch { .. } => ApiError::internal(e),
        }
    }
}

impl From<ReturnsUseError> for ApiError {
    fn from(e: ReturnsUseError) -> Self {
        match e {
            ReturnsUseError::Invalid { field, message } => ApiError::invalid_field(field, message),
            e @ (ReturnsUseError::OrderNotFound | ReturnsUseError::NotFound) => {
                ApiError::NotFound(e.to_string())
            }
            e @ (ReturnsUseError::NotCustomer | ReturnsUseError::NotStaff) => {
                ApiError::Forbidden(e.to_string())
            }
            ReturnsUseError::Rejected(e) => e.into(),
            ReturnsUseError::Order(e @ OrderError::RefundExceedsPaid { .. }) => {
                ApiError::UnprocessableEntity {
                    code: "refund_exceeds_paid",
                    detail: e.to_string(),
                    errors: vec![],
                }
            }
            ReturnsUseError::Order(e) => ApiError::conflict("invalid_status", e.to_string()),
            ReturnsUseError::Stock(e) => ApiError::conflict("stock_not_sold", e.to_string()),
            ReturnsUseError::ProviderFailed(cause) => {
                ApiError::unavailable("payment_provider_unavailable", cause)
            }
            ReturnsUseError::Store(e) => e.into(),
            ReturnsUseError::Failed(cause) => ApiError::internal(cause),
        }
    }
}
