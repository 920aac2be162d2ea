//! Staff's coupon use cases: create (the code claimed first, given back if the coupon is
//! refused), change the terms, deactivate and reactivate.

use domain::catalog::{Category, Product};
use domain::coupon::{checked_terms, Coupon, CouponCommand, CouponState, CouponTerms};
use domain::id::CouponId;
use uuid::Uuid;

use super::code::{coupon_by_code, COUPON_CODE_KIND};
use super::error::CouponsError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::Position;

/// The coupon as a command left it.
#[derive(Debug, Clone)]
pub struct CouponDecided {
    pub coupon_id: Uuid,
    pub state: CouponState,
    /// Where the command's last event sits in `$all`; `None` when nothing was appended.
    pub position: Option<Position>,
}

/// Every product and category the scope names exists, so a typo does not make a coupon
/// that can never apply.
async fn check_scope(handlers: &Handlers, terms: &CouponTerms) -> Result<(), CouponsError> {
    for (i, id) in terms.scope.product_ids.iter().enumerate() {
        let (p, _) = handlers
            .products
            .load(&CommandHandler::<Product>::stream_id(id))
            .await
            .map_err(|e| CouponsError::Failed(e.to_string()))?;
        if p.created.is_none() {
            return Err(CouponsError::invalid(
                format!("scope.product_ids[{i}]"),
                "no such product",
            ));
        }
    }
    for (i, id) in terms.scope.category_ids.iter().enumerate() {
        let (c, _) = handlers
            .categories
            .load(&CommandHandler::<Category>::stream_id(id))
            .await
            .map_err(|e| CouponsError::Failed(e.to_string()))?;
        if c.category_id.is_none() {
            return Err(CouponsError::invalid(
                format!("scope.category_ids[{i}]"),
                "no such category",
            ));
        }
    }
    Ok(())
}

fn checked(terms: &CouponTerms) -> Result<CouponTerms, CouponsError> {
    checked_terms(terms).map_err(|e| match e {
        domain::coupon::CouponError::Invalid { field, message } => {
            CouponsError::invalid(field, message)
        }
        other => CouponsError::invalid("code", other),
    })
}

/// Creates a coupon with `terms`, its code claimed for it.
#[tracing::instrument(skip_all, err)]
pub async fn create_coupon(
    handlers: &Handlers,
    terms: CouponTerms,
    meta: &CommandMeta,
) -> Result<CouponDecided, CouponsError> {
    // The terms are checked before the code is claimed: a refused coupon claims nothing.
    let terms = checked(&terms)?;
    check_scope(handlers, &terms).await?;
    let coupon_id = Uuid::new_v4();
    crate::unique::claim(handlers, COUPON_CODE_KIND, &terms.code, coupon_id, meta).await?;
    let stream = CommandHandler::<Coupon>::stream_id(coupon_id);
    let create = CouponCommand::Create {
        coupon_id: CouponId::new(coupon_id),
        terms: terms.clone(),
    };
    let handled = match handlers.coupons.handle(&stream, create, meta.clone()).await {
        Ok(h) => h,
        Err(e) => {
            if let Err(release) =
                crate::unique::release(handlers, COUPON_CODE_KIND, &terms.code, coupon_id, meta)
                    .await
            {
                tracing::error!(error = %release, "could not give a refused coupon's code back");
            }
            return Err(e.into());
        }
    };
    decided(handlers, coupon_id, handled.position).await
}

async fn decided(
    handlers: &Handlers,
    coupon_id: Uuid,
    position: Option<Position>,
) -> Result<CouponDecided, CouponsError> {
    let (state, _) = handlers
        .coupons
        .load(&CommandHandler::<Coupon>::stream_id(coupon_id))
        .await
        .map_err(|e| CouponsError::Failed(e.to_string()))?;
    Ok(CouponDecided {
        coupon_id,
        state,
        position,
    })
}

/// Sends `command` to the coupon `code` names.
async fn command(
    handlers: &Handlers,
    code: &str,
    command: CouponCommand,
    meta: &CommandMeta,
) -> Result<CouponDecided, CouponsError> {
    let code = code.trim().to_uppercase();
    let Some((coupon_id, _)) = coupon_by_code(handlers, &code).await? else {
        return Err(CouponsError::NotFound);
    };
    let stream = CommandHandler::<Coupon>::stream_id(coupon_id);
    let handled = handlers
        .coupons
        .handle(&stream, command, meta.clone())
        .await?;
    decided(handlers, coupon_id, handled.position).await
}

/// Replaces the terms of the coupon `code`; the code itself stays.
#[tracing::instrument(skip_all, err)]
pub async fn update_coupon(
    handlers: &Handlers,
    code: &str,
    terms: CouponTerms,
    meta: &CommandMeta,
) -> Result<CouponDecided, CouponsError> {
    let code = code.trim().to_uppercase();
    if coupon_by_code(handlers, &code).await?.is_none() {
        return Err(CouponsError::NotFound);
    }
    let terms = checked(&CouponTerms {
        code: code.clone(),
        ..terms
    })?;
    check_scope(handlers, &terms).await?;
    command(handlers, &code, CouponCommand::Update { terms }, meta).await
}

/// Stops the coupon `code` from being applied or redeemed; orders that used it keep it.
#[tracing::instrument(skip_all, err)]
pub async fn deactivate_coupon(
    handlers: &Handlers,
    code: &str,
    meta: &CommandMeta,
) -> Result<CouponDecided, CouponsError> {
    command(handlers, code, CouponCommand::Deactivate, meta).await
}

/// Lets a deactivated coupon be used again, under its terms.
#[tracing::instrument(skip_all, err)]
pub async fn reactivate_coupon(
    handlers: &Handlers,
    code: &str,
    meta: &CommandMeta,
) -> Result<CouponDecided, CouponsError> {
    command(handlers, code, CouponCommand::Reactivate, meta).await
}
