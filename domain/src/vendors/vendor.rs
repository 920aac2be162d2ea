//! The vendor aggregate: a store's application, its life cycle and its terms.
//!
//! `Apply` records the application (the use case has claimed the slug first);
//! `ChangeStatus` moves it (`pending → approved | rejected`, `approved → suspended →
//! approved`, which is recorded as a reinstatement, and a rejected application may still
//! be approved); `ChangeTerms` sets its commission and whether it is trusted. Asking for
//! the status a store has is no change and no refusal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use super::commission::MAX_COMMISSION_BP;
use super::commission::{CommissionRule, RuleError, RuleSource};
use super::status::VendorStatus;
use crate::aggregate::{Aggregate, Upcast};
use crate::id::{UserId, VendorId};
use crate::value::{line, optional_line, optional_paragraphs, web_url, Email, Slug, MAX_REASON};

/// The longest store name.
const MAX_STORE_NAME: usize = 100;
/// The longest store description.
const MAX_DESCRIPTION: usize = 5_000;
/// The longest phone number, account holder or account reference.
const MAX_DETAIL: usize = 100;

pub struct Vendor;

/// Where a store's earnings are paid: whose account, and which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Payout {
    pub account_holder: String,
    /// The account's reference at the payout provider (an IBAN, an account number).
    pub account: String,
}

/// An application as the use case hands it over: the slug is claimed for `vendor_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub vendor_id: VendorId,
    pub owner_id: UserId,
    pub store_name: String,
    pub slug: Slug,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub contact_email: Email,
    pub contact_phone: Option<String>,
    pub payout: Option<Payout>,
    pub at: DateTime<Utc>,
}

