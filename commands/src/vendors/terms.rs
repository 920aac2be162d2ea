//! Staff set a store's terms: its own commission rate, and whether it is trusted.

use domain::vendors::{Terms, VendorCommand};
use uuid::Uuid;

use super::error::VendorUseError;
use super::stores::{get, stream, VendorOutcome};
use crate::handler::CommandMeta;
use crate::handlers::Handlers;

/// Changes what is given of `vendor_id`'s terms: `commission_bp` `Some(None)` goes back
/// to the default rate; `None` leaves a term as it is.
#[tracing::instrument(skip_all, fields(%vendor_id), err)]
pub async fn change_terms(
    handlers: &Handlers,
    vendor_id: Uuid,
    commission_bp: Option<Option<u32>>,
    trusted: Option<bool>,
    meta: CommandMeta,
) -> Result<VendorOutcome, VendorUseError> {
    let now = get(handlers, vendor_id).await?.terms;
    let terms = Terms {
        commission_bp: commission_bp.unwrap_or(now.commission_bp),
        trusted: trusted.unwrap_or(now.trusted),
    };
    let handled = handlers
        .vendors
        .handle(
            &stream(vendor_id),
            VendorCommand::ChangeTerms {
                terms,
                at: meta.occurred_at,
            },
            meta,
        )
        .await?;
    Ok(VendorOutcome {
        vendor: get(handlers, vendor_id).await?,
        position: handled.position,
    })
}
