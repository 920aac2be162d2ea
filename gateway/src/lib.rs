//! UltraMarket's gateway: the HTTP face of the engine and the `ultramarket` binary.
//!
//! # Layout
//!
//! - [`config`]: flags with environment fallbacks, read once.
//! - [`startup`]: `Application::build` (database created if missing, migrations, the event
//!   store, the process managers, the listener) and `run_until_stopped` (graceful shutdown).
//! - [`error`]: the one error type, rendered as `application/problem+json`.
//! - [`health`]: `/health`, `/health/detailed`, `/metrics`.
//!
//! # Data flow
//!
//! Commands go through `commands` (decide, append); queries read PostgreSQL read models;
//! the process managers (the checkout saga) run beside the server in `serve`.

pub mod config;
pub mod error;
pub mod health;
pub mod startup;
