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
//!
//! Layout: [`status`] (a return's statuses and dispositions), [`request`] (a new return's
//! input and the lines it takes), [`error`] ([`ReturnError`]); here the commands, events,
//! state and `decide`/`evolve`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{OrderId, ReturnId, UserId};
use crate::money::Money;
use crate::order::ChangedBy;
use crate::value::{line, Sku, MAX_REASON};

mod error;
mod request;
mod status;

pub use error::{ReturnError, MAX_RETURNS};
pub use request::{RequestReturn, ReturnLine, Returnable};
pub use status::{Disposition, ReturnStatus};

use request::{lines_of, required_text};

/// The longest warehouse code.
const MAX_WAREHOUSE: usize = 64;

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
                let lines = lines_of(|sku| s.returned(sku), c)?;
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
