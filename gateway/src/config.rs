//! The engine's configuration: flags with environment fallbacks, read once.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

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

#[derive(Debug, Clone, Copy, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Run every role in one process: the HTTP gateway and the process managers (default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL: the store (unless EVENTSTORE_URL is set), read models, process state.
    /// The database is created when it does not exist and the role may create it.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/ultramarket",
        global = true
    )]
    pub database_url: String,
    /// EventStoreDB (`esdb://host:2113?tls=false`); unset, the PostgreSQL store is used.
    #[arg(long, env = "EVENTSTORE_URL", global = true)]
    pub eventstore_url: Option<String>,
    /// Where the gateway listens.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,
    /// Signs access tokens; unset, a random secret is made at start (tokens then do not
    /// survive a restart).
    #[arg(long, env = "JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<Secret>,
    /// How long reserved stock waits for payment before the order expires.
    #[arg(long, env = "RESERVATION_TTL", default_value = "15m", value_parser = parse_duration, global = true)]
    pub reservation_ttl: Duration,
}

/// A value that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.len() < 32 {
            return Err("must be at least 32 characters".into());
        }
        Ok(Secret(s.to_owned()))
    }
}

/// `90s`, `15m`, `2h` or plain seconds.
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
        _ => return Err(format!("{s:?}: the unit must be s, m or h")),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_secrets() {
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert!(parse_duration("5 days").is_err());
        let s: Secret = "x".repeat(40).parse().unwrap();
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert!("short".parse::<Secret>().is_err());
    }
}
