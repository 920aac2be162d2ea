//! Returns (issue 22 item 4): a customer sends back some delivered lines of an order,
//! within a window counted from the delivery, with a reason; staff approve (or reject)
//! the return, receive the goods (back to a warehouse's stock, or written off) and refund
//! them.
//!
//! ```text
//! requested ─▶ approved ─▶ received ─▶ refunded
//!     └──────▶ rejected
//! ```
//!
//! The returns of one order are one aggregate in one stream (`returns-<order id>`), beside
//! the order's own: the order as placed is never rewritten, and what may still be returned
//! of a line (what was delivered less what earlier returns took) is decided on one stream,
//! so two returns asked at once cannot both take the last unit. What was delivered, when,
//! and what a unit refunds arrive inside `RequestReturn` ([`Returnable`]): the use case
//! reads the order and its shipments, this module decides.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{OrderId, ProductId, ReturnId, UserId, VariantId};
use crate::money::Money;
use crate::order::ChangedBy;
use crate::value::{line, paragraphs, Sku, MAX_REASON};

/// The most returns one order has.
pub const MAX_RETURNS: usize = 50;
/// The longest warehouse code.
const MAX_WAREHOUSE: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Requested,
    Approved,
    Rejected,
    Received,
    Refunded,
}

impl ReturnStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReturnStatus::Requested => "requested",
            ReturnStatus::Approved => "approved",
            ReturnStatus::Rejected => "rejected",
            ReturnStatus::Received => "received",
            ReturnStatus::Refunded => "refunded",
        }
    }
}

impl std::fmt::Display for ReturnStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What becomes of the goods received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Back on a warehouse's shelf, sellable again.
    Restock,
    /// Damaged or unsellable: not counted in stock.
    WriteOff,
}

impl Disposition {
    pub fn as_str(&self) -> &'static str {
        match self {
            Disposition::Restock => "restock",
            Disposition::WriteOff => "write_off",
        }
    }
}

/// Some quantity of one order line, in a return, and what it refunds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReturnLine {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub quantity: u32,
    /// What the customer paid for these units: their share of the line's price after its
    /// rules, less its discount, with the tax added when prices excluded it.
    pub refund: Money,
}

