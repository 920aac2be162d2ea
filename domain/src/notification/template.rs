//! What a notification says: its [`Template`], and the subject and body rendered from the
//! template and its data (the JSON payload the `notifications` read model keeps beside it).
//!
//! Rendering is pure. The one secret a message carries, the token of a verification or reset
//! link, is signed through [`LinkTokens`] by the caller (the accounts use cases hold the HMAC
//! key), so the same data renders to the same message every time and no secret is stored.
//!
//! Who may see that link is decided here, by [`Links`]: the notifier renders
//! [`Links::Signed`] at send time, for the recipient's mailbox only; every other reader (the
//! outbox API, staff and admins included) gets [`Links::Withheld`], where the link's place
//! says it was sent by e-mail. Whoever could read a live reset link could take over the
//! account it names, the admin's included.

use serde_json::Value;
use uuid::Uuid;

use crate::id::UserId;
use crate::money::Money;
use crate::user::{TokenId, TokenPurpose};

/// What a notification says; the read model names it, the notifier renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    VerifyEmail,
    PasswordReset,
    OrderConfirmation,
    OrderShipped,
    LowStock,
    /// One shipment of an order left the warehouse (issue 22).
    ShipmentShipped,
    ShipmentDelivered,
    /// The carrier reported a delay of a shipment.
    ShipmentDelayed,
    ReturnApproved,
    /// A return's refund went back to the customer's card.
    RefundIssued,
    /// The whole order arrived: its customer is asked to review what they bought (issue 23).
    ReviewInvitation,
    /// A buyer reviewed one of the vendor's products (issue 23).
    NewReview,
    /// An order with lines of the vendor's store was paid: its lines, to ship (issue 23).
    VendorNewOrder,
    /// A payout to the vendor was paid, or failed (issue 23).
    VendorPayout,
}

/// Signs the token a link carries for `token_id`: the user's stream records the id, the
/// person receives the signed token.
pub trait LinkTokens {
    fn issue(&self, purpose: TokenPurpose, user: UserId, token_id: TokenId) -> String;
}

/// How a verification or reset link is rendered.
#[derive(Clone, Copy)]
pub enum Links<'a> {
    /// The message as it leaves for the recipient's mailbox: links carry their signed token.
    Signed(&'a dyn LinkTokens),
    /// The message as anyone else reads it: [`WITHHELD_LINK`] stands where the link was.
    Withheld,
}

/// What stands for a verification or reset link in a message shown anywhere but the
/// recipient's mailbox. It holds no `?token=`, so nothing mistakes it for a link.
pub const WITHHELD_LINK: &str = "[link withheld: it is sent only to the recipient's mailbox]";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("unknown template {0:?}")]
    UnknownTemplate(String),
    #[error("payload of {template}: {reason}")]
    Payload {
        template: &'static str,
        reason: String,
    },
}

/// An amount of the data, as a person reads it.
fn money(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| serde_json::from_value::<Money>(v.clone()).ok())
        .map(|m| m.to_string())
}

