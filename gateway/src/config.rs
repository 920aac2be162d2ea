//! The engine's configuration: one typed struct, read once at start from flags with
//! environment fallbacks (`--bind` or `BIND`), then passed down by value.
//!
//! Anything that may carry a credential (the JWT secret, the bootstrap password, URLs that
//! can hold `user:password@`) is a [`Secret`], so a `{config:?}` in a log line prints no
//! secret.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use commands::privacy::MasterKey;

/// The `ultramarket` command line.
#[derive(Debug, Parser)]
#[command(
    name = "ultramarket",
    version,
    about = "The UltraMarket commerce engine"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

/// What the process runs. Each role can run alone to scale out; `serve` runs them all.
///
/// Each role is one `Application::with_*` step in `main.rs`. `serve` and `gateway` serve
/// the HTTP API on `BIND`; `relay`, `project` and `process` serve only `/health`,
/// `/health/detailed` and `/metrics`, on `METRICS_BIND` (by default 127.0.0.1:8081, 8082
/// and 8083), so every role starts on one host with its defaults.
#[derive(Debug, Clone, Copy, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Every role in one process: the HTTP gateway, the process managers, the notification
    /// worker, the projections and, with NATS_URL, the relay (default).
    Serve,
    /// The HTTP gateway alone (run several behind a load balancer).
    Gateway,
    /// The relay alone: publishes `$all` to NATS JetStream (needs NATS_URL).
    Relay,
    /// The projection workers alone (JetStream consumers with NATS_URL, else the store's
    /// `$all` in process).
    Project,
    /// The process managers alone: the checkout saga, reservation and cart expiry (one copy runs
    /// each, the others stand by) and the notification worker (copies share the outbox).
    Process,
    /// Apply the database migrations and exit.
    Migrate,
    /// Fill an empty shop with a demo catalog (categories, products, stock) and exit;
    /// running it again adds nothing.
    SeedDemo,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Where the per-IP rate limit keeps its counts (`RATE_LIMIT_STORE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum RateLimitStore {
    /// In PostgreSQL, one row per client: every gateway on the database keeps one limit.
    #[default]
    Postgres,
    /// In this process's memory: no database round trip, but N gateways allow N times
    /// the limit.
    Memory,
}

/// The payment providers this build can charge through (`PAYMENT_PROVIDER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PaymentProviderName {
    /// Simulated, for development and tests: no money moves.
    Test,
}

/// Everything the engine can be told at start.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL: the store (unless EVENTSTORE_URL is set), read models, process state.
    /// The database is created when it does not exist and the role may create it.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/ultramarket",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Secret,

    /// The most PostgreSQL connections this process's pool opens. Every process of a
    /// deployment has one, and each lease holds one more of its own: their sum must stay
    /// under the server's `max_connections` (100 by default), so split roles with several
    /// copies each want less than the embedded default.
    #[arg(long, env = "DATABASE_POOL_SIZE", global = true, default_value_t = 32)]
    pub database_pool_size: u32,

    /// NATS with JetStream (`nats://127.0.0.1:4222`). Unset, projections follow the store
    /// in process and no NATS is needed.
    #[arg(long, env = "NATS_URL", global = true, hide_env_values = true)]
    pub nats_url: Option<Secret>,

    /// The JetStream stream the relay publishes to.
    #[arg(
        long,
        env = "NATS_STREAM",
        default_value = "ULTRAMARKET",
        global = true
    )]
    pub nats_stream: String,

    /// Subjects are `<prefix>.<category>.<EventType>`.
    #[arg(
        long,
        env = "NATS_SUBJECT_PREFIX",
        default_value = "events",
        global = true
    )]
    pub nats_subject_prefix: String,

    /// EventStoreDB (`esdb://host:2113?tls=false`); unset, the PostgreSQL store is used.
    #[arg(long, env = "EVENTSTORE_URL", global = true, hide_env_values = true)]
    pub eventstore_url: Option<Secret>,

    /// Signs access tokens (at least 32 bytes). Unset, a random secret is made at start and
    /// tokens do not survive a restart.
    #[arg(long, env = "JWT_SECRET", global = true, hide_env_values = true, value_parser = parse_jwt_secret)]
    pub jwt_secret: Option<Secret>,

    /// Wraps every data subject's key (32 bytes, base64; ADR 0005). Unset, a key kept in
    /// the database is made at first start, with a warning: erasure is then only as good
    /// as the database's backups.
    #[arg(long, env = "MASTER_KEY", global = true, hide_env_values = true, value_parser = parse_master_key)]
    pub master_key: Option<MasterKey>,

    /// The master key before a rotation, while `umctl keys rotate` re-wraps the data keys.
    #[arg(long, env = "MASTER_KEY_PREVIOUS", global = true, hide_env_values = true, value_parser = parse_master_key)]
    pub master_key_previous: Option<MasterKey>,

    /// Where `serve` and `gateway` serve the HTTP API (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,

    /// Where `relay`, `project` and `process` serve `/health`, `/health/detailed` and
    /// `/metrics` (`127.0.0.1:0` picks a free port). Unset: 127.0.0.1:8081 (relay), 8082
    /// (project), 8083 (process). `serve` and `gateway` serve them on BIND.
    #[arg(long, env = "METRICS_BIND", global = true)]
    pub metrics_bind: Option<SocketAddr>,

    /// Largest request body accepted, in bytes; larger ones answer 413.
    #[arg(
        long,
        env = "MAX_BODY_BYTES",
        default_value_t = 1024 * 1024,
        global = true
    )]
    pub max_body_bytes: usize,

    /// Requests per minute per client IP (IPv6: per /64); 0 turns the limit off.
    #[arg(
        long,
        env = "RATE_LIMIT_PER_MINUTE",
        default_value_t = 1200,
        global = true
    )]
    pub rate_limit_per_minute: u32,

    /// `postgres`: the limit is shared by every gateway on the database (one statement per
    /// request); `memory`: each process counts alone. Unset: `memory` for `serve` (one
    /// process, nothing to share), `postgres` for `gateway`.
    #[arg(long, env = "RATE_LIMIT_STORE", value_enum, global = true)]
    pub rate_limit_store: Option<RateLimitStore>,

    /// `Idempotency-Key` answers kept per caller (user or guest cart) at once, i.e. within
    /// 24 hours; a new key beyond it answers 429 `idempotency_quota_exceeded`. 0: no quota.
    #[arg(
        long,
        env = "IDEMPOTENCY_QUOTA",
        default_value_t = 10_000,
        global = true
    )]
    pub idempotency_quota: u32,

    /// Failed logins per account from one client address within 15 minutes before that
    /// address's logins to the account answer 429; 0 turns this limit off.
    #[arg(
        long,
        env = "LOGIN_FAILURES_LIMIT",
        default_value_t = 10,
        global = true
    )]
    pub login_failures_limit: u32,

    /// Failed logins per account from all addresses within 15 minutes before every login
    /// to it answers 429 (a ceiling against guessers that rotate addresses); 0: off.
    #[arg(
        long,
        env = "LOGIN_FAILURES_ACCOUNT_LIMIT",
        default_value_t = 100,
        global = true
    )]
    pub login_failures_account_limit: u32,

    /// How long a session (a refresh-token family) lasts from its login, however often
    /// its token is rotated (`30d`, `12h`).
    #[arg(long, env = "REFRESH_FAMILY_LIFETIME", default_value = "30d", value_parser = parse_duration, global = true)]
    pub refresh_family_lifetime: Duration,

    /// How often expired login failures, refresh tokens and idempotency answers are
    /// deleted.
    #[arg(long, env = "PRUNE_INTERVAL", default_value = "15m", value_parser = parse_duration, global = true)]
    pub prune_interval: Duration,

    /// Days a client's IP address and user agent stay in the read models (`audit`), by the
    /// event's time; then they are nulled (1 to 3650).
    #[arg(
        long,
        env = "RETENTION_CLIENT_DATA_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub retention_client_data_days: u32,

    /// Days a notification keeps its content (payload, recipient, last error) after it was
    /// sent or failed for good; then they are nulled and the row stays (1 to 3650).
    #[arg(
        long,
        env = "RETENTION_OUTBOX_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub retention_outbox_days: u32,

    /// How often the retention pass runs, in the process that runs the read models (one
    /// copy at a time); from 1m to 7d.
    #[arg(long, env = "RETENTION_INTERVAL", default_value = "1h", value_parser = parse_duration, global = true)]
    pub retention_interval: Duration,

    /// Threads that hash passwords (argon2id, 19 MiB each); 0 means one per core.
    #[arg(
        long,
        env = "PASSWORD_HASH_THREADS",
        default_value_t = 0,
        global = true
    )]
    pub password_hash_threads: usize,

    /// Requests that may wait for a hashing thread; beyond them login, registration and
    /// password resets answer 503 `busy` with `Retry-After`.
    #[arg(long, env = "PASSWORD_HASH_QUEUE", default_value_t = 64, global = true)]
    pub password_hash_queue: usize,

    /// How long reserved stock waits for payment before the order expires (`90s`, `15m`).
    #[arg(long, env = "RESERVATION_TTL", default_value = "15m", value_parser = parse_duration, global = true)]
    pub reservation_ttl: Duration,

    /// How long a query carrying `X-Consistency-Token` waits for the read models, in ms.
    #[arg(long = "consistency-wait-ms", env = "CONSISTENCY_WAIT_MS", default_value = "2000", value_parser = parse_millis, global = true)]
    pub consistency_wait: Duration,

    /// With BOOTSTRAP_ADMIN_PASSWORD: the admin created at start when none exists.
    #[arg(long, env = "BOOTSTRAP_ADMIN_EMAIL", global = true)]
    pub bootstrap_admin_email: Option<String>,

    /// With BOOTSTRAP_ADMIN_EMAIL: that admin's password.
    #[arg(
        long,
        env = "BOOTSTRAP_ADMIN_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub bootstrap_admin_password: Option<Secret>,

    /// Browser origins allowed to call the API (comma-separated, `*` for any). Unset, any
    /// origin may read (GET/HEAD) and none may write: convenient in development, and a
    /// browser page elsewhere still cannot send commands with a user's token.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_allowed_origins: Vec<String>,

    /// Take the client IP from the last `X-Forwarded-For` entry (set it only behind a
    /// proxy that appends it; otherwise any client could pick its own rate-limit key).
    #[arg(long, env = "TRUST_FORWARDED_FOR", global = true)]
    pub trust_forwarded_for: bool,

    /// Turns every changing action of the console and the admin API off (retry, skip or
    /// discard a parked event, rebuild a read model): they answer 403 `read_only`, and the
    /// console shows no button for them. For a production console that only shows.
    #[arg(long, env = "CONSOLE_READ_ONLY", global = true)]
    pub console_read_only: bool,

    /// Analysts' read-only SQL (the console's SQL page and `POST /api/v1/admin/sql`) runs
    /// as this URL's role: one that may log in and nothing more (not a superuser). The
    /// engine grants it `SELECT` on the read models' schemas, and those only; unset, the
    /// SQL page is off.
    #[arg(
        long,
        env = "ANALYST_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub analyst_database_url: Option<Secret>,

    /// A read model counts as stalled when an event has waited this long and its
    /// checkpoint has not moved for as long (the admin API's projection status).
    #[arg(long, env = "PROJECTION_STALL_AFTER", default_value = "30s", value_parser = parse_duration, global = true)]
    pub projection_stall_after: Duration,

    /// `pretty` for a terminal, `json` for a log collector. `RUST_LOG` filters.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Pretty,
        global = true
    )]
    pub log_format: LogFormat,

    /// Who takes payments. `test` (the default) is simulated: `tok_visa` captures, no money
    /// moves, and the start logs a warning. A name not listed refuses to start.
    #[arg(long, env = "PAYMENT_PROVIDER", value_enum, default_value_t = PaymentProviderName::Test, global = true)]
    pub payment_provider: PaymentProviderName,

    /// Signs the provider's webhooks (`POST /api/v1/payments/webhook`). Unset, every
    /// webhook is refused.
    #[arg(
        long,
        env = "PAYMENT_WEBHOOK_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub payment_webhook_secret: Option<Secret>,

    /// How old a webhook's signature may be (`5m`); a replay within it is caught by the
    /// replay cache, one after it by its age.
    #[arg(long, env = "PAYMENT_WEBHOOK_TOLERANCE", default_value = "5m", value_parser = parse_duration, global = true)]
    pub payment_webhook_tolerance: Duration,

    /// How long a guest's cart may stay idle before the cart expiry releases it (`30d`).
    #[arg(long, env = "CART_TTL_GUEST", default_value = "30d", value_parser = parse_duration, global = true)]
    pub cart_ttl_guest: Duration,

    /// How long a signed-in customer's cart may stay idle before it expires (`90d`).
    #[arg(long, env = "CART_TTL_USER", default_value = "90d", value_parser = parse_duration, global = true)]
    pub cart_ttl_user: Duration,

    /// How long a cart with no lines and no saved lines (a coupon or a share link left)
    /// may stay idle (`6h`).
    #[arg(long, env = "CART_TTL_EMPTY", default_value = "6h", value_parser = parse_duration, global = true)]
    pub cart_ttl_empty: Duration,

    /// How often the cart expiry looks for idle carts, in `serve` and `process` (one copy
    /// at a time).
    #[arg(long, env = "CART_EXPIRY_INTERVAL", default_value = "5m", value_parser = parse_duration, global = true)]
    pub cart_expiry_interval: Duration,

    /// How often the price-rule scheduler records rules whose window started or ended, in
    /// `serve` and `process` (one copy at a time). Prices never wait for it: the engine
    /// reads each rule's window itself.
    #[arg(long, env = "PRICE_SCHEDULE_INTERVAL", default_value = "1m", value_parser = parse_duration, global = true)]
    pub price_schedule_interval: Duration,

    /// How often a gateway records the searches it counted as one `SearchQueriesRecorded`
    /// event (`5s`); it also records when its buffer fills and when it stops.
    #[arg(long, env = "SEARCH_LOG_INTERVAL", default_value = "5s", value_parser = parse_duration, global = true)]
    pub search_log_interval: Duration,

    /// How many distinct queries a gateway counts before it records them early (1 to 1000).
    #[arg(long, env = "SEARCH_LOG_BUFFER", default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=1000), global = true)]
    pub search_log_buffer: u16,

    /// Signs the carriers' tracking webhooks (`POST /api/v1/shipping/webhooks/{carrier}`).
    /// Unset, every one is refused.
    #[arg(
        long,
        env = "SHIPPING_WEBHOOK_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub shipping_webhook_secret: Option<Secret>,

    /// How old a carrier webhook's signature may be (`5m`); a replay within it is caught
    /// by the replay cache of webhook ids, one after it by its age.
    #[arg(long, env = "SHIPPING_WEBHOOK_TOLERANCE", default_value = "5m", value_parser = parse_duration, global = true)]
    pub shipping_webhook_tolerance: Duration,

    /// The notification worker: where links point, SMTP, the sender.
    #[command(flatten)]
    pub notifier: projections::notifications::NotifierSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD go together: set both or neither")]
    HalfABootstrapAdmin,
    #[error("CORS_ALLOWED_ORIGINS: {0:?} is not an origin like https://shop.example.com")]
    BadOrigin(String),
    #[error("MAX_BODY_BYTES must be at least 1")]
    NoBodyAllowed,
    #[error("{setting}: {value:?} must be non-empty, without '.', '*', '>' or spaces (it names NATS subjects)")]
    BadNatsName {
        setting: &'static str,
        value: String,
    },
    #[error(transparent)]
    Retention(#[from] projections::retention::RetentionError),
    #[error("RETENTION_INTERVAL must be from 1m to 7d, not {0:?}")]
    RetentionInterval(Duration),
    #[error("invalid arguments: {0}")]
    Arguments(String),
    #[error("{0} must be longer than 0s")]
    ZeroDuration(&'static str),
}

impl Config {
    /// The configuration when no flag and no environment variable is given: the defaults
    /// above, from the same declarations, so tests cannot drift from them.
    pub fn defaults() -> Config {
        Self::from_args_ignoring_env(["ultramarket"]).expect("the defaults parse")
    }

    /// Parses `args` (the first is the program name) as if the environment were empty;
    /// tests use it so a developer's `DATABASE_URL` cannot leak into them.
    pub fn from_args_ignoring_env<I, T>(args: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let command = Cli::command().mut_args(|arg| arg.env(None));
        let matches = command
            .try_get_matches_from(args)
            .map_err(|e| ConfigError::Arguments(e.to_string()))?;
        Config::from_arg_matches(&matches).map_err(|e| ConfigError::Arguments(e.to_string()))
    }

    /// The retention policy these settings describe.
    pub fn retention(&self) -> Result<projections::retention::Retention, ConfigError> {
        Ok(projections::retention::Retention::from_days(
            self.retention_client_data_days,
            self.retention_outbox_days,
        )?)
    }

    /// How long carts may stay idle, by kind.
    pub fn cart_ttl(&self) -> projections::cart_expiry::CartTtl {
        projections::cart_expiry::CartTtl {
            guest: self.cart_ttl_guest,
            user: self.cart_ttl_user,
            empty: self.cart_ttl_empty,
        }
    }

    /// Checks what clap cannot see field by field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.retention()?;
        // More often than a minute is a busy loop over tables that change by the day;
        // rarer than a week keeps data a week past the window it was promised.
        if !(RETENTION_INTERVAL_MIN..=RETENTION_INTERVAL_MAX).contains(&self.retention_interval) {
            return Err(ConfigError::RetentionInterval(self.retention_interval));
        }
        // A zero window would expire every cart at once; a zero interval is a busy loop.
        for (setting, value) in [
            ("CART_TTL_GUEST", self.cart_ttl_guest),
            ("CART_TTL_USER", self.cart_ttl_user),
            ("CART_TTL_EMPTY", self.cart_ttl_empty),
            ("CART_EXPIRY_INTERVAL", self.cart_expiry_interval),
            ("PRICE_SCHEDULE_INTERVAL", self.price_schedule_interval),
            ("SEARCH_LOG_INTERVAL", self.search_log_interval),
        ] {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration(setting));
            }
        }
        if self.bootstrap_admin_email.is_some() != self.bootstrap_admin_password.is_some() {
            return Err(ConfigError::HalfABootstrapAdmin);
        }
        for origin in &self.cors_allowed_origins {
            let well_formed = origin == "*"
                || ((origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.ends_with('/')
                    && axum::http::HeaderValue::from_str(origin).is_ok());
            if !well_formed {
                return Err(ConfigError::BadOrigin(origin.clone()));
            }
        }
        if self.max_body_bytes == 0 {
            return Err(ConfigError::NoBodyAllowed);
        }
        // Both become parts of NATS subjects and stream names, where these are wildcards
        // or separators.
        for (setting, value) in [
            ("NATS_STREAM", &self.nats_stream),
            ("NATS_SUBJECT_PREFIX", &self.nats_subject_prefix),
        ] {
            if value.is_empty() || value.contains(['.', '*', '>', ' ', '\t']) {
                return Err(ConfigError::BadNatsName {
                    setting,
                    value: value.clone(),
                });
            }
        }
        Ok(())
    }
}

