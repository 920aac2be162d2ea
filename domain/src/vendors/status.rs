//! Where a store stands: applied for, approved (selling), rejected, or suspended.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VendorStatus {
    /// Applied for, waiting for staff.
    Pending,
    /// Selling: its products may be on sale.
    Approved,
    /// The application was turned down; staff may still approve it later.
    Rejected,
    /// Was selling, stopped by staff: its products are off the storefront until it is
    /// reinstated.
    Suspended,
}

impl VendorStatus {
    /// Where staff may move a store from here; `ChangeStatus` refuses any other move.
    pub fn moves(self) -> &'static [VendorStatus] {
        use VendorStatus as S;
        match self {
            S::Pending => &[S::Approved, S::Rejected],
            S::Approved => &[S::Suspended],
            // Back to approved is recorded as a reinstatement.
            S::Suspended => &[S::Approved],
            S::Rejected => &[S::Approved],
        }
    }

    /// The name the read model and the API use.
    pub fn as_str(self) -> &'static str {
        match self {
            VendorStatus::Pending => "pending",
            VendorStatus::Approved => "approved",
            VendorStatus::Rejected => "rejected",
            VendorStatus::Suspended => "suspended",
        }
    }
}

impl std::str::FromStr for VendorStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "pending" => VendorStatus::Pending,
            "approved" => VendorStatus::Approved,
            "rejected" => VendorStatus::Rejected,
            "suspended" => VendorStatus::Suspended,
            other => {
                return Err(format!(
                    "{other:?} is not a status; use approved, rejected or suspended"
                ))
            }
        })
    }
}