/// An order's lines of the data, one per line of text.
fn lines(data: &Value) -> String {
    data.get("lines")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .map(|l| {
                    format!(
                        "  {} x {} at {}\n",
                        l.get("quantity").and_then(Value::as_u64).unwrap_or(0),
                        l.get("sku").and_then(Value::as_str).unwrap_or("?"),
                        money(l.get("unit_price")).unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The first block of an id, enough for a person to tell orders apart in a subject.
fn short(id: Uuid) -> String {
    id.simple().to_string()[..8].to_uppercase()
}

impl Template {
    pub const ALL: [Template; 14] = [
        Template::VerifyEmail,
        Template::PasswordReset,
        Template::OrderConfirmation,
        Template::OrderShipped,
        Template::LowStock,
        Template::ShipmentShipped,
        Template::ShipmentDelivered,
        Template::ShipmentDelayed,
        Template::ReturnApproved,
        Template::RefundIssued,
        Template::ReviewInvitation,
        Template::NewReview,
        Template::VendorNewOrder,
        Template::VendorPayout,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Template::VerifyEmail => "verify_email",
            Template::PasswordReset => "password_reset",
            Template::OrderConfirmation => "order_confirmation",
            Template::OrderShipped => "order_shipped",
            Template::LowStock => "low_stock",
            Template::ShipmentShipped => "shipment_shipped",
            Template::ShipmentDelivered => "shipment_delivered",
            Template::ShipmentDelayed => "shipment_delayed",
            Template::ReturnApproved => "return_approved",
            Template::RefundIssued => "refund_issued",
            Template::ReviewInvitation => "review_invitation",
            Template::NewReview => "new_review",
            Template::VendorNewOrder => "vendor_new_order",
            Template::VendorPayout => "vendor_payout",
        }
    }

    pub fn parse(s: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The subject line. It is fixed when the notification is created (the read model
    /// stores it), so it names only facts of the causing event, never a secret; a fact the
    /// data lacks shows as `?` rather than losing the message.
    pub fn subject(&self, data: &Value) -> String {
        let text = |key: &str| data.get(key).and_then(Value::as_str);
        let order = || {
            text("order_id")
                .and_then(|s| Uuid::parse_str(s).ok())
                .map_or_else(|| "?".to_owned(), short)
        };
        match self {
            Template::VerifyEmail => "Confirm your e-mail address".to_owned(),
            Template::PasswordReset => "Reset your UltraMarket password".to_owned(),
            Template::OrderConfirmation => {
                format!("Your UltraMarket order {} is confirmed", order())
            }
            Template::OrderShipped => format!("Your UltraMarket order {} has shipped", order()),
            Template::LowStock => format!(
                "Low stock: {} ({} left)",
                text("sku").unwrap_or("?"),
                data.get("available").and_then(Value::as_i64).unwrap_or(0),
            ),
            Template::ShipmentShipped => {
                format!(
                    "A parcel of your UltraMarket order {} is on its way",
                    order()
                )
            }
            Template::ShipmentDelivered => {
                format!(
                    "A parcel of your UltraMarket order {} was delivered",
                    order()
                )
            }
            Template::ShipmentDelayed => {
                format!("A parcel of your UltraMarket order {} is delayed", order())
            }
            Template::ReturnApproved => {
                format!("Your return for UltraMarket order {} is approved", order())
            }
            Template::RefundIssued => {
                format!(
                    "Your refund for UltraMarket order {} is on its way",
                    order()
                )
            }
            Template::ReviewInvitation => {
                format!("How is your UltraMarket order {}?", order())
            }
            Template::NewReview => format!(
                "A new {}-star review: {}",
                data.get("rating").and_then(Value::as_u64).unwrap_or(0),
                text("title").unwrap_or("?"),
            ),
            Template::VendorNewOrder => format!("New order {} for your store", order()),
            Template::VendorPayout => format!(
                "Your payout of {} {}",
                money(data.get("amount")).unwrap_or_else(|| "?".to_owned()),
                if text("outcome") == Some("paid") {
                    "was paid"
                } else {
                    "failed"
                },
            ),
        }
    }

    /// The body. `public_url` is where people open links (the storefront); `links` says
    /// whether a verification or reset link is signed (the mail itself) or withheld.
    pub fn body(
        &self,
        data: &Value,
        public_url: &str,
        links: Links<'_>,
    ) -> Result<String, RenderError> {
        let bad = |reason: &str| RenderError::Payload {
            template: self.as_str(),
            reason: reason.to_owned(),
        };
        let text = |key: &str| data.get(key).and_then(Value::as_str);
        let uuid = |key: &str| text(key).and_then(|s| Uuid::parse_str(s).ok());
        let base = public_url.trim_end_matches('/');
        let greeting = match text("first_name") {
            Some(name) => format!("Hello {name},"),
            None => "Hello,".to_owned(),
        };
        let link = |purpose: TokenPurpose, path: &str| -> Result<String, RenderError> {
            let user = uuid("user_id").ok_or_else(|| bad("no user_id"))?;
            let token_id = uuid("token_id").ok_or_else(|| bad("no token_id"))?;
            Ok(match links {
                Links::Signed(tokens) => {
                    let token = tokens.issue(purpose, UserId::new(user), TokenId::new(token_id));
                    format!("{base}/{path}?token={token}")
                }
                Links::Withheld => WITHHELD_LINK.to_owned(),
            })
        };
        let expires = text("expires_at").unwrap_or("soon");
        Ok(match self {
            Template::VerifyEmail => format!(
                "{greeting}\n\nPlease confirm your e-mail address by opening this link:\n\n{}\n\n\
                 The link works once and expires at {expires}. If you did not create an \
                 UltraMarket account, ignore this message.\n",
                link(TokenPurpose::VerifyEmail, "verify-email")?
            ),
            Template::PasswordReset => format!(
                "{greeting}\n\nSomeone asked to reset the password of your UltraMarket account. \
                 To choose a new one, open this link:\n\n{}\n\n\
                 The link works once and expires at {expires}. If it was not you, ignore this \
                 message: your password stays as it is.\n",
                link(TokenPurpose::ResetPassword, "reset-password")?
            ),
            Template::OrderConfirmation => {
                let order = text("order_id").ok_or_else(|| bad("no order_id"))?;
                format!(
                    "{greeting}\n\nThank you for your order {order}.\n\n{}\nTotal: {}\n\n\
                     Follow it at {base}/orders/{order}\n",
                    lines(data),
                    money(data.get("total")).unwrap_or_default()
                )
            }
            Template::VendorNewOrder => {
                let order = text("order_id").ok_or_else(|| bad("no order_id"))?;
                format!(
                    "{greeting}\n\nOrder {order} is paid, with these lines of your store:\n\n\
                     {}\nShip them from your store's orders: {base}/vendor/orders\n",
                    lines(data),
                )
            }
            Template::VendorPayout => {
                let payout = text("payout_id").ok_or_else(|| bad("no payout_id"))?;
                let amount = money(data.get("amount")).unwrap_or_else(|| "?".to_owned());
                match text("outcome") {
                    Some("paid") => format!(
                        "{greeting}\n\nYour payout {payout} of {amount} was paid (reference {}).\n\n\
                         Your ledger: {base}/vendor/ledger\n",
                        text("reference").unwrap_or("?"),
                    ),
                    Some("failed") => format!(
                        "{greeting}\n\nYour payout {payout} of {amount} failed: {}. The amount \
                         stays in your balance, for the next payout.\n\n\
                         Check your payout details: {base}/vendor/ledger\n",
                        text("reason").unwrap_or("the provider refused it"),
                    ),
                    _ => return Err(bad("no outcome")),
                }
            }
            Template::OrderShipped => {
                let order = text("order_id").ok_or_else(|| bad("no order_id"))?;
                let tracking = match text("tracking_number") {
                    Some(t) => format!("Tracking number: {t}\n\n"),
                    None => String::new(),
                };
                format!(
                    "{greeting}\n\nYour order {order} has shipped.\n\n{tracking}\
                     Follow it at {base}/orders/{order}\n"
                )
            }
            Template::ShipmentShipped | Template::ShipmentDelivered | Template::ShipmentDelayed => {
                let order = text("order_id").ok_or_else(|| bad("no order_id"))?;
                let tracking = text("tracking_number").unwrap_or("?");
                let what = match self {
                    Template::ShipmentShipped => "has left our warehouse".to_owned(),
                    Template::ShipmentDelivered => "was delivered".to_owned(),
                    _ => format!(
                        "is delayed: {}",
                        text("description").unwrap_or("the carrier reported a delay")
                    ),
                };
                format!(
                    "{greeting}\n\nA parcel of your order {order} {what}.\n\n\
                     Tracking number: {tracking}\n\nFollow it at {base}/orders/{order}\n"
                )
            }
            Template::ReturnApproved => {
                let order = text("order_id").ok_or_else(|| bad("no order_id"))?;
                format!(
                    "{greeting}\n\nWe approved your return for order {order}. Please send the \
                     items back; we refund them once they arrive.\n\n\
                     Follow it at {base}/orders/{order}\n"
                )
            }
            Template::RefundIssued => {
                let order = text("order_id").ok_or_else(|| bad("no order_id"))?;
                let amount = money(data.get("amount")).unwrap_or_default();
                format!(
                    "{greeting}\n\nWe refunded {amount} for your return of order {order}. It \
                     reaches your card within a few days.\n"
                )
            }
            Template::ReviewInvitation => {
                let order = text("order_id").ok_or_else(|| bad("no order_id"))?;
                format!(
                    "{greeting}\n\nYour order {order} has arrived. Would you tell other \
                     shoppers what you think of it? Each product's page takes a review from \
                     its buyers, marked as a verified purchase.\n\n\
                     Your order: {base}/orders/{order}\n"
                )
            }
            Template::NewReview => {
                let product = text("product_id").ok_or_else(|| bad("no product_id"))?;
                format!(
                    "{greeting}\n\nA buyer rated your product {}/5: \"{}\".\n\n\
                     Read it, and answer in public if you wish: {base}/products/{product}\n",
                    data.get("rating").and_then(Value::as_u64).unwrap_or(0),
                    text("title").unwrap_or("?"),
                )
            }
            Template::LowStock => format!(
                "{greeting}\n\nStock of {} is low: {} available (threshold {}).\n",
                text("sku").ok_or_else(|| bad("no sku"))?,
                data.get("available").and_then(Value::as_i64).unwrap_or(0),
                data.get("threshold").and_then(Value::as_u64).unwrap_or(0),
            ),
        })
    }
}

/// The verification or reset link inside a body rendered with [`Links::Signed`]: what the
/// recipient follows (and a test reading a delivered message).
pub fn link_of(body: &str) -> Option<&str> {
    body.split_whitespace().find(|w| w.contains("?token="))
}

/// The token inside a link.
pub fn token_of(link: &str) -> Option<&str> {
    link.split_once("?token=").map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Stands in for the HMAC: what matters here is which ids reach the signer.
    struct Plain;

    impl LinkTokens for Plain {
        fn issue(&self, purpose: TokenPurpose, user: UserId, token_id: TokenId) -> String {
            format!("{}.{}.{}", purpose.as_str(), user.as_uuid(), token_id)
        }
    }

    #[test]
    fn names_round_trip() {
        for t in Template::ALL {
            assert_eq!(Template::parse(t.as_str()), Some(t));
        }
        assert_eq!(Template::parse("nonsense"), None);
    }

    #[test]
    fn links_carry_the_signed_token_of_the_user_and_token_named() {
        let (user, token_id) = (Uuid::new_v4(), Uuid::new_v4());
        let data = json!({ "user_id": user, "token_id": token_id, "first_name": "Ann" });
        let body = Template::PasswordReset
            .body(&data, "https://shop.example/", Links::Signed(&Plain))
            .unwrap();
        assert!(body.starts_with("Hello Ann,"));
        let link = link_of(&body).unwrap();
        assert!(link.starts_with("https://shop.example/reset-password?token="));
        assert_eq!(
            token_of(link),
            Some(format!("reset_password.{user}.{token_id}").as_str())
        );
        assert_eq!(
            Template::VerifyEmail.body(&json!({ "user_id": user }), "x", Links::Signed(&Plain)),
            Err(RenderError::Payload {
                template: "verify_email",
                reason: "no token_id".into()
            })
        );
    }

    #[test]
    fn withheld_links_name_no_token_and_no_ids() {
        let (user, token_id) = (Uuid::new_v4(), Uuid::new_v4());
        let data = json!({ "user_id": user, "token_id": token_id, "first_name": "Ann" });
        for t in [Template::VerifyEmail, Template::PasswordReset] {
            let body = t
                .body(&data, "https://shop.example", Links::Withheld)
                .unwrap();
            assert!(body.contains(WITHHELD_LINK), "{body}");
            assert_eq!(link_of(&body), None, "{body}");
            for leak in [
                "token=",
                "https://shop.example",
                &user.to_string(),
                &token_id.to_string(),
            ] {
                assert!(!body.contains(leak), "{leak} in {body}");
            }
        }
    }

    #[test]
    fn stores_hear_of_their_orders_and_payouts() {
        let order = Uuid::parse_str("0a1b2c3d-0000-4000-8000-000000000000").unwrap();
        let data = json!({
            "order_id": order,
            "lines": [{ "sku": "MUG-1", "quantity": 2, "unit_price": { "amount": 1250, "currency": "USD" } }],
        });
        assert_eq!(
            Template::VendorNewOrder.subject(&data),
            "New order 0A1B2C3D for your store"
        );
        let body = Template::VendorNewOrder
            .body(&data, "https://shop.example", Links::Withheld)
            .unwrap();
        assert!(body.contains("  2 x MUG-1 at 12.50 USD\n"), "{body}");
        let amount = json!({ "amount": 9900, "currency": "USD" });
        let paid =
            json!({ "payout_id": order, "outcome": "paid", "reference": "po_1", "amount": amount });
        assert_eq!(
            Template::VendorPayout.subject(&paid),
            "Your payout of 99.00 USD was paid"
        );
        let failed = json!({ "payout_id": order, "outcome": "failed", "reason": "closed account", "amount": amount });
        assert_eq!(
            Template::VendorPayout.subject(&failed),
            "Your payout of 99.00 USD failed"
        );
        let body = Template::VendorPayout
            .body(&failed, "https://shop.example", Links::Withheld)
            .unwrap();
        assert!(body.contains("failed: closed account"), "{body}");
        assert!(Template::VendorPayout
            .body(&json!({ "payout_id": order }), "x", Links::Withheld)
            .is_err());
    }

    #[test]
    fn subjects_name_the_order_and_the_stock() {
        let order = Uuid::parse_str("0a1b2c3d-0000-4000-8000-000000000000").unwrap();
        assert_eq!(
            Template::OrderShipped.subject(&json!({ "order_id": order })),
            "Your UltraMarket order 0A1B2C3D has shipped"
        );
        assert_eq!(
            Template::LowStock.subject(&json!({ "sku": "MUG-1", "available": 3 })),
            "Low stock: MUG-1 (3 left)"
        );
        let body = Template::OrderConfirmation
            .body(
                &json!({ "order_id": order, "lines": [{ "sku": "MUG-1", "quantity": 2 }] }),
                "https://shop.example",
                Links::Signed(&Plain),
            )
            .unwrap();
        assert!(body.contains("  2 x MUG-1 at \n"), "{body}");
        assert!(body.contains(&format!("https://shop.example/orders/{order}")));
    }
}
