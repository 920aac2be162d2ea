//! Vendors' routes (issue 23): applying for a store, a store's public page, staff's
//! decisions on it and its terms.
//!
//! - [`routes`]: `router()`, the OpenAPI description, and `POST /vendors`,
//!   `GET /vendors/{slug}`, `PUT /vendors/{id}/status`, `PUT /vendors/{id}/terms`.
//! - [`list`]: `GET /vendors`, the approved stores for anyone, any status for staff.
//! - [`orders`]: `GET /vendors/me/orders` and `GET /vendors/{id}/orders`, a store's
//!   sub-orders from the `vendor_orders` read model.
//! - [`dashboard`]: `GET /vendors/me/dashboard` and `GET /vendors/{id}/dashboard`, sales
//!   per day, top products, stock alerts and rating.
//! - [`views`]: the answers, built `From` the write side's store and the read model's
//!   row; and the mapping of the use cases' errors.

pub mod dashboard;
pub mod list;
pub mod orders;
pub mod routes;
pub mod views;

pub use routes::{router, VendorsApi};

use uuid::Uuid;

use crate::auth::{AuthUser, STAFF};
use crate::error::ApiError;

/// `me`: the caller's own store, for a vendor (and staff who own one). A store's id is its
/// owner's account id (ADR 0010).
pub fn own_store(user: &AuthUser) -> Result<Uuid, ApiError> {
    user.require(&[
        domain::user::Role::Vendor,
        domain::user::Role::Staff,
        domain::user::Role::Admin,
    ])?;
    Ok(user.user_id)
}

/// Whether `user` may read store `vendor_id`'s `what` (its ledger, its orders): staff, or
/// the store itself.
pub fn may_read_store(user: &AuthUser, vendor_id: Uuid, what: &str) -> Result<(), ApiError> {
    if STAFF.contains(&user.role) || user.user_id == vendor_id {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "a store's {what} are its own and staff's"
    )))
}
