//! Typed ids: a `UserId` cannot be passed where an `OrderId` is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn new(id: Uuid) -> Self {
                $name(id)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }
    };
}

id!(UserId);
id!(ProductId);
id!(VariantId);
id!(CategoryId);
id!(OrderId);
id!(CartId);
id!(CouponId);
id!(AddressId);
id!(ImageId);
id!(CartItemId);
id!(
    /// A password hash kept in the accounts context's credentials table, outside the log;
    /// an account's events name the one in force.
    CredentialId
);
id!(WarehouseId);
id!(PriceRuleId);
id!(PcBuildId);
id!(
    /// One parcel of an order's lines on its way to the customer (issue 22).
    ShipmentId
);
id!(
    /// A store on the marketplace (issue 23). A vendor's id is its owner's account id:
    /// one store per account, and the `vendor_id` products and price rules already carry
    /// (the vendor's user id) names the store without a migration (ADR 0010).
    VendorId
);
id!(
    /// A buyer's review of a product (issue 23).
    ReviewId
);

id!(
    /// One payment of a store's earnings to its payout account (issue 23).
    PayoutId
);

impl From<UserId> for VendorId {
    fn from(owner: UserId) -> Self {
        VendorId(owner.0)
    }
}

id!(
    /// A customer's request to send back some delivered lines of an order (issue 22).
    ReturnId
);
