//! Who is calling: passwords (argon2id), access tokens (JWT), the authenticated-user
//! extractor, and the `/api/v1/auth` routes, e-mail verification and password reset
//! included.
//!
//! An e-mail maps to its user through the write side's uniqueness stream
//! (`commands::unique`), and a login checks the hash kept in the user's stream: checking
//! credentials is the write side deciding, not a query.

mod bootstrap;
mod email;
mod password;
mod routes;
mod token;
pub mod viewer;

pub use bootstrap::bootstrap_admin;
pub use email::{email_tokens, EmailApi, RESET_TTL, VERIFICATION_TTL};
pub use password::{check_policy, hash_password, verify_password};
pub(crate) use routes::name;
pub use routes::{router, AuthApi};
pub use token::{issue_access_token, AuthUser, Claims, ACCESS_TOKEN_TTL};
