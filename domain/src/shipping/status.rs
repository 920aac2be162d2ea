//! A shipment's statuses and the rule of a step between them.
//!
//! ```text
//! pending ─▶ packed ─▶ shipped ─▶ in_transit ─▶ delivered
//!                         │            │
//!                         └────────────┴──▶ returned | lost
//! ```
//!
//! Staff move a shipment one step forward at a time: a step back, a skipped step, or any
//! step from an end (`delivered`, `returned`, `lost`) is refused with a typed error.
//! A carrier, which sees the parcel only once it has it, may move it forward from
//! `shipped` by more than one step (a parcel delivered without an `in_transit` scan).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    Pending,
    Packed,
    Shipped,
    InTransit,
    Delivered,
    Returned,
    Lost,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 7] = [
        ShipmentStatus::Pending,
        ShipmentStatus::Packed,
        ShipmentStatus::Shipped,
        ShipmentStatus::InTransit,
        ShipmentStatus::Delivered,
        ShipmentStatus::Returned,
        ShipmentStatus::Lost,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ShipmentStatus::Pending => "pending",
            ShipmentStatus::Packed => "packed",
            ShipmentStatus::Shipped => "shipped",
            ShipmentStatus::InTransit => "in_transit",
            ShipmentStatus::Delivered => "delivered",
            ShipmentStatus::Returned => "returned",
            ShipmentStatus::Lost => "lost",
        }
    }

    /// Where the status sits on the way: the ends (`delivered`, `returned`, `lost`) share
    /// the last place.
    fn rank(self) -> u8 {
        match self {
            ShipmentStatus::Pending => 0,
            ShipmentStatus::Packed => 1,
            ShipmentStatus::Shipped => 2,
            ShipmentStatus::InTransit => 3,
            ShipmentStatus::Delivered | ShipmentStatus::Returned | ShipmentStatus::Lost => 4,
        }
    }

    /// No step leaves it.
    pub fn is_final(self) -> bool {
        self.rank() == 4
    }

    /// The parcel has left the warehouse (the stock it holds is sold).
    pub fn has_left(self) -> bool {
        self.rank() >= 2
    }

    /// The one step staff may take from here (`None` from an end); `returned` and `lost`
    /// are also steps from `shipped` and `in_transit` ([`ShipmentStatus::step`]).
    pub fn next(self) -> Option<ShipmentStatus> {
        match self {
            ShipmentStatus::Pending => Some(ShipmentStatus::Packed),
            ShipmentStatus::Packed => Some(ShipmentStatus::Shipped),
            ShipmentStatus::Shipped => Some(ShipmentStatus::InTransit),
            ShipmentStatus::InTransit => Some(ShipmentStatus::Delivered),
            _ => None,
        }
    }

    /// Whether staff may move a shipment from `self` to `to`: `Ok(false)` when it is
    /// there already (nothing to do), `Ok(true)` for one step forward.
    pub fn step(self, to: ShipmentStatus) -> Result<bool, StepError> {
        if self == to {
            return Ok(false);
        }
        if self.is_final() {
            return Err(StepError::Finished { status: self });
        }
        if to.rank() < self.rank() || (to.rank() == self.rank()) {
            return Err(StepError::Backwards { from: self, to });
        }
        let lost_on_the_way =
            matches!(to, ShipmentStatus::Returned | ShipmentStatus::Lost) && self.has_left();
        if Some(to) == self.next() || lost_on_the_way {
            return Ok(true);
        }
        Err(StepError::Skipped {
            from: self,
            to,
            next: self.next().unwrap_or(to),
        })
    }

    /// Whether a carrier's word moves a shipment from `self` to `to`: only forward, only
    /// once the carrier has the parcel, and never from an end. Anything else is kept in
    /// the tracking timeline without changing the status (carriers send late and out of
    /// order, and a webhook refused is a webhook sent again).
    pub fn carrier_moves(self, to: ShipmentStatus) -> bool {
        self.has_left() && !self.is_final() && to.rank() > self.rank()
    }
}

impl fmt::Display for ShipmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ShipmentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ShipmentStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "one of {}",
                    ShipmentStatus::ALL.map(|s| s.as_str()).join(", ")
                )
            })
    }
}

/// Why staff may not move a shipment to a status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("a shipment that is {from} cannot go back to {to}")]
    Backwards {
        from: ShipmentStatus,
        to: ShipmentStatus,
    },
    #[error("a shipment that is {from} goes to {next} before {to}")]
    Skipped {
        from: ShipmentStatus,
        to: ShipmentStatus,
        next: ShipmentStatus,
    },
    #[error("the shipment is {status}; it moves no further")]
    Finished { status: ShipmentStatus },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Views show statuses with `as_str`; the events store them with serde. Both agree.
    #[test]
    fn status_names_are_their_serialized_names() {
        for s in ShipmentStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(s.as_str().parse::<ShipmentStatus>(), Ok(s));
        }
        assert!("shipping".parse::<ShipmentStatus>().is_err());
    }
}
