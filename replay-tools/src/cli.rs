//! The command line.

use clap::{Parser, Subcommand, ValueEnum};

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  failure (the store answered with an error, or a file could not be written)
  2  bad usage: an unknown flag, a malformed position, time or stream id
  3  not found: the stream or event does not exist
  4  the event store or database does not answer
  5  verify found a problem, or import refused an export whose hash chain is broken";

/// The process exit codes, as documented in `umctl --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Success = 0,
    Failure = 1,
    Usage = 2,
    NotFound = 3,
    Unreachable = 4,
    VerifyFailed = 5,
}

#[derive(Debug, Parser)]
#[command(name = "umctl", version, about = "Read, audit, replay and move UltraMarket's event log", after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// PostgreSQL: the store (unless EVENTSTORE_URL is set) and the read models. Only
    /// `import` and `rebuild` migrate it; the other commands refuse a database without the
    /// engine's tables.
    // Both URLs may hold a password: `--help` must not print their values.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/ultramarket",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,
    /// EventStoreDB connection string (esdb://...); unset, the PostgreSQL store is used.
    #[arg(long, env = "EVENTSTORE_URL", global = true, hide_env_values = true)]
    pub eventstore_url: Option<String>,
    #[command(flatten)]
    pub retention: RetentionArgs,
    #[command(flatten)]
    pub master: MasterKeyArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The retention policy, read from the engine's own variables, so that `rebuild`,
