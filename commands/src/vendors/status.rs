//! Staff move a store: approve (or reinstate), reject, suspend.

use domain::user::Role;
use domain::vendors::{VendorCommand, VendorStatus};
use uuid::Uuid;

use super::error::VendorUseError;
use super::stores::{get, stream, VendorOutcome};
use crate::accounts;
use crate::handler::CommandMeta;
use crate::handlers::Handlers;

/// Moves `vendor_id` to `to` (the caller checks that staff ask). A rejection and a
/// suspension need a reason. Once the store is approved its owner becomes its member:
/// a customer account takes the role `vendor` (staff keep theirs), which ends the
/// owner's open sessions like every role change. Asking again for the status a store has
/// appends nothing to the store and finishes the membership a failure cut short.
#[tracing::instrument(skip_all, fields(%vendor_id, to = to.as_str()), err)]
pub async fn change_status(
    handlers: &Handlers,
    vendor_id: Uuid,
    to: VendorStatus,
    reason: Option<String>,
    meta: CommandMeta,
) -> Result<VendorOutcome, VendorUseError> {
    get(handlers, vendor_id).await?;
    let handled = handlers
        .vendors
        .handle(
            &stream(vendor_id),
            VendorCommand::ChangeStatus {
                to,
                reason,
                at: meta.occurred_at,
            },
            meta.clone(),
        )
        .await?;
    let vendor = get(handlers, vendor_id).await?;
    let mut position = handled.position;
    if vendor.status == VendorStatus::Approved {
        let owner = vendor.owner_id.as_uuid();
        if accounts::account::get(handlers, owner).await?.role == Role::Customer {
            let changed = accounts::update_user(
                handlers,
                owner,
                None,
                Some(Role::Vendor),
                crate::cart::shopper::step(&meta, "vendor-member"),
            )
            .await?;
            position = changed.position.or(position);
        }
    }
    Ok(VendorOutcome { vendor, position })
}
