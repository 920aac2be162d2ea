//! [`Caller`]: who acts on an order, and [`visible_order`], the order if they may.

use domain::order::{ChangedBy, Order, PlacedOrder};
use domain::user::Role;
use uuid::Uuid;

use super::error::OrdersError;
use crate::handler::CommandHandler;
use crate::handlers::Handlers;
use crate::store::Position;

/// The signed-in user a use case acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Uuid,
    pub role: Role,
}

impl Caller {
    /// Staff and admins act for the shop: they see and move every order.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Staff | Role::Admin)
    }

    /// The caller as an order's status history records them.
    pub fn changed_by(&self) -> ChangedBy {
        ChangedBy {
            user_id: Some(self.user_id.into()),
            role: self.role.as_str().into(),
        }
    }
}

/// What an order use case answers: the order after the command, and where the command's
/// events sit in `$all` (`None` when it appended nothing), for read-your-writes.
#[derive(Debug, Clone)]
pub struct OrderOutcome {
    pub order: PlacedOrder,
    pub position: Option<Position>,
}

/// The order, if the caller may act on it: its customer or staff. Others learn nothing,
/// not even that it exists.
pub async fn visible_order(
    handlers: &Handlers,
    caller: &Caller,
    order_id: Uuid,
) -> Result<PlacedOrder, OrdersError> {
    let (s, _) = handlers
        .orders
        .load(&CommandHandler::<Order>::stream_id(order_id))
        .await?;
    let order = s.placed.ok_or(OrdersError::NotFound)?;
    if order.user_id.as_uuid() != caller.user_id && !caller.is_staff() {
        return Err(OrdersError::NotFound);
    }
    Ok(order)
}