/// One order line as a new return sees it: when its units arrived, and what they cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returnable {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    /// The line's quantity and what the customer paid for all of it.
    pub ordered: u32,
    pub paid: Money,
    /// Each delivery of some of its units: how many, and when the carrier delivered them.
    pub deliveries: Vec<(u32, DateTime<Utc>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestReturn {
    pub return_id: ReturnId,
    pub order_id: OrderId,
    pub customer: UserId,
    /// The SKUs and quantities asked for, in the client's order.
    pub requested: Vec<(Sku, u32)>,
    pub reason: String,
    /// Every line of the order, with its deliveries.
    pub lines: Vec<Returnable>,
    /// Days after its delivery a unit may be returned (the store's setting).
    pub window_days: u32,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnsCommand {
    Request(Box<RequestReturn>),
    Approve {
        return_id: ReturnId,
        note: Option<String>,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    Reject {
        return_id: ReturnId,
        reason: String,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    Receive {
        return_id: ReturnId,
        warehouse: String,
        disposition: Disposition,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    /// The provider refunded the return's amount.
    RecordRefund {
        return_id: ReturnId,
        amount: Money,
        payment_reference: String,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ReturnsEvent {
    ReturnRequested {
        return_id: ReturnId,
        order_id: OrderId,
        user_id: UserId,
        lines: Vec<ReturnLine>,
        reason: String,
        window_days: u32,
        requested_at: DateTime<Utc>,
    },
    ReturnApproved {
        return_id: ReturnId,
        note: Option<String>,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    ReturnRejected {
        return_id: ReturnId,
        reason: String,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    ReturnReceived {
        return_id: ReturnId,
        warehouse: String,
        disposition: Disposition,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    ReturnRefunded {
        return_id: ReturnId,
        amount: Money,
        payment_reference: String,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
}

crate::domain_event!(ReturnsEvent {
    ReturnRequested,
    ReturnApproved,
    ReturnRejected,
    ReturnReceived,
    ReturnRefunded,
});
impl Upcast for ReturnsEvent {}

/// One return of the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderReturn {
    pub return_id: ReturnId,
    pub order_id: OrderId,
    pub user_id: UserId,
    pub lines: Vec<ReturnLine>,
    pub reason: String,
    pub status: ReturnStatus,
    pub refund: Money,
    pub warehouse: Option<String>,
    pub disposition: Option<Disposition>,
    pub payment_reference: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Each step after the request: status, who, a note or reason, when.
    pub history: Vec<(ReturnStatus, ChangedBy, Option<String>, DateTime<Utc>)>,
}

impl OrderReturn {
    /// Whether the return still holds its units (a rejected one gave them back).
    fn holds(&self) -> bool {
        self.status != ReturnStatus::Rejected
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnsState {
    /// The order's returns, by id.
    pub returns: BTreeMap<ReturnId, OrderReturn>,
}

impl ReturnsState {
    /// How much of `sku` the returns not rejected hold.
    pub fn returned(&self, sku: &Sku) -> u32 {
        self.returns
            .values()
            .filter(|r| r.holds())
            .flat_map(|r| &r.lines)
            .filter(|l| &l.sku == sku)
            .map(|l| l.quantity)
            .sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("the return already exists")]
    AlreadyRequested,
    #[error("no such return")]
    UnknownReturn,
    #[error("an order has at most {MAX_RETURNS} returns")]
    TooManyReturns,
    #[error("a return needs at least one line")]
    NoLines,
    #[error("lines[{line}].quantity: must be positive")]
    ZeroQuantity { line: usize },
    #[error("lines[{line}].sku: {sku} appears twice; add up the quantities")]
    DuplicateLine { line: usize, sku: Sku },
    #[error("lines[{line}].sku: the order has no line {sku}")]
    NotOrdered { line: usize, sku: Sku },
    #[error("lines[{line}].sku: no unit of {sku} has been delivered")]
    NotDelivered { line: usize, sku: Sku },
    #[error("lines[{line}].quantity: {requested} of {sku} asked, {remaining} delivered within the return window and not yet returned")]
    ExceedsReturnable {
        line: usize,
        sku: Sku,
        requested: u32,
        remaining: u32,
    },
    /// Every delivered unit of the line arrived longer ago than the window.
    #[error("lines[{line}].sku: the return window of {sku} closed at {closed_at}")]
    WindowClosed {
        line: usize,
        sku: Sku,
        closed_at: DateTime<Utc>,
    },
    #[error("a return that is {status} cannot be {action}")]
    InvalidTransition {
        status: ReturnStatus,
        action: &'static str,
    },
    #[error("the refund is {given}; the return refunds {due}")]
    RefundMismatch { given: Money, due: Money },
    #[error("{field}: {reason}")]
    InvalidText { field: &'static str, reason: String },
}

impl From<crate::value::InvalidValue> for ReturnError {
    fn from(e: crate::value::InvalidValue) -> Self {
        ReturnError::InvalidText {
            field: e.field,
            reason: e.message,
        }
    }
}

fn required_text(field: &'static str, raw: &str) -> Result<String, ReturnError> {
    let s = paragraphs(field, raw, MAX_REASON)?;
    if s.is_empty() {
        return Err(ReturnError::InvalidText {
            field,
            reason: "is required".into(),
        });
    }
    Ok(s)
}

/// What `quantity` of the line's `ordered` units refund of `paid` (rounded down: a
/// return of every unit refunds all of it).
fn share(paid: Money, quantity: u32, ordered: u32) -> Money {
    let amount = i128::from(paid.amount) * i128::from(quantity) / i128::from(ordered.max(1));
    Money::new(i64::try_from(amount).unwrap_or(0), paid.currency)
}

/// The lines of a new return: each asked SKU matched with its order line, never more than
/// was delivered within the window less what earlier returns hold.
fn lines_of(s: &ReturnsState, c: &RequestReturn) -> Result<Vec<ReturnLine>, ReturnError> {
    if c.requested.is_empty() {
        return Err(ReturnError::NoLines);
    }
    let window = Duration::days(i64::from(c.window_days));
    let mut lines = Vec::with_capacity(c.requested.len());
    for (i, (sku, quantity)) in c.requested.iter().enumerate() {
        if *quantity == 0 {
            return Err(ReturnError::ZeroQuantity { line: i });
        }
        if c.requested[..i].iter().any(|(s, _)| s == sku) {
            return Err(ReturnError::DuplicateLine {
                line: i,
                sku: sku.clone(),
            });
        }
        let Some(ordered) = c.lines.iter().find(|l| &l.sku == sku) else {
            return Err(ReturnError::NotOrdered {
                line: i,
                sku: sku.clone(),
            });
        };
        if ordered.deliveries.is_empty() {
            return Err(ReturnError::NotDelivered {
                line: i,
                sku: sku.clone(),
            });
        }
        let in_window: u32 = ordered
            .deliveries
            .iter()
            .filter(|(_, at)| c.at <= *at + window)
            .map(|(q, _)| q)
            .sum();
        if in_window == 0 {
            let last = ordered.deliveries.iter().map(|(_, at)| *at).max();
            return Err(ReturnError::WindowClosed {
                line: i,
                sku: sku.clone(),
                closed_at: last.unwrap_or(c.at) + window,
            });
        }
        // Units returned earlier are counted against the latest deliveries first: a
        // customer is never refused a unit the window still covers.
        let delivered: u32 = ordered.deliveries.iter().map(|(q, _)| q).sum();
        let returned = s.returned(sku);
        let remaining = in_window.min(delivered.saturating_sub(returned));
        if *quantity > remaining {
            return Err(ReturnError::ExceedsReturnable {
                line: i,
                sku: sku.clone(),
                requested: *quantity,
                remaining,
            });
        }
        lines.push(ReturnLine {
            product_id: ordered.product_id,
            variant_id: ordered.variant_id,
            sku: sku.clone(),
            quantity: *quantity,
            refund: share(ordered.paid, *quantity, ordered.ordered),
        });
    }
    Ok(lines)
}

pub struct OrderReturns;

/// Moves a return to `status`, recording who and when.
fn step(
    s: &mut ReturnsState,
    id: &ReturnId,
    status: ReturnStatus,
    by: &ChangedBy,
    note: Option<String>,
    at: DateTime<Utc>,
) {
    if let Some(r) = s.returns.get_mut(id) {
        r.status = status;
        r.updated_at = at;
        r.history.push((status, by.clone(), note, at));
    }
}

impl Aggregate for OrderReturns {
    const CATEGORY: &'static str = "returns";
    type State = ReturnsState;
    type Command = ReturnsCommand;
    type Event = ReturnsEvent;
    type Error = ReturnError;

    fn decide(s: &ReturnsState, cmd: &ReturnsCommand) -> Result<Vec<ReturnsEvent>, ReturnError> {
        use ReturnStatus as S;
        use ReturnsCommand as C;
        use ReturnsEvent as E;
        let find = |id: &ReturnId| s.returns.get(id).ok_or(ReturnError::UnknownReturn);
        let refuse = |r: &OrderReturn, action| ReturnError::InvalidTransition {
            status: r.status,
            action,
        };
        match cmd {
            C::Request(c) => {
                if s.returns.contains_key(&c.return_id) {
                    return Err(ReturnError::AlreadyRequested);
                }
                if s.returns.len() >= MAX_RETURNS {
                    return Err(ReturnError::TooManyReturns);
                }
                let reason = required_text("reason", &c.reason)?;
                let lines = lines_of(s, c)?;
                Ok(vec![E::ReturnRequested {
                    return_id: c.return_id,
                    order_id: c.order_id,
                    user_id: c.customer,
                    lines,
                    reason,
                    window_days: c.window_days,
                    requested_at: c.at,
                }])
            }
            C::Approve {
                return_id,
                note,
                by,
                at,
            } => {
                let r = find(return_id)?;
                match r.status {
                    S::Requested => Ok(vec![E::ReturnApproved {
                        return_id: *return_id,
                        note: crate::value::optional_paragraphs(
                            "note",
                            note.as_deref(),
                            MAX_REASON,
                        )?,
                        by: by.clone(),
                        at: *at,
                    }]),
                    S::Approved => Ok(vec![]),
                    _ => Err(refuse(r, "approved")),
                }
            }
            C::Reject {
                return_id,
                reason,
                by,
                at,
            } => {
                let r = find(return_id)?;
                match r.status {
                    S::Requested => Ok(vec![E::ReturnRejected {
                        return_id: *return_id,
                        reason: required_text("note", reason)?,
                        by: by.clone(),
                        at: *at,
                    }]),
                    S::Rejected => Ok(vec![]),
                    _ => Err(refuse(r, "rejected")),
                }
            }
            C::Receive {
                return_id,
                warehouse,
                disposition,
                by,
                at,
            } => {
                let r = find(return_id)?;
                match r.status {
                    S::Approved => {
                        let warehouse = line("warehouse", warehouse, MAX_WAREHOUSE)?;
                        if warehouse.is_empty() {
                            return Err(ReturnError::InvalidText {
                                field: "warehouse",
                                reason: "is required".into(),
                            });
                        }
                        Ok(vec![E::ReturnReceived {
                            return_id: *return_id,
                            warehouse,
                            disposition: *disposition,
                            by: by.clone(),
                            at: *at,
                        }])
                    }
                    S::Received | S::Refunded => Ok(vec![]),
                    _ => Err(refuse(r, "received")),
                }
            }
            C::RecordRefund {
                return_id,
                amount,
                payment_reference,
                by,
                at,
            } => {
                let r = find(return_id)?;
                match r.status {
                    S::Received => {
                        if *amount != r.refund {
                            return Err(ReturnError::RefundMismatch {
                                given: *amount,
                                due: r.refund,
                            });
                        }
                        Ok(vec![E::ReturnRefunded {
                            return_id: *return_id,
                            amount: *amount,
                            payment_reference: payment_reference.clone(),
                            by: by.clone(),
                            at: *at,
                        }])
                    }
                    S::Refunded => Ok(vec![]),
                    _ => Err(refuse(r, "refunded")),
                }
            }
        }
    }

    fn evolve(mut s: ReturnsState, event: &ReturnsEvent) -> ReturnsState {
        use ReturnsEvent as E;
        match event {
            E::ReturnRequested {
                return_id,
                order_id,
                user_id,
                lines,
                reason,
                requested_at,
                ..
            } => {
                let refund = lines
                    .iter()
                    .skip(1)
                    .fold(lines.first().map(|l| l.refund), |sum, l| {
                        sum.and_then(|s| s.checked_add(l.refund).ok())
                    })
                    .unwrap_or(Money::zero(crate::money::Currency::USD));
                s.returns.insert(
                    *return_id,
                    OrderReturn {
                        return_id: *return_id,
                        order_id: *order_id,
                        user_id: *user_id,
                        lines: lines.clone(),
                        reason: reason.clone(),
                        status: ReturnStatus::Requested,
                        refund,
                        warehouse: None,
                        disposition: None,
                        payment_reference: None,
                        requested_at: *requested_at,
                        updated_at: *requested_at,
                        history: vec![],
                    },
                );
            }
            E::ReturnApproved {
                return_id,
                note,
                by,
                at,
            } => step(
                &mut s,
                return_id,
                ReturnStatus::Approved,
                by,
                note.clone(),
                *at,
            ),
            E::ReturnRejected {
                return_id,
                reason,
                by,
                at,
            } => step(
                &mut s,
                return_id,
                ReturnStatus::Rejected,
                by,
                Some(reason.clone()),
                *at,
            ),
            E::ReturnReceived {
                return_id,
                warehouse,
                disposition,
                by,
                at,
            } => {
                step(&mut s, return_id, ReturnStatus::Received, by, None, *at);
                if let Some(r) = s.returns.get_mut(return_id) {
                    r.warehouse = Some(warehouse.clone());
                    r.disposition = Some(*disposition);
                }
            }
            E::ReturnRefunded {
                return_id,
                payment_reference,
                by,
                at,
                ..
            } => {
                step(&mut s, return_id, ReturnStatus::Refunded, by, None, *at);
                if let Some(r) = s.returns.get_mut(return_id) {
                    r.payment_reference = Some(payment_reference.clone());
                }
            }
        }
        s
    }
}
