//! Who is calling: passwords (argon2id), access tokens (JWT), the authenticated-user
//! extractor, sessions, and the `/api/v1/auth` routes, e-mail verification and password
//! reset included.
//!
//! # Layout
//!
//! - `routes`: register, login, refresh, logout, profile; it merges `email`'s routes.
//! - `email`: verification and reset links.
//! - `bootstrap`: the first admin at start.
//! - `view`: the answers (`User`, `TokenPair`, `Message`), the name rule as the routes
//!   apply it, and how the account use cases' errors answer.
//! - `sessions`: signing in, refresh tokens and failed logins, in the gateway's own
//!   tables.
//! - `viewer`: the maybe-authenticated caller of public reads ([`viewer::Viewer`]).
//! - `lockout`: the failed-login limits, claimed atomically before a password is checked.
//! - `stamps`: each account's security version, cached and invalidated by the log, which
//!   every access token is checked against.
//! - `password`, `token`: the password policy (length and zxcvbn strength); JWTs and
//!   [`AuthUser`]. Hashes go through `crate::hashing`'s bounded pool.
//!
//! Every write goes through a use case of `commands::accounts`, which owns the e-mail's
//! uniqueness claim; the password is hashed here first, since hashing is CPU work of the
//! edge and the write side only ever keeps the hash, in its credentials table. A login
//! finds the account through the e-mail's uniqueness stream and checks the hash its
//! stream names: checking credentials is the write side's state, not a query.

mod account;
mod bootstrap;
mod email;
mod lockout;
mod password;
mod routes;
mod sessions;
pub mod stamps;
mod token;
mod view;
pub mod viewer;

pub use account::new_account;
pub use bootstrap::bootstrap_admin;
pub use email::{email_tokens, EmailApi};
pub use lockout::WINDOW as LOGIN_FAILURE_WINDOW;
pub use password::check_policy;
pub use routes::{router, AuthApi};
pub use sessions::{erase, password_is_right};
pub use sessions::{sign_in, sign_out, Caller};
pub use token::{customer, issue_access_token, AuthUser, Claims, ACCESS_TOKEN_TTL, STAFF};
pub use view::{name, Message, TokenPair, UserView};
