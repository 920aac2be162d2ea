//! The command line.

use clap::{Parser, Subcommand, ValueEnum};

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  failure (the store answered with an error, or a file could not be written)
  2  bad usage: an unknown flag, a malformed position, time or stream id
  3  not found: the stream or event does not exist
  4  the event store or database does not answer
  5  verify found a problem";

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
    /// PostgreSQL: the store (unless EVENTSTORE_URL is set) and the read models.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/ultramarket",
        global = true
    )]
    pub database_url: String,
    /// EventStoreDB connection string (esdb://...); unset, the PostgreSQL store is used.
    #[arg(long, env = "EVENTSTORE_URL", global = true)]
    pub eventstore_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
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
    },
    /// What changed in an aggregate's state between two versions.
    Diff { stream: String, v1: u64, v2: u64 },
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
    },
    /// Check the log: every event decodes and validates against its schema, every
    /// stream's versions are gapless, and a fresh replay of each read model matches its live
    /// tables (per-table checksums, printed so two stores can be compared).
    Verify {
        /// The event schemas (schemas/events of the repository).
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/events"))]
        schemas: std::path::PathBuf,
        /// Check the log only, not the read models.
        #[arg(long)]
        log_only: bool,
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
    /// Write $all as NDJSON to standard output.
    Export {
        /// Start after this position (commit/prepare).
        #[arg(long)]
        from: Option<String>,
    },
    /// Append an NDJSON export to an empty store, keeping ids, streams, revisions and order.
    Import { file: std::path::PathBuf },
}
