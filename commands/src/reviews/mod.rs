//! Reviews' use cases (issue 23): a verified buyer writes one review per product; its
//! author edits and withdraws it; shoppers mark it helpful; staff hide and restore it;
//! the product's vendor replies.
//!
//! # Layout
//!
//! - [`write`]: [`write_review`]: the proof of purchase is looked for in the buyer's
//!   orders (their own events, [`domain::reviews::proof_of_purchase`]), the (product,
//!   buyer) pair is claimed (`review`, set uniqueness on the write side: of two requests
//!   at once one writes), then the review is recorded with the proof's event ids.
//! - [`manage`]: editing, withdrawing (which gives the pair back), helpful votes,
//!   moderation and the vendor's reply; and a review read whole from the write side.
//! - [`stored`], at the bottom: the review's stream, the review read whole from the write
//!   side, and the (product, buyer) pair's uniqueness kind.
//! - [`error`]: [`ReviewUseError`], at the bottom.

pub mod error;
pub mod manage;
pub mod stored;
pub mod write;

pub use error::ReviewUseError;
pub use manage::{edit_review, mark_helpful, moderate_review, reply_to_review, withdraw_review};
pub use stored::{review, ReviewOutcome, REVIEW_KEY};
pub use write::write_review;