/// What staff agree with a store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terms {
    /// Its own commission rate in basis points; `None`: the store setting's default.
    pub commission_bp: Option<u32>,
    /// Its products go on sale when it publishes them, without staff's review.
    pub trusted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorCommand {
    Apply(Box<Application>),
    /// Staff move the store: approve (or reinstate), reject, suspend. A rejection and a
    /// suspension need a reason.
    ChangeStatus {
        to: VendorStatus,
        reason: Option<String>,
        at: DateTime<Utc>,
    },
    ChangeTerms {
        terms: Terms,
        at: DateTime<Utc>,
    },
    /// Staff set the store's own commission rule (stacked fees); `None` goes back to the
    /// store setting's default.
    ChangeCommission {
        rule: Option<CommissionRule>,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum VendorEvent {
    VendorApplied {
        vendor_id: VendorId,
        /// The account that applied, which becomes the store's member on approval.
        owner_id: UserId,
        store_name: String,
        slug: Slug,
        description: Option<String>,
        logo_url: Option<String>,
        #[schemars(extend("x-personal" = crate::privacy::declaration::email("/owner_id")))]
        contact_email: Email,
        #[schemars(extend("x-personal" = crate::privacy::declaration::optional("/owner_id")))]
        contact_phone: Option<String>,
        #[schemars(extend("x-personal" = crate::privacy::declaration::optional("/owner_id")))]
        payout: Option<Payout>,
        at: DateTime<Utc>,
    },
    VendorApproved {
        note: Option<String>,
        at: DateTime<Utc>,
    },
    VendorRejected {
        reason: String,
        at: DateTime<Utc>,
    },
    VendorSuspended {
        reason: String,
        at: DateTime<Utc>,
    },
    /// A suspended store sells again.
    VendorReinstated {
        note: Option<String>,
        at: DateTime<Utc>,
    },
    /// The terms after the change. A changed `commission_bp` is a plain-percent rule of
    /// the store's own (or none), and counts as a new version of its rule.
    VendorTermsChanged {
        commission_bp: Option<u32>,
        trusted: bool,
        at: DateTime<Utc>,
    },
    /// The store's commission rule after the change (`None`: the default applies), and
    /// its version: one more than the rule it replaces.
    VendorCommissionChanged {
        rule: Option<CommissionRule>,
        version: u32,
        at: DateTime<Utc>,
    },
}

crate::domain_event!(VendorEvent {
    VendorApplied,
    VendorApproved,
    VendorRejected,
    VendorSuspended,
    VendorReinstated,
    VendorTermsChanged,
    VendorCommissionChanged,
});
impl Upcast for VendorEvent {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorRecord {
    pub vendor_id: VendorId,
    pub owner_id: UserId,
    pub store_name: String,
    pub slug: Slug,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub contact_email: Email,
    pub contact_phone: Option<String>,
    pub payout: Option<Payout>,
    pub status: VendorStatus,
    /// Why it was rejected or suspended, while it is.
    pub status_reason: Option<String>,
    pub terms: Terms,
    /// The store's own commission rule; `None`: the store setting's default.
    pub commission: Option<CommissionRule>,
    /// How many times the store's rule has changed: the version a sale records.
    pub commission_version: u32,
    pub applied_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl VendorRecord {
    /// The rule a sale is charged by now: the store's own at its version, else the
    /// default percent (`default_bp`, the store setting) at version 0.
    pub fn commission_rule(&self, default_bp: u32) -> (CommissionRule, u32, RuleSource) {
        match self.commission {
            Some(rule) => (rule, self.commission_version, RuleSource::Vendor),
            None => (CommissionRule::percent(default_bp), 0, RuleSource::Default),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VendorState {
    pub vendor: Option<VendorRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VendorError {
    #[error("this account has applied for a store already")]
    AlreadyApplied,
    #[error("no such vendor")]
    NotApplied,
    #[error("a {} store cannot become {}", from.as_str(), to.as_str())]
    Transition {
        from: VendorStatus,
        to: VendorStatus,
    },
    #[error("reason: a rejection or a suspension needs a reason")]
    MissingReason,
    #[error("commission_rate_bp: must be 0 to {MAX_COMMISSION_BP} (basis points), not {0}")]
    CommissionOutOfRange(u32),
    /// A commission rule with a part out of range.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// Free text the rules of `crate::value` refuse.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl From<crate::value::InvalidValue> for VendorError {
    fn from(e: crate::value::InvalidValue) -> Self {
        VendorError::Invalid {
            field: e.field,
            reason: e.message,
        }
    }
}

fn required(field: &'static str, raw: &str, max: usize) -> Result<String, VendorError> {
    let s = line(field, raw, max)?;
    if s.is_empty() {
        return Err(VendorError::Invalid {
            field,
            reason: "is required".into(),
        });
    }
    Ok(s)
}

fn reason(raw: Option<&str>) -> Result<String, VendorError> {
    optional_paragraphs("reason", raw, MAX_REASON)?.ok_or(VendorError::MissingReason)
}

fn applied(a: &Application) -> Result<VendorEvent, VendorError> {
    let payout = match &a.payout {
        Some(p) => Some(Payout {
            account_holder: required("payout.account_holder", &p.account_holder, MAX_DETAIL)?,
            account: required("payout.account", &p.account, MAX_DETAIL)?,
        }),
        None => None,
    };
    Ok(VendorEvent::VendorApplied {
        vendor_id: a.vendor_id,
        owner_id: a.owner_id,
        store_name: required("store_name", &a.store_name, MAX_STORE_NAME)?,
        slug: a.slug.clone(),
        description: optional_paragraphs("description", a.description.as_deref(), MAX_DESCRIPTION)?,
        logo_url: a
            .logo_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| web_url("logo_url", u))
            .transpose()?,
        contact_email: a.contact_email.clone(),
        contact_phone: optional_line("contact_phone", a.contact_phone.as_deref(), MAX_DETAIL)?,
        payout,
        at: a.at,
    })
}

impl Aggregate for Vendor {
    const CATEGORY: &'static str = "vendor";
    type State = VendorState;
    type Command = VendorCommand;
    type Event = VendorEvent;
    type Error = VendorError;

    fn decide(s: &VendorState, cmd: &VendorCommand) -> Result<Vec<VendorEvent>, VendorError> {
        use VendorCommand as C;
        use VendorEvent as E;
        use VendorStatus as S;
        if let C::Apply(a) = cmd {
            if s.vendor.is_some() {
                return Err(VendorError::AlreadyApplied);
            }
            return Ok(vec![applied(a)?]);
        }
        let v = s.vendor.as_ref().ok_or(VendorError::NotApplied)?;
        match cmd {
            C::Apply(_) => unreachable!("handled above"),
            C::ChangeStatus { to, reason: r, at } => {
                let refused = Err(VendorError::Transition {
                    from: v.status,
                    to: *to,
                });
                let note = optional_paragraphs("reason", r.as_deref(), MAX_REASON)?;
                if v.status == *to {
                    return Ok(vec![]);
                }
                if !v.status.moves().contains(to) {
                    return refused;
                }
                Ok(match to {
                    S::Approved if v.status == S::Suspended => {
                        vec![E::VendorReinstated { note, at: *at }]
                    }
                    S::Approved => vec![E::VendorApproved { note, at: *at }],
                    S::Rejected => vec![E::VendorRejected {
                        reason: reason(r.as_deref())?,
                        at: *at,
                    }],
                    S::Suspended => vec![E::VendorSuspended {
                        reason: reason(r.as_deref())?,
                        at: *at,
                    }],
                    S::Pending => return refused,
                })
            }
            C::ChangeTerms { terms, at } => {
                if let Some(bp) = terms.commission_bp {
                    if bp > MAX_COMMISSION_BP {
                        return Err(VendorError::CommissionOutOfRange(bp));
                    }
                }
                if *terms == v.terms {
                    return Ok(vec![]);
                }
                Ok(vec![E::VendorTermsChanged {
                    commission_bp: terms.commission_bp,
                    trusted: terms.trusted,
                    at: *at,
                }])
            }
            C::ChangeCommission { rule, at } => {
                let rule = rule.map(CommissionRule::check).transpose()?;
                if rule == v.commission {
                    return Ok(vec![]);
                }
                Ok(vec![E::VendorCommissionChanged {
                    rule,
                    version: v.commission_version + 1,
                    at: *at,
                }])
            }
        }
    }

    fn evolve(mut s: VendorState, event: &VendorEvent) -> VendorState {
        use VendorEvent as E;
        if let E::VendorApplied {
            vendor_id,
            owner_id,
            store_name,
            slug,
            description,
            logo_url,
            contact_email,
            contact_phone,
            payout,
            at,
        } = event
        {
            s.vendor = Some(VendorRecord {
                vendor_id: *vendor_id,
                owner_id: *owner_id,
                store_name: store_name.clone(),
                slug: slug.clone(),
                description: description.clone(),
                logo_url: logo_url.clone(),
                contact_email: contact_email.clone(),
                contact_phone: contact_phone.clone(),
                payout: payout.clone(),
                status: VendorStatus::Pending,
                status_reason: None,
                terms: Terms::default(),
                commission: None,
                commission_version: 0,
                applied_at: *at,
                updated_at: *at,
            });
            return s;
        }
        let Some(v) = s.vendor.as_mut() else {
            return s;
        };
        match event {
            E::VendorApplied { .. } => {}
            E::VendorApproved { at, .. } | E::VendorReinstated { at, .. } => {
                v.status = VendorStatus::Approved;
                v.status_reason = None;
                v.updated_at = *at;
            }
            E::VendorRejected { reason, at } => {
                v.status = VendorStatus::Rejected;
                v.status_reason = Some(reason.clone());
                v.updated_at = *at;
            }
            E::VendorSuspended { reason, at } => {
                v.status = VendorStatus::Suspended;
                v.status_reason = Some(reason.clone());
                v.updated_at = *at;
            }
            E::VendorTermsChanged {
                commission_bp,
                trusted,
                at,
            } => {
                if *commission_bp != v.terms.commission_bp {
                    v.commission = commission_bp.map(CommissionRule::percent);
                    v.commission_version += 1;
                }
                v.terms = Terms {
                    commission_bp: *commission_bp,
                    trusted: *trusted,
                };
                v.updated_at = *at;
            }
            E::VendorCommissionChanged { rule, version, at } => {
                v.commission = *rule;
                v.commission_version = *version;
                v.terms.commission_bp = rule.map(|r| r.percent_bp);
                v.updated_at = *at;
            }
        }
        s
    }
}
