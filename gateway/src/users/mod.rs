//! `/api/v1/users`: accounts and their addresses (the seed's user service).
//!
//! Admins list, create, re-role and suspend accounts; everyone else reads and edits only
//! their own, and another account answers 404, as if it did not exist, so ids cannot be
//! probed. Queries read the `users` read model; commands call the use cases of
//! `commands::accounts`. `DELETE /users/:id` suspends: the stream is the account's
//! history and is never deleted; `POST /users/:id/erase` forgets the person in it.
//!
//! # Layout
//!
//! - `routes`: the account routes; its `router()` merges `addresses`'.
//! - `addresses`: an account's addresses.
//! - `erasure`: forgetting a person (`/users/{id}/erase`).
//! - `export`: everything held about a person, as one document (`/users/{id}/export`).
//! - `preferences`: what a person consents to (`/users/{id}/preferences`).
//! - `view`: the answers (`UserAccount`, `UserAddress`, their pages) and the read-model
//!   rows they are built from.
//! - `access`: admins, and the self-or-admin rule.

mod access;
mod addresses;
mod erasure;
mod export;
mod preferences;
mod routes;
mod view;

pub use access::ADMINS;
pub use addresses::AddressesApi;
pub use erasure::{Erasure, ErasureApi};
pub use export::ExportApi;
pub use preferences::{PreferencesApi, UserPreferences};
pub use routes::{router, search, UsersApi, UsersQuery};
pub use view::{user_row, AddressPage, UserAccount, UserAddress, UserPage};
