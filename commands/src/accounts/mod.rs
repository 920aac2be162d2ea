//! Accounts: registration, e-mail verification and password reset.
//!
//! - [`email_tokens`]: the HMAC tokens of verification and reset links.

pub mod email_tokens;
