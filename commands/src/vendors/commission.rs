//! Staff set a store's commission rule: stacked fees (a percent, a fixed amount, a
//! minimum and a maximum), versioned on the store's stream.

use domain::vendors::{CommissionRule, VendorCommand};
use uuid::Uuid;

use super::error::VendorUseError;
use super::stores::{get, stream, VendorOutcome};
use crate::handler::CommandMeta;
use crate::handlers::Handlers;

/// Sets `vendor_id`'s own commission rule (`None`: back to the store setting's default).
/// A rule equal to the one in force changes nothing and keeps its version; any other is
/// the next version, which the sales paid from then on record.
#[tracing::instrument(skip_all, fields(%vendor_id), err)]
pub async fn change_commission(
    handlers: &Handlers,
    vendor_id: Uuid,
    rule: Option<CommissionRule>,
    meta: CommandMeta,
) -> Result<VendorOutcome, VendorUseError> {
    get(handlers, vendor_id).await?;
    let handled = handlers
        .vendors
        .handle(
            &stream(vendor_id),
            VendorCommand::ChangeCommission {
                rule,
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
