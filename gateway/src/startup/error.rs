//! What can stop the engine from starting, each failure naming where it looked and how to
//! start what is missing.

use std::net::SocketAddr;

use crate::config::ConfigError;

/// A failure to build or run the engine.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("creating the bootstrap admin failed: {0}")]
    BootstrapAdmin(String),
    #[error(
        "PostgreSQL does not answer at {host}:{port} ({cause}).\n  \
         Start it with:  pg_ctlcluster --skip-systemctl-redirect 15 main start\n  \
         or:             docker compose up -d postgres\n  \
         or point DATABASE_URL at a running server."
    )]
    DatabaseUnreachable {
        host: String,
        port: u16,
        cause: String,
    },
    #[error("database {database:?}: {cause}")]
    Database { database: String, cause: String },
    #[error("migrations failed: {0}")]
    Migrations(String),
    #[error("event store: {0}")]
    Store(String),
    #[error(
        "NATS does not answer at {at} ({cause}).\n  \
         Start it with:  nats-server -js\n  \
         or:             docker compose up -d nats\n  \
         or unset NATS_URL to run without NATS (projections then follow the store in process)."
    )]
    NatsUnreachable { at: String, cause: String },
    #[error(
        "NATS at {at} answers but JetStream is not enabled ({cause}).\n  \
         Restart it with:  nats-server -js"
    )]
    NatsWithoutJetStream { at: String, cause: String },
    #[error("cannot listen on {addr}: {cause}")]
    Bind { addr: SocketAddr, cause: String },
    #[error("{task} failed: {cause}")]
    TaskFailed { task: &'static str, cause: String },
}
