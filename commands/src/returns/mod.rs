//! Returns (issue 22 item 4): the order's customer asks to send back delivered lines within
//! the store's window (`returns.window_days`, counted from each shipment's delivery), with
//! a reason; staff approve or reject, receive (restock to a warehouse, or write off) and
//! refund through the payment provider. The returns of an order are one aggregate
//! (`returns-<order id>`) beside the order, which is never rewritten: the refund is the
//! order's `OrderRefunded`, as any partial refund.
//!
//! - [`request`]: [`request_return`]: the order's lines with their deliveries (from its
//!   shipments' delivery steps) and what each unit cost, decided against the window.
//! - [`steps`]: [`change_return_status`]: approve, reject, receive (with the restock), refund
//!   (the provider, then the order, then the return).
//! - [`error`]: [`ReturnsUseError`], at the bottom.

pub mod error;
pub mod request;
pub mod steps;

pub use error::ReturnsUseError;
pub use request::{
    request_return, returns_of_order, returns_stream, ReturnRequest, ReturnsOutcome,
};
pub use steps::{change_return_status, ReturnStep};
