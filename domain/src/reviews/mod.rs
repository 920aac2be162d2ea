//! Reviews (issue 23): what buyers say of a product they received.
//!
//! A [`Review`] holds a rating (1–5), a title, a body and up to [`MAX_IMAGES`] image
//! links. Only a buyer with a delivered line of the product writes one ([`purchase`]
//! finds the proof in the order's own events, whose ids the review keeps); the use case
//! claims the (product, buyer) pair first, so a buyer writes one review per product even
//! when two requests race. The author edits and withdraws it, other shoppers mark it
//! helpful (once each), staff hide and restore it with a reason, and the product's vendor
//! replies in public.
//!
//! - [`purchase`]: the proof of purchase, read from an order's events.
//! - [`review`]: the aggregate: commands, events, state, `decide`, `evolve`.

pub mod purchase;
pub mod review;

pub use purchase::{proof_of_kept_purchase, proof_of_purchase, Proof, VERIFICATION};
pub use review::{
    NewReview, Review, ReviewCommand, ReviewError, ReviewEvent, ReviewRecord, ReviewState,
    ReviewText, MAX_IMAGES,
};