/// `verify` and `retention run` keep and clear what the engine does.
#[derive(Debug, Clone, clap::Args)]
pub struct RetentionArgs {
    /// Days a client's IP address and user agent stay in the read models (1 to 3650).
    #[arg(
        long = "retention-client-data-days",
        env = "RETENTION_CLIENT_DATA_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub client_data_days: u32,
    /// Days a sent or failed notification keeps its content (1 to 3650).
    #[arg(
        long = "retention-outbox-days",
        env = "RETENTION_OUTBOX_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub outbox_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Ndjson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Table,
    Csv,
    Ndjson,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List streams with their version and last event time.
    Streams {
        /// Only streams of this category (the id before the first '-').
        #[arg(long)]
        category: Option<String>,
        /// Only streams whose id starts with this.
        #[arg(long)]
        prefix: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Read one stream's events.
    Read {
        stream: String,
        /// First revision to read (inclusive); default the start (or the end, backwards).
        #[arg(long)]
        from: Option<u64>,
        #[arg(long)]
        backwards: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Show sealed personal data opened (an erased person's as erased), with
        /// MASTER_KEY or else the key embedded in the database; without it, each sealed
        /// field reads `[encrypted for <subject>]`.
        #[arg(long)]
        reveal: bool,
    },
    /// Follow $all live, from now or from a position.
    Tail {
        /// Only events of this type.
        #[arg(long = "type")]
        event_type: Option<String>,
        /// Only events of this stream category.
        #[arg(long)]
        category: Option<String>,
        /// Start after this position (commit/prepare), or `start` for the whole log;
        /// default: from now.
        #[arg(long)]
        from: Option<String>,
        /// Stop after this many events.
        #[arg(long)]
        count: Option<usize>,
        #[arg(long, value_enum, default_value_t = Format::Ndjson)]
        format: Format,
        /// Show sealed personal data opened (an erased person's as erased), with
        /// MASTER_KEY or else the key embedded in the database; without it, each sealed
        /// field reads `[encrypted for <subject>]`.
        #[arg(long)]
        reveal: bool,
    },
    /// An aggregate's state rebuilt from its events up to a version or a time.
    State {
        stream: String,
        /// Fold events up to and including this revision.
        #[arg(long, conflicts_with = "at_time")]
        at_version: Option<u64>,
        /// Fold events recorded at or before this time (RFC 3339).
        #[arg(long)]
        at_time: Option<String>,
        /// Fold sealed personal data opened (see `read --reveal`); without it, each sealed
        /// field is folded as its erasure placeholder, and a note says how many.
        #[arg(long)]
        reveal: bool,
    },
    /// What changed in an aggregate's state between two versions.
    Diff {
        stream: String,
        v1: u64,
        v2: u64,
        /// Fold sealed personal data opened (see `read --reveal`); without it, each sealed
        /// field is folded as its erasure placeholder, and a note says how many.
        #[arg(long)]
        reveal: bool,
    },
    /// Who did what, when, through which request: events filtered by their metadata.
    Audit {
        /// The acting user's id.
        #[arg(long)]
        actor: Option<String>,
        /// The request or flow (correlation id).
        #[arg(long)]
        correlation: Option<String>,
        #[arg(long = "type")]
        event_type: Option<String>,
        /// From this time (RFC 3339), inclusive.
        #[arg(long)]
        from: Option<String>,
        /// Until this time (RFC 3339), exclusive.
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
        format: AuditFormat,
        /// Show sealed personal data opened (an erased person's as erased), with
        /// MASTER_KEY or else the key embedded in the database; without it, each sealed
        /// field reads `[encrypted for <subject>]`.
        #[arg(long)]
        reveal: bool,
    },
    /// Check the log: every event decodes and validates against its schema, every
    /// stream's versions are gapless, and a fresh replay of each read model matches its live
    /// tables (per-table checksums, printed so two stores can be compared). With --export,
    /// check an export file's hash chain instead (no database needed).
    Verify {
        /// The event schemas, a folder laid out like schemas/events; default: the ones
        /// built into umctl.
        #[arg(long)]
        schemas: Option<std::path::PathBuf>,
        /// Check the log only, not the read models.
        #[arg(long)]
        log_only: bool,
        /// Check this export file (its hash chain, trailer and revisions), not a store.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["schemas", "log_only"])]
        export: Option<std::path::PathBuf>,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Rebuild a read model from the store into shadow tables and swap them in, while the
    /// old ones keep serving; the engine's runner then goes on from the new checkpoint.
    Rebuild {
        /// The projection (orders, catalog, ...).
        projection: Option<String>,
        /// Every projection, one after the other.
        #[arg(long)]
        all: bool,
    },
    /// Write $all as NDJSON to standard output: a header line, one line per event, each
    /// carrying the hash chain, and a trailer with the count and the chain's head.
    Export {
        /// Start after this position (commit/prepare).
        #[arg(long)]
        from: Option<String>,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Append an export to an empty store, keeping ids, streams, revisions and order. The
    /// whole file is checked first (hash chain, trailer, gapless revisions): a broken one
    /// imports nothing.
    Import {
        file: std::path::PathBuf,
        #[command(flatten)]
        key: KeyArg,
        /// Import an export without a hash chain (made by an umctl before umctl-export/2),
        /// whose integrity cannot be checked.
        #[arg(long)]
        allow_unchained: bool,
    },
    /// The data keys that seal personal data (crypto-shredding): which master key wraps
    /// them, and re-wrapping them under a new one.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Client IPs, user agents and delivered messages' content past their retention window.
    Retention {
        #[command(subcommand)]
        action: RetentionAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionAction {
    /// One retention pass now, as the engine runs every RETENTION_INTERVAL: clears what
    /// the policy no longer keeps from the live read models, records the pass in
    /// privacy.retention_runs and prints the rows cleared per table.
    Run,
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// The master key in force, how many data keys each master key wraps, how many
    /// subjects are erased. Changes nothing.
    Status,
    /// Re-wrap every data key under MASTER_KEY, from MASTER_KEY_PREVIOUS or the embedded
    /// default (whose key is then deleted). The log is not touched.
    Rotate,
}

/// The master keys (32 bytes, base64), as the engine takes them: for `keys`, and to open
/// sealed personal data (`--reveal`, `rebuild`, `verify`'s replay), which without them is
/// opened with the key embedded in the database, if there is one.
#[derive(Debug, Clone, clap::Args)]
pub struct MasterKeyArgs {
    /// The master key in force; prefer the environment variable to the flag, which other
    /// users can see in the process list.
    #[arg(long, env = "MASTER_KEY", hide_env_values = true, global = true)]
    pub master_key: Option<String>,
    /// The master key before a rotation.
    #[arg(
        long,
        env = "MASTER_KEY_PREVIOUS",
        hide_env_values = true,
        global = true
    )]
    pub master_key_previous: Option<String>,
}

/// The key of a keyed (HMAC-SHA-256) export chain.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArg {
    /// Key the export's hash chain with HMAC-SHA-256 (16 characters or more), so that only
    /// holders of the key can write a chain that checks; prefer the environment variable
    /// to the flag, which other users can see in the process list.
    #[arg(long = "key", env = "UMCTL_EXPORT_KEY", hide_env_values = true)]
    pub key: Option<crate::chain::ChainKey>,
}
