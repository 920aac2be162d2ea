//! [`AppState`]: what every handler can reach, and the command handlers of every aggregate.
//!
//! It sits at the bottom of the gateway: resource modules import it, it imports none of
//! them, so each resource can be read (and compiled in a test) on its own.

use std::sync::Arc;
use std::time::Instant;

use commands::accounts::Credentials;
use commands::handlers::Handlers;
use commands::payment::Payments;
use commands::store::EventStore;
use metrics_exporter_prometheus::PrometheusHandle;
use projections::checkpoint::waiter::Waiter;
use sqlx::PgPool;

use crate::auth::stamps::Stamps;
use crate::config::{Config, Secret};
use crate::followed::Followed;
use crate::hashing::PasswordHasher;
use crate::search::recorder::Recorder;
use crate::startup::role::Running;

/// What every request handler can reach. Cheap to clone: handles and `Arc`s only.
#[derive(Clone)]
pub struct AppState {
    /// The configuration the process started with (limits, TTLs, NATS names).
    pub config: Arc<Config>,
    /// PostgreSQL: read models, process state, and the store when it is the PostgreSQL one.
    pub pool: PgPool,
    /// The event log; commands append through `commands::handler::CommandHandler` over it.
    pub store: Arc<dyn EventStore>,
    /// `postgres` or `eventstoredb`, for health answers and logs.
    pub store_kind: &'static str,
    /// Connected when `NATS_URL` is set.
    pub nats: Option<async_nats::Client>,
    /// The key that signs access tokens: `JWT_SECRET`, or random for this process.
    pub jwt_secret: Secret,
    pub started: Instant,
    pub metrics: PrometheusHandle,
    /// One command handler per aggregate; every command goes through these.
    pub handlers: Arc<Handlers>,
    /// The payment provider (`PAYMENT_PROVIDER`) and the webhook receiver.
    pub payments: Payments,
    /// What pays stores their earnings: the built-in `test` provider (issue 23).
    pub payouts: Arc<dyn commands::ledger::PayoutProvider>,
    /// Waits for read models to reach a client's consistency token.
    pub checkpoints: Waiter,
    /// Every argon2 hash and check goes through this bounded pool.
    pub passwords: Arc<PasswordHasher>,
    /// The password hashes, in the accounts context's table (never in the log).
    pub credentials: Credentials,
    /// Each account's security version, which access tokens are checked against.
    pub stamps: Arc<Stamps>,
    /// What this process runs (its role and tasks), for `/health/detailed`.
    pub running: Arc<Running>,
    /// The searches this process answered, counted until the search log records them.
    pub search_log: Arc<Recorder>,
    /// The store's settings, configuration and menus, cached and forgotten as the log moves.
    pub followed: Arc<Followed>,
    /// The live price rules, loaded when the log says they changed.
    pub rules: Arc<crate::pricing::book::RuleBook>,
    /// Connects as `ANALYST_DATABASE_URL`'s role, for analysts' read-only SQL; `None`
    /// when unset.
    pub analysts: Option<PgPool>,
}
