//! Applying for a store (a signed-in account).

use domain::aggregate::Aggregate;
use domain::id::{UserId, VendorId};
use domain::value::{Email, Slug};
use domain::vendors::{
    Application, Payout, Vendor, VendorCommand, VendorError, VendorEvent, VendorState,
};
use uuid::Uuid;

use super::error::VendorUseError;
use super::stores::{get, stream, VendorOutcome, SLUG_KEY};
use crate::handler::{CommandError, CommandMeta};
use crate::handlers::Handlers;
use crate::unique;

/// An application as the applicant sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewVendor {
    pub store_name: String,
    /// Made from the store name when absent.
    pub slug: Option<String>,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub contact_email: String,
    pub contact_phone: Option<String>,
    /// The account holder and the account.
    pub payout: Option<(String, String)>,
}

/// `applicant` applies for a store. In order, so that nothing is half-written: the
/// application is checked by the store's own rules on no state, the account must not
/// have applied already, the slug is claimed for the store (one owner wins a race), then
/// the application is recorded; if that is refused, the slug is given back. The store's
/// id is the applicant's (one store per account, ADR 0010).
#[tracing::instrument(skip_all, fields(%applicant), err)]
pub async fn apply(
    handlers: &Handlers,
    applicant: Uuid,
    input: NewVendor,
    meta: CommandMeta,
) -> Result<VendorOutcome, VendorUseError> {
    let slug = match input.slug.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Slug::parse(s)?,
        _ => Slug::from_name(&input.store_name)
            .map_err(|e| VendorUseError::invalid("store_name", e.message))?,
    };
    let contact_email = Email::parse(input.contact_email.trim())
        .map_err(|e| VendorUseError::invalid("contact_email", e.message))?;
    let application = Application {
        vendor_id: VendorId::new(applicant),
        owner_id: UserId::new(applicant),
        store_name: input.store_name,
        slug: slug.clone(),
        description: input.description,
        logo_url: input.logo_url,
        contact_email,
        contact_phone: input.contact_phone,
        payout: input.payout.map(|(account_holder, account)| Payout {
            account_holder,
            account,
        }),
        at: meta.occurred_at,
    };
    let command = VendorCommand::Apply(Box::new(application));
    Vendor::decide(&VendorState::default(), &command)
        .map_err(|e| VendorUseError::from(CommandError::Rejected(e)))?;
    if let Some(existing) = super::stores::find(handlers, applicant).await? {
        // The retry of the request that applied answers what it made.
        if existing.slug == slug {
            return Ok(VendorOutcome {
                vendor: existing,
                position: None,
            });
        }
        return Err(VendorUseError::Rejected(VendorError::AlreadyApplied));
    }
    let claimed = unique::owner_of(handlers, SLUG_KEY, slug.as_str()).await? != Some(applicant);
    unique::claim(
        handlers,
        SLUG_KEY,
        slug.as_str(),
        applicant,
        &crate::cart::shopper::step(&meta, "claim-slug"),
    )
    .await?;
    let handled = handlers
        .vendors
        .handle(&stream(applicant), command, meta.clone())
        .await;
    match handled {
        Ok(h) => {
            debug_assert!(matches!(
                h.events.first(),
                Some(VendorEvent::VendorApplied { .. }) | None
            ));
            Ok(VendorOutcome {
                vendor: get(handlers, applicant).await?,
                position: h.position,
            })
        }
        Err(e) => {
            if claimed {
                let release = crate::cart::shopper::step(&meta, "release-slug");
                if let Err(r) =
                    unique::release(handlers, SLUG_KEY, slug.as_str(), applicant, &release).await
                {
                    tracing::warn!(error = %r, slug = %slug.as_str(), "a store's slug was not given back");
                }
            }
            Err(e.into())
        }
    }
}
