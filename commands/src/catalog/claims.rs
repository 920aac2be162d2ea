//! The catalog's unique keys (invariant 7): a SKU, a product's slug and a category's slug
//! each belong to at most one owner. The claims themselves are `crate::unique`'s; this
//! module names the kinds and counts what a claim appended, since a use case that resumes
//! (the demo seed, run again) finds its own claims already made.

use uuid::Uuid;

use crate::handler::CommandMeta;
use crate::handlers::Handlers;
use crate::unique::{self, Kind, UniqueError};

/// A product's or a variant's SKU.
pub const SKU: Kind = Kind::public("sku");
pub const PRODUCT_SLUG: Kind = Kind::public("product_slug");
pub const CATEGORY_SLUG: Kind = Kind::public("category_slug");

/// One key a use case claimed, kept so that it can be given back if the use case fails.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    pub kind: Kind,
    pub key: String,
    /// Whether this use case appended the claim (rather than finding it made before).
    pub appended: bool,
}

/// Claims `key` of `kind` for `owner`; a key the owner holds already is claimed again
/// without appending anything.
pub(crate) async fn claim(
    handlers: &Handlers,
    kind: Kind,
    key: &str,
    owner: Uuid,
    meta: &CommandMeta,
) -> Result<Claim, UniqueError> {
    let held = unique::owner_of(handlers, kind, key).await? == Some(owner);
    if !held {
        unique::claim(handlers, kind, key, owner, meta).await?;
    }
    Ok(Claim {
        kind,
        key: key.to_owned(),
        appended: !held,
    })
}

/// Gives back the keys this use case claimed, after the command they were for failed.
/// A failed release leaves the key held by an owner that does not exist: it is logged,
/// and it blocks only that key.
pub(crate) async fn release(
    handlers: &Handlers,
    claims: &[Claim],
    owner: Uuid,
    meta: &CommandMeta,
) {
    for c in claims.iter().filter(|c| c.appended) {
        if let Err(e) = unique::release(handlers, c.kind, &c.key, owner, meta).await {
            tracing::warn!(kind = c.kind.name(), key = %c.key, error = %e, "a claim was not given back");
        }
    }
}

/// The events the claims appended.
pub(crate) fn appended(claims: &[Claim]) -> u64 {
    claims.iter().filter(|c| c.appended).count() as u64
}
