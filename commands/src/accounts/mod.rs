//! Accounts: the use cases of the `User` aggregate, which the gateway's `auth` and
//! `users` routes each call once.
//!
//! # Layout
//!
//! - [`registration`]: opening an account, written once for its three doors
//!   ([`register`], [`create_user`], [`bootstrap_admin`]): the e-mail's uniqueness claim,
//!   the registration, and the claim's release when the registration fails.
//! - [`verification`]: e-mail verification and password reset links, issued and spent.
//! - [`profile`]: names, role, suspension, signing out everywhere, consent.
//! - [`addresses`]: an account's addresses.
//! - [`sessions`]: sign-in facts (logins, failed logins, logouts, revoked refresh-token
//!   families) recorded in the account's `session` stream for the audit trail.
//! - [`email_tokens`]: the HMAC tokens of verification and reset links.
//! - [`credentials`]: password hashes, in a table of their own outside the log.
//! - [`account`]: what they share: the user's stream, the account as the write side has
//!   it (by id or by e-mail), and [`AccountError`].
//!
//! Every use case takes [`Handlers`](crate::handlers::Handlers), typed inputs and the
//! command's [`CommandMeta`](crate::handler::CommandMeta), and answers a typed error in
//! which a refusal by the rules and a failure of the store are separate variants.
//! Passwords arrive hashed: hashing is CPU work of the edge (the gateway's `auth`, on the
//! blocking pool), and the write side only ever keeps the hash, in [`Credentials`]: the
//! use cases that set a password take it beside the handlers.

pub mod account;
pub mod addresses;
pub mod credentials;
pub mod email_tokens;
pub mod erasure;
pub mod profile;
pub mod registration;
pub mod sessions;
pub mod verification;

pub use account::{find, find_by_email, AccountError, Changed};
pub use addresses::{add_address, remove_address, update_address, AddressChanged};
pub use credentials::Credentials;
pub use erasure::erase;
pub use profile::{
    reactivate, set_preferences, sign_out_everywhere, suspend, update_profile, update_user, Names,
};
pub use registration::{
    bootstrap_admin, create_user, register, Bootstrap, NewAccount, RegisterError,
};
pub use verification::{
    confirm_email, request_password_reset, request_verification, reset_password, TokenError,
    RESET_TTL, VERIFICATION_TTL,
};
