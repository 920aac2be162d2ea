//! `retention run`: one retention pass now (`projections::retention::pass`), the one the
//! engine runs every `RETENTION_INTERVAL`, with what it removed per table printed. And the
//! policy in force for every command, so a `rebuild` or `verify` from `umctl` writes what
//! the engine writes: it reads the engine's own variables.

use std::io::Write;

use chrono::Utc;
use projections::retention::Retention;
use sqlx::PgPool;

use crate::cli::RetentionArgs;
use crate::UmctlError;

/// The policy `args` describe; out of range is bad usage.
pub fn policy(args: &RetentionArgs) -> Result<Retention, UmctlError> {
    Retention::from_days(args.client_data_days, args.outbox_days)
        .map_err(|e| UmctlError::BadArgument(e.to_string()))
}

/// One pass over the live read models, reported on `out`.
pub async fn run(
    pool: &PgPool,
    retention: Retention,
    out: &mut impl Write,
) -> Result<(), UmctlError> {
    let removed = projections::retention::pass(pool, retention, Utc::now())
        .await
        .map_err(|e| UmctlError::Failed(format!("retention pass: {e}")))?;
    writeln!(
        out,
        "client data kept {} days, outbox content {} days",
        retention.client_data_days(),
        retention.outbox_days()
    )?;
    for (table, n) in removed.by_table() {
        writeln!(out, "{table}: {n} rows cleared")?;
    }
    Ok(())
}
