//! What the review routes answer: [`ReviewView`] (with how it was verified, as EU rules
//! ask a shop to say), a product's [`RatingSummary`], and how the use cases' errors answer.

use chrono::{DateTime, Utc};
use commands::reviews::ReviewUseError;
use domain::reviews::{ReviewError, ReviewRecord, VERIFICATION};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

/// One review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: Uuid,
    pub product_id: Uuid,
    pub author_id: Uuid,
    /// 1 to 5.
    pub rating: u8,
    pub title: String,
    pub body: String,
    pub images: Vec<String>,
    /// `published`, or `hidden` by staff (then only its author and staff see it).
    pub status: String,
    pub helpful_count: i64,
    /// Always `true`: only a buyer who received the product may review it.
    pub verified_purchase: bool,
    /// How the purchase was verified.
    pub verification: &'static str,
    /// The ids of the order's events that prove the purchase and the delivery.
    pub proof_event_ids: Vec<Uuid>,
    /// The vendor's public answer.
    pub reply: Option<ReplyView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyView {
    pub body: String,
    pub at: DateTime<Utc>,
}

impl From<&ReviewRecord> for ReviewView {
    fn from(r: &ReviewRecord) -> Self {
        ReviewView {
            id: r.review_id.as_uuid(),
            product_id: r.product_id.as_uuid(),
            author_id: r.author_id.as_uuid(),
            rating: r.text.rating,
            title: r.text.title.clone(),
            body: r.text.body.clone(),
            images: r.text.images.clone(),
            status: if r.visible { "published" } else { "hidden" }.into(),
            helpful_count: r.helpful.len() as i64,
            verified_purchase: true,
            verification: VERIFICATION,
            proof_event_ids: r.proof.clone(),
            reply: r.reply.as_ref().map(|(body, at)| ReplyView {
                body: body.clone(),
                at: *at,
            }),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A row of `reviews.reviews`.
#[derive(Debug, sqlx::FromRow)]
pub struct ReviewRow {
    pub review_id: Uuid,
    pub product_id: Uuid,
    pub author_id: Uuid,
    pub rating: i16,
    pub title: String,
    pub body: String,
    pub images: serde_json::Value,
    pub status: String,
    pub helpful_count: i32,
    pub proof_event_ids: Vec<Uuid>,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ReviewRow> for ReviewView {
    fn from(r: ReviewRow) -> Self {
        ReviewView {
            id: r.review_id,
            product_id: r.product_id,
            author_id: r.author_id,
            rating: u8::try_from(r.rating).unwrap_or(0),
            title: r.title,
            body: r.body,
            images: serde_json::from_value(r.images).unwrap_or_default(),
            status: r.status,
            helpful_count: i64::from(r.helpful_count),
            verified_purchase: true,
            verification: VERIFICATION,
            proof_event_ids: r.proof_event_ids,
            reply: match (r.reply, r.replied_at) {
                (Some(body), Some(at)) => Some(ReplyView { body, at }),
                _ => None,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A product's rating, from its published reviews.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RatingSummary {
    /// Two decimals; `null` without reviews.
    pub average: Option<f64>,
    pub count: i64,
    /// How many reviews gave each rating.
    pub histogram: Histogram,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Histogram {
    #[serde(rename = "1")]
    pub one: i64,
    #[serde(rename = "2")]
    pub two: i64,
    #[serde(rename = "3")]
    pub three: i64,
    #[serde(rename = "4")]
    pub four: i64,
    #[serde(rename = "5")]
    pub five: i64,
}

/// A row of `reviews.product_ratings`.
#[derive(Debug, sqlx::FromRow)]
pub struct RatingRow {
    pub product_id: Uuid,
    pub review_count: i32,
    pub average: f64,
    pub stars_1: i32,
    pub stars_2: i32,
    pub stars_3: i32,
    pub stars_4: i32,
    pub stars_5: i32,
}

impl From<RatingRow> for RatingSummary {
    fn from(r: RatingRow) -> Self {
        RatingSummary {
            average: (r.review_count > 0).then_some(r.average),
            count: i64::from(r.review_count),
            histogram: Histogram {
                one: i64::from(r.stars_1),
                two: i64::from(r.stars_2),
                three: i64::from(r.stars_3),
                four: i64::from(r.stars_4),
                five: i64::from(r.stars_5),
            },
        }
    }
}

/// A page of a product's reviews with its rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewPage {
    pub items: Vec<ReviewView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    pub rating: RatingSummary,
    /// How every review here was verified.
    pub verification: &'static str,
}

impl From<ReviewUseError> for ApiError {
    fn from(e: ReviewUseError) -> Self {
        let detail = e.to_string();
        match e {
            ReviewUseError::Invalid { field, message } => ApiError::invalid_field(field, message),
            ReviewUseError::NotFound | ReviewUseError::ProductNotFound => {
                ApiError::NotFound(detail)
            }
            ReviewUseError::NotVerified => ApiError::Refused {
                code: "not_verified_buyer",
                detail,
            },
            ReviewUseError::AlreadyReviewed => ApiError::conflict("already_reviewed", detail),
            ReviewUseError::Rejected(
                ReviewError::NotAuthor | ReviewError::NotTheVendor | ReviewError::OwnReview,
            ) => ApiError::Forbidden(detail),
            ReviewUseError::Rejected(ReviewError::Withdrawn) => ApiError::NotFound(detail),
            ReviewUseError::Rejected(_) => ApiError::conflict("review_state", detail),
            ReviewUseError::Store(e) => e.into(),
            ReviewUseError::Failed(cause) => ApiError::internal(cause),
        }
    }
}