const RETENTION_INTERVAL_MIN: Duration = Duration::from_secs(60);
const RETENTION_INTERVAL_MAX: Duration = Duration::from_secs(7 * 86_400);

/// A value that never prints: `Debug` and `Display` show `***`. Read it with
/// [`Secret::expose`], at the one place that needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// 32 random bytes from the operating system's generator, hex-encoded.
    pub fn random() -> Self {
        let bytes: [u8; 32] = rand::random();
        Secret(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for Secret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(Secret(s.to_owned()))
    }
}

fn parse_master_key(s: &str) -> Result<MasterKey, String> {
    MasterKey::from_base64(s).map_err(|e| e.to_string())
}

/// HS256 keys shorter than the hash are easy to brute-force offline from one token.
fn parse_jwt_secret(s: &str) -> Result<Secret, String> {
    if s.len() < 32 {
        return Err(format!("must be at least 32 bytes, got {}", s.len()));
    }
    Ok(Secret(s.to_owned()))
}

/// `host:port` of a URL, without scheme, credentials, path or query: what error messages
/// and logs may name.
pub fn where_url_points(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    host.to_owned()
}

/// `90s`, `15m`, `2h`, `30d` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 15m or 2h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{s:?}: the unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(secs))
}

/// Whole milliseconds.
fn parse_millis(s: &str) -> Result<Duration, String> {
    s.parse()
        .map(Duration::from_millis)
        .map_err(|_| format!("{s:?} is not a number of milliseconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        assert!(parse_duration("5 days").is_err());
        assert_eq!(parse_millis("2000").unwrap(), Duration::from_secs(2));
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{s}"), "***");
        let config = Config::from_args_ignoring_env([
            "ultramarket",
            "--jwt-secret",
            &"k".repeat(40),
            "--database-url",
            "postgres://app:pa55word@db:5432/um",
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("kkkk"), "{printed}");
        assert!(!printed.contains("pa55word"), "{printed}");
    }

    #[test]
    fn a_short_jwt_secret_is_refused() {
        let err =
            Config::from_args_ignoring_env(["ultramarket", "--jwt-secret", "short"]).unwrap_err();
        assert!(err.to_string().contains("at least 32 bytes"), "{err}");
    }

    #[test]
    fn random_secrets_are_32_bytes_and_differ() {
        let (a, b) = (Secret::random(), Secret::random());
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::defaults();
        assert_eq!(
            c.database_url.expose(),
            "postgres://postgres@127.0.0.1:5432/ultramarket"
        );
        assert!(c.nats_url.is_none() && c.eventstore_url.is_none() && c.jwt_secret.is_none());
        assert_eq!(c.nats_stream, "ULTRAMARKET");
        assert_eq!(c.nats_subject_prefix, "events");
        assert_eq!(c.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.metrics_bind, None);
        assert_eq!(c.max_body_bytes, 1 << 20);
        assert_eq!(c.rate_limit_per_minute, 1200);
        assert_eq!(c.rate_limit_store, None);
        assert_eq!(c.login_failures_limit, 10);
        assert_eq!((c.password_hash_threads, c.password_hash_queue), (0, 64));
        assert_eq!(c.login_failures_account_limit, 100);
        assert_eq!(c.refresh_family_lifetime, Duration::from_secs(30 * 86_400));
        assert_eq!(c.prune_interval, Duration::from_secs(900));
        assert_eq!(
            (c.retention_client_data_days, c.retention_outbox_days),
            (90, 30)
        );
        assert_eq!(c.retention_interval, Duration::from_secs(3600));
        assert_eq!(
            c.retention().unwrap(),
            projections::retention::Retention::DEFAULT
        );
        assert_eq!(c.reservation_ttl, Duration::from_secs(900));
        assert_eq!(c.cart_ttl(), projections::cart_expiry::CartTtl::DEFAULT);
        assert_eq!(c.cart_expiry_interval, Duration::from_secs(300));
        assert_eq!(c.price_schedule_interval, Duration::from_secs(60));
        assert_eq!(c.consistency_wait, Duration::from_millis(2000));
        assert!(c.cors_allowed_origins.is_empty());
        assert_eq!(c.log_format, LogFormat::Pretty);
        c.validate().unwrap();
    }

    #[test]
    fn validation_catches_what_flags_cannot() {
        let half = Config::from_args_ignoring_env([
            "ultramarket",
            "--bootstrap-admin-email",
            "admin@example.com",
        ])
        .unwrap();
        assert!(matches!(
            half.validate(),
            Err(ConfigError::HalfABootstrapAdmin)
        ));
        let origins = Config::from_args_ignoring_env([
            "ultramarket",
            "--cors-allowed-origins",
            "https://shop.example.com,shop.example.com",
        ])
        .unwrap();
        assert_eq!(origins.cors_allowed_origins.len(), 2);
        assert!(
            matches!(origins.validate(), Err(ConfigError::BadOrigin(o)) if o == "shop.example.com")
        );
        let wildcard =
            Config::from_args_ignoring_env(["ultramarket", "--nats-subject-prefix", "shop.>"])
                .unwrap();
        assert!(matches!(
            wildcard.validate(),
            Err(ConfigError::BadNatsName {
                setting: "NATS_SUBJECT_PREFIX",
                ..
            })
        ));
    }

    #[test]
    fn retention_windows_and_interval_out_of_range_are_refused() {
        let refused = |args: &[&str]| {
            let mut all = vec!["ultramarket"];
            all.extend_from_slice(args);
            Config::from_args_ignoring_env(all)
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string()
        };
        let zero = refused(&["--retention-client-data-days", "0"]);
        assert!(zero.contains("RETENTION_CLIENT_DATA_DAYS"), "{zero}");
        assert!(zero.contains("from 1 to 3650"), "{zero}");
        let absurd = refused(&["--retention-outbox-days", "100000"]);
        assert!(absurd.contains("RETENTION_OUTBOX_DAYS"), "{absurd}");
        let busy = refused(&["--retention-interval", "0"]);
        assert!(busy.contains("RETENTION_INTERVAL"), "{busy}");
        let rare = refused(&["--retention-interval", "30d"]);
        assert!(rare.contains("RETENTION_INTERVAL"), "{rare}");
        // A negative window is not a number of days at all.
        let negative =
            Config::from_args_ignoring_env(["ultramarket", "--retention-outbox-days", "-1"]);
        assert!(matches!(negative, Err(ConfigError::Arguments(_))));
        let fine = Config::from_args_ignoring_env([
            "ultramarket",
            "--retention-client-data-days",
            "30",
            "--retention-outbox-days",
            "7",
            "--retention-interval",
            "15m",
        ])
        .unwrap();
        fine.validate().unwrap();
        assert_eq!(fine.retention().unwrap().client_data_days(), 30);
    }

    #[test]
    fn urls_are_named_without_credentials() {
        assert_eq!(
            where_url_points("postgres://u:p@db.internal:5432/um?sslmode=disable"),
            "db.internal:5432"
        );
        assert_eq!(where_url_points("nats://127.0.0.1:4222"), "127.0.0.1:4222");
        assert_eq!(where_url_points("localhost:4222"), "localhost:4222");
    }

    #[test]
    fn the_payment_provider_is_test_by_default_and_an_unknown_one_refuses_to_start() {
        let defaults = Config::defaults();
        assert_eq!(defaults.payment_provider, PaymentProviderName::Test);
        assert!(defaults.payment_webhook_secret.is_none());
        assert_eq!(defaults.payment_webhook_tolerance, Duration::from_secs(300));
        let unknown =
            Config::from_args_ignoring_env(["ultramarket", "--payment-provider", "stripe"]);
        match unknown {
            Err(ConfigError::Arguments(message)) => {
                assert!(message.contains("stripe"), "{message}");
                assert!(message.contains("possible values: test"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
