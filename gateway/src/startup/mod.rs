//! Building the engine from its configuration and running it until stopped.
//!
//! [`Application::build_as`] does everything that can fail at start, in the order a
//! newcomer would debug it: the configuration, PostgreSQL (creating the database when
//! missing), the migrations, the event store, NATS when configured, the listener. Each
//! failure names where it looked and how to start what is missing. The `with_*` steps add
//! the background roles; [`Application::run_until_stopped`] then serves HTTP and runs the
//! background tasks; each task gets the same shutdown signal, and when the process is told
//! to stop (or a task dies) everything drains, bounded by [`DRAIN_TIMEOUT`].
//!
//! - `app`: [`Application`]: build, add tasks, serve, drain.
//! - `background`: the `with_*` roles (process managers, relay, read models, notifier).
//! - `role`: [`Role`] and what a process runs, for `/health/detailed`.
//! - `connect`: PostgreSQL, migrations, the event store, NATS.
//! - `error`: [`StartupError`].
//! - `signal`: ctrl-c and SIGTERM.

pub mod app;
pub mod background;
pub mod connect;
pub mod error;
pub mod role;
pub mod signal;

pub use app::{metrics_recorder, Application, DRAIN_TIMEOUT};
pub use background::{CHECKOUT_SAGA, RESERVATION_EXPIRY};
pub use connect::{connect_database, connect_nats, migrate, migrate_database, open_store};
pub use error::StartupError;
pub use role::{Role, Running, RunningTask};
pub use signal::shutdown_signal;
