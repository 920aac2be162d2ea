//! What the vendor routes answer: [`VendorView`], the public page's data, with the
//! [`VendorPrivateView`] only its owner and staff see (contact, payout, terms), read from
//! the write side so no read model holds a person's details.

use chrono::{DateTime, Utc};
use commands::vendors::{Commission, VendorUseError};
use domain::vendors::{VendorError, VendorRecord};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

/// A store.
#[derive(Debug, Serialize, ToSchema)]
pub struct VendorView {
    pub id: Uuid,
    pub slug: String,
    pub store_name: String,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    /// `pending` (applied), `approved` (selling), `rejected`, `suspended`.
    pub status: String,
    /// Its products' published reviews together; `null` before the first.
    pub rating: Option<VendorRating>,
    pub applied_at: DateTime<Utc>,
    /// For its owner and staff only; absent for everyone else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<VendorPrivateView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VendorRating {
    /// Two decimals.
    pub average: f64,
    pub count: i64,
}

/// What only the store's owner and staff see.
#[derive(Debug, Serialize, ToSchema)]
pub struct VendorPrivateView {
    pub owner_id: Uuid,
    /// Why it is rejected or suspended, while it is.
    pub status_reason: Option<String>,
    pub contact_email: String,
    pub contact_phone: Option<String>,
    pub payout: Option<PayoutView>,
    /// The store's commission rule in force (stacked fees) and its version.
    pub commission: CommissionView,
    /// The commission of each sale in basis points (1000 = 10%): the rule's percent.
    pub commission_rate_bp: u32,
    /// `vendor` (its own terms) or `default` (the store setting
    /// `vendors.default_commission_bp`).
    pub commission_source: &'static str,
    /// Its products go on sale when it publishes them, without staff's review.
    pub trusted: bool,
    pub updated_at: DateTime<Utc>,
}

/// A commission rule: a percent of each line's sale (without tax), plus a fixed amount,
/// at least `min` and at most `max` (minor units of the sale's currency).
#[derive(Debug, Serialize, ToSchema)]
pub struct CommissionView {
    pub fixed: i64,
    /// `null`: no cap.
    pub max: Option<i64>,
    pub min: i64,
    pub percent_bp: u32,
    /// How many times the store's rule changed; 0 for the default.
    pub version: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutView {
    pub account_holder: String,
    pub account: String,
}

impl VendorView {
    /// The store as the write side has it, with its private part.
    pub fn private(v: &VendorRecord, commission: Commission) -> Self {
        VendorView {
            id: v.vendor_id.as_uuid(),
            slug: v.slug.as_str().to_owned(),
            store_name: v.store_name.clone(),
            description: v.description.clone(),
            logo_url: v.logo_url.clone(),
            status: v.status.as_str().to_owned(),
            rating: None,
            applied_at: v.applied_at,
            private: Some(VendorPrivateView::of(v, commission)),
        }
    }
}

impl VendorPrivateView {
    pub fn of(v: &VendorRecord, commission: Commission) -> Self {
        VendorPrivateView {
            owner_id: v.owner_id.as_uuid(),
            status_reason: v.status_reason.clone(),
            contact_email: v.contact_email.as_str().to_owned(),
            contact_phone: v.contact_phone.clone(),
            payout: v.payout.as_ref().map(|p| PayoutView {
                account_holder: p.account_holder.clone(),
                account: p.account.clone(),
            }),
            commission: CommissionView {
                fixed: commission.rule.fixed,
                max: commission.rule.max,
                min: commission.rule.min,
                percent_bp: commission.rule.percent_bp,
                version: commission.version,
            },
            commission_rate_bp: commission.rate_bp,
            commission_source: if commission.own { "vendor" } else { "default" },
            trusted: v.terms.trusted,
            updated_at: v.updated_at,
        }
    }
}

/// A row of `vendors.vendors` with its rating.
#[derive(Debug, sqlx::FromRow)]
pub struct VendorRow {
    pub vendor_id: Uuid,
    pub owner_id: Uuid,
    pub slug: String,
    pub store_name: String,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub status: String,
    pub applied_at: DateTime<Utc>,
    pub rating_average: Option<f64>,
    pub rating_count: Option<i64>,
}

impl From<VendorRow> for VendorView {
    fn from(r: VendorRow) -> Self {
        VendorView {
            id: r.vendor_id,
            slug: r.slug,
            store_name: r.store_name,
            description: r.description,
            logo_url: r.logo_url,
            status: r.status,
            rating: match (r.rating_average, r.rating_count) {
                (Some(average), Some(count)) if count > 0 => Some(VendorRating { average, count }),
                _ => None,
            },
            applied_at: r.applied_at,
            private: None,
        }
    }
}

impl From<VendorUseError> for ApiError {
    fn from(e: VendorUseError) -> Self {
        let detail = e.to_string();
        match e {
            VendorUseError::Invalid { field, message } => ApiError::invalid_field(field, message),
            VendorUseError::NotFound => ApiError::NotFound(detail),
            VendorUseError::SlugTaken(_) => ApiError::conflict("slug_taken", detail),
            VendorUseError::Rejected(VendorError::AlreadyApplied) => {
                ApiError::conflict("already_applied", detail)
            }
            VendorUseError::Rejected(VendorError::Transition { .. }) => {
                ApiError::conflict("invalid_status", detail)
            }
            VendorUseError::Rejected(_) => ApiError::conflict("invalid_status", detail),
            VendorUseError::Account(_) => ApiError::conflict("owner_account", detail),
            VendorUseError::Store(e) => e.into(),
            VendorUseError::Failed(cause) => ApiError::internal(cause),
        }
    }
}
