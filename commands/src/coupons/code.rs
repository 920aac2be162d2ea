//! A coupon by its code: the code's `unique` stream names the coupon, whose state the
//! write side holds.

use domain::coupon::{Coupon, CouponState};
use uuid::Uuid;

use super::error::CouponsError;
use crate::handler::CommandHandler;
use crate::handlers::Handlers;
use crate::unique::Kind;

/// Whose `unique` streams map a coupon code to its coupon (`crate::unique`).
pub const COUPON_CODE_KIND: Kind = Kind::public("coupon_code");

/// The coupon `code` (as stored: upper case) names, with its id, if it exists.
pub async fn coupon_by_code(
    handlers: &Handlers,
    code: &str,
) -> Result<Option<(Uuid, CouponState)>, CouponsError> {
    let Some(id) = crate::unique::owner_of(handlers, COUPON_CODE_KIND, code)
        .await
        .map_err(CouponsError::Store)?
    else {
        return Ok(None);
    };
    let (s, _) = handlers
        .coupons
        .load(&CommandHandler::<Coupon>::stream_id(id))
        .await
        .map_err(|e| CouponsError::Failed(e.to_string()))?;
    Ok(s.terms.is_some().then_some((id, s)))
}
