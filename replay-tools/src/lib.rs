//! `umctl`: the back-office tool over UltraMarket's event log.
//!
//! # Layout
//!
//! - [`cli`]: the command line (clap) and the exit codes `umctl --help` documents.
//! - [`connect`]: opens the event store the engine uses (PostgreSQL, or EventStoreDB when
//!   `EVENTSTORE_URL` is set).
//! - [`inspect`]: `streams`, `read` and `tail`: looking at the log as it is.
//! - [`history`]: `state` and `diff`: an aggregate as of a version or a time.
//! - [`audit`]: who did what, when, through which request.
//! - [`verify`]: schemas, decoding and gapless versions.
//! - [`rebuild`]: `rebuild`, and the read-model checksums of `verify`: projections
//!   replayed from the store, with progress.
//! - [`transfer`]: `export` and `import`: moving a log between stores, ids and order kept.
//! - [`chain`]: the hash chain an export carries, so `import` and `verify --export` can
//!   tell an intact export from an edited or truncated one.
//! - [`format`]: how events are printed (table, json, ndjson).
//! - [`keys`]: `keys status` and `keys rotate`: the data keys of crypto-shredding.
//! - [`personal`]: sealed personal data: shown encrypted unless `--reveal`ed, opened for
//!   replays, read as erased for schema checks.
//! - [`retention`]: `retention run`, and the retention policy every command applies.
//!
//! Every subcommand reads the store through the `EventStore` port, so each works the same
//! over both adapters.

pub mod audit;
pub mod chain;
pub mod cli;
pub mod connect;
pub mod format;
pub mod history;
pub mod inspect;
pub mod keys;
pub mod personal;
pub mod rebuild;
pub mod retention;
pub mod transfer;
pub mod verify;

use commands::store::StoreError;

/// A failure `umctl` reports; each kind has its own exit code (see [`cli::ExitCode`]).
#[derive(Debug, thiserror::Error)]
pub enum UmctlError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadArgument(String),
    #[error("cannot reach the event store: {0}")]
    Unreachable(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("verification failed: {0}")]
    VerifyFailed(String),
    #[error("{0}")]
    Failed(String),
}

impl UmctlError {
    pub fn exit_code(&self) -> cli::ExitCode {
        use cli::ExitCode;
        match self {
            UmctlError::NotFound(_) => ExitCode::NotFound,
            UmctlError::BadArgument(_) => ExitCode::Usage,
            UmctlError::Unreachable(_) | UmctlError::Store(StoreError::Unavailable(_)) => {
                ExitCode::Unreachable
            }
            UmctlError::Store(StoreError::InvalidInput { .. }) => ExitCode::Usage,
            UmctlError::Store(_) | UmctlError::Io(_) | UmctlError::Failed(_) => ExitCode::Failure,
            UmctlError::VerifyFailed(_) => ExitCode::VerifyFailed,
        }
    }
}
