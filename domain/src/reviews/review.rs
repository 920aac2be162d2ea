//! The review aggregate: one buyer's word on one product.
//!
//! Written with its proof of purchase (found by the use case, [`super::purchase`]);
//! edited or withdrawn by its author only; marked helpful once per shopper (not by its
//! author); hidden and restored by staff with a reason; replied to by the product's
//! vendor. A withdrawn review takes no further command.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{OrderId, ProductId, ReviewId, UserId, VendorId};
use crate::value::{line, optional_paragraphs, paragraphs, web_url, MAX_REASON};

/// The most image links one review holds.
pub const MAX_IMAGES: usize = 6;
const MAX_TITLE: usize = 150;
const MAX_BODY: usize = 5_000;
const MAX_REPLY: usize = 2_000;

pub struct Review;

/// What the author says: the rating, a title, a body and image links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewText {
    pub rating: u8,
    pub title: String,
    pub body: String,
    pub images: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview {
    pub review_id: ReviewId,
    pub product_id: ProductId,
    /// Who sells the product, who may reply.
    pub vendor_id: Option<VendorId>,
    pub author_id: UserId,
    pub text: ReviewText,
    /// The order and the ids of its events that show the purchase and the delivery.
    pub order_id: OrderId,
    pub proof: Vec<Uuid>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewCommand {
    Write(Box<NewReview>),
    Edit {
        by: UserId,
        text: ReviewText,
        at: DateTime<Utc>,
    },
    Withdraw {
        by: UserId,
        at: DateTime<Utc>,
    },
    MarkHelpful {
        by: UserId,
        at: DateTime<Utc>,
    },
    /// Staff hide (`visible: false`) or restore it.
    Moderate {
        visible: bool,
        reason: String,
        at: DateTime<Utc>,
    },
    /// The product's vendor answers in public; a new reply replaces the last.
    Reply {
        by: VendorId,
        reply: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ReviewEvent {
    ReviewWritten {
        review_id: ReviewId,
        product_id: ProductId,
        vendor_id: Option<VendorId>,
        author_id: UserId,
        rating: u8,
        title: String,
        body: String,
        images: Vec<String>,
        /// The order that proves the purchase, and the ids of its events that show it
        /// (`OrderPlaced`, then the delivery).
        order_id: OrderId,
        proof_event_ids: Vec<Uuid>,
        at: DateTime<Utc>,
    },
    /// The text after the edit.
    ReviewEdited {
        rating: u8,
        title: String,
        body: String,
        images: Vec<String>,
        at: DateTime<Utc>,
    },
    ReviewWithdrawn {
        at: DateTime<Utc>,
    },
    ReviewMarkedHelpful {
        user_id: UserId,
        at: DateTime<Utc>,
    },
    ReviewHidden {
        reason: String,
        at: DateTime<Utc>,
    },
    ReviewRestored {
        reason: String,
        at: DateTime<Utc>,
    },
    ReviewReplied {
        vendor_id: VendorId,
        reply: String,
        at: DateTime<Utc>,
    },
}

crate::domain_event!(ReviewEvent {
    ReviewWritten,
    ReviewEdited,
    ReviewWithdrawn,
    ReviewMarkedHelpful,
    ReviewHidden,
    ReviewRestored,
    ReviewReplied,
});
impl Upcast for ReviewEvent {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRecord {
    pub review_id: ReviewId,
    pub product_id: ProductId,
    pub vendor_id: Option<VendorId>,
    pub author_id: UserId,
    pub text: ReviewText,
    pub order_id: OrderId,
    pub proof: Vec<Uuid>,
    pub visible: bool,
    pub moderation_reason: Option<String>,
    pub withdrawn: bool,
    pub helpful: BTreeSet<UserId>,
    pub reply: Option<(String, DateTime<Utc>)>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewState {
    pub review: Option<ReviewRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("the review exists already")]
    AlreadyWritten,
    #[error("no such review")]
    NotWritten,
    #[error("the review was withdrawn")]
    Withdrawn,
    #[error("only the review's author may change it")]
    NotAuthor,
    #[error("only the product's vendor may reply")]
    NotTheVendor,
    #[error("an author cannot mark their own review helpful")]
    OwnReview,
    #[error("rating: must be 1 to 5, not {0}")]
    Rating(u8),
    #[error("a moderation needs a reason")]
    MissingReason,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl From<crate::value::InvalidValue> for ReviewError {
    fn from(e: crate::value::InvalidValue) -> Self {
        ReviewError::Invalid {
            field: e.field,
            reason: e.message,
        }
    }
}

/// The text as it is kept: each rule of a field checked, the strings trimmed.
fn checked(t: &ReviewText) -> Result<ReviewText, ReviewError> {
    if !(1..=5).contains(&t.rating) {
        return Err(ReviewError::Rating(t.rating));
    }
    let title = line("title", &t.title, MAX_TITLE)?;
    if title.is_empty() {
        return Err(ReviewError::Invalid {
            field: "title",
            reason: "is required".into(),
        });
    }
    let body = paragraphs("body", &t.body, MAX_BODY)?;
    if body.is_empty() {
        return Err(ReviewError::Invalid {
            field: "body",
            reason: "is required".into(),
        });
    }
    if t.images.len() > MAX_IMAGES {
        return Err(ReviewError::Invalid {
            field: "images",
            reason: format!("at most {MAX_IMAGES}"),
        });
    }
    let images = t
        .images
        .iter()
        .map(|u| web_url("images", u))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ReviewText {
        rating: t.rating,
        title,
        body,
        images,
    })
}

impl Aggregate for Review {
    const CATEGORY: &'static str = "review";
    type State = ReviewState;
    type Command = ReviewCommand;
    type Event = ReviewEvent;
    type Error = ReviewError;

    fn decide(s: &ReviewState, cmd: &ReviewCommand) -> Result<Vec<ReviewEvent>, ReviewError> {
        use ReviewCommand as C;
        use ReviewEvent as E;
        if let C::Write(n) = cmd {
            if s.review.is_some() {
                return Err(ReviewError::AlreadyWritten);
            }
            let t = checked(&n.text)?;
            return Ok(vec![E::ReviewWritten {
                review_id: n.review_id,
                product_id: n.product_id,
                vendor_id: n.vendor_id,
                author_id: n.author_id,
                rating: t.rating,
                title: t.title,
                body: t.body,
                images: t.images,
                order_id: n.order_id,
                proof_event_ids: n.proof.clone(),
                at: n.at,
            }]);
        }
        let r = s.review.as_ref().ok_or(ReviewError::NotWritten)?;
        if r.withdrawn {
            return match cmd {
                C::Withdraw { by, .. } if *by == r.author_id => Ok(vec![]),
                _ => Err(ReviewError::Withdrawn),
            };
        }
        Ok(match cmd {
            C::Write(_) => unreachable!("handled above"),
            C::Edit { by, text, at } => {
                if *by != r.author_id {
                    return Err(ReviewError::NotAuthor);
                }
                let t = checked(text)?;
                if t == r.text {
                    return Ok(vec![]);
                }
                vec![E::ReviewEdited {
                    rating: t.rating,
                    title: t.title,
                    body: t.body,
                    images: t.images,
                    at: *at,
                }]
            }
            C::Withdraw { by, at } => {
                if *by != r.author_id {
                    return Err(ReviewError::NotAuthor);
                }
                vec![E::ReviewWithdrawn { at: *at }]
            }
            C::MarkHelpful { by, at } => {
                if *by == r.author_id {
                    return Err(ReviewError::OwnReview);
                }
                if r.helpful.contains(by) {
                    return Ok(vec![]);
                }
                vec![E::ReviewMarkedHelpful {
                    user_id: *by,
                    at: *at,
                }]
            }
            C::Moderate {
                visible,
                reason,
                at,
            } => {
                let reason = optional_paragraphs("reason", Some(reason), MAX_REASON)?
                    .ok_or(ReviewError::MissingReason)?;
                match (r.visible, visible) {
                    (true, false) => vec![E::ReviewHidden { reason, at: *at }],
                    (false, true) => vec![E::ReviewRestored { reason, at: *at }],
                    _ => vec![],
                }
            }
            C::Reply { by, reply, at } => {
                if r.vendor_id != Some(*by) {
                    return Err(ReviewError::NotTheVendor);
                }
                let reply = paragraphs("reply", reply, MAX_REPLY)?;
                if reply.is_empty() {
                    return Err(ReviewError::Invalid {
                        field: "reply",
                        reason: "is required".into(),
                    });
                }
                if r.reply.as_ref().is_some_and(|(old, _)| *old == reply) {
                    return Ok(vec![]);
                }
                vec![E::ReviewReplied {
                    vendor_id: *by,
                    reply,
                    at: *at,
                }]
            }
        })
    }

    fn evolve(mut s: ReviewState, event: &ReviewEvent) -> ReviewState {
        use ReviewEvent as E;
        if let E::ReviewWritten {
            review_id,
            product_id,
            vendor_id,
            author_id,
            rating,
            title,
            body,
            images,
            order_id,
            proof_event_ids,
            at,
        } = event
        {
            s.review = Some(ReviewRecord {
                review_id: *review_id,
                product_id: *product_id,
                vendor_id: *vendor_id,
                author_id: *author_id,
                text: ReviewText {
                    rating: *rating,
                    title: title.clone(),
                    body: body.clone(),
                    images: images.clone(),
                },
                order_id: *order_id,
                proof: proof_event_ids.clone(),
                visible: true,
                moderation_reason: None,
                withdrawn: false,
                helpful: BTreeSet::new(),
                reply: None,
                created_at: *at,
                updated_at: *at,
            });
            return s;
        }
        let Some(r) = s.review.as_mut() else {
            return s;
        };
        match event {
            E::ReviewWritten { .. } => {}
            E::ReviewEdited {
                rating,
                title,
                body,
                images,
                at,
            } => {
                r.text = ReviewText {
                    rating: *rating,
                    title: title.clone(),
                    body: body.clone(),
                    images: images.clone(),
                };
                r.updated_at = *at;
            }
            E::ReviewWithdrawn { at } => {
                r.withdrawn = true;
                r.updated_at = *at;
            }
            E::ReviewMarkedHelpful { user_id, .. } => {
                r.helpful.insert(*user_id);
            }
            E::ReviewHidden { reason, at } => {
                r.visible = false;
                r.moderation_reason = Some(reason.clone());
                r.updated_at = *at;
            }
            E::ReviewRestored { reason, at } => {
                r.visible = true;
                r.moderation_reason = Some(reason.clone());
                r.updated_at = *at;
            }
            E::ReviewReplied { reply, at, .. } => r.reply = Some((reply.clone(), *at)),
        }
        s
    }
}
