//! A store as the write side has it: by id, by slug (through its slug's uniqueness
//! stream, so a store is found the moment it applied), and the commission it pays.

use domain::configuration::{known, ConfigValue};
use domain::vendors::{CommissionRule, RuleSource, Vendor, VendorRecord};
use uuid::Uuid;

use super::error::VendorUseError;
use crate::handler::CommandHandler;
use crate::handlers::Handlers;
use crate::store::Position;
use crate::unique::{self, Kind};

/// The uniqueness kind a store's slug is claimed under.
pub const SLUG_KEY: Kind = Kind::public("vendor_slug");

/// The configuration key of the marketplace's default commission.
pub const DEFAULT_COMMISSION_KEY: &str = "vendors.default_commission_bp";

/// A store after a command, and where the command's last event sits in `$all` (`None`
/// when it appended nothing).
#[derive(Debug, Clone)]
pub struct VendorOutcome {
    pub vendor: VendorRecord,
    pub position: Option<Position>,
}

/// What a store pays the marketplace of each sale, and where the rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commission {
    /// Basis points: 1000 is 10%.
    pub rate_bp: u32,
    /// The store's own terms set it; otherwise the store setting's default applies.
    pub own: bool,
    /// The whole rule (stacked fees) and its version (0: the default).
    pub rule: CommissionRule,
    pub version: u32,
}

pub(super) fn stream(vendor_id: Uuid) -> String {
    CommandHandler::<Vendor>::stream_id(vendor_id)
}

/// The store `vendor_id`, if anyone applied for it.
pub async fn find(
    handlers: &Handlers,
    vendor_id: Uuid,
) -> Result<Option<VendorRecord>, VendorUseError> {
    let (state, _) = handlers
        .vendors
        .load(&stream(vendor_id))
        .await
        .map_err(|e| VendorUseError::Failed(e.to_string()))?;
    Ok(state.vendor)
}

/// The store `vendor_id`, or `NotFound`.
pub(super) async fn get(
    handlers: &Handlers,
    vendor_id: Uuid,
) -> Result<VendorRecord, VendorUseError> {
    find(handlers, vendor_id)
        .await?
        .ok_or(VendorUseError::NotFound)
}

/// The store whose slug is `slug`, if any.
pub async fn by_slug(
    handlers: &Handlers,
    slug: &str,
) -> Result<Option<VendorRecord>, VendorUseError> {
    match unique::owner_of(handlers, SLUG_KEY, slug).await? {
        Some(id) => find(handlers, id).await,
        None => Ok(None),
    }
}

/// The marketplace's default commission, in basis points, from the store's settings.
pub async fn default_commission_bp(handlers: &Handlers) -> Result<u32, VendorUseError> {
    let state = crate::configuration::configuration(handlers)
        .await
        .map_err(|e| VendorUseError::Failed(e.to_string()))?;
    let key = known(DEFAULT_COMMISSION_KEY)
        .ok_or_else(|| VendorUseError::Failed(format!("{DEFAULT_COMMISSION_KEY} is unknown")))?;
    Ok(match state.value(key) {
        ConfigValue::Int(bp) => u32::try_from(bp).unwrap_or(0),
        _ => 0,
    })
}

/// The commission `vendor` pays: its own rule, else the default.
pub async fn commission_of(
    handlers: &Handlers,
    vendor: &VendorRecord,
) -> Result<Commission, VendorUseError> {
    let default_bp = match vendor.commission {
        Some(_) => 0,
        None => default_commission_bp(handlers).await?,
    };
    let (rule, version, source) = vendor.commission_rule(default_bp);
    Ok(Commission {
        rate_bp: rule.percent_bp,
        own: source == RuleSource::Vendor,
        rule,
        version,
    })
}

/// The store a vendor account sells under, when it applied for one. A vendor account
/// without a store (made a vendor by an admin before stores existed) sells under its own
/// id with no store's rules: `None`.
pub async fn selling_vendor(
    handlers: &Handlers,
    vendor_id: Uuid,
) -> Result<Option<VendorRecord>, VendorUseError> {
    find(handlers, vendor_id).await
}
