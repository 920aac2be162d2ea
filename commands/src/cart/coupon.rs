//! A coupon by its code, for the cart's use cases: `crate::coupons` finds it, and a failure
//! to read it is the cart's error.

use domain::coupon::CouponState;
use uuid::Uuid;

use super::error::CartUseCaseError;
use crate::coupons::CouponsError;
use crate::handlers::Handlers;

pub use crate::coupons::COUPON_CODE_KIND;

/// The coupon `code` names, with its id, if it exists.
pub async fn coupon_by_code(
    handlers: &Handlers,
    code: &str,
) -> Result<Option<(Uuid, CouponState)>, CartUseCaseError> {
    crate::coupons::coupon_by_code(handlers, code)
        .await
        .map_err(|e| match e {
            CouponsError::Store(e) => CartUseCaseError::Store(e),
            other => CartUseCaseError::Failed(other.to_string()),
        })
}
